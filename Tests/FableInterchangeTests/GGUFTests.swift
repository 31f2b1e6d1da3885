import FableInterchange
import FableModel
import FableTensor
import FableTestSupport
import Foundation
import Testing

/// GGUF v3 (ggml docs/gguf.md): the reader against a file written by llama.cpp's Python
/// writer (`gguf` package), the writer's bytes against the spec, and the llama export's
/// keys, tensor table and data.
@Suite struct GGUFTests {
    struct ExpectedTensor: Decodable {
        let shape: [Int]
        let values: [Float]
    }

    @Test("reads a file written by gguf-py: every value type, F32 and F16 tensors")
    func readsGGUFPy() throws {
        let file = try GGUFFile(contentsOf: TestData.fixture("interchange/gguf_py.gguf"))
        #expect(file.version == 3)
        #expect(file.value("general.architecture") == .string("llama"))
        #expect(file.value("t.u8") == .uint8(200))
        #expect(file.value("t.i8") == .int8(-100))
        #expect(file.value("t.u16") == .uint16(60000))
        #expect(file.value("t.i16") == .int16(-30000))
        #expect(file.value("t.u32") == .uint32(4_000_000_000))
        #expect(file.value("t.i32") == .int32(-2_000_000_000))
        #expect(file.value("t.f32") == .float32(0.15625))
        #expect(file.value("t.u64") == .uint64(1 << 60))
        #expect(file.value("t.i64") == .int64(-(1 << 60)))
        #expect(file.value("t.f64") == .float64(1e-300))
        #expect(file.value("t.bool") == .bool(true))
        #expect(file.value("t.str") == .string("héllo Ġ"))
        #expect(file.value("t.arr") == .strings(["a", "bc", ""]))
        let expected = try TestData.jsonFixture("interchange/gguf_py.json", as: [String: ExpectedTensor].self)
        #expect(file.tensors.map(\.name) == ["a.weight", "b.weight"])
        for (name, tensor) in expected {
            let info = try #require(file.tensor(named: name))
            #expect(info.shape == tensor.shape)
            #expect(info.offset % file.alignment == 0)
            #expect(try file.floats(named: name) == tensor.values)
        }
        #expect(file.tensor(named: "a.weight")?.ne == [3, 2])
        #expect(file.tensor(named: "b.weight")?.type == .f16)
    }

    @Test("writer: header, key/value and tensor-table bytes as the spec lays them out")
    func writerBytes() throws {
        var writer = GGUFWriter()
        try writer.set("k", .uint32(7))
        try writer.addTensor("t", shape: [2, 3], type: .f32, bytes: [UInt8](repeating: 1, count: 24))
        let bytes = try writer.serialized()
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        #expect(Array(bytes[0..<4]) == Array("GGUF".utf8))
        #expect(u32(4) == 3 && u64(8) == 1 && u64(16) == 1)
        // key: u64 length 1, "k", type u32 4 (UINT32), value 7
        #expect(u64(24) == 1 && bytes[32] == UInt8(ascii: "k") && u32(33) == 4 && u32(37) == 7)
        // tensor: name "t", n_dims 2, ne [3, 2] (fastest first), type 0 (F32), offset 0
        #expect(u64(41) == 1 && bytes[49] == UInt8(ascii: "t") && u32(50) == 2)
        #expect(u64(54) == 3 && u64(62) == 2 && u32(70) == 0 && u64(74) == 0)
        // the data starts at the next multiple of 32 after the table (82 -> 96) and is padded to 32
        #expect(bytes[82..<96].allSatisfy { $0 == 0 } && bytes[96..<120].allSatisfy { $0 == 1 })
        #expect(bytes.count == 128)
    }

    @Test("writer -> reader round trip of every value type, nested arrays and a non-default alignment")
    func roundTrip() throws {
        let values: [(String, GGUF.Value)] = [
            ("a.u8", .uint8(1)), ("a.i8", .int8(-2)), ("a.u16", .uint16(3)), ("a.i16", .int16(-4)),
            ("a.u32", .uint32(5)), ("a.i32", .int32(-6)), ("a.f32", .float32(0.5)), ("a.bool", .bool(false)),
            ("a.str", .string("ÿ <|endoftext|>")), ("a.u64", .uint64(.max)), ("a.i64", .int64(.min)), ("a.f64", .float64(-0.25)),
            ("a.arr", .array(.int32, [.int32(1), .int32(-1)])),
            ("a.nested", .array(.array, [.strings(["x"]), .strings([])])),
        ]
        var writer = GGUFWriter(alignment: 64)
        for (key, value) in values { try writer.set(key, value) }
        try writer.addTensor("x", shape: [3], type: .bf16, bytes: [0x80, 0x3F, 0, 0x40, 0x80, 0xBF])
        try writer.addTensor("y", shape: [1, 1, 2], type: .f16, bytes: [0, 0x3C, 0, 0xC0])
        let file = try GGUFFile(bytes: try writer.serialized(), path: "memory")
        #expect(file.alignment == 64)
        #expect(file.value("general.alignment") == .uint32(64))
        for (key, value) in values { #expect(file.value(key) == value, "\(key)") }
        #expect(try file.floats(named: "x") == [1, 2, -1])
        #expect(try file.floats(named: "y") == [1, -2])
        #expect(file.tensor(named: "y")?.offset == 64)
    }

    @Test("truncated and corrupt files fail naming the byte offset")
    func corrupt() throws {
        var writer = GGUFWriter()
        try writer.set("general.name", .string("x"))
        try writer.addTensor("t", shape: [4], type: .f32, bytes: [UInt8](repeating: 0, count: 16))
        let bytes = try writer.serialized()
        #expect(throws: InterchangeError.malformedGGUF(path: "cut", offset: 0, reason: "the magic is not \"GGUF\"")) {
            try GGUFFile(bytes: [0x47, 0x47, 0x55, 0x47, 3, 0, 0, 0], path: "cut")
        }
        for cut in [3, 20, 40, 60, 100] {  // the tensor's data ends at byte 112
            #expect(throws: InterchangeError.self) { try GGUFFile(bytes: Array(bytes.prefix(cut)), path: "cut") }
        }
        var huge = bytes
        huge[24] = 0xFF; huge[30] = 0x7F  // the first key's length: far past the end
        #expect { try GGUFFile(bytes: huge, path: "huge") } throws: { "\($0)".contains("at byte 24") }
    }

    @Test("llama export: architecture keys, tokenizer keys, tensor names, ne order, interleaved q/k data", arguments: [false, true])
    func llamaExport(tied: Bool) throws {
        let model = try tinyModel(tied: tied, theta: 500)
        let url = try temporaryFolder().appendingPathComponent("m.gguf")
        try GGUFExport.write(model, tokenizer: tinyTokenizerExport(), to: url, name: "tiny")
        let file = try GGUFFile(contentsOf: url)
        #expect(file.value("general.architecture") == .string("llama"))
        #expect(file.value("general.name") == .string("tiny"))
        #expect(file.value("general.file_type") == .uint32(0))
        #expect(file.value("llama.context_length") == .uint32(16))
        #expect(file.value("llama.embedding_length") == .uint32(16))
        #expect(file.value("llama.block_count") == .uint32(2))
        #expect(file.value("llama.feed_forward_length") == .uint32(48))
        #expect(file.value("llama.attention.head_count") == .uint32(2))
        #expect(file.value("llama.attention.head_count_kv") == .uint32(2))
        #expect(file.value("llama.rope.dimension_count") == .uint32(8))
        #expect(file.value("llama.rope.freq_base") == .float32(500))
        #expect(file.value("llama.attention.layer_norm_rms_epsilon") == .float32(1e-5))
        #expect(file.value("tokenizer.ggml.model") == .string("gpt2"))
        #expect(file.value("tokenizer.ggml.pre") == .string("gpt-2"))
        #expect(file.value("tokenizer.ggml.bos_token_id") == .uint32(258))
        #expect(file.value("tokenizer.ggml.eos_token_id") == .uint32(258))
        #expect(file.value("tokenizer.ggml.merges") == .strings(["h e", "Ġ t"]))
        guard case .array(.string, let tokens) = file.value("tokenizer.ggml.tokens"),
              case .array(.int32, let types) = file.value("tokenizer.ggml.token_type") else {
            Issue.record("tokens and token types missing"); return
        }
        // 259 real tokens, padded with unused ones to the model's 264 rows.
        #expect(tokens.count == 264 && types.count == 264)
        #expect(tokens[32] == .string("Ġ") && tokens[256] == .string("he") && tokens[258] == .string("<|endoftext|>"))
        #expect(tokens[263] == .string("[PAD263]"))
        #expect(types[0] == .int32(1) && types[258] == .int32(3) && types[259] == .int32(5))

        var names = ["token_embd.weight", "output_norm.weight"] + (tied ? [] : ["output.weight"])
        for i in 0..<2 {
            names += ["attn_q", "attn_k", "attn_v", "attn_output", "attn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_norm"]
                .map { "blk.\(i).\($0).weight" }
        }
        #expect(Set(file.tensors.map(\.name)) == Set(names))
        #expect(file.tensor(named: "token_embd.weight")?.ne == [16, 264])
        #expect(file.tensor(named: "blk.0.ffn_gate.weight")?.ne == [16, 48])
        #expect(file.tensor(named: "blk.0.ffn_down.weight")?.ne == [48, 16])
        #expect(file.tensor(named: "blk.1.attn_norm.weight")?.ne == [16])
        for tensor in file.tensors { #expect(tensor.offset % 32 == 0 && tensor.type == .f32) }
        #expect(file.dataStart % 32 == 0)
        #expect(try file.floats(named: "blk.1.attn_q.weight") == values(model, "layers.1.attn.q_proj.weight"))
        #expect(try file.floats(named: "blk.0.attn_k.weight") == values(model, "layers.0.attn.k_proj.weight"))
        #expect(try file.floats(named: "blk.0.ffn_up.weight") == values(model, "layers.0.ffn.w3.weight"))
        #expect(try file.floats(named: "output_norm.weight") == values(model, "ln_final.weight"))
        #expect(try file.floats(named: "token_embd.weight") == values(model, "token_embeddings.weight"))
    }

    @Test("--dtype f16/bf16: matrices in that type, norm weights kept F32", arguments: [ExportDType.f16, .bf16])
    func halfPrecision(dtype: ExportDType) throws {
        let model = try tinyModel()
        let url = try temporaryFolder().appendingPathComponent("m.gguf")
        try GGUFExport.write(model, tokenizer: tinyTokenizerExport(), to: url, dtype: dtype)
        let file = try GGUFFile(contentsOf: url)
        #expect(file.value("general.file_type") == .uint32(dtype == .f16 ? 1 : 32))
        #expect(file.tensor(named: "blk.0.attn_q.weight")?.type == dtype.ggmlType)
        #expect(file.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
        let expected = values(model, "layers.0.attn.v_proj.weight").map {
            dtype == .bf16 ? HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: $0))
                           : HalfPrecision.float(fromFloat16Bits: HalfPrecision.float16Bits(from: $0))
        }
        #expect(try file.floats(named: "blk.0.attn_v.weight") == expected)
    }

    @Test("a tokenizer larger than the model is refused; an existing file is kept without overwrite")
    func refusals() throws {
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("m.gguf")
        try Data("old".utf8).write(to: url)
        #expect(throws: InterchangeError.outputExists(path: url.path)) {
            try GGUFExport.write(try tinyModel(), tokenizer: tinyTokenizerExport(), to: url)
        }
        let small = try TransformerLM(config: ModelConfig(vocabSize: 100, contextLength: 8, dModel: 8, numLayers: 1, numHeads: 2, dFF: 16))
        #expect { try GGUFExport.write(small, tokenizer: tinyTokenizerExport(), to: url, overwrite: true) } throws: {
            "\($0)".contains("259 tokens but the model's vocab_size is 100")
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")
        #expect(folderEntries(folder) == ["m.gguf"])
    }
}

import FableInterchange
import FableModel
import FableTensor
import Foundation
import Testing

/// `HuggingFaceExport` checked against what transformers' Llama expects (names, config keys,
/// tokenizer.json structure), read back with Foundation's JSON parser and the safetensors reader.
@Suite struct HuggingFaceExportTests {
    /// The HF Llama state-dict names of a two-layer untied model, spelled out.
    static let expectedNames: Set<String> = {
        var names: Set<String> = ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"]
        for i in 0..<2 {
            for suffix in ["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                           "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                           "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight"] {
                names.insert("model.layers.\(i).\(suffix)")
            }
        }
        return names
    }()

    @Test("config.json has the LlamaForCausalLM keys with Fable's values")
    func configKeys() throws {
        let folder = try temporaryFolder()
        let model = try tinyModel(theta: 500)
        let out = folder.appendingPathComponent("hf")
        try HuggingFaceExport.write(model, tokenizer: tinyTokenizerExport(), to: out)
        #expect(folderEntries(out) == ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
        let config = try readJSON(out.appendingPathComponent("config.json"))
        #expect(config["architectures"] as? [String] == ["LlamaForCausalLM"])
        #expect(config["model_type"] as? String == "llama")
        #expect(config["hidden_size"] as? Int == 16)
        #expect(config["intermediate_size"] as? Int == 48)
        #expect(config["num_hidden_layers"] as? Int == 2)
        #expect(config["num_attention_heads"] as? Int == 2)
        #expect(config["num_key_value_heads"] as? Int == 2)
        #expect(config["head_dim"] as? Int == 8)
        #expect(config["vocab_size"] as? Int == 264)
        #expect(config["max_position_embeddings"] as? Int == 16)
        #expect(config["hidden_act"] as? String == "silu")
        #expect(config["rms_norm_eps"] as? Double == 1e-5)
        #expect(config["rope_theta"] as? Double == 500)
        #expect((config["rope_parameters"] as? [String: Any])?["rope_theta"] as? Double == 500)
        #expect(config["tie_word_embeddings"] as? Bool == false)
        #expect(config["attention_bias"] as? Bool == false)
        #expect(config["mlp_bias"] as? Bool == false)
        #expect(config["bos_token_id"] as? Int == 258)
        #expect(config["eos_token_id"] as? Int == 258)
        let generation = try readJSON(out.appendingPathComponent("generation_config.json"))
        #expect(generation["eos_token_id"] as? Int == 258)
    }

    @Test("model.safetensors: HF names and shapes, format pt, q/k rows in rotate-half order, the rest unchanged")
    func weights() throws {
        let folder = try temporaryFolder()
        let model = try tinyModel()
        let out = folder.appendingPathComponent("hf")
        try HuggingFaceExport.write(model, tokenizer: tinyTokenizerExport(), to: out)
        let file = try SafeTensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(Set(file.names) == Self.expectedNames)
        #expect(try file.info(named: "model.embed_tokens.weight").shape == [264, 16])
        #expect(try file.info(named: "model.layers.1.mlp.gate_proj.weight").shape == [48, 16])
        #expect(try file.info(named: "model.layers.1.mlp.down_proj.weight").shape == [16, 48])
        #expect(try file.floats(named: "model.layers.1.mlp.gate_proj.weight") == values(model, "layers.1.ffn.w1.weight"))
        #expect(try file.floats(named: "model.layers.1.mlp.up_proj.weight") == values(model, "layers.1.ffn.w3.weight"))
        #expect(try file.floats(named: "model.layers.0.self_attn.v_proj.weight") == values(model, "layers.0.attn.v_proj.weight"))
        #expect(try file.floats(named: "model.layers.0.self_attn.o_proj.weight") == values(model, "layers.0.attn.output_proj.weight"))
        #expect(try file.floats(named: "lm_head.weight") == values(model, "lm_head.weight"))
        for (hf, fable) in [("model.layers.1.self_attn.q_proj.weight", "layers.1.attn.q_proj.weight"),
                            ("model.layers.0.self_attn.k_proj.weight", "layers.0.attn.k_proj.weight")] {
            let exported = try file.floats(named: hf), original = values(model, fable)
            #expect(exported != original)
            // Head h, HF row p·4 + k holds Fable row 2k + p (head width 8, 16 columns).
            for h in 0..<2 {
                for p in 0..<2 {
                    for k in 0..<4 {
                        let row = h * 8 + p * 4 + k, source = h * 8 + 2 * k + p
                        #expect(Array(exported[(row * 16)..<(row * 16 + 16)]) == Array(original[(source * 16)..<(source * 16 + 16)]))
                    }
                }
            }
        }
    }

    @Test("tied embeddings: no lm_head.weight and tie_word_embeddings true")
    func tied() throws {
        let out = try temporaryFolder().appendingPathComponent("hf")
        try HuggingFaceExport.write(try tinyModel(tied: true), tokenizer: tinyTokenizerExport(), to: out)
        let file = try SafeTensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
        #expect(Set(file.names) == Self.expectedNames.subtracting(["lm_head.weight"]))
        #expect(try readJSON(out.appendingPathComponent("config.json"))["tie_word_embeddings"] as? Bool == true)
    }

    @Test("--dtype bf16 and f16 store every tensor rounded to nearest even", arguments: [ExportDType.bf16, .f16])
    func halfPrecision(dtype: ExportDType) throws {
        let model = try tinyModel()
        let out = try temporaryFolder().appendingPathComponent("hf")
        try HuggingFaceExport.write(model, tokenizer: tinyTokenizerExport(), to: out, dtype: dtype)
        let file = try SafeTensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
        for name in file.names { #expect(try file.info(named: name).dtype == dtype.safeTensors) }
        let expected = values(model, "layers.0.ffn.w2.weight").map {
            dtype == .bf16 ? HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: $0))
                           : HalfPrecision.float(fromFloat16Bits: HalfPrecision.float16Bits(from: $0))
        }
        #expect(try file.floats(named: "model.layers.0.mlp.down_proj.weight") == expected)
        #expect(try readJSON(out.appendingPathComponent("config.json"))["torch_dtype"] as? String == dtype.torchName)
    }

    @Test("tokenizer.json: byte-level BPE with ByteLevel pre-tokenizer and decoder, <|endoftext|> as a special added token")
    func tokenizerFiles() throws {
        let out = try temporaryFolder().appendingPathComponent("hf")
        try HuggingFaceExport.write(try tinyModel(), tokenizer: tinyTokenizerExport(), to: out)
        let tokenizer = try readJSON(out.appendingPathComponent("tokenizer.json"))
        let model = try #require(tokenizer["model"] as? [String: Any])
        #expect(model["type"] as? String == "BPE")
        let vocab = try #require(model["vocab"] as? [String: Int])
        #expect(vocab.count == 259)
        #expect(vocab["Ġ"] == 32 && vocab["Ċ"] == 10 && vocab["A"] == 65 && vocab["Ā"] == 0)
        #expect(vocab["he"] == 256 && vocab["Ġt"] == 257 && vocab["<|endoftext|>"] == 258)
        #expect(model["merges"] as? [String] == ["h e", "Ġ t"])
        for key in ["pre_tokenizer", "decoder"] {
            let component = try #require(tokenizer[key] as? [String: Any])
            #expect(component["type"] as? String == "ByteLevel")
            #expect(component["add_prefix_space"] as? Bool == false)
        }
        #expect((tokenizer["pre_tokenizer"] as? [String: Any])?["use_regex"] as? Bool == true)
        #expect(tokenizer["normalizer"] is NSNull)
        let added = try #require(tokenizer["added_tokens"] as? [[String: Any]])
        #expect(added.count == 1)
        #expect(added.first?["content"] as? String == "<|endoftext|>")
        #expect(added.first?["id"] as? Int == 258)
        #expect(added.first?["special"] as? Bool == true)
        let config = try readJSON(out.appendingPathComponent("tokenizer_config.json"))
        #expect(config["tokenizer_class"] as? String == "PreTrainedTokenizerFast")
        #expect(config["eos_token"] as? String == "<|endoftext|>")
        #expect(config["clean_up_tokenization_spaces"] as? Bool == false)
    }

    @Test("settings Llama cannot express fail naming the setting, and write nothing",
          arguments: [("norm", ModelConfig.Norm.post, ModelConfig.Position.rope, ModelConfig.FeedForward.swiglu),
                      ("norm", .none, .rope, .swiglu), ("position", .pre, .none, .swiglu), ("ffn", .pre, .rope, .silu)])
    func unsupported(setting: String, norm: ModelConfig.Norm, position: ModelConfig.Position, ffn: ModelConfig.FeedForward) throws {
        let folder = try temporaryFolder()
        let model = try tinyModel(norm: norm, position: position, ffn: ffn)
        for write in [{ try HuggingFaceExport.write(model, tokenizer: tinyTokenizerExport(), to: folder.appendingPathComponent("out")) },
                      { try GGUFExport.write(model, tokenizer: tinyTokenizerExport(), to: folder.appendingPathComponent("out")) }] {
            do {
                try write()
                Issue.record("expected an error for \(setting)")
            } catch let error as InterchangeError {
                guard case .unsupportedSetting(let named, _, _, _) = error else { Issue.record("\(error)"); continue }
                #expect(named == setting)
                #expect("\(error)".contains("model setting \(setting) ="))
            }
        }
        #expect(folderEntries(folder).isEmpty)
    }

    @Test("an existing output is kept unless overwrite is given; no temporary folder is left behind")
    func atomicOutput() throws {
        let folder = try temporaryFolder()
        let out = folder.appendingPathComponent("hf")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: out.appendingPathComponent("old.txt"))
        #expect(throws: InterchangeError.outputExists(path: out.path)) {
            try HuggingFaceExport.write(try tinyModel(), tokenizer: tinyTokenizerExport(), to: out)
        }
        #expect(folderEntries(out) == ["old.txt"])
        // A rejected export (a tokenizer larger than the model) leaves the old folder as it was.
        let big = try TokenizerExport(vocabulary: .init(tokens: (0..<300).map { [UInt8($0 % 256), UInt8($0 / 256)] }, mergePairs: []), source: "big")
        #expect(throws: InterchangeError.self) {
            try HuggingFaceExport.write(try tinyModel(), tokenizer: big, to: out, overwrite: true)
        }
        #expect(folderEntries(out) == ["old.txt"])
        try HuggingFaceExport.write(try tinyModel(), tokenizer: tinyTokenizerExport(), to: out, overwrite: true)
        #expect(folderEntries(out).contains("model.safetensors") && !folderEntries(out).contains("old.txt"))
        #expect(folderEntries(folder) == ["hf"])
    }

    @Test("AtomicDirectory: an error after some files are written leaves neither the new folder nor a temporary one")
    func failureMidWrite() throws {
        struct Stop: Error {}
        let folder = try temporaryFolder()
        let out = folder.appendingPathComponent("unit")
        #expect(throws: Stop.self) {
            try AtomicDirectory.write(to: out, overwrite: false) { temporary in
                try AtomicDirectory.writeFile(Array("half".utf8), named: "a.json", in: temporary)
                throw Stop()
            }
        }
        #expect(folderEntries(folder).isEmpty)
    }
}

import FableModel
import FableTensor
import Foundation

/// Writes a Fable model as one GGUF v3 file for llama.cpp: the `llama` architecture's
/// hyperparameters, the tokenizer (GPT-2 style BPE) and every tensor under llama.cpp's
/// names. The query/key rows stay in the interleaved order llama.cpp's RoPE uses (the
/// same as Fable's); norm weights are always F32, as llama.cpp's converter writes them.
public enum GGUFExport {
    /// The format name used in messages.
    public static let formatName = "GGUF (llama.cpp)"

    /// Writes `model` with `tokenizer` to the file `url` (atomically).
    /// - Parameters:
    ///   - name: `general.name`.
    ///   - overwrite: replace an existing file.
    public static func write(
        _ model: TransformerLM, tokenizer: TokenizerExport, to url: URL, dtype: ExportDType = .f32,
        name: String = "fable", overwrite: Bool = false
    ) throws {
        if FileManager.default.fileExists(atPath: url.path) && !overwrite {
            throw InterchangeError.outputExists(path: url.path)
        }
        let writer = try makeWriter(model, tokenizer: tokenizer, dtype: dtype, name: name, source: url.path)
        try writer.write(to: url)
    }

    /// The complete writer; its Float32 tensors borrow `model`'s parameter buffers, so
    /// `model` must outlive the writer's `write` or `serialized` call.
    public static func makeWriter(
        _ model: TransformerLM, tokenizer: TokenizerExport, dtype: ExportDType, name: String, source: String
    ) throws -> GGUFWriter {
        let config = model.config
        let layout = try LlamaLayout(config: config, format: formatName)
        var writer = GGUFWriter()
        func u32(_ value: Int) -> GGUF.Value { .uint32(UInt32(value)) }
        let metadata: [(String, GGUF.Value)] = [
            ("general.architecture", .string("llama")),
            ("general.name", .string(name)),
            ("general.file_type", .uint32(dtype.ggufFileType)),
            ("llama.vocab_size", u32(config.vocabSize)),
            ("llama.context_length", u32(config.contextLength)),
            ("llama.embedding_length", u32(config.dModel)),
            ("llama.block_count", u32(config.numLayers)),
            ("llama.feed_forward_length", u32(config.dFF)),
            ("llama.attention.head_count", u32(config.numHeads)),
            ("llama.attention.head_count_kv", u32(config.numHeads)),
            ("llama.rope.dimension_count", u32(config.headDim)),
            ("llama.rope.freq_base", .float32(Float(config.ropeTheta))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(Float(LlamaLayout.rmsNormEpsilon))),
        ] + (try tokenizer.ggufMetadata(modelVocabularySize: config.vocabSize, source: source))
        for (key, value) in metadata { try writer.set(key, value) }

        let store = model.parameters
        for tensor in layout.tensors {
            guard let entry = store.entry(named: tensor.fable), entry.shape == tensor.shape else {
                throw InterchangeError.missingTensor(path: "the model", tensor: tensor.fable)
            }
            let values = UnsafeBufferPointer(store.values(of: entry))
            let type = tensor.shape.count == 1 ? ExportDType.f32 : dtype
            if type == .f32 {
                try writer.addTensor(tensor.gguf, shape: tensor.shape, borrowing: values)
            } else {
                try writer.addTensor(tensor.gguf, shape: tensor.shape, type: type.ggmlType, bytes: type.bytes(of: values))
            }
        }
        return writer
    }
}

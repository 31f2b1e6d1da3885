import FableModel
import FableTensor
import FableFormats
import Foundation

/// Writes a Fable model as a Hugging Face transformers folder that
/// `AutoModelForCausalLM.from_pretrained` and `AutoTokenizer.from_pretrained` load with no
/// custom code: config.json (`LlamaForCausalLM`), model.safetensors, tokenizer.json,
/// tokenizer_config.json and generation_config.json. The folder appears as a unit.
public enum HuggingFaceExport {
    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"
    public static let tokenizerFile = "tokenizer.json"
    public static let tokenizerConfigFile = "tokenizer_config.json"
    public static let generationConfigFile = "generation_config.json"
    /// The format name used in messages.
    public static let formatName = "Hugging Face Llama"

    /// Writes `model` (and its tokenizer) into the folder `url`.
    /// - Parameters:
    ///   - dtype: the weights' element type (F32 exact; F16/BF16 rounded to nearest even).
    ///   - overwrite: replace an existing `url`.
    /// - Throws: ``InterchangeError`` naming an unsupported setting, a tokenizer that does
    ///   not fit, or the file that could not be written.
    public static func write(
        _ model: TransformerLM, tokenizer: TokenizerExport, to url: URL, dtype: ExportDType = .f32, overwrite: Bool = false
    ) throws {
        let layout = try LlamaLayout(config: model.config, format: formatName)
        guard tokenizer.texts.count <= model.config.vocabSize else {
            throw InterchangeError.tokenizer(path: url.path, reason: "it has \(tokenizer.texts.count) tokens but the model's vocab_size is \(model.config.vocabSize)")
        }
        try AtomicDirectory.write(to: url, overwrite: overwrite) { folder in
            try writeWeights(model, layout: layout, dtype: dtype, to: folder.appendingPathComponent(weightsFile))
            let files: [(String, JSONValue)] = [
                (configFile, config(model.config, endOfText: tokenizer.endOfTextID, dtype: dtype)),
                (generationConfigFile, generationConfig(endOfText: tokenizer.endOfTextID)),
                (tokenizerFile, tokenizer.huggingFaceTokenizer()),
                (tokenizerConfigFile, tokenizer.huggingFaceTokenizerConfig(contextLength: model.config.contextLength)),
            ]
            for (name, value) in files {
                try AtomicDirectory.writeFile(JSONFile.bytes(value, indented: name != tokenizerFile), named: name, in: folder)
            }
        }
    }

    /// config.json for `LlamaForCausalLM`. `rope_theta` and `rms_norm_eps` are written
    /// explicitly (the library defaults may change); `rope_parameters` is the same RoPE
    /// setting in the form transformers 5 reads.
    package static func config(_ config: ModelConfig, endOfText: Int?, dtype: ExportDType) -> JSONValue {
        func int(_ value: Int) -> JSONValue { .int(value) }
        let special: JSONValue = endOfText.map { int($0) } ?? .null
        return .object([
            "architectures": .array([.string("LlamaForCausalLM")]),
            "model_type": .string("llama"),
            "vocab_size": int(config.vocabSize),
            "hidden_size": int(config.dModel),
            "intermediate_size": int(config.dFF),
            "num_hidden_layers": int(config.numLayers),
            "num_attention_heads": int(config.numHeads),
            "num_key_value_heads": int(config.numHeads),
            "head_dim": int(config.headDim),
            "hidden_act": .string("silu"),
            "max_position_embeddings": int(config.contextLength),
            "rms_norm_eps": .double(LlamaLayout.rmsNormEpsilon),
            "rope_theta": .double(config.ropeTheta),
            "rope_parameters": .object(["rope_type": .string("default"), "rope_theta": .double(config.ropeTheta)]),
            "attention_bias": .bool(false),
            "attention_dropout": .double(0),
            "mlp_bias": .bool(false),
            "pretraining_tp": int(1),
            "initializer_range": .double(0.02),
            "tie_word_embeddings": .bool(config.tieEmbeddings),
            "bos_token_id": special,
            "eos_token_id": special,
            "use_cache": .bool(true),
            "torch_dtype": .string(dtype.torchName),
        ])
    }

    /// generation_config.json: the bos/eos ids, so `generate` stops at `<|endoftext|>`.
    package static func generationConfig(endOfText: Int?) -> JSONValue {
        let special: JSONValue = endOfText.map { .int($0) } ?? .null
        return .object(["bos_token_id": special, "eos_token_id": special, "pad_token_id": special])
    }

    /// model.safetensors with HF names, `{"format": "pt"}` metadata (transformers requires
    /// it) and the query/key rows reordered to HF's rotate-half layout.
    static func writeWeights(_ model: TransformerLM, layout: LlamaLayout, dtype: ExportDType, to url: URL) throws {
        let store = model.parameters
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for tensor in layout.tensors {
            guard let entry = store.entry(named: tensor.fable), entry.shape == tensor.shape else {
                throw InterchangeError.missingTensor(path: "the model", tensor: tensor.fable)
            }
            let values = UnsafeBufferPointer(store.values(of: entry))
            if tensor.rotary {
                let permuted = RotaryLayout.interleavedToHalves(values, numHeads: layout.config.numHeads, headDim: layout.config.headDim)
                try writer.add(tensor.huggingFace, shape: tensor.shape, floats: permuted, as: dtype.safeTensors)
            } else if dtype == .f32 {
                try writer.add(tensor.huggingFace, shape: tensor.shape, borrowing: values)
            } else {
                try writer.add(tensor.huggingFace, dtype: dtype.safeTensors, shape: tensor.shape, bytes: dtype.bytes(of: values))
            }
        }
        try writer.write(to: url)
    }
}

import FableModel
import FableTensor
import FableTokenizer
import FableFormats
import FableTraining
import Foundation

/// Reads a Hugging Face Llama folder (config.json, model.safetensors or a sharded
/// model.safetensors.index.json, tokenizer.json) into a Fable model and vocabulary, and
/// writes them as a Fable checkpoint plus tokenizer folder. What Fable's architecture
/// cannot reproduce exactly (grouped-query attention, biases, RoPE scaling, another
/// activation or norm epsilon, another tokenizer scheme) is an error naming the key.
public enum HuggingFaceImport {
    /// The checkpoint inside the output folder (`fable generate --checkpoint`, `fable train --init-from`).
    public static let checkpointFile = "model.safetensors"
    /// The tokenizer folder inside the output folder (vocab.json, merges.txt, special_tokens.txt).
    public static let tokenizerFolder = "tokenizer"

    /// A model read from a Hugging Face folder.
    public struct Imported {
        public let model: TransformerLM
        public let vocabulary: Vocabulary
        public let source: URL
    }

    /// Reads the folder `url`.
    public static func read(from url: URL) throws -> Imported {
        let config = try modelConfig(from: url.appendingPathComponent(HuggingFaceExport.configFile))
        let vocabulary = try TokenizerImport.vocabulary(fromTokenizerJSON: url.appendingPathComponent(HuggingFaceExport.tokenizerFile))
        let tokenizerCount = vocabulary.addingMissingSpecialTokens().count
        guard tokenizerCount <= config.vocabSize else {
            throw InterchangeError.tokenizer(path: url.appendingPathComponent(HuggingFaceExport.tokenizerFile).path,
                                             reason: "it has \(tokenizerCount) tokens but config.json's vocab_size is \(config.vocabSize)")
        }
        let model = try TransformerLM(config: config, seed: 0)
        try loadWeights(into: model, from: url)
        return Imported(model: model, vocabulary: vocabulary, source: url)
    }

    /// Writes `imported` into the folder `url` as `model.safetensors` (a Fable checkpoint
    /// with no optimizer state, naming its tokenizer) and `tokenizer/`; the folder appears as a unit.
    public static func write(_ imported: Imported, to url: URL, overwrite: Bool = false) throws {
        try AtomicDirectory.write(to: url, overwrite: overwrite) { folder in
            try imported.vocabulary.save(to: folder.appendingPathComponent(tokenizerFolder))
            let config = String(decoding: imported.model.config.jsonData(), as: UTF8.self)
            let state = Checkpoint.RunState(
                step: 0, rng: RandomGenerator(seed: 0), config: config, tokenizer: tokenizerFolder,
                extra: ["imported_from": imported.source.path, ModelWeights.configMetadataKey: config])
            try Checkpoint.save(to: folder.appendingPathComponent(checkpointFile), store: imported.model.parameters,
                                optimizer: nil, state: state)
        }
    }

    // MARK: - config.json

    /// The Fable model configuration a Llama config.json describes.
    public static func modelConfig(from url: URL) throws -> ModelConfig {
        let json = try JSONFields.read(url)
        let path = url.path
        func reject(_ key: String, _ value: String, _ expected: String) -> InterchangeError {
            .invalidValue(path: path, key: key, value: value, expected: expected)
        }
        if let architectures = try json.array("architectures") {
            let names = architectures.compactMap(\.stringValue)
            guard names.contains("LlamaForCausalLM") else {
                throw reject("architectures", names.joined(separator: ", "), "LlamaForCausalLM")
            }
        } else if let type = try json.string("model_type"), type != "llama" {
            throw reject("model_type", type, "llama")
        }
        let hidden = try json.int("hidden_size")
        let heads = try json.int("num_attention_heads")
        if let act = try json.string("hidden_act"), act != "silu" {
            throw reject("hidden_act", act, "silu (Fable's feed-forward is SwiGLU)")
        }
        if let kvHeads = try json.optionalInt("num_key_value_heads"), kvHeads != heads {
            throw reject("num_key_value_heads", "\(kvHeads)", "\(heads), the number of attention heads (Fable has no grouped-query attention)")
        }
        if heads > 0, let headDim = try json.optionalInt("head_dim"), headDim != hidden / heads {
            throw reject("head_dim", "\(headDim)", "hidden_size / num_attention_heads = \(hidden / heads)")
        }
        for key in ["attention_bias", "mlp_bias"] where try json.bool(key) == true {
            throw reject(key, "true", "false (Fable's projections have no biases)")
        }
        if let scaling = json["rope_scaling"] {
            throw reject("rope_scaling", JSONFields.shortText(scaling), "null (Fable implements plain RoPE)")
        }
        var theta = try json.double("rope_theta")
        if let parameters = try json.object("rope_parameters") {
            if let type = try parameters.string("rope_type"), type != "default" {
                throw reject("rope_parameters.rope_type", type, "default (Fable implements plain RoPE)")
            }
            theta = try parameters.double("rope_theta") ?? theta
        }
        // LlamaConfig's default epsilon is 1e-6; Fable's RMSNorm uses 1e-5.
        let eps = try json.double("rms_norm_eps") ?? 1e-6
        guard Float(eps) == Float(LlamaLayout.rmsNormEpsilon) else {
            throw reject("rms_norm_eps", "\(eps)", "1e-05 (Fable's RMSNorm epsilon)")
        }
        let config = ModelConfig(
            vocabSize: try json.int("vocab_size"), contextLength: try json.int("max_position_embeddings"),
            dModel: hidden, numLayers: try json.int("num_hidden_layers"), numHeads: heads,
            dFF: try json.int("intermediate_size"), ropeTheta: theta ?? 10_000,
            tieEmbeddings: try json.bool("tie_word_embeddings") ?? false)
        do { try config.validate() } catch {
            throw InterchangeError.unreadable(path: path, reason: "\(error)")
        }
        return config
    }

    // MARK: - Weights

    /// The safetensors files of the folder and which file holds each tensor.
    static func weightFiles(in url: URL) throws -> [String: SafeTensorsFile] {
        let single = url.appendingPathComponent(HuggingFaceExport.weightsFile)
        if FileManager.default.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(contentsOf: single)
            return Dictionary(file.names.map { ($0, file) }, uniquingKeysWith: { first, _ in first })
        }
        let indexURL = url.appendingPathComponent("model.safetensors.index.json")
        guard FileManager.default.fileExists(atPath: indexURL.path) else {
            throw InterchangeError.unreadable(path: url.path, reason: "no model.safetensors or model.safetensors.index.json (PyTorch .bin weights are not supported; save with safetensors)")
        }
        let index = try JSONFields.read(indexURL)
        guard let map = try index.object("weight_map") else { throw InterchangeError.missingKey(path: indexURL.path, key: "weight_map") }
        var opened: [String: SafeTensorsFile] = [:]
        var byTensor: [String: SafeTensorsFile] = [:]
        for (tensor, value) in map.members {
            guard let name = value.stringValue, !name.contains("/") else {
                throw InterchangeError.invalidValue(path: indexURL.path, key: "weight_map[\(tensor)]", value: JSONFields.shortText(value), expected: "a file name in the folder")
            }
            if opened[name] == nil { opened[name] = try SafeTensorsFile(contentsOf: url.appendingPathComponent(name)) }
            byTensor[tensor] = opened[name]
        }
        return byTensor
    }

    /// Fills `model`'s parameters from the folder's weights, converting F16/BF16 to F32
    /// and reordering query/key rows from HF's rotate-half layout to Fable's.
    static func loadWeights(into model: TransformerLM, from url: URL) throws {
        let layout = try LlamaLayout(config: model.config, format: HuggingFaceExport.formatName)
        let files = try weightFiles(in: url)
        var expected = Set(layout.tensors.map(\.huggingFace))
        if model.config.tieEmbeddings { expected.insert("lm_head.weight") }  // a tied copy is allowed
        for name in files.keys.sorted() where !expected.contains(name) && !name.hasSuffix("rotary_emb.inv_freq") {
            throw InterchangeError.unexpectedTensor(path: files[name]!.url.path, tensor: name)
        }
        let store = model.parameters
        for tensor in layout.tensors {
            guard let file = files[tensor.huggingFace] else {
                throw InterchangeError.missingTensor(path: url.path, tensor: tensor.huggingFace)
            }
            let info = try file.info(named: tensor.huggingFace)
            guard info.shape == tensor.shape else {
                throw InterchangeError.shapeMismatch(path: file.url.path, tensor: tensor.huggingFace, expected: tensor.shape, actual: info.shape)
            }
            var values = try file.floats(named: tensor.huggingFace)
            if tensor.rotary {
                values = values.withUnsafeBufferPointer {
                    RotaryLayout.halvesToInterleaved($0, numHeads: model.config.numHeads, headDim: model.config.headDim)
                }
            }
            guard let entry = store.entry(named: tensor.fable) else { throw InterchangeError.missingTensor(path: "the model", tensor: tensor.fable) }
            _ = store.values(of: entry).update(fromContentsOf: values)
        }
    }
}

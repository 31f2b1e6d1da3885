import Foundation

/// The shape of a Transformer LM and its architecture switches (the CS336 ablations).
///
/// JSON files use the snake_case keys shown on each field, the same keys as the PyTorch
/// reference (`Scripts/reference/model_reference.py`). Only the six size keys are required;
/// the rest default to the CS336 architecture (pre-norm, RoPE with theta 10000, SwiGLU,
/// untied embeddings), and `d_ff` defaults to ``defaultFeedForwardWidth(dModel:ffn:)``.
/// Unknown keys are rejected so a misspelt switch cannot silently fall back to its default.
///
/// ```json
/// {"vocab_size": 10000, "context_length": 256, "d_model": 512,
///  "num_layers": 4, "num_heads": 16, "d_ff": 1344, "rope_theta": 10000}
/// ```
public struct ModelConfig: Codable, Equatable, Sendable {
    // MARK: - Switches

    /// Where RMSNorm sits in each block.
    public enum Norm: String, ConfigChoice, Sendable {
        /// `x + f(RMSNorm(x))` per sublayer, plus `ln_final` before the LM head (CS336).
        case pre
        /// `RMSNorm(x + f(x))` per sublayer (the original Transformer); no `ln_final`.
        case post
        /// No RMSNorm at all (the layer-norm ablation): no `ln1`, `ln2` or `ln_final`.
        case none
    }

    /// How attention learns where tokens are.
    public enum Position: String, ConfigChoice, Sendable {
        /// Rotary position embeddings on queries and keys.
        case rope
        /// No position information (NoPE); the causal mask is the only ordering signal.
        case none
    }

    /// The position-wise feed-forward network.
    public enum FeedForward: String, ConfigChoice, Sendable {
        /// `w2(SiLU(w1 x) * w3 x)`: three matrices.
        case swiglu
        /// `w2(SiLU(w1 x))`: two matrices, no gate (the SwiGLU ablation).
        case silu
    }

    // MARK: - Fields

    /// `vocab_size`: number of token ids; rows of the embedding and of the LM head.
    public var vocabSize: Int
    /// `context_length`: the longest sequence the model accepts (RoPE tables are this long).
    public var contextLength: Int
    /// `d_model`: width of the residual stream.
    public var dModel: Int
    /// `num_layers`: number of Transformer blocks.
    public var numLayers: Int
    /// `num_heads`: attention heads per block; `d_model` must be divisible by it.
    public var numHeads: Int
    /// `d_ff`: inner width of the feed-forward network.
    public var dFF: Int
    /// `rope_theta`: the RoPE base Θ; pair k of a head rotates by position · Θ^(-2k/d_k).
    public var ropeTheta: Double
    /// `norm`: `pre` (default), `post` or `none`.
    public var norm: Norm
    /// `position`: `rope` (default) or `none`.
    public var position: Position
    /// `ffn`: `swiglu` (default) or `silu`.
    public var ffn: FeedForward
    /// `tie_embeddings`: the LM head reuses `token_embeddings.weight` (stored once, under
    /// that name); default false.
    public var tieEmbeddings: Bool

    /// The width of one attention head, `d_model / num_heads`.
    public var headDim: Int { dModel / max(numHeads, 1) }

    /// A configuration; `dFF` defaults to ``defaultFeedForwardWidth(dModel:ffn:)``.
    /// Call ``validate()`` before building a model from user input.
    public init(
        vocabSize: Int, contextLength: Int, dModel: Int, numLayers: Int, numHeads: Int,
        dFF: Int? = nil, ropeTheta: Double = 10_000, norm: Norm = .pre,
        position: Position = .rope, ffn: FeedForward = .swiglu, tieEmbeddings: Bool = false
    ) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.dModel = dModel
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.dFF = dFF ?? Self.defaultFeedForwardWidth(dModel: dModel, ffn: ffn)
        self.ropeTheta = ropeTheta
        self.norm = norm
        self.position = position
        self.ffn = ffn
        self.tieEmbeddings = tieEmbeddings
    }

    // MARK: - Defaults

    /// The default inner width: for SwiGLU about 8/3 · d_model rounded to a multiple of 64
    /// (at least 64), as CS336 asks; for SiLU 3/2 of that, which gives exactly SwiGLU's
    /// parameter count with two matrices instead of three.
    public static func defaultFeedForwardWidth(dModel: Int, ffn: FeedForward) -> Int {
        let swiglu = max(64, Int((Double(8 * dModel) / 3.0 / 64.0).rounded()) * 64)
        return ffn == .swiglu ? swiglu : swiglu * 3 / 2
    }

    /// The SiLU ablation of this configuration: `ffn = silu` with `d_ff` scaled by 3/2 so
    /// the feed-forward parameter count matches (exactly when `d_ff` is even).
    public func withSiLUFeedForward() -> ModelConfig {
        guard ffn == .swiglu else { return self }
        var copy = self
        copy.ffn = .silu
        copy.dFF = dFF * 3 / 2
        return copy
    }

    // MARK: - Validation

    /// Checks every field; the error names the JSON key and what was expected.
    public func validate() throws(ModelConfigError) {
        func positive(_ value: Int, _ key: String) throws(ModelConfigError) {
            if value < 1 { throw .invalidValue(key: key, value: "\(value)", expected: "a positive integer") }
        }
        try positive(vocabSize, "vocab_size")
        try positive(contextLength, "context_length")
        try positive(dModel, "d_model")
        try positive(numLayers, "num_layers")
        try positive(numHeads, "num_heads")
        try positive(dFF, "d_ff")
        if dModel % numHeads != 0 {
            throw .invalidValue(
                key: "num_heads", value: "\(numHeads)",
                expected: "a divisor of d_model (\(dModel))")
        }
        if position == .rope && headDim % 2 != 0 {
            throw .invalidValue(
                key: "num_heads", value: "\(numHeads)",
                expected: "a head width d_model / num_heads that is even for RoPE (it is \(headDim))")
        }
        if !(ropeTheta.isFinite && ropeTheta > 0) {
            throw .invalidValue(key: "rope_theta", value: "\(ropeTheta)", expected: "a positive finite number")
        }
        if vocabSize > Int(Int32.max) {
            throw .invalidValue(key: "vocab_size", value: "\(vocabSize)", expected: "at most \(Int32.max)")
        }
    }

    // MARK: - Codable

    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabSize = "vocab_size"
        case contextLength = "context_length"
        case dModel = "d_model"
        case numLayers = "num_layers"
        case numHeads = "num_heads"
        case dFF = "d_ff"
        case ropeTheta = "rope_theta"
        case norm, position, ffn
        case tieEmbeddings = "tie_embeddings"
    }

    /// Any key, to find the ones this type does not know.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        for key in try decoder.container(keyedBy: AnyKey.self).allKeys where !known.contains(key.stringValue) {
            throw ModelConfigError.unknownKey(key.stringValue)
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let dModel = try c.decodeWholeNumber(forKey: .dModel)
        let ffn = try c.decodeIfPresent(FeedForward.self, forKey: .ffn) ?? .swiglu
        self.init(
            vocabSize: try c.decodeWholeNumber(forKey: .vocabSize),
            contextLength: try c.decodeWholeNumber(forKey: .contextLength),
            dModel: dModel,
            numLayers: try c.decodeWholeNumber(forKey: .numLayers),
            numHeads: try c.decodeWholeNumber(forKey: .numHeads),
            dFF: try c.decodeWholeNumberIfPresent(forKey: .dFF),
            ropeTheta: try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10_000,
            norm: try c.decodeIfPresent(Norm.self, forKey: .norm) ?? .pre,
            position: try c.decodeIfPresent(Position.self, forKey: .position) ?? .rope,
            ffn: ffn,
            tieEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieEmbeddings) ?? false)
    }

    // MARK: - Files

    /// Reads and validates a JSON configuration file.
    public static func load(from url: URL) throws(ModelConfigError) -> ModelConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, source: url.path)
    }

    /// Decodes and validates JSON; `source` names the input in errors.
    public static func decode(_ data: Data, source: String = "model config") throws(ModelConfigError) -> ModelConfig {
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as ModelConfigError {
            throw .inFile(path: source, error)
        } catch {
            throw .invalidJSON(path: source, reason: Self.describe(error))
        }
        do { try config.validate() } catch { throw .inFile(path: source, error) }
        return config
    }

    /// The configuration as pretty, key-sorted JSON.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding plain integers, strings and finite doubles cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// A readable message for a decoding error, naming the key where there is one.
    private static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return error.localizedDescription }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _):
            return "missing required key \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "key \(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            let key = path(context)
            return key.isEmpty ? context.debugDescription : "key \(key): \(context.debugDescription)"
        @unknown default:
            return error.localizedDescription
        }
    }
}

/// Why a model configuration was rejected.
public enum ModelConfigError: Error, CustomStringConvertible, Equatable {
    /// A field holds a value the model cannot be built with.
    case invalidValue(key: String, value: String, expected: String)
    /// The JSON has a key ModelConfig does not define.
    case unknownKey(String)
    /// No preset has this name.
    case unknownPreset(String, available: [String])
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not a valid configuration object.
    case invalidJSON(path: String, reason: String)
    /// Another error, found in the named file.
    indirect case inFile(path: String, ModelConfigError)

    public var description: String {
        switch self {
        case .invalidValue(let key, let value, let expected):
            return "model config key \(key) is \(value); expected \(expected)"
        case .unknownKey(let key):
            return "model config has unknown key \(key); known keys: "
                + ModelConfig.CodingKeys.allCases.map(\.rawValue).joined(separator: ", ")
        case .unknownPreset(let name, let available):
            return "no model preset named \(name); available: \(available.joined(separator: ", "))"
        case .unreadable(let path, let reason):
            return "cannot read model config \(path): \(reason)"
        case .invalidJSON(let path, let reason):
            return "\(path): not a valid model config: \(reason)"
        case .inFile(let path, let error):
            return "\(path): \(error)"
        }
    }
}

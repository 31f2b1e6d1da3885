import FableTensor
import Foundation

/// The CS336 Transformer language model: token embeddings, `num_layers` blocks, a final
/// RMSNorm (pre-norm only) and the LM head, with the ablations of ``ModelConfig``.
///
/// Every parameter lives in one ``ParameterStore`` (``parameters``) under its CS336
/// state-dict name, in state-dict order; the modules hold tensors that view it, so an
/// optimizer that updates `parameters.values` updates the model, and a backward pass
/// accumulates into `parameters.gradients`.
///
/// ```swift
/// let model = try TransformerLM(config: ModelConfig.preset(named: "tiny"), seed: 1)
/// let loss = try model.loss(tokens: batch, targets: next, shape: [8, 128])
/// model.parameters.zeroGradients()
/// loss.backward()            // gradients now in model.parameters.gradients
/// ```
public final class TransformerLM {
    /// The validated configuration.
    public let config: ModelConfig
    /// All parameters and their gradients.
    public let parameters: ParameterStore
    public let tokenEmbeddings: Embedding
    public let layers: [TransformerBlock]
    /// Nil unless the model is pre-norm.
    public let lnFinal: RMSNorm?
    /// With tied embeddings its weight is `tokenEmbeddings.weight`.
    public let lmHead: Linear
    /// The RoPE tables shared by every layer; nil for NoPE.
    public let rope: RotaryPositionalEmbedding?

    // MARK: - Construction

    /// A model with freshly initialised parameters (CS336 initialisation, drawn from a
    /// ``RandomGenerator`` seeded with `seed`, parameter by parameter in state-dict order).
    /// - Throws: ``ModelConfigError`` when the configuration is invalid.
    public init(config: ModelConfig, seed: UInt64 = 0) throws(ModelConfigError) {
        try config.validate()
        self.config = config
        let store = ParameterStore(layout: Self.parameterLayout(for: config))
        parameters = store
        func param(_ name: String) -> Tensor {
            guard let t = Tensor.parameter(store, named: name) else {
                preconditionFailure("parameter \(name) missing from the layout")
            }
            return t
        }
        let embeddingWeight = param("token_embeddings.weight")
        tokenEmbeddings = Embedding(weight: embeddingWeight)
        let rope = config.position == .rope
            ? RotaryPositionalEmbedding(theta: config.ropeTheta, dK: config.headDim, maxSeqLen: config.contextLength)
            : nil
        self.rope = rope
        layers = (0..<config.numLayers).map { i in
            let p = "layers.\(i)."
            let attn = CausalSelfAttention(
                qProj: Linear(weight: param(p + "attn.q_proj.weight")),
                kProj: Linear(weight: param(p + "attn.k_proj.weight")),
                vProj: Linear(weight: param(p + "attn.v_proj.weight")),
                outputProj: Linear(weight: param(p + "attn.output_proj.weight")),
                numHeads: config.numHeads, rope: rope)
            let ffn = FeedForward(
                w1: Linear(weight: param(p + "ffn.w1.weight")),
                w2: Linear(weight: param(p + "ffn.w2.weight")),
                w3: config.ffn == .swiglu ? Linear(weight: param(p + "ffn.w3.weight")) : nil)
            let hasNorm = config.norm != .none
            return TransformerBlock(
                attn: attn, ffn: ffn,
                ln1: hasNorm ? RMSNorm(weight: param(p + "ln1.weight")) : nil,
                ln2: hasNorm ? RMSNorm(weight: param(p + "ln2.weight")) : nil,
                norm: config.norm)
        }
        lnFinal = config.norm == .pre ? RMSNorm(weight: param("ln_final.weight")) : nil
        lmHead = Linear(weight: config.tieEmbeddings ? embeddingWeight : param("lm_head.weight"))
        initializeParameters(seed: seed)
    }

    /// The parameter names and shapes of `config`, in state-dict order. A tied model has no
    /// `lm_head.weight` entry; a post-norm model no `ln_final.weight`; a model without
    /// norms no `ln1`, `ln2` or `ln_final`; a SiLU model no `w3`.
    public static func parameterLayout(for config: ModelConfig) -> [(name: String, shape: [Int])] {
        let d = config.dModel, ff = config.dFF
        var layout: [(name: String, shape: [Int])] = [("token_embeddings.weight", [config.vocabSize, d])]
        for i in 0..<config.numLayers {
            let p = "layers.\(i)."
            if config.norm != .none { layout.append((p + "ln1.weight", [d])) }
            for proj in ["q_proj", "k_proj", "v_proj", "output_proj"] {
                layout.append((p + "attn.\(proj).weight", [d, d]))
            }
            if config.norm != .none { layout.append((p + "ln2.weight", [d])) }
            layout.append((p + "ffn.w1.weight", [ff, d]))
            layout.append((p + "ffn.w2.weight", [d, ff]))
            if config.ffn == .swiglu { layout.append((p + "ffn.w3.weight", [ff, d])) }
        }
        if config.norm == .pre { layout.append(("ln_final.weight", [d])) }
        if !config.tieEmbeddings { layout.append(("lm_head.weight", [config.vocabSize, d])) }
        return layout
    }

    /// Re-draws every parameter: Linear weights truncated normal with std
    /// sqrt(2 / (in + out)) cut at ±3 std, the embedding truncated normal with std 1 cut at
    /// ±3 (a tied embedding is initialised as the LM head), RMSNorm gains 1.
    public func initializeParameters(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        for entry in parameters.entries {
            guard let weight = Tensor.parameter(parameters, named: entry.name) else { continue }
            if entry.shape.count == 1 {
                RMSNorm.initialize(weight)
            } else if entry.name == "token_embeddings.weight" && !config.tieEmbeddings {
                Embedding.initialize(weight, generator: &generator)
            } else {
                Linear.initialize(weight, generator: &generator)
            }
        }
    }

    /// The names a weights file may hold beyond the store's entries: a tied model accepts
    /// a duplicate `lm_head.weight` equal to `token_embeddings.weight`.
    var weightAliases: [String: String] {
        config.tieEmbeddings ? ["lm_head.weight": "token_embeddings.weight"] : [:]
    }

    // MARK: - Forward

    /// The logits (batch..., T, vocab_size) for token ids shaped (batch..., T).
    ///
    /// - Parameters:
    ///   - tokens: token ids in row-major order, each in `0..<vocab_size`.
    ///   - shape: the shape of `tokens`: any leading batch axes, then T ≤ context_length.
    ///   - positions: the T positions of the sequence axis (shared by every batch entry),
    ///     each in `0..<context_length`; default `0..<T`. Generation with a cache passes
    ///     the absolute positions of the new tokens.
    /// - Throws: ``ModelError`` for an id, shape or position the model cannot take.
    public func forward<Tokens: Collection>(
        tokens: Tokens, shape: [Int], positions: [Int]? = nil
    ) throws(ModelError) -> Tensor where Tokens.Element: BinaryInteger {
        let ids = try checkedTokens(tokens, shape: shape)
        let t = shape[shape.count - 1]
        if let positions {
            guard positions.count == t else {
                throw .shapeMismatch(expected: "\(t) token positions", actual: "\(positions.count)")
            }
            for (i, p) in positions.enumerated() where p < 0 || p >= config.contextLength {
                throw .positionOutOfRange(index: i, position: p, contextLength: config.contextLength)
            }
        }
        var x = tokenEmbeddings(ids, shape: shape)   // (..., T, d_model)
        for layer in layers {
            x = layer(x, positions: positions)
        }
        if let lnFinal { x = lnFinal(x) }
        return lmHead(x)                              // (..., T, vocab)
    }

    /// Validates ids against the vocabulary and the shape against the context length.
    func checkedTokens<Tokens: Collection>(
        _ tokens: Tokens, shape: [Int]
    ) throws(ModelError) -> [Int] where Tokens.Element: BinaryInteger {
        guard let t = shape.last, shape.allSatisfy({ $0 > 0 }) else {
            throw .shapeMismatch(expected: "a token shape (batch..., T) with positive sizes", actual: "\(shape)")
        }
        guard shape.reduce(1, *) == tokens.count else {
            throw .shapeMismatch(expected: "\(shape.reduce(1, *)) token ids for shape \(shape)", actual: "\(tokens.count)")
        }
        if t > config.contextLength { throw .sequenceTooLong(length: t, contextLength: config.contextLength) }
        var ids = [Int]()
        ids.reserveCapacity(tokens.count)
        let vocab = config.vocabSize
        for (i, token) in tokens.enumerated() {
            guard token >= 0 && token < vocab else {
                throw .tokenOutOfRange(index: i, token: Int(clamping: token), vocabSize: vocab)
            }
            ids.append(Int(token))
        }
        return ids
    }

    // MARK: - Loss

    /// The mean cross-entropy of predicting `targets` from `tokens` (both shaped `shape`),
    /// a scalar tensor ready for `backward()`.
    public func loss<Tokens: Collection, Targets: Collection>(
        tokens: Tokens, targets: Targets, shape: [Int], positions: [Int]? = nil
    ) throws(ModelError) -> Tensor where Tokens.Element: BinaryInteger, Targets.Element: BinaryInteger {
        let logits = try forward(tokens: tokens, shape: shape, positions: positions)
        let targetIds = try checkedTokens(targets, shape: shape)
        return Tensor.crossEntropy(logits, targets: targetIds)
    }

    // MARK: - Weights

    /// Loads parameters from a safetensors file with the CS336 names (see ``ModelWeights``).
    public func loadWeights(from url: URL) throws(ModelWeightsError) {
        try ModelWeights.load(into: parameters, from: url, aliases: weightAliases)
    }

    /// Saves the parameters as safetensors with the CS336 names and the config as metadata.
    public func saveWeights(to url: URL) throws(ModelWeightsError) {
        try ModelWeights.save(parameters, to: url, config: config)
    }

    /// A model loaded from a weights file; `config` defaults to the one Fable stored in
    /// the file's metadata (PyTorch files need it given).
    public convenience init(contentsOf url: URL, config: ModelConfig? = nil) throws {
        guard let config = try config ?? ModelWeights.config(in: url) else {
            throw ModelWeightsError.file(
                path: url.path, reason: "the file holds no model config; pass one (--config or --preset)")
        }
        try self.init(config: config, seed: 0)
        try loadWeights(from: url)
    }
}

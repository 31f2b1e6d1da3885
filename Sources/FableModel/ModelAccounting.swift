/// Parameter, FLOP and memory accounting for a ``ModelConfig`` (CS336 §3.6 "Resource
/// accounting" and the `adamwAccounting` problem), all in closed form.
///
/// Conventions, as in the handout:
/// - A product of an (m × n) and an (n × p) matrix costs 2·m·n·p FLOPs; only matrix
///   multiplies are counted in the forward pass.
/// - Attention scores and the weighted sum of values are counted over the full T × T
///   matrix (the causal mask does not halve them).
/// - Backward costs twice the forward, so a training step's matmuls cost 3 × forward.
/// - Every tensor is Float32 (4 bytes); AdamW keeps two moments per parameter.
public struct ModelAccounting: Sendable {
    /// The configuration accounted for.
    public let config: ModelConfig
    /// The sequence length T used for FLOPs and activations.
    public let sequenceLength: Int

    /// Bytes per Float32 element.
    public static let bytesPerElement = 4
    /// FLOPs of one AdamW update per parameter: two moment updates (3 + 4), weight decay
    /// (2) and the bias-corrected step (sqrt, add, divide, multiply, subtract: 5).
    public static let adamWFLOPsPerParameter = 14

    /// Accounting for `config` at `sequenceLength` tokens (default: its context length).
    public init(config: ModelConfig, sequenceLength: Int? = nil) {
        self.config = config
        self.sequenceLength = sequenceLength ?? config.contextLength
    }

    // MARK: - Parameters

    /// Parameter counts by component (all layers together).
    public struct ParameterCounts: Sendable, Equatable, Codable {
        /// `token_embeddings.weight`: vocab · d_model.
        public var tokenEmbeddings: Int
        /// q, k, v and output projections: 4 · d_model² per layer.
        public var attention: Int
        /// w1, w2, w3 (SwiGLU, 3 · d_model · d_ff) or w1, w2 (SiLU, 2 · d_model · d_ff) per layer.
        public var feedForward: Int
        /// RMSNorm gains: ln1 and ln2 per layer, and ln_final when pre-norm.
        public var norms: Int
        /// `lm_head.weight`: vocab · d_model, or 0 when tied to the embeddings.
        public var lmHead: Int
        /// Every trainable parameter.
        public var total: Int { tokenEmbeddings + attention + feedForward + norms + lmHead }
        /// Everything but the embedding matrix (the count CS336 quotes as "17M").
        public var nonEmbedding: Int { total - tokenEmbeddings }
    }

    /// Trainable parameters by component.
    public var parameters: ParameterCounts {
        let c = config
        let ffnMatrices = c.ffn == .swiglu ? 3 : 2
        let blockNorms = c.norm == .none ? 0 : 2 * c.dModel
        let finalNorm = c.norm == .pre ? c.dModel : 0
        return ParameterCounts(
            tokenEmbeddings: c.vocabSize * c.dModel,
            attention: c.numLayers * 4 * c.dModel * c.dModel,
            feedForward: c.numLayers * ffnMatrices * c.dModel * c.dFF,
            norms: c.numLayers * blockNorms + finalNorm,
            lmHead: c.tieEmbeddings ? 0 : c.vocabSize * c.dModel)
    }

    /// Bytes to hold the weights in Float32.
    public var weightBytes: Double { Double(parameters.total * Self.bytesPerElement) }

    // MARK: - Forward FLOPs

    /// One matrix multiply of the forward pass, summed over layers.
    public struct MatmulCost: Sendable, Equatable, Codable {
        /// What it computes.
        public var name: String
        /// The shapes multiplied, per layer and sequence, e.g. `(T×d)·(d×3d)`.
        public var shapes: String
        /// FLOPs for one sequence of ``sequenceLength`` tokens, all layers.
        public var flops: Double
    }

    /// The forward pass's matrix multiplies for one sequence.
    public var forwardMatmuls: [MatmulCost] {
        let c = config
        let t = Double(sequenceLength), d = Double(c.dModel), l = Double(c.numLayers)
        let ff = Double(c.dFF), v = Double(c.vocabSize)
        let ffnMatrices = c.ffn == .swiglu ? 3.0 : 2.0
        return [
            MatmulCost(name: "attention projections (q, k, v, output)", shapes: "4 × (T×d)·(d×d)",
                       flops: l * 4 * 2 * t * d * d),
            MatmulCost(name: "attention scores QKᵀ", shapes: "h × (T×d_k)·(d_k×T)",
                       flops: l * 2 * t * t * d),
            MatmulCost(name: "attention-weighted values", shapes: "h × (T×T)·(T×d_k)",
                       flops: l * 2 * t * t * d),
            MatmulCost(name: "feed-forward (\(c.ffn.rawValue))",
                       shapes: "\(Int(ffnMatrices)) × (T×d)·(d×d_ff)",
                       flops: l * ffnMatrices * 2 * t * d * ff),
            MatmulCost(name: "LM head", shapes: "(T×d)·(d×vocab)", flops: 2 * t * d * v),
        ]
    }

    /// Forward-pass FLOPs for `batchSize` sequences.
    public func forwardFLOPs(batchSize: Int = 1) -> Double {
        Double(batchSize) * forwardMatmuls.reduce(0) { $0 + $1.flops }
    }

    /// FLOPs of one AdamW training step: forward + backward (3 × forward) plus the update.
    public func trainingStepFLOPs(batchSize: Int) -> Double {
        3 * forwardFLOPs(batchSize: batchSize)
            + Double(Self.adamWFLOPsPerParameter) * Double(parameters.total)
    }

    /// Wall-clock seconds for `steps` AdamW steps of `batchSize` sequences on hardware
    /// with `peakFLOPS` that sustains `utilization` of it (model FLOPs utilization, MFU).
    public func trainingSeconds(steps: Int, batchSize: Int, peakFLOPS: Double, utilization: Double) -> Double {
        Double(steps) * trainingStepFLOPs(batchSize: batchSize) / (peakFLOPS * utilization)
    }

    // MARK: - Training memory

    /// Activation elements kept for the backward pass, per sequence, by component (the
    /// handout's breakdown; the SwiGLU gate adds the w3 output and the gated product).
    public struct ActivationCount: Sendable, Equatable, Codable {
        /// What is kept.
        public var name: String
        /// Float32 elements for one sequence, all layers.
        public var elements: Double
    }

    /// Activations per sequence: per block the RMSNorm outputs (2·T·d), the q, k, v
    /// projections (3·T·d), QKᵀ and its softmax (2·h·T²), the weighted values and the
    /// output projection (2·T·d), the feed-forward intermediates (SiLU: w1 out and SiLU out,
    /// 2·T·d_ff; SwiGLU also w3 out and the gated product, 4·T·d_ff) and w2 out (T·d);
    /// then the final RMSNorm (T·d), the logits (T·vocab) and the cross-entropy's
    /// probabilities (T·vocab).
    public var activationsPerSequence: [ActivationCount] {
        let c = config
        let t = Double(sequenceLength), d = Double(c.dModel), l = Double(c.numLayers)
        let h = Double(c.numHeads), ff = Double(c.dFF), v = Double(c.vocabSize)
        let ffnKept = c.ffn == .swiglu ? 4.0 : 2.0
        return [
            ActivationCount(name: "block RMSNorms", elements: c.norm == .none ? 0 : l * 2 * t * d),
            ActivationCount(name: "q, k, v projections", elements: l * 3 * t * d),
            ActivationCount(name: "attention scores and softmax", elements: l * 2 * h * t * t),
            ActivationCount(name: "weighted values and output projection", elements: l * 2 * t * d),
            ActivationCount(name: "feed-forward (\(c.ffn.rawValue))", elements: l * (ffnKept * t * ff + t * d)),
            ActivationCount(name: "final RMSNorm", elements: c.norm == .pre ? t * d : 0),
            ActivationCount(name: "logits and cross-entropy", elements: 2 * t * v),
        ]
    }

    /// Peak training memory in bytes, by part.
    public struct TrainingMemory: Sendable, Equatable, Codable {
        public var parameters: Double
        public var gradients: Double
        /// AdamW's first and second moments.
        public var optimizerState: Double
        public var activations: Double
        public var total: Double { parameters + gradients + optimizerState + activations }
    }

    /// Training memory for `batchSize` sequences: a · batchSize + b bytes.
    public func trainingMemory(batchSize: Int) -> TrainingMemory {
        let p = Double(parameters.total * Self.bytesPerElement)
        let perSequence = activationsPerSequence.reduce(0) { $0 + $1.elements } * Double(Self.bytesPerElement)
        return TrainingMemory(
            parameters: p, gradients: p, optimizerState: 2 * p,
            activations: Double(batchSize) * perSequence)
    }

    /// Bytes that grow with each sequence in the batch (the `a` of a · batch + b).
    public var trainingBytesPerSequence: Double { trainingMemory(batchSize: 1).activations }
    /// Bytes independent of the batch: parameters, gradients and AdamW state (the `b`).
    public var trainingFixedBytes: Double { trainingMemory(batchSize: 0).total }

    /// The largest batch whose training memory fits in `bytes`; 0 when even the
    /// parameters, gradients and optimizer state do not fit.
    public func maxBatchSize(memoryBytes bytes: Double) -> Int {
        let room = bytes - trainingFixedBytes
        guard room > 0 else { return 0 }
        let batches = (room / trainingBytesPerSequence).rounded(.down)
        return batches >= Double(Int.max) ? Int.max : Int(batches)
    }
}

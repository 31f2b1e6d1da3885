import FableTensor

/// The position-wise feed-forward network: SwiGLU `w2(SiLU(w1 x) ⊙ w3 x)` (CS336) or, for
/// the gating ablation, SiLU `w2(SiLU(w1 x))`.
public struct FeedForward {
    /// (d_ff, d_model).
    public let w1: Linear
    /// (d_model, d_ff).
    public let w2: Linear
    /// (d_ff, d_model); nil for the ungated SiLU network.
    public let w3: Linear?

    public init(w1: Linear, w2: Linear, w3: Linear?) {
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// The kind this network is.
    public var kind: ModelConfig.FeedForward { w3 == nil ? .silu : .swiglu }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard let w3 else { return w2(w1(x).silu()) }
        return w2(Tensor.swiGLU(w1(x), w3(x)))
    }
}

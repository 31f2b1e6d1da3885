import FableTensor

/// One Transformer block. Pre-norm (CS336): `z = x + attn(ln1(x))`, `y = z + ffn(ln2(z))`;
/// post-norm: `z = ln1(x + attn(x))`, `y = ln2(z + ffn(z))`; no norm: `z = x + attn(x)`,
/// `y = z + ffn(z)`.
public struct TransformerBlock {
    public let attn: CausalSelfAttention
    public let ffn: FeedForward
    /// Nil when the block has no normalisation.
    public let ln1: RMSNorm?
    public let ln2: RMSNorm?
    public let norm: ModelConfig.Norm

    public init(attn: CausalSelfAttention, ffn: FeedForward, ln1: RMSNorm?, ln2: RMSNorm?, norm: ModelConfig.Norm) {
        precondition((norm == .none) == (ln1 == nil && ln2 == nil), "norms must match the norm placement")
        self.attn = attn
        self.ffn = ffn
        self.ln1 = ln1
        self.ln2 = ln2
        self.norm = norm
    }

    /// Applies the block to `x` (..., T, d_model).
    public func callAsFunction(_ x: Tensor, positions: [Int]? = nil) -> Tensor {
        switch norm {
        case .pre:
            let z = x + attn(ln1!(x), positions: positions)
            return z + ffn(ln2!(z))
        case .post:
            let z = ln1!(x + attn(x, positions: positions))
            return ln2!(z + ffn(z))
        case .none:
            let z = x + attn(x, positions: positions)
            return z + ffn(z)
        }
    }
}

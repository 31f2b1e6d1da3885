import FableTensor

/// Causal multi-head self-attention (CS336 `multihead_self_attention`): d_k = d_v =
/// d_model / num_heads, queries and keys optionally rotated by RoPE, and each position
/// attends to itself and earlier positions only.
public struct CausalSelfAttention {
    public let qProj: Linear
    public let kProj: Linear
    public let vProj: Linear
    public let outputProj: Linear
    public let numHeads: Int
    /// Applied to queries and keys; nil for NoPE.
    public let rope: RotaryPositionalEmbedding?

    public init(
        qProj: Linear, kProj: Linear, vProj: Linear, outputProj: Linear,
        numHeads: Int, rope: RotaryPositionalEmbedding?
    ) {
        precondition(qProj.outFeatures % numHeads == 0, "d_model \(qProj.outFeatures) not divisible by \(numHeads) heads")
        self.qProj = qProj
        self.kProj = kProj
        self.vProj = vProj
        self.outputProj = outputProj
        self.numHeads = numHeads
        self.rope = rope
    }

    public var dModel: Int { qProj.outFeatures }
    public var headDim: Int { dModel / numHeads }

    /// Attends over `x` (..., T, d_model); `positions` (T values) feed RoPE and default to
    /// 0..<T. Positions must lie inside the RoPE tables (checked by the caller).
    public func callAsFunction(_ x: Tensor, positions: [Int]? = nil) -> Tensor {
        let t = x.shape[x.rank - 2]
        let lead = Array(x.shape.dropLast(2))
        let batch = lead.reduce(1, *)
        // (..., T, d) -> (B, h, T, d_k)
        func heads(_ y: Tensor) -> Tensor {
            y.reshaped([batch, t, numHeads, headDim]).permuted([0, 2, 1, 3])
        }
        var q = heads(qProj(x)), k = heads(kProj(x))
        let v = heads(vProj(x))
        if let rope {
            let p = positions ?? Array(0..<t)
            q = rope(q, positions: p)
            k = rope(k, positions: p)
        }
        let attended = ModelOps.causalAttention(query: q, key: k, value: v)   // (B, h, T, d_k)
        let merged = attended.permuted([0, 2, 1, 3]).reshaped(lead + [t, dModel])
        return outputProj(merged)
    }
}

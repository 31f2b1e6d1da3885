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
        // The projections reshape for free to (B, T, h, d_k): attention reads that
        // "sequence-first" layout directly, so no head transposes are copied.
        func heads(_ y: Tensor) -> Tensor { y.reshaped([batch, t, numHeads, headDim]) }
        var q = heads(qProj(x)), k = heads(kProj(x))
        let v = heads(vProj(x))
        if let rope {
            // One position per d_k-vector: row (b, t, h) rotates by positions[t].
            let p = positions ?? Array(0..<t)
            var perVector = [Int]()
            perVector.reserveCapacity(batch * t * numHeads)
            for _ in 0..<batch { for position in p { for _ in 0..<numHeads { perVector.append(position) } } }
            q = rope.table.apply(q, positions: perVector)
            k = rope.table.apply(k, positions: perVector)
        }
        let attended = Tensor.scaledDotProductAttention(
            query: q, key: k, value: v, causal: true, layout: .sequenceFirst)   // (B, T, h, d_k)
        return outputProj(attended.reshaped(lead + [t, dModel]))
    }
}

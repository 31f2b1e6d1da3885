import FableTensor

/// Rotary position embeddings (CS336 `RotaryPositionalEmbedding`): rotates each pair
/// (2k, 2k+1) of the last axis by the angle position · Θ^(-2k/d_k).
///
/// Wraps FableTensor's ``RoPE``, whose cosine and sine tables for every position below
/// `maxSeqLen` are computed once; one instance serves every layer.
public struct RotaryPositionalEmbedding {
    /// The fused rotation with its cached tables.
    public let table: RoPE

    public init(theta: Double, dK: Int, maxSeqLen: Int) {
        table = RoPE(theta: Float(theta), dK: dK, maxSequenceLength: maxSeqLen)
    }

    public var dK: Int { table.dK }
    public var maxSeqLen: Int { table.maxSequenceLength }

    /// Rotates `x` (..., T, d_k) with one position per row of the T axis (shared by the
    /// leading axes). Positions must be in `0..<maxSeqLen` (checked by the caller).
    public func callAsFunction(_ x: Tensor, positions: [Int]) -> Tensor {
        table.apply(x, positions: positions)
    }
}

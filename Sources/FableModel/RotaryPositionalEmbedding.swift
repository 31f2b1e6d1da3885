import FableTensor

/// Rotary position embeddings (CS336 `RotaryPositionalEmbedding`): rotates each pair
/// (2k, 2k+1) of the last axis by the angle position · Θ^(-2k/d_k).
///
/// The cosine and sine tables for every position below `maxSeqLen` are computed once in
/// Double precision and rounded to Float32; one instance serves every layer.
public struct RotaryPositionalEmbedding {
    /// Θ, the base of the frequencies.
    public let theta: Double
    /// The rotated width (a head's d_k); even.
    public let dK: Int
    /// The number of positions the tables cover.
    public let maxSeqLen: Int
    /// cos and sin of each angle, (maxSeqLen, d_k / 2) row-major.
    let cosTable: [Float]
    let sinTable: [Float]

    public init(theta: Double, dK: Int, maxSeqLen: Int) {
        precondition(dK % 2 == 0, "RoPE needs an even d_k, got \(dK)")
        self.theta = theta
        self.dK = dK
        self.maxSeqLen = maxSeqLen
        let half = dK / 2
        var cosTable = [Float](repeating: 0, count: maxSeqLen * half)
        var sinTable = cosTable
        for k in 0..<half {
            let inverseFrequency = 1 / pow(theta, Double(2 * k) / Double(dK))
            for p in 0..<maxSeqLen {
                let angle = Double(p) * inverseFrequency
                cosTable[p * half + k] = Float(cos(angle))
                sinTable[p * half + k] = Float(sin(angle))
            }
        }
        self.cosTable = cosTable
        self.sinTable = sinTable
    }

    /// Rotates `x` (..., T, d_k) with one position per row of the T axis (shared by the
    /// leading axes). Positions must be in `0..<maxSeqLen` (checked by the caller).
    public func callAsFunction(_ x: Tensor, positions: [Int]) -> Tensor {
        ModelOps.rope(x, positions: positions, cos: cosTable, sin: sinTable)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FableKernels

/// Rotary position embedding (CS336 `RotaryPositionalEmbedding`) with a precomputed
/// cos/sin cache.
///
/// Pair `(x[2k], x[2k+1])` of a vector at position `p` is rotated by the angle
/// `p / theta^(2k / d_k)`. The cache is computed in Double and stored as Float for
/// positions `0..<maxSequenceLength`.
public final class RoPE {
    /// The base of the angle (CS336: 10,000).
    public let theta: Float
    /// The size of the vectors rotated; must be even.
    public let dK: Int
    /// Positions must lie in `0..<maxSequenceLength`.
    public let maxSequenceLength: Int
    private let cosTable: [Float]
    private let sinTable: [Float]

    /// Precomputes the rotation for every position.
    /// - Parameters:
    ///   - theta: the angle base.
    ///   - dK: the vector size (even).
    ///   - maxSequenceLength: the number of positions to cache.
    public init(theta: Float, dK: Int, maxSequenceLength: Int) {
        precondition(dK > 0 && dK % 2 == 0, "RoPE: d_k must be positive and even, got \(dK)")
        self.theta = theta
        self.dK = dK
        self.maxSequenceLength = maxSequenceLength
        let half = dK / 2
        var cosTable = [Float](repeating: 0, count: maxSequenceLength * half)
        var sinTable = cosTable
        for p in 0..<maxSequenceLength {
            for k in 0..<half {
                let angle = Double(p) / libmPow(Double(theta), Double(2 * k) / Double(dK))
                cosTable[p * half + k] = Float(libmCos(angle))
                sinTable[p * half + k] = Float(libmSin(angle))
            }
        }
        self.cosTable = cosTable
        self.sinTable = sinTable
    }

    /// Rotates every d_k-vector of `x` by its position.
    ///
    /// - Parameters:
    ///   - x: (..., T, d_k) with `.headsFirst` (the default), or (batch, T, heads, d_k)
    ///     with `.sequenceFirst` (the layout attention reads without transposes).
    ///   - positions: either T positions shared by every batch entry and head (the usual
    ///     `0..<T`), or one position per vector (`x.count / d_k` of them, row-major).
    ///   - layout: where the sequence axis sits.
    public func apply(_ x: Tensor, positions: [Int], layout: AttentionLayout = .headsFirst) -> Tensor {
        precondition(x.rank >= 2 && x.shape.last == dK, "RoPE: x \(x.shape) must end in d_k = \(dK)")
        precondition(layout == .headsFirst || x.rank == 4, "RoPE: sequenceFirst x must be (batch, T, heads, d_k), got \(x.shape)")
        let rows = x.count / dK
        let t = layout == .headsFirst ? x.shape[x.rank - 2] : x.shape[1]
        // Vectors that share a position: consecutive rows with the same sequence index.
        let rowsPerPosition = layout == .headsFirst ? 1 : x.shape[2]
        precondition(positions.count == t || positions.count == rows,
                     "RoPE: \(positions.count) positions fit neither T = \(t) nor \(rows) vectors")
        for p in positions {
            precondition(p >= 0 && p < maxSequenceLength, "RoPE: position \(p) outside 0..<\(maxSequenceLength)")
        }
        let out = Tensor(uninitialized: x.shape)
        rotate(x.data, into: out.data, rows: rows, positions: positions, rowsPerPosition: rowsPerPosition,
               inverse: false, accumulate: false)
        return Tensor.record(out, "rope", [x]) { [self] _, grad in
            // The backward pass rotates the gradient by the opposite angle.
            x.accumulateGrad { g, acc in
                rotate(grad, into: g, rows: rows, positions: positions, rowsPerPosition: rowsPerPosition,
                       inverse: true, accumulate: acc)
            }
        }
    }

    /// Rotates `count` consecutive d_k-vectors starting at `vectors`, in place, all by
    /// `position` (no autograd). Generation with a KV cache uses it on the query and key
    /// heads of one token.
    /// - Parameters:
    ///   - vectors: `count · d_k` floats.
    ///   - position: in `0..<maxSequenceLength`.
    public func rotateInPlace(_ vectors: UnsafeMutablePointer<Float>, count: Int, position: Int) {
        precondition(position >= 0 && position < maxSequenceLength, "RoPE: position \(position) outside 0..<\(maxSequenceLength)")
        let half = dK / 2
        cosTable.withUnsafeBufferPointer { cosBuffer in
            sinTable.withUnsafeBufferPointer { sinBuffer in
                RoPE.rotate(vectors, into: vectors, count: count, dK: dK,
                            cosines: cosBuffer.baseAddress! + position * half, sines: sinBuffer.baseAddress! + position * half,
                            inverse: false, accumulate: false)
            }
        }
    }

    private func rotate(
        _ source: UnsafePointer<Float>, into dest: UnsafeMutablePointer<Float>, rows: Int,
        positions: [Int], rowsPerPosition: Int, inverse: Bool, accumulate: Bool
    ) {
        let half = dK / 2, dK = self.dK
        cosTable.withUnsafeBufferPointer { cosBuffer in
            sinTable.withUnsafeBufferPointer { sinBuffer in
                positions.withUnsafeBufferPointer { pos in
                    let cosP = cosBuffer.baseAddress!, sinP = sinBuffer.baseAddress!, posP = pos.baseAddress!
                    let shared = pos.count != rows
                    func position(_ row: Int) -> Int { shared ? posP[(row / rowsPerPosition) % pos.count] : posP[row] }
                    Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / dK)) { range in
                        // Runs of rows at one position (the heads of a token) share the tables.
                        var row = range.lowerBound
                        while row < range.upperBound {
                            let p = position(row)
                            var end = row + 1
                            while end < range.upperBound && position(end) == p { end += 1 }
                            RoPE.rotate(source + row * dK, into: dest + row * dK, count: end - row, dK: dK,
                                        cosines: cosP + p * half, sines: sinP + p * half,
                                        inverse: inverse, accumulate: accumulate)
                            row = end
                        }
                    }
                }
            }
        }
    }

    /// Rotates `count` consecutive d_k-vectors, all by the angles whose `dK / 2` cosines and
    /// sines are given (by their opposites when `inverse`), into `dest` or adding to it: 16 or
    /// 8 lanes at a time in FableKernels with AVX-512 or AVX2 (a multiply and a fused
    /// multiply-add per element), a pair at a time in Swift otherwise.
    static func rotate(
        _ source: UnsafePointer<Float>, into dest: UnsafeMutablePointer<Float>, count: Int, dK: Int,
        cosines c: UnsafePointer<Float>, sines s: UnsafePointer<Float>, inverse: Bool, accumulate: Bool,
        isa: KernelISA = .active
    ) {
        let sign: Float = inverse ? -1 : 1
        switch isa {
        case .avx512: fable_rope_avx512(source, dest, count, dK, c, s, sign, accumulate ? 1 : 0)
        case .avx2: fable_rope_avx2(source, dest, count, dK, c, s, sign, accumulate ? 1 : 0)
        case .swift:
            for vector in 0..<count {
                let src = source + vector * dK, dst = dest + vector * dK
                for k in 0..<(dK / 2) {
                    let x0 = src[2 * k], x1 = src[2 * k + 1]
                    let sk = sign * s[k]
                    let y0 = x0 * c[k] - x1 * sk
                    let y1 = x0 * sk + x1 * c[k]
                    if accumulate { dst[2 * k] += y0; dst[2 * k + 1] += y1 } else { dst[2 * k] = y0; dst[2 * k + 1] = y1 }
                }
            }
        }
    }
}

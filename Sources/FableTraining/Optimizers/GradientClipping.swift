import FableTensor

/// Gradient clipping by the global L2 norm, as `torch.nn.utils.clip_grad_norm_`:
/// when ‖g‖ > max_norm every gradient is multiplied by max_norm / (‖g‖ + 1e-6).
public enum GradientClipping {
    /// The epsilon added to the norm, as in PyTorch and the CS336 handout.
    public static let epsilon: Double = 1e-6

    /// The L2 norm of `values`. Blocks are summed in Float SIMD registers and accumulated
    /// in Double per chunk; chunks are combined in a fixed order, so the result depends
    /// only on the data and the thread count.
    public static func norm(_ values: UnsafeBufferPointer<Float>) -> Double {
        let count = values.count
        guard count > 0, let base = values.baseAddress else { return 0 }
        let chunks = Parallel.chunkCount(for: count, minimumChunk: 1 << 16)
        let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: chunks)
        defer { partial.deallocate() }
        Parallel.forEachChunk(chunks) { chunkIndices in
            for chunk in chunkIndices {
                let range = Parallel.chunkRange(chunk, of: chunks, count: count)
                partial[chunk] = sumOfSquares(base + range.lowerBound, count: range.count)
            }
        }
        var total = 0.0
        for value in partial { total += value }
        return total.squareRoot()
    }

    /// Clips the gradients of `store` in place to global norm `maxNorm`.
    /// - Returns: the norm before clipping (log it: spikes show instability).
    @discardableResult
    public static func clip(_ store: ParameterStore, maxNorm: Double) -> Double {
        let total = norm(UnsafeBufferPointer(store.gradients))
        if total > maxNorm {
            let scale = Float(maxNorm / (total + epsilon))
            let g = store.gradients.baseAddress!
            Parallel.forEachChunk(store.count, minimumChunk: 1 << 16) { range in
                for i in range { g[i] *= scale }
            }
        }
        return total
    }

    @inline(__always)
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        typealias V = SIMD8<Float>
        let raw = UnsafeRawPointer(x)
        var total = 0.0
        var i = 0
        // Blocks of 512: short enough that the Float accumulators lose nothing that matters.
        while i + 512 <= count {
            var a0 = V(), a1 = V()
            var j = i
            while j < i + 512 {
                let u = raw.loadUnaligned(fromByteOffset: j * 4, as: V.self)
                let w = raw.loadUnaligned(fromByteOffset: (j + 8) * 4, as: V.self)
                a0 += u * u
                a1 += w * w
                j += 16
            }
            total += Double((a0 + a1).sum())
            i += 512
        }
        while i < count {
            total += Double(x[i]) * Double(x[i])
            i += 1
        }
        return total
    }
}

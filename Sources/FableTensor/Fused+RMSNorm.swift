// Fused RMSNorm: y = x / sqrt(mean(x²) + eps) * gain over the last axis, in Float32.

extension Tensor {
    /// Root-mean-square layer normalisation over the last axis (CS336 `RMSNorm`).
    ///
    /// The forward pass keeps only the per-row reciprocal RMS for the backward pass.
    /// - Parameters:
    ///   - x: (..., d).
    ///   - gain: (d), the learned per-feature scale.
    ///   - eps: added to the mean square before the square root (CS336: 1e-5).
    public static func rmsNorm(_ x: Tensor, gain: Tensor, eps: Float = 1e-5) -> Tensor {
        let d = x.shape.last ?? 1
        precondition(x.rank >= 1 && gain.shape == [d], "rmsNorm: gain \(gain.shape) does not match x \(x.shape)")
        let rows = x.count / Swift.max(d, 1)
        let out = Tensor(uninitialized: x.shape)
        let inverseRMS = TensorStorage(uninitializedCount: rows)
        let xp = x.data, gp = gain.data, yp = out.data, rp = inverseRMS.base
        let perChunk = Swift.max(1, 16_384 / Swift.max(d, 1))
        // (rows, d) -> (rows, d)
        Parallel.forEachChunk(rows, minimumChunk: perChunk) { range in
            for row in range {
                let src = xp + row * d, dst = yp + row * d
                let r = 1 / (Vector.dot(src, src, count: d) / Float(d) + eps).squareRoot()
                rp[row] = r
                var i = 0
                let rv = Vector.V(repeating: r)
                while i + 8 <= d { Vector.store(Vector.load(src + i) * rv * Vector.load(gp + i), dst + i); i += 8 }
                while i < d { dst[i] = src[i] * r * gp[i]; i += 1 }
            }
        }
        return record(out, "rmsNorm", [x, gain]) { _, grad in
            let rp = UnsafePointer(inverseRMS.base)
            // dx = r (g·dy - x r² <g·dy, x> / d);  dgain = Σ_rows dy · x · r
            if x.requiresGrad {
                x.accumulateGrad { gx, acc in
                    Parallel.forEachChunk(rows, minimumChunk: perChunk) { range in
                        for row in range {
                            let src = xp + row * d, dy = grad + row * d, dst = gx + row * d
                            let r = rp[row]
                            var dotAcc = Vector.V(), i = 0
                            while i + 8 <= d { dotAcc += Vector.load(gp + i) * Vector.load(dy + i) * Vector.load(src + i); i += 8 }
                            var dot = dotAcc.sum()
                            while i < d { dot += gp[i] * dy[i] * src[i]; i += 1 }
                            let c = r * r * dot / Float(d)
                            let rv = Vector.V(repeating: r), cv = Vector.V(repeating: c)
                            i = 0
                            while i + 8 <= d {
                                var v = rv * (Vector.load(gp + i) * Vector.load(dy + i) - Vector.load(src + i) * cv)
                                if acc { v += Vector.load(dst + i) }
                                Vector.store(v, dst + i)
                                i += 8
                            }
                            while i < d {
                                let v = r * (gp[i] * dy[i] - src[i] * c)
                                dst[i] = acc ? dst[i] + v : v
                                i += 1
                            }
                        }
                    }
                }
            }
            if gain.requiresGrad {
                let partials = Tensor.rowChunkSums(rows: rows, width: d, minimumChunk: perChunk) { row, sum in
                    let src = xp + row * d, dy = grad + row * d
                    let rv = Vector.V(repeating: rp[row])
                    var i = 0
                    while i + 8 <= d { Vector.store(Vector.load(sum + i) + Vector.load(dy + i) * Vector.load(src + i) * rv, sum + i); i += 8 }
                    while i < d { sum[i] += dy[i] * src[i] * rp[row]; i += 1 }
                }
                gain.accumulateGrad(adding: partials.data)
            }
        }
    }

    /// Sums a per-row contribution into a `width`-vector deterministically: rows are split
    /// into fixed chunks, each chunk adds its rows (in order) into a private vector, and the
    /// vectors are added in chunk order.
    ///
    /// - Parameter addRow: adds row `row`'s contribution into the given vector.
    static func rowChunkSums(
        rows: Int, width: Int, minimumChunk: Int,
        _ addRow: (Int, UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        let chunks = Parallel.chunkCount(for: rows, minimumChunk: minimumChunk)
        let partials = Tensor.zeros([chunks, width])
        let p = partials.data
        Parallel.forEachChunk(chunks) { range in
            for chunk in range {
                for row in Parallel.chunkRange(chunk, of: chunks, count: rows) { addRow(row, p + chunk * width) }
            }
        }
        for chunk in 1..<Swift.max(chunks, 1) { Vector.add(p, p + chunk * width, into: p, count: width) }
        return partials
    }
}

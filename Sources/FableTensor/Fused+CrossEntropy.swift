// Fused cross-entropy from logits: log-sum-exp per row, never a stored softmax.

extension Tensor {
    /// The mean negative log-likelihood of `targets` under `softmax(logits)`, averaged over
    /// every position of the leading dimensions (CS336 `cross_entropy`).
    ///
    /// The forward pass reads each row twice (max, then sum of exponentials) and keeps only
    /// the per-row log-sum-exp; the backward pass writes `(softmax - onehot) / N` in one pass.
    /// - Parameters:
    ///   - logits: (..., vocab).
    ///   - targets: one class index per row of `logits`, row-major, each in `0..<vocab`.
    public static func crossEntropy(_ logits: Tensor, targets: [Int]) -> Tensor {
        let v = logits.shape.last ?? 1
        let rows = logits.count / Swift.max(v, 1)
        precondition(logits.rank >= 1 && targets.count == rows,
                     "crossEntropy: \(targets.count) targets for logits \(logits.shape) (\(rows) rows)")
        for t in targets { precondition(t >= 0 && t < v, "crossEntropy: target \(t) outside 0..<\(v)") }
        let lse = TensorStorage(uninitializedCount: rows)
        var losses = [Float](repeating: 0, count: rows)
        let x = logits.data, lp = lse.base
        let perChunk = Swift.max(1, 32_768 / Swift.max(v, 1))
        targets.withUnsafeBufferPointer { tp in
            losses.withUnsafeMutableBufferPointer { loss in
                let tgt = tp.baseAddress!, lossP = loss.baseAddress!
                Parallel.forEachChunk(rows, minimumChunk: perChunk) { range in
                    for row in range {
                        let src = x + row * v
                        let m = Vector.max(src, count: v)
                        let l = m + libmLog(Vector.sumExpShifted(src, shift: m, count: v))
                        lp[row] = l
                        lossP[row] = l - src[tgt[row]]
                    }
                }
            }
        }
        // Sum in Double, in row order: deterministic and accurate for long batches.
        var total = 0.0
        for l in losses { total += Double(l) }
        let out = Tensor(Float(total / Double(Swift.max(rows, 1))))
        return record(out, "crossEntropy", [logits]) { _, grad in
            let scale = grad[0] / Float(Swift.max(rows, 1))
            let lp = UnsafePointer(lse.base)
            logits.accumulateGrad { g, acc in
                targets.withUnsafeBufferPointer { tp in
                    let tgt = tp.baseAddress!
                    Parallel.forEachChunk(rows, minimumChunk: perChunk) { range in
                        for row in range {
                            let src = x + row * v, dst = g + row * v
                            let shift = Vector.V(repeating: lp[row]), sv = Vector.V(repeating: scale)
                            var i = 0
                            while i + 8 <= v {
                                var d = Vector.exp(Vector.load(src + i) - shift) * sv
                                if acc { d += Vector.load(dst + i) }
                                Vector.store(d, dst + i)
                                i += 8
                            }
                            while i < v {
                                let d = Vector.exp(src[i] - lp[row]) * scale
                                dst[i] = acc ? dst[i] + d : d
                                i += 1
                            }
                            dst[tgt[row]] -= scale
                        }
                    }
                }
            }
        }
    }
}

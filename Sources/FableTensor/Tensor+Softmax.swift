// Softmax and log-softmax over any axis, with the max-subtraction trick.

extension Tensor {
    /// exp(x - max) / sum(exp(x - max)) along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        softmaxLike(axis: axis, log: false)
    }

    /// x - max - log(sum(exp(x - max))) along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        softmaxLike(axis: axis, log: true)
    }

    private func softmaxLike(axis: Int, log: Bool) -> Tensor {
        let split = AxisSplit(self, axis: axis, op: log ? "logSoftmax" : "softmax")
        let (outer, size, inner) = (split.outer, split.size, split.inner)
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        // Forward: one pass for the max, one writing exp(x - max) and summing, one scaling.
        Parallel.forEachChunk(outer * inner, minimumChunk: Swift.max(1, 8192 / Swift.max(size, 1))) { r in
            if inner == 1 {
                for o in r {
                    let src = x + o * size, dst = y + o * size
                    let m = Vector.max(src, count: size)
                    let s = Vector.expShifted(src, shift: m, into: dst, count: size)
                    if log {
                        let shift = m + libmLog(s)
                        for k in 0..<size { dst[k] = src[k] - shift }
                    } else {
                        Vector.scale(1 / s, dst, into: dst, count: size, accumulate: false)
                    }
                }
            } else {
                for j in r {
                    let base = (j / inner) * size * inner + j % inner
                    var m = -Float.infinity
                    for k in 0..<size { m = Swift.max(m, x[base + k * inner]) }
                    var s: Float = 0
                    for k in 0..<size { let e = Vector.exp(x[base + k * inner] - m); y[base + k * inner] = e; s += e }
                    let shift = m + libmLog(s)
                    for k in 0..<size {
                        y[base + k * inner] = log ? x[base + k * inner] - shift : y[base + k * inner] / s
                    }
                }
            }
        }
        return Tensor.record(out, log ? "logSoftmax" : "softmax", [self]) { [self] out, grad in
            let y = UnsafePointer(out.data)
            accumulateGrad { g, acc in
                Parallel.forEachChunk(outer * inner, minimumChunk: Swift.max(1, 8192 / Swift.max(size, 1))) { r in
                    for j in r {
                        let base = inner == 1 ? j * size : (j / inner) * size * inner + j % inner
                        // softmax: dx = y (g - <g, y>); log-softmax: dx = g - softmax * sum(g).
                        var s: Float = 0
                        for k in 0..<size {
                            let p = base + k * inner
                            s += log ? grad[p] : grad[p] * y[p]
                        }
                        for k in 0..<size {
                            let p = base + k * inner
                            let d = log ? grad[p] - Vector.exp(y[p]) * s : y[p] * (grad[p] - s)
                            g[p] = acc ? g[p] + d : d
                        }
                    }
                }
            }
        }
    }
}

// Fused SwiGLU gate: silu(a) * b in one pass, and the full feed-forward block.

extension Tensor {
    /// `silu(a) * b` elementwise (same shapes), the gate of a SwiGLU feed-forward layer.
    /// Forward and backward are each one pass; besides the inputs, only sigmoid(a) is saved.
    public static func swiGLU(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "swiGLU: shapes \(a.shape) and \(b.shape) differ")
        let out = Tensor(uninitialized: a.shape)
        // With grad on, keep sigmoid(a) so the backward pass needs no exp or division
        // (PyTorch's eager sequence saves silu(a) likewise).
        let sigmoid: TensorStorage? = needsGrad([a, b]) ? TensorStorage(uninitializedCount: a.count) : nil
        let ap = a.data, bp = b.data, yp = out.data, n = a.count, sp = sigmoid?.base
        Parallel.forEachChunk(n, minimumChunk: 16_384) { r in
            Vector.swiGLU(
                gate: ap + r.lowerBound, up: bp + r.lowerBound, into: yp + r.lowerBound,
                sigmoid: sp.map { $0 + r.lowerBound }, count: r.count)
        }
        return record(out, "swiGLU", [a, b]) { _, grad in
            // da = g · b · s (1 + a (1 - s)),  db = g · a · s,  with s = sigmoid(a)
            let needA = a.requiresGrad, needB = b.requiresGrad
            let sp = UnsafePointer(sigmoid!.base)
            func run(_ ga: UnsafeMutablePointer<Float>?, _ accA: Bool, _ gb: UnsafeMutablePointer<Float>?, _ accB: Bool) {
                Parallel.forEachChunk(n, minimumChunk: 16_384) { r in
                    var i = r.lowerBound
                    while i + 8 <= r.upperBound {
                        let x = Vector.load(ap + i), y = Vector.load(bp + i), g = Vector.load(grad + i)
                        let s = Vector.load(sp + i)
                        if let ga {
                            var d = g * y * s * (1 + x * (1 - s))
                            if accA { d += Vector.load(ga + i) }
                            Vector.store(d, ga + i)
                        }
                        if let gb {
                            var d = g * x * s
                            if accB { d += Vector.load(gb + i) }
                            Vector.store(d, gb + i)
                        }
                        i += 8
                    }
                    while i < r.upperBound {
                        let x = ap[i], s = sp[i]
                        if let ga { let d = grad[i] * bp[i] * s * (1 + x * (1 - s)); ga[i] = accA ? ga[i] + d : d }
                        if let gb { let d = grad[i] * x * s; gb[i] = accB ? gb[i] + d : d }
                        i += 1
                    }
                }
            }
            switch (needA, needB) {
            case (true, true):
                a.accumulateGrad { ga, accA in b.accumulateGrad { gb, accB in run(ga, accA, gb, accB) } }
            case (true, false):
                a.accumulateGrad { ga, accA in run(ga, accA, nil, false) }
            case (false, true):
                b.accumulateGrad { gb, accB in run(nil, false, gb, accB) }
            case (false, false):
                break
            }
        }
    }

    /// The SwiGLU feed-forward block of CS336: `W2 · (silu(W1 x) ⊙ W3 x)`.
    ///
    /// - Parameters:
    ///   - x: (..., d_model).
    ///   - w1: (d_ff, d_model), the gated projection.
    ///   - w2: (d_model, d_ff), the output projection.
    ///   - w3: (d_ff, d_model), the linear projection.
    public static func swiGLU(_ x: Tensor, w1: Tensor, w2: Tensor, w3: Tensor) -> Tensor {
        let gate = swiGLU(linear(x, w1), linear(x, w3))
        return linear(gate, w2)
    }
}

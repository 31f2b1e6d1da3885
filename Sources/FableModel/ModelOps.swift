import FableTensor

/// The model's compound operations, in one place so each maps to one tensor op.
enum ModelOps {
    /// `x / sqrt(mean(x²) + eps) · gain` over the last axis.
    static func rmsNorm(_ x: Tensor, gain: Tensor, eps: Float) -> Tensor {
        x * (x.square().mean(axis: -1, keepDims: true) + eps).rsqrt() * gain
    }

    /// `SiLU(a) ⊙ b`.
    static func swiGLU(_ a: Tensor, _ b: Tensor) -> Tensor {
        a.silu() * b
    }

    /// Rotates pairs (2k, 2k+1) of the last axis of `x` (..., T, d) by the angles whose
    /// cosines and sines for each position are rows of `cos` and `sin` (positions × d/2).
    static func rope(_ x: Tensor, positions: [Int], cos: [Float], sin: [Float]) -> Tensor {
        let d = x.shape[x.rank - 1], t = x.shape[x.rank - 2], half = d / 2
        precondition(positions.count == t, "rope: \(positions.count) positions for \(t) rows")
        var c = [Float](), s = [Float]()
        c.reserveCapacity(t * half)
        s.reserveCapacity(t * half)
        for p in positions {
            c.append(contentsOf: cos[(p * half)..<((p + 1) * half)])
            s.append(contentsOf: sin[(p * half)..<((p + 1) * half)])
        }
        let cosT = Tensor(shape: [t, half, 1], data: c), sinT = Tensor(shape: [t, half, 1], data: s)
        let pairs = x.reshaped(Array(x.shape.dropLast()) + [half, 2])
        let even = pairs.slice(axis: -1, 0..<1), odd = pairs.slice(axis: -1, 1..<2)
        let rotatedEven = even * cosT - odd * sinT
        let rotatedOdd = even * sinT + odd * cosT
        return Tensor.concatenate([rotatedEven, rotatedOdd], axis: -1).reshaped(x.shape)
    }

    /// Causal scaled dot-product attention over (B, h, T, d_k) queries, keys and values.
    static func causalAttention(query: Tensor, key: Tensor, value: Tensor) -> Tensor {
        let t = query.shape[query.rank - 2], dK = query.shape[query.rank - 1]
        let scores = Tensor.matmul(query, key, transposeB: true) * (1 / Float(dK).squareRoot())
        let masked = scores.maskedFill(Tensor.causalMask(t), maskShape: [t, t], value: -.infinity)
        return Tensor.matmul(masked.softmax(axis: -1), value)
    }

    /// The mean negative log-likelihood of `targets` under `logits` (N, vocab).
    static func crossEntropy(_ logits: Tensor, targets: [Int]) -> Tensor {
        let n = logits.shape[0], v = logits.shape[1]
        var oneHot = [Float](repeating: 0, count: n * v)
        for (i, target) in targets.enumerated() { oneHot[i * v + target] = 1 }
        let picked = logits.logSoftmax(axis: -1) * Tensor(shape: [n, v], data: oneHot)
        return picked.sum() * (-1 / Float(n))
    }
}

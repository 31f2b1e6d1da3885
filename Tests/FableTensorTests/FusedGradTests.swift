import Testing
@testable import FableTensor

@Suite("Fused op gradients (finite differences)")
struct FusedGradTests {
    @Test func rmsNorm() {
        let x = GradCheck.random([2, 3, 8], seed: 21)
        let g = GradCheck.random([8], seed: 22)
        GradCheck.check([x, g], eps: 5e-3) { t in Tensor.rmsNorm(t[0], gain: t[1], eps: 1e-5) }
    }

    @Test func swiGLU() {
        let a = GradCheck.random([3, 10], seed: 23), b = GradCheck.random([3, 10], seed: 24)
        GradCheck.check([a, b]) { t in Tensor.swiGLU(t[0], t[1]) }
        let x = GradCheck.random([2, 3, 4], seed: 25)
        let w1 = GradCheck.random([6, 4], seed: 26), w2 = GradCheck.random([4, 6], seed: 27), w3 = GradCheck.random([6, 4], seed: 28)
        GradCheck.check([x, w1, w2, w3]) { t in Tensor.swiGLU(t[0], w1: t[1], w2: t[2], w3: t[3]) }
    }

    @Test func rope() {
        let rope = RoPE(theta: 10_000, dK: 6, maxSequenceLength: 16)
        let x = GradCheck.random([2, 4, 6], seed: 29)
        GradCheck.check([x]) { t in rope.apply(t[0], positions: [3, 0, 7, 1]) }
        GradCheck.check([x]) { t in rope.apply(t[0], positions: Array(0..<8)) }
    }

    @Test func crossEntropy() {
        let logits = GradCheck.random([2, 3, 11], seed: 30, scale: 2)
        GradCheck.check([logits]) { t in Tensor.crossEntropy(t[0], targets: [0, 10, 5, 3, 3, 7]) }
    }

    @Test("attention: causal, masked, unequal lengths, both layouts", arguments: [true, false])
    func attention(causal: Bool) {
        let q = GradCheck.random([2, 2, 5, 4], seed: 31)
        let k = GradCheck.random([2, 2, 5, 4], seed: 32)
        let v = GradCheck.random([2, 2, 5, 3], seed: 33)
        GradCheck.check([q, k, v]) { t in
            Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], causal: causal)
        }
        var rng = RandomGenerator(seed: 5)
        let mask = (0..<(4 * 25)).map { _ in rng.nextInt(below: 4) != 0 }
        GradCheck.check([q, k, v]) { t in
            Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], causal: causal, mask: mask)
        }
        let q2 = GradCheck.random([2, 3, 4], seed: 34)
        GradCheck.check([q2, k.slice(axis: 0, 0..<1).reshaped([2, 5, 4]).detached().requiringGrad(), v.slice(axis: 0, 0..<1).reshaped([2, 5, 3]).detached().requiringGrad()]) { t in
            Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], causal: causal)
        }
        let qs = GradCheck.random([2, 5, 3, 4], seed: 35)
        let ks = GradCheck.random([2, 5, 3, 4], seed: 36)
        let vs = GradCheck.random([2, 5, 3, 2], seed: 37)
        GradCheck.check([qs, ks, vs]) { t in
            Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], causal: causal, layout: .sequenceFirst)
        }
    }

    @Test("sequence-first attention equals heads-first attention on permuted inputs")
    func layoutsAgree() {
        let q = GradCheck.random([2, 6, 3, 4], seed: 40), k = GradCheck.random([2, 6, 3, 4], seed: 41)
        let v = GradCheck.random([2, 6, 3, 5], seed: 42)
        let a = Tensor.scaledDotProductAttention(query: q, key: k, value: v, layout: .sequenceFirst)
        let b = Tensor.scaledDotProductAttention(
            query: q.transposed(1, 2), key: k.transposed(1, 2), value: v.transposed(1, 2)).transposed(1, 2)
        for (x, y) in zip(a.toArray(), b.toArray()) { #expect(abs(x - y) < 1e-5) }
    }
}

extension Tensor {
    func requiringGrad() -> Tensor { requiresGrad = true; return self }
}

@Suite("Layouts and determinism")
struct LayoutAndDeterminismTests {
    @Test("sequence-first RoPE equals heads-first RoPE on permuted input, forward and backward")
    func ropeLayouts() {
        let rope = RoPE(theta: 10_000, dK: 4, maxSequenceLength: 8)
        let x = GradCheck.random([2, 5, 3, 4], seed: 50)  // (B, T, H, d)
        let positions = [4, 0, 2, 7, 1]
        let a = rope.apply(x, positions: positions, layout: .sequenceFirst)
        let b = rope.apply(x.transposed(1, 2), positions: positions).transposed(1, 2)
        #expect(a.toArray() == b.toArray())
        GradCheck.check([x]) { t in rope.apply(t[0], positions: positions, layout: .sequenceFirst) }
    }

    @Test("a training-like graph gives identical bits on every run")
    func deterministic() {
        func run() -> ([Float], [Float]) {
            var rng = RandomGenerator(seed: 77)
            let x = Tensor.normal([4, 40, 24], generator: &rng, requiresGrad: true)
            let w = Tensor.normal([30, 24], std: 0.2, generator: &rng, requiresGrad: true)
            let g = Tensor.normal([24], generator: &rng, requiresGrad: true)
            let h = Tensor.linear(Tensor.rmsNorm(x, gain: g), w)
            let q = h.slice(axis: 2, 0..<24).reshaped([4, 40, 3, 8])
            let att = Tensor.scaledDotProductAttention(query: q, key: q.detached(), value: q.detached(), layout: .sequenceFirst)
            let loss = Tensor.crossEntropy(att.reshaped([160, 24]), targets: (0..<160).map { $0 % 24 })
            loss.backward()
            return (x.grad!.toArray() + [loss.item()], w.grad!.toArray() + g.grad!.toArray())
        }
        // Other suites switch the process-wide GEMM backend and BLAS thread state while they
        // run; holding one backend (withBackend serialises overrides) keeps this comparison
        // about FableTensor's own kernels.
        let (first, second) = GEMM.withBackend(SIMDGEMM()) { (run(), run()) }
        #expect(first.0 == second.0 && first.1 == second.1)
    }
}

import Testing
@testable import FableTensor

@Suite("Autograd basics")
struct AutogradTests {
    @Test func broadcastArithmeticGradients() {
        let a = GradCheck.random([2, 3, 4], seed: 1)
        let b = GradCheck.random([3, 1], seed: 2)
        let c = GradCheck.random([4], seed: 3)
        GradCheck.check([a, b, c]) { x in (x[0] + x[1]) * x[2] - x[1] / (x[2].square() + 1) }
    }

    @Test func unaryGradients() {
        let a = GradCheck.random([3, 5], seed: 4)
        GradCheck.check([a]) { x in
            x[0].exp() + x[0].sigmoid() + x[0].silu() + (x[0].square() + 0.5).log()
                + (x[0].square() + 0.5).rsqrt() + (x[0].square() + 0.5).sqrt() + x[0].relu() * 2
                + (x[0].square() + 0.5).pow(1.5) + (x[0].square() + 1).reciprocal() - (-x[0]) / 3 + (1 - x[0])
        }
    }

    @Test func reductionGradients() {
        let a = GradCheck.random([2, 3, 4], seed: 5)
        GradCheck.check([a]) { x in
            x[0].sum(axis: 1, keepDims: true) * x[0].mean(axis: -1, keepDims: true) + x[0].max(axis: 0)
        }
        GradCheck.check([a]) { x in x[0].sum() * x[0].mean() + x[0].sum(axis: 2).sum(axis: 0) }
    }

    @Test func softmaxGradients() {
        let a = GradCheck.random([2, 3, 5], seed: 6)
        GradCheck.check([a]) { x in x[0].softmax(axis: -1) + x[0].logSoftmax(axis: 1) + x[0].softmax(axis: 0) }
    }

    @Test func matmulGradients() {
        let a = GradCheck.random([2, 3, 4], seed: 7)
        let b = GradCheck.random([4, 5], seed: 8)
        let bt = GradCheck.random([5, 4], seed: 9)
        let c = GradCheck.random([2, 4, 3], seed: 10)
        GradCheck.check([a, b]) { x in Tensor.matmul(x[0], x[1]) }
        GradCheck.check([a, bt]) { x in Tensor.linear(x[0], x[1]) }
        GradCheck.check([a, c]) { x in Tensor.matmul(x[0], x[1]) }
        GradCheck.check([a, c]) { x in Tensor.matmul(x[0], x[1], transposeA: true, transposeB: true) }
        GradCheck.check([c, b]) { x in Tensor.matmul(x[0], x[1], transposeA: true) }
        GradCheck.check([b, a]) { x in Tensor.matmul(x[0], x[1], transposeA: true, transposeB: true) }
    }

    @Test func shapeGradients() {
        let a = GradCheck.random([2, 3, 4], seed: 11)
        let b = GradCheck.random([2, 2, 4], seed: 12)
        GradCheck.check([a]) { x in x[0].permuted([2, 0, 1]).reshaped([4, 6]).transposed() }
        GradCheck.check([a]) { x in x[0].slice(axis: 1, 1..<3) + x[0].slice(axis: 0, 0..<1).slice(axis: 1, 0..<2) }
        GradCheck.check([a, b]) { x in Tensor.concatenate([x[0], x[1]], axis: 1) }
    }

    @Test func embeddingAndMaskGradients() {
        let w = GradCheck.random([5, 3], seed: 13)
        GradCheck.check([w]) { x in Tensor.embedding(x[0], indices: [1, 4, 1, 0], shape: [2, 2]) }
        let s = GradCheck.random([2, 3, 3], seed: 14)
        GradCheck.check([s]) { x in x[0].maskedFill(Tensor.causalMask(3), maskShape: [3, 3], value: -1e9).softmax() }
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let a = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        (a * a).sum().backward()
        (a * 3).sum().backward()
        #expect(a.grad?.toArray() == [5, 7])
        a.zeroGrad()
        #expect(a.grad == nil)
    }

    @Test("intermediates are freed once backward has run; leaves keep their gradient")
    func graphIsReleased() {
        let x = GradCheck.random([4, 8], seed: 60)
        weak var hidden: Tensor?
        weak var probabilities: Tensor?
        var loss: Tensor?
        do {
            let h = (x * 2).silu()
            let p = h.softmax(axis: -1)
            hidden = h
            probabilities = p
            loss = (p * h).sum()
        }
        #expect(hidden != nil && probabilities != nil)  // held by the graph
        loss?.backward()
        #expect(hidden == nil && probabilities == nil)
        #expect(x.grad != nil)
        loss = nil
    }

    @Test("seeded initialisers repeat and truncated normals stay in bounds")
    func initialisers() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let t = Tensor.truncatedNormal([1000], std: 0.5, generator: &a)
        #expect(t.toArray() == Tensor.truncatedNormal([1000], std: 0.5, generator: &b).toArray())
        #expect(t.toArray().allSatisfy { abs($0) <= 1.5 })
        #expect(t.toArray().contains { abs($0) > 1.0 })  // the tails are not cut at 2 std
        let n = Tensor.normal([1000], mean: 3, std: 0.1, generator: &a)
        #expect(abs(n.mean().item() - 3) < 0.02)
    }

    @Test func noGradRecordsNothing() {
        let a = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let y = withNoGrad { a * a }
        #expect(!y.requiresGrad)
        #expect((a * a).requiresGrad)
    }

    @Test func parameterGradientsLandInTheStore() {
        let store = ParameterStore(layout: [("w", [2, 2]), ("g", [2])])
        _ = store.values.update(fromContentsOf: [1, 2, 3, 4, 5, 6])
        let w = Tensor.parameter(store, named: "w")!
        let g = Tensor.parameter(store, named: "g")!
        #expect(w.toArray() == [1, 2, 3, 4])
        let x = Tensor(shape: [1, 2], data: [1, 1])
        (Tensor.linear(x, w) * g).sum().backward()
        // d/dW[o,i] = g[o] * x[i]; d/dg[o] = (W x)[o]
        #expect(Array(store.gradients) == [5, 5, 6, 6, 3, 7])
        (Tensor.linear(x, w) * g).sum().backward()
        #expect(Array(store.gradients) == [10, 10, 12, 12, 6, 14])
        store.values[0] = 10  // updates through the view
        #expect(w.toArray()[0] == 10)
    }
}

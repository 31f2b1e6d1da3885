import Foundation
import Testing
import FableTestSupport
import FableTensor
@testable import FableTraining

/// Tests/Fixtures/training/optimizers.json, written by Scripts/reference/optimizer_fixtures.py.
struct OptimizerFixtures: Decodable {
    struct Param: Decodable { let name: String; let shape: [Int]; let initial: [Double] }
    struct Step: Decodable { let grads: [String: [Double]]; let after: [String: [Double]] }
    struct AdamWCase: Decodable {
        let betas: [Double]; let eps: Double; let weight_decay: Double; let lrs: [Double]
        let params: [Param]; let steps: [Step]
    }
    struct SGDCase: Decodable { let lr: Double; let shape: [Int]; let initial: [Double]; let losses: [Double]; let final: [Double] }
    struct NSCase: Decodable { let shape: [Int]; let input: [Double]; let output: [Double] }
    struct MuonCase: Decodable {
        let lr: Double; let muon_lr: Double; let weight_decay: Double; let betas: [Double]; let eps: Double
        let muon_momentum: Double; let lr_scales: [Double]; let muon_params: [String]
        let params: [Param]; let steps: [Step]
    }
    struct ClipCase: Decodable { let shapes: [[Int]]; let max_norm: Double; let grads: [[Double]]; let norm: Double; let clipped: [[Double]] }
    let adamw: [AdamWCase]
    let sgd_cs336: SGDCase
    let newton_schulz: [NSCase]
    let muon: MuonCase
    let clip: [ClipCase]

    static func load() throws -> OptimizerFixtures {
        try TestData.jsonFixture("training/optimizers.json")
    }
}

/// A store with the fixture's parameters at their initial values.
func makeStore(_ params: [OptimizerFixtures.Param]) -> ParameterStore {
    let store = ParameterStore(layout: params.map { ($0.name, $0.shape) })
    for param in params {
        let values = store.values(of: store.entry(named: param.name)!)
        for (i, x) in param.initial.enumerated() { values[i] = Float(x) }
    }
    return store
}

func setGradients(_ store: ParameterStore, _ grads: [String: [Double]]) {
    for (name, g) in grads {
        let buffer = store.gradients(of: store.entry(named: name)!)
        for (i, x) in g.enumerated() { buffer[i] = Float(x) }
    }
}

/// The largest |actual − expected| / max(|expected|, floor) over the store's entry `name`.
func worstRelativeError(_ store: ParameterStore, _ name: String, _ expected: [Double], floor: Double = 1e-3) -> Double {
    let values = store.values(of: store.entry(named: name)!)
    var worst = 0.0
    for (i, e) in expected.enumerated() {
        worst = max(worst, abs(Double(values[i]) - e) / max(abs(e), floor))
    }
    return worst
}

@Suite("Optimizers against PyTorch")
struct OptimizerTests {
    @Test("AdamW follows torch.optim.AdamW's trajectory to 1e-6 relative")
    func adamwMatchesTorch() throws {
        for (caseIndex, c) in try OptimizerFixtures.load().adamw.enumerated() {
            let store = makeStore(c.params)
            let optimizer = AdamW(store: store, hyperparameters: .init(
                beta1: c.betas[0], beta2: c.betas[1], eps: c.eps, weightDecay: c.weight_decay))
            for (stepIndex, step) in c.steps.enumerated() {
                setGradients(store, step.grads)
                optimizer.step(learningRate: c.lrs[stepIndex])
                for (name, after) in step.after {
                    let error = worstRelativeError(store, name, after)
                    #expect(error < 1e-6, "case \(caseIndex) step \(stepIndex) \(name): \(error)")
                }
            }
            #expect(optimizer.stepCount == c.steps.count)
        }
    }

    @Test("AdamW over a subset of parameters leaves the others alone")
    func adamwSubset() throws {
        let store = ParameterStore(layout: [("a", [3]), ("b", [2]), ("c", [4])])
        store.values.update(repeating: 1)
        store.gradients.update(repeating: 0.5)
        let optimizer = AdamW(store: store, entries: [store.entries[0], store.entries[2]])
        #expect(optimizer.subset.runs.count == 2)
        optimizer.step(learningRate: 0.1)
        #expect(store.values(of: store.entries[1]).allSatisfy { $0 == 1 })
        #expect(store.values(of: store.entries[0]).allSatisfy { $0 < 1 })
        #expect(store.values(of: store.entries[2]).allSatisfy { $0 < 1 })
        #expect(optimizer.stateTensors.map(\.name) == ["optimizer.adamw.m.a", "optimizer.adamw.m.c",
                                                       "optimizer.adamw.v.a", "optimizer.adamw.v.c"])
    }

    @Test("the AdamW kernel's SIMD body and scalar tail agree on long, odd-length buffers")
    func adamwLongBuffer() {
        // 1 parameter of 100_003 elements versus the same elements one per entry would be
        // slow; instead compare a long run against per-element updates by the scalar tail.
        let n = 70_003
        let store = ParameterStore(layout: [("w", [n])])
        var rng = RandomGenerator(seed: 1)
        for i in 0..<n { store.values[i] = Float(rng.nextNormal()); store.gradients[i] = Float(rng.nextNormal()) }
        let reference = (0..<n).map { (p: store.values[$0], g: store.gradients[$0]) }
        let optimizer = AdamW(store: store, hyperparameters: .init(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1))
        optimizer.step(learningRate: 0.01)
        optimizer.step(learningRate: 0.01)
        for i in stride(from: 0, to: n, by: 997) {
            let single = ParameterStore(layout: [("x", [1])])
            single.values[0] = reference[i].p
            single.gradients[0] = reference[i].g
            let scalar = AdamW(store: single, hyperparameters: optimizer.hyperparameters)
            scalar.step(learningRate: 0.01)
            scalar.step(learningRate: 0.01)
            #expect(single.values[0] == store.values[i])
        }
    }

    @Test("SGD with lr/sqrt(t+1) reproduces the CS336 handout example")
    func sgdCS336() throws {
        let c = try OptimizerFixtures.load().sgd_cs336
        let store = ParameterStore(layout: [("weights", c.shape)])
        for (i, x) in c.initial.enumerated() { store.values[i] = Float(x) }
        let optimizer = SGD(store: store, decay: .inverseSquareRoot)
        let n = Float(store.count)
        for t in 0..<c.losses.count {
            // loss = mean(w²), gradient 2w / n, computed by hand.
            var loss = 0.0
            for i in 0..<store.count {
                loss += Double(store.values[i] * store.values[i])
                store.gradients[i] = 2 * store.values[i] / n
            }
            loss /= Double(n)
            #expect(abs(loss - c.losses[t]) <= 1e-5 * c.losses[t], "loss at t=\(t)")
            optimizer.step(learningRate: c.lr)
        }
        #expect(worstRelativeError(store, "weights", c.final) < 1e-5)
    }

    @Test("Newton-Schulz matches the reference on a tall and a wide matrix")
    func newtonSchulz() throws {
        // Muon spreads matrices with GEMM.forEachChunk, which pins the BLAS library process-wide;
        // inside withBackend it cannot overlap the GEMM suite's own checks of that state.
        try GEMM.withBackend(GEMM.defaultSelection.backend) { try newtonSchulzBody() }
    }

    private func newtonSchulzBody() throws {
        for c in try OptimizerFixtures.load().newton_schulz {
            let input = c.input.map { Float($0) }
            var output = [Float](repeating: 0, count: input.count)
            input.withUnsafeBufferPointer { g in
                output.withUnsafeMutableBufferPointer { out in
                    NewtonSchulz.orthogonalize(g.baseAddress!, rows: c.shape[0], cols: c.shape[1], into: out.baseAddress!)
                }
            }
            for (actual, expected) in zip(output, c.output) {
                #expect(abs(Double(actual) - expected) < 2e-5, "\(c.shape)")
            }
        }
    }

    @Test("Muon for hidden matrices plus AdamW for the rest matches the PyTorch reference")
    func muonMatchesReference() throws {
        // Muon spreads matrices with GEMM.forEachChunk, which pins the BLAS library process-wide;
        // inside withBackend it cannot overlap the GEMM suite's own checks of that state.
        try GEMM.withBackend(GEMM.defaultSelection.backend) { try muonMatchesReferenceBody() }
    }

    private func muonMatchesReferenceBody() throws {
        let c = try OptimizerFixtures.load().muon
        let store = makeStore(c.params)
        var config = OptimizerConfig()
        config.kind = .muon
        config.lr = c.lr
        config.muonLR = c.muon_lr
        config.weightDecay = c.weight_decay
        config.betas = c.betas
        config.eps = c.eps
        config.muonMomentum = c.muon_momentum
        let optimizer = try #require(try config.makeOptimizer(for: store) as? MuonAdamW)
        #expect(optimizer.muon.subset.entries.map(\.name) == c.muon_params)
        for (stepIndex, step) in c.steps.enumerated() {
            setGradients(store, step.grads)
            optimizer.step(learningRate: c.lr * c.lr_scales[stepIndex])
            for (name, after) in step.after {
                // Newton-Schulz in Float32 with another summation order (OpenBLAS vs PyTorch)
                // differs by a few ulps of the O(1) weights: compare Muon's matrices at 1e-5
                // relative to max(|value|, 0.01), AdamW's parameters at 1e-6.
                let muon = c.muon_params.contains(name)
                let error = worstRelativeError(store, name, after, floor: muon ? 1e-2 : 1e-3)
                #expect(error < (muon ? 1e-5 : 1e-6), "step \(stepIndex) \(name): \(error)")
            }
        }
        #expect(optimizer.stateTensors.count == 2 * 3 + 6)
    }

    @Test("Muon gives the same update whether matrices are spread over threads or taken in turn")
    func muonStrategies() throws {
        // Muon spreads matrices with GEMM.forEachChunk, which pins the BLAS library process-wide;
        // inside withBackend it cannot overlap the GEMM suite's own checks of that state.
        try GEMM.withBackend(GEMM.defaultSelection.backend) { try muonStrategiesBody() }
    }

    private func muonStrategiesBody() throws {
        let c = try OptimizerFixtures.load().muon
        let stores = [makeStore(c.params), makeStore(c.params)]
        var optimizers: [Muon] = []
        for (store, spread) in zip(stores, [false, true]) {
            let matrices = store.entries.filter { c.muon_params.contains($0.name) }
            let muon = Muon(store: store, entries: matrices, hyperparameters: .init(weightDecay: 0.1))
            muon.spreadsMatricesOverride = spread
            optimizers.append(muon)
        }
        for step in c.steps {
            for (store, optimizer) in zip(stores, optimizers) {
                setGradients(store, step.grads)
                optimizer.step(learningRate: 0.05)
            }
        }
        for i in 0..<stores[0].count {
            #expect(abs(stores[0].values[i] - stores[1].values[i]) <= 1e-6 * max(1, abs(stores[0].values[i])))
        }
        #expect(Array(stores[0].values) != c.params.flatMap(\.initial).map { Float($0) })
    }

    @Test("clip_grad_norm_: the returned norm and the clipped gradients match PyTorch")
    func clipping() throws {
        for c in try OptimizerFixtures.load().clip {
            let store = ParameterStore(layout: c.shapes.enumerated().map { ("p\($0.offset)", $0.element) })
            for (k, g) in c.grads.enumerated() {
                let buffer = store.gradients(of: store.entries[k])
                for (i, x) in g.enumerated() { buffer[i] = Float(x) }
            }
            let norm = GradientClipping.clip(store, maxNorm: c.max_norm)
            #expect(abs(norm - c.norm) <= 1e-6 * c.norm)
            for (k, expected) in c.clipped.enumerated() {
                let buffer = store.gradients(of: store.entries[k])
                for (i, e) in expected.enumerated() {
                    #expect(abs(Double(buffer[i]) - e) <= 1e-6 * max(abs(e), 1e-3))
                }
            }
        }
    }

    @Test("the global norm of a long buffer equals a Double sum regardless of threads")
    func normLongBuffer() {
        let n = 1_000_001
        let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { values.deallocate() }
        var rng = RandomGenerator(seed: 9)
        var reference = 0.0
        for i in 0..<n {
            values[i] = Float(rng.nextNormal())
            reference += Double(values[i]) * Double(values[i])
        }
        let norm = GradientClipping.norm(UnsafeBufferPointer(values))
        #expect(abs(norm - reference.squareRoot()) <= 1e-6 * norm)
    }
}

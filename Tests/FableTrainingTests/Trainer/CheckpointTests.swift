import Foundation
import Testing
import FableTensor
@testable import FableTraining

/// A toy model on a ParameterStore with hand-written gradients: embeddings E (V×d), a
/// matrix W (d×d, trained by Muon) and a gain g (d). For each (input a, target b) the loss
/// is ½‖g ⊙ (W·E[a]) − u_b‖² with u_b[k] = sin(b + k), averaged over the batch.
private struct ToyModel {
    static let vocab = 16, d = 4

    static func makeStore(seed: UInt64) -> ParameterStore {
        let store = ParameterStore(layout: [
            ("token_embeddings.weight", [vocab, d]), ("layers.0.w", [d, d]), ("layers.0.gain", [d]),
        ])
        var rng = RandomGenerator(seed: seed)
        for i in 0..<store.count { store.values[i] = Float(rng.nextNormal() * 0.5) }
        store.values(of: store.entries[2]).update(repeating: 1)
        return store
    }

    /// Fills the store's gradients for `batch`; returns the loss.
    static func gradients(_ store: ParameterStore, _ batch: TokenBatch) -> Double {
        store.zeroGradients()
        let e = store.values(of: store.entries[0]), w = store.values(of: store.entries[1]), g = store.values(of: store.entries[2])
        let de = store.gradients(of: store.entries[0]), dw = store.gradients(of: store.entries[1]), dg = store.gradients(of: store.entries[2])
        let n = Float(batch.inputs.count)
        var loss = 0.0
        for (a32, b32) in zip(batch.inputs, batch.targets) {
            let a = Int(a32), b = Int(b32)
            var h = [Float](repeating: 0, count: d), gr = [Float](repeating: 0, count: d)
            for i in 0..<d { for j in 0..<d { h[i] += w[i * d + j] * e[a * d + j] } }
            for i in 0..<d {
                let r = g[i] * h[i] - Float(sin(Double(b + i)))
                loss += 0.5 * Double(r * r)
                dg[i] += r * h[i] / n
                gr[i] = g[i] * r
            }
            for i in 0..<d {
                for j in 0..<d {
                    dw[i * d + j] += gr[i] * e[a * d + j] / n
                    de[a * d + j] += w[i * d + j] * gr[i] / n
                }
            }
        }
        return loss / Double(n)
    }
}

private func optimizerConfig() -> OptimizerConfig {
    var config = OptimizerConfig()
    config.kind = .muon
    config.lr = 0.05
    config.muonLR = 0.05
    config.muonExclude = ["token_embeddings.weight"]
    return config
}

private let schedule = CosineSchedule(maxRate: 0.05, minRate: 0.005, warmupSteps: 2, cosineSteps: 10)

/// Runs training steps `steps`, sampling batches with `rng`; returns the losses.
@discardableResult
private func train(_ store: ParameterStore, _ optimizer: any Optimizer, _ dataset: TokenDataset,
                   _ rng: inout RandomGenerator, steps: Range<Int>) throws -> [Double] {
    var losses: [Double] = []
    for step in steps {
        let b = try batch(dataset, batchSize: 4, contextLength: 8, rng: &rng)
        losses.append(ToyModel.gradients(store, b))
        GradientClipping.clip(store, maxNorm: 1.0)
        optimizer.step(learningRate: schedule.learningRate(at: step))
    }
    return losses
}

private func toyDataset() throws -> TokenDataset {
    var rng = RandomGenerator(seed: 99)
    let tokens = (0..<500).map { _ in UInt16(rng.nextInt(below: ToyModel.vocab)) }
    return try TokenDataset(url: try writeNpy(tokens, "toy.npy"), vocabSize: ToyModel.vocab)
}

@Suite("Checkpoints")
struct CheckpointTests {
    @Test("a resumed run continues bit-identically to an uninterrupted one")
    func resumeIsBitIdentical() throws {
        // Hold one GEMM backend for the whole test: other suites swap the process-wide
        // backend with GEMM.withBackend, and backends agree only to rounding.
        try GEMM.withBackend(GEMM.defaultSelection.backend) { try resumeRun() }
    }

    private func resumeRun() throws {
        let dataset = try toyDataset()
        // Uninterrupted: 12 steps.
        let storeA = ToyModel.makeStore(seed: 1)
        let optimizerA = try optimizerConfig().makeOptimizer(for: storeA)
        var rngA = RandomGenerator(seed: 5)
        let losses = try train(storeA, optimizerA, dataset, &rngA, steps: 0..<12)
        #expect(losses.last! < losses.first!)

        // Interrupted after 7 steps, saved, restored into fresh objects, continued.
        let storeB = ToyModel.makeStore(seed: 1)
        let optimizerB = try optimizerConfig().makeOptimizer(for: storeB)
        var rngB = RandomGenerator(seed: 5)
        try train(storeB, optimizerB, dataset, &rngB, steps: 0..<7)
        let url = temporaryFile("resume.safetensors")
        let configJSON = String(decoding: try JSONEncoder().encode(optimizerConfig()), as: UTF8.self)
        try Checkpoint.save(to: url, store: storeB, optimizer: optimizerB,
                            state: .init(step: 7, rng: rngB, config: configJSON, tokenizer: "tokenizers/ts-10k", extra: ["note": "x"]))

        let storeC = ToyModel.makeStore(seed: 2)  // different initial values, overwritten by the load
        let optimizerC = try optimizerConfig().makeOptimizer(for: storeC)
        let state = try Checkpoint.load(from: url, into: storeC, optimizer: optimizerC)
        #expect(state.step == 7 && state.config == configJSON && state.tokenizer == "tokenizers/ts-10k")
        #expect(state.optimizerKind == "muon+adamw" && state.extra == ["note": "x"])
        #expect(optimizerC.stepCount == 7)
        var rngC = state.rng
        #expect(rngC == rngB)
        try train(storeC, optimizerC, dataset, &rngC, steps: state.step..<12)

        #expect(Array(storeC.values).map(\.bitPattern) == Array(storeA.values).map(\.bitPattern))
        for (a, c) in zip(optimizerA.stateTensors, optimizerC.stateTensors) {
            #expect(a.name == c.name)
            #expect(Array(a.values).map(\.bitPattern) == Array(c.values).map(\.bitPattern), "\(a.name)")
        }
        #expect(rngC == rngA)
    }

    @Test("weights-only loading skips optimizer state; the file is a plain safetensors state dict")
    func weightsOnly() throws {
        let store = ToyModel.makeStore(seed: 3)
        let optimizer = try optimizerConfig().makeOptimizer(for: store)
        let url = temporaryFile("weights.safetensors")
        try Checkpoint.save(to: url, store: store, optimizer: optimizer, state: .init(step: 0, rng: RandomGenerator(seed: 1)))
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.contains("layers.0.w") && file.contains("optimizer.adamw.m.token_embeddings.weight")
                && file.contains("optimizer.muon.momentum.layers.0.w"))
        let fresh = ToyModel.makeStore(seed: 4)
        try Checkpoint.load(from: url, into: fresh, optimizer: nil)
        #expect(Array(fresh.values) == Array(store.values))
    }

    @Test("mismatched, truncated and foreign files are clear errors and leave the store untouched")
    func mismatches() throws {
        let store = ToyModel.makeStore(seed: 3)
        let optimizer = try optimizerConfig().makeOptimizer(for: store)
        let url = temporaryFile("mismatch.safetensors")
        try Checkpoint.save(to: url, store: store, optimizer: optimizer, state: .init(step: 3, rng: RandomGenerator(seed: 1)))

        // A model with a different shape for one tensor.
        let other = ParameterStore(layout: [("token_embeddings.weight", [16, 4]), ("layers.0.w", [4, 5]), ("layers.0.gain", [4])])
        other.values.update(repeating: 7)
        #expect(throws: SafeTensorsError.shapeMismatch(path: url.path, tensor: "layers.0.w", expected: [4, 5], actual: [4, 4])) {
            try Checkpoint.load(from: url, into: other, optimizer: nil)
        }
        #expect(other.values.allSatisfy { $0 == 7 })

        // A model with an extra parameter, and one without a saved parameter.
        let bigger = ParameterStore(layout: [("token_embeddings.weight", [16, 4]), ("layers.0.w", [4, 4]),
                                             ("layers.0.gain", [4]), ("ln_final.weight", [4])])
        #expect(throws: CheckpointError.missingTensor(path: url.path, tensor: "ln_final.weight")) {
            try Checkpoint.load(from: url, into: bigger, optimizer: nil)
        }
        let smaller = ParameterStore(layout: [("token_embeddings.weight", [16, 4]), ("layers.0.w", [4, 4])])
        #expect(throws: CheckpointError.unexpectedTensor(path: url.path, tensor: "layers.0.gain")) {
            try Checkpoint.load(from: url, into: smaller, optimizer: nil)
        }

        // A different optimizer.
        let adam = AdamW(store: ToyModel.makeStore(seed: 3))
        #expect(throws: CheckpointError.optimizerMismatch(path: url.path, saved: "muon+adamw", current: "adamw")) {
            try Checkpoint.load(from: url, into: adam.store, optimizer: adam)
        }

        // Truncated: every cut is rejected before anything is copied.
        let bytes = try Data(contentsOf: url)
        let cut = temporaryFile("cut.safetensors")
        for length in [4, 100, bytes.count / 2, bytes.count - 1] {
            try bytes.prefix(length).write(to: cut)
            let target = ToyModel.makeStore(seed: 8)
            let before = Array(target.values)
            #expect(throws: (any Error).self) { try Checkpoint.load(from: cut, into: target, optimizer: nil) }
            #expect(Array(target.values) == before)
        }

        // A plain safetensors file that is not a checkpoint.
        var plain = SafeTensorsWriter(metadata: ["format": "pt"])
        try plain.add("layers.0.w", shape: [4, 4], floats: [Float](repeating: 0, count: 16))
        let plainURL = temporaryFile("plain.safetensors")
        try plain.write(to: plainURL)
        #expect(throws: CheckpointError.notACheckpoint(path: plainURL.path, found: nil)) {
            try Checkpoint.load(from: plainURL, into: store, optimizer: nil)
        }
        #expect(throws: CheckpointError.reservedMetadataKey(key: "fable.step")) {
            try Checkpoint.save(to: plainURL, store: store, optimizer: nil,
                                state: .init(step: 0, rng: RandomGenerator(seed: 1), extra: ["fable.step": "9"]))
        }
    }
}

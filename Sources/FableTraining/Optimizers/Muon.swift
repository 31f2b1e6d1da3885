import Foundation
import FableTensor

/// Muon (MomentUm Orthogonalized by Newton–Schulz) for 2-D weight matrices.
///
/// For each matrix of shape (rows, cols), with β the momentum:
/// ```
/// M ← M + (1 − β)(G − M)                     momentum buffer
/// U ← G + β(M − G)  (Nesterov)  or  U ← M
/// O ← NewtonSchulz5(U) · √max(1, rows/cols)
/// W ← W · (1 − lr·λ) − lr·O                  decoupled weight decay, then the update
/// ```
/// as in Keller Jordan's reference `Muon` (computed in Float32 rather than bfloat16).
/// The momentum buffers are one flat buffer laid out like the matrices.
public final class Muon: Optimizer {
    public struct Hyperparameters: Equatable, Sendable {
        public var momentum: Double
        public var nesterov: Bool
        public var newtonSchulzSteps: Int
        public var weightDecay: Double

        public init(momentum: Double = 0.95, nesterov: Bool = true, newtonSchulzSteps: Int = 5, weightDecay: Double = 0) {
            self.momentum = momentum
            self.nesterov = nesterov
            self.newtonSchulzSteps = newtonSchulzSteps
            self.weightDecay = weightDecay
        }
    }

    public let store: ParameterStore
    public let subset: ParameterSubset
    public let hyperparameters: Hyperparameters
    /// Momentum buffers, laid out like ``subset``.
    public let momentum: OptimizerState
    public var stepCount = 0
    public var kind: String { "muon" }
    private let scratchPool: ScratchPool
    /// Tests force one strategy: true spreads matrices over threads, false goes one by one.
    var spreadsMatricesOverride: Bool?

    /// A Muon over `entries` of `store`; every entry must be 2-D (a programming error otherwise:
    /// ``OptimizerConfig`` routes only matrices here).
    public init(store: ParameterStore, entries: [ParameterStore.Entry], hyperparameters: Hyperparameters = .init()) {
        precondition(entries.allSatisfy { $0.shape.count == 2 }, "Muon handles 2-D parameters only")
        self.store = store
        subset = ParameterSubset(entries)
        self.hyperparameters = hyperparameters
        momentum = OptimizerState(subset: subset)
        scratchPool = ScratchPool(
            capacity: entries.map(\.count).max() ?? 0,
            sideCapacity: entries.map { min($0.shape[0], $0.shape[1]) }.max() ?? 0)
    }

    public var stateTensors: [OptimizerStateTensor] { momentum.tensors(prefix: "optimizer.muon.momentum.") }

    /// One Muon step on every matrix; `learningRate` is Muon's own rate.
    ///
    /// With at least two matrices per thread, whole matrices are spread over the threads,
    /// each orthogonalised with single-threaded products (no synchronisation inside a
    /// product); otherwise matrices go one at a time, each product using every thread.
    /// The choice depends only on the shapes and the thread count, so runs are repeatable.
    public func step(learningRate: Double) {
        stepCount += 1
        let matrices = subset.entries.count
        guard matrices > 0 else { return }
        let threads = Parallel.threadCount
        if spreadsMatricesOverride ?? (threads > 1 && matrices >= 2 * threads) {
            GEMM.forEachChunk(matrices) { range in
                let scratch = scratchPool.take()
                for index in range { update(matrix: index, learningRate: learningRate, scratch: scratch, threads: 1) }
                scratchPool.give(scratch)
            }
        } else {
            let scratch = scratchPool.take()
            for index in 0..<matrices { update(matrix: index, learningRate: learningRate, scratch: scratch, threads: nil) }
            scratchPool.give(scratch)
        }
    }

    /// Momentum, orthogonalisation and the weight update of matrix `index`.
    private func update(matrix index: Int, learningRate: Double, scratch: Scratch, threads: Int?) {
        let entry = subset.entries[index]
        let count = entry.count
        guard count > 0 else { return }
        let h = hyperparameters
        let beta = Float(h.momentum)
        let oneMinusBeta = Float(1 - h.momentum)
        let decay = Float(1 - learningRate * h.weightDecay)
        let rows = entry.shape[0], cols = entry.shape[1]
        let w = store.values.baseAddress! + entry.offset
        let g = store.gradients.baseAddress! + entry.offset
        let m = momentum.values.baseAddress! + subset.stateOffsets[index]
        let u = scratch.update
        // Momentum and the Nesterov blend, in PyTorch's lerp form (weights below 0.5:
        // a + w(b − a); at or above: b − (b − a)(1 − w)).
        for i in 0..<count {
            let gi = g[i]
            let mi = oneMinusBeta < 0.5 ? m[i] + oneMinusBeta * (gi - m[i]) : gi - (gi - m[i]) * (1 - oneMinusBeta)
            m[i] = mi
            if h.nesterov {
                u[i] = beta < 0.5 ? gi + beta * (mi - gi) : mi - (mi - gi) * (1 - beta)
            } else {
                u[i] = mi
            }
        }
        NewtonSchulz.orthogonalize(
            u, rows: rows, cols: cols, steps: h.newtonSchulzSteps, into: u,
            workspace: scratch.workspace, threads: threads)
        let scale = Float(Swift.max(1, Double(rows) / Double(cols)).squareRoot())
        let negativeRate = Float(-learningRate)
        // PyTorch: update *= scale; p.mul_(1 − lr·λ); p.add_(update, alpha = −lr)
        for i in 0..<count { w[i] = w[i] * decay + negativeRate * (u[i] * scale) }
    }

    /// One worker's scratch: the update matrix and the Newton–Schulz workspace.
    final class Scratch {
        let update: UnsafeMutablePointer<Float>
        let workspace: NewtonSchulz.Workspace

        init(capacity: Int, sideCapacity: Int) {
            update = .allocate(capacity: max(1, capacity))
            workspace = NewtonSchulz.Workspace(capacity: capacity, sideCapacity: sideCapacity)
        }

        deinit { update.deallocate() }
    }

    /// Scratch buffers handed to workers and kept for the next step.
    final class ScratchPool: @unchecked Sendable {
        private let lock = NSLock()
        private var free: [Scratch] = []
        private let capacity: Int, sideCapacity: Int

        init(capacity: Int, sideCapacity: Int) {
            self.capacity = capacity
            self.sideCapacity = sideCapacity
        }

        func take() -> Scratch {
            lock.lock()
            defer { lock.unlock() }
            return free.popLast() ?? Scratch(capacity: capacity, sideCapacity: sideCapacity)
        }

        func give(_ scratch: Scratch) {
            lock.lock()
            free.append(scratch)
            lock.unlock()
        }
    }
}

/// Muon for the hidden matrices and AdamW for everything else (embeddings, LM head, gains),
/// the split chosen by ``OptimizerConfig``.
///
/// ``step(learningRate:)`` takes the AdamW rate; Muon's rate follows the same schedule
/// scaled by `muonLearningRate / learningRate` from the config, so a cosine schedule on
/// the AdamW rate moves both together.
public final class MuonAdamW: Optimizer {
    public let store: ParameterStore
    public let muon: Muon
    public let adamw: AdamW
    /// Muon's rate divided by AdamW's peak rate.
    public let muonRateRatio: Double
    public var kind: String { "muon+adamw" }

    public init(muon: Muon, adamw: AdamW, muonRateRatio: Double) {
        precondition(muon.store === adamw.store, "both optimizers must update the same store")
        store = muon.store
        self.muon = muon
        self.adamw = adamw
        self.muonRateRatio = muonRateRatio
    }

    public var stepCount: Int {
        get { adamw.stepCount }
        set { adamw.stepCount = newValue; muon.stepCount = newValue }
    }

    public func step(learningRate: Double) {
        adamw.step(learningRate: learningRate)
        muon.step(learningRate: learningRate * muonRateRatio)
    }

    public var stateTensors: [OptimizerStateTensor] { adamw.stateTensors + muon.stateTensors }
}

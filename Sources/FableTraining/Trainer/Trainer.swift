import FableDistributed
import FableModel
import FableTensor
import Foundation

/// The training loop's engine: a model, its optimizer and schedule, the data and the
/// sampler's random stream, advanced one optimizer step at a time.
///
/// ```swift
/// let config = try TrainingConfig.preset(named: "cpu-small", overrides: [ConfigOverride(key: "steps", value: "200")])
/// let train = try TokenDataset(url: trainURL), val = try TokenDataset(url: valURL)
/// let trainer = try Trainer(config: config, train: train, val: val)
/// let result = try trainer.run(in: RunDirectory(outURL))   // or trainer.trainStep() yourself
/// ```
///
/// One step (``trainStep()``): sample `batch_size` random windows, forward, mean
/// cross-entropy, backward into the model's gradient buffer, clip to `grad_clip`, and an
/// optimizer step at the scheduled rate. Everything that decides the next step (weights,
/// optimizer moments and step count, the sampler's generator, the step number) is saved by
/// ``saveCheckpoint(to:)`` and restored by ``restore(from:)``, so a resumed run computes
/// bit for bit what an uninterrupted one would (with the same thread count).
///
/// The loop with evaluation, metrics, checkpoints, progress and Ctrl-C handling is
/// ``run(in:shouldStop:onEvent:)`` (Trainer+Run.swift); evaluation is in
/// Trainer+Evaluation.swift and checkpoints in Trainer+Checkpointing.swift. Given a
/// ``Communicator`` of several ranks, each rank trains its slice of the global batch
/// (Trainer+DataParallel.swift), optionally with sharded optimizer state
/// (Trainer+ShardedOptimizer.swift).
public final class Trainer {
    /// The validated configuration.
    public let config: TrainingConfig
    /// The model being trained.
    public let model: TransformerLM
    /// The optimizer over every parameter of ``model``.
    public let optimizer: any Optimizer
    /// The learning rate at each step.
    public let schedule: any LearningRateSchedule
    /// The training tokens.
    public let trainData: TokenDataset
    /// The validation tokens, if any.
    public let valData: TokenDataset?
    /// The fixed batches every periodic evaluation averages over (the first
    /// `eval_batches` × ranks batches of the validation split, each rank evaluating
    /// `eval_batches` of them); nil without validation data.
    public let validationBatches: ValidationBatches?
    /// The processes training this model together (``Communicator/single`` for one).
    public let communicator: Communicator
    /// Sums gradients over the ranks; nil for a single process and with sharded optimizer state.
    let gradientBuckets: GradientBuckets?
    /// The parameters each rank updates when `shard_optimizer` is on in a job of several
    /// ranks (Trainer+ShardedOptimizer.swift); nil otherwise.
    public let shards: ParameterShards?

    /// Optimizer steps completed.
    public internal(set) var step = 0
    /// Training tokens consumed.
    public internal(set) var tokens = 0
    /// Wall-clock seconds of earlier sessions of this run (restored from a checkpoint).
    public internal(set) var previousWallSeconds = 0.0
    /// The batch sampler's generator; part of every checkpoint.
    public internal(set) var sampler: RandomGenerator
    /// The batch buffer, refilled in place every step.
    var batch: TokenBatch
    /// Where the time of ``run(in:shouldStop:onEvent:)`` went.
    public internal(set) var timing = Timing()

    /// Seconds spent in each part of a run.
    public struct Timing: Equatable, Sendable {
        /// Training steps (sampling, forward, backward, clipping, optimizer).
        public var training = 0.0
        /// Validation passes.
        public var evaluation = 0.0
        /// Writing checkpoints.
        public var checkpointing = 0.0
        /// Writing metrics lines.
        public var logging = 0.0

        /// Everything but training, as a fraction of the whole.
        public var overheadFraction: Double {
            let total = training + evaluation + checkpointing + logging
            return total > 0 ? (evaluation + checkpointing + logging) / total : 0
        }
    }

    /// What one optimizer step did.
    public struct StepResult: Equatable, Sendable {
        /// Steps completed, this one included.
        public var step: Int
        /// The batch's mean cross-entropy before the update.
        public var loss: Double
        /// The gradient's global L2 norm before clipping.
        public var gradNorm: Double
        /// The learning rate used.
        public var learningRate: Double
        /// Tokens in the batch.
        public var tokens: Int
        /// Seconds the step took.
        public var seconds: Double
        /// Seconds of the step spent blocked on communication between ranks (0 for one process).
        public var communicationSeconds: Double = 0
    }

    // MARK: - Construction

    /// A trainer at step 0 with freshly initialised weights (seeded by `config.seed`).
    /// - Parameters:
    ///   - config: validated here, and against the data (vocabulary, lengths).
    ///   - train: training tokens.
    ///   - val: validation tokens; without them there is no evaluation.
    ///   - communicator: the job this process is one rank of (see Trainer+DataParallel.swift);
    ///     every rank builds the same initial weights from the seed.
    /// - Throws: ``TrainingConfigError`` naming the key at fault.
    public init(config: TrainingConfig, train: TokenDataset, val: TokenDataset?,
                communicator: Communicator = .single) throws {
        try config.validate()
        try config.validate(train: train, val: val)
        self.config = config
        do {
            model = try TransformerLM(config: config.model, seed: UInt64(config.seed))
        } catch {
            throw TrainingConfigError(error, section: "model")
        }
        let shards = config.shardOptimizer && communicator.isDistributed
            ? ParameterShards(store: model.parameters, ranks: communicator.size) : nil
        self.shards = shards
        do {
            optimizer = try config.optimizer.makeOptimizer(
                for: model.parameters, entries: shards?.entries[communicator.rank] ?? model.parameters.entries)
        } catch let error as OptimizerConfigError {
            throw TrainingConfigError(error, section: "optimizer")
        }
        schedule = try config.makeSchedule(ranks: communicator.size)
        gradientBuckets = communicator.isDistributed && shards == nil
            ? GradientBuckets(store: model.parameters, communicator: communicator,
                              bucketBytes: Int(config.bucketMB * 1_048_576), overlap: config.overlapCommunication)
            : nil
        trainData = train
        valData = val
        self.communicator = communicator
        validationBatches = try val.map {
            try ValidationBatches($0, batchSize: config.batchSize, contextLength: config.model.contextLength,
                                  maxBatches: config.evalBatches * communicator.size)
        }
        sampler = RandomGenerator(seed: config.samplerSeed)
        batch = TokenBatch(batchSize: config.batchSize, contextLength: config.model.contextLength)
    }

    /// The planned number of steps.
    public var totalSteps: Int { config.totalSteps(ranks: communicator.size) }

    /// True once every planned step is done.
    public var isFinished: Bool { step >= totalSteps }

    // MARK: - One step

    /// Runs one optimizer step on a fresh random batch.
    ///
    /// With `grad_accum_steps` > 1 the gradients of that many micro-batches are summed before
    /// the update; with several ranks each rank computes its slice of the global batch and
    /// the gradients are averaged over ranks (Trainer+DataParallel.swift). The loss is the
    /// mean over the whole global batch.
    ///
    /// A loss or gradient norm that is not finite stops before the update: the weights,
    /// optimizer and step count stay as they were, and the error says what happened.
    /// - Throws: ``TrainerError/diverged(step:reason:)``, ``TokenDatasetError``, or
    ///   ``DistributedError`` when communication fails.
    @discardableResult
    public func trainStep() throws -> StepResult {
        let start = Trainer.now()
        let communicationStart = communicator.waitSeconds
        let attempted = step + 1
        let rate = schedule.learningRate(at: step)
        let store = model.parameters
        store.zeroGradients()
        let microBatches = config.gradAccumSteps
        var lossSum = 0.0
        for micro in 0..<microBatches {
            try sampleRankSlice()
            // `precision` applies to the products of forward and backward; the optimizer,
            // clipping and everything outside these two calls stay fp32.
            let lossTensor = try config.precision.withProducts {
                try model.loss(tokens: batch.inputs, targets: batch.targets,
                               shape: [batch.batchSize, batch.contextLength])
            }
            let loss = Double(lossTensor.item())
            lossSum += loss
            // One process stops before backward; ranks first agree on the loss below.
            guard loss.isFinite || communicator.isDistributed else {
                throw TrainerError.diverged(step: attempted, reason: "the training loss is \(Trainer.describe(loss))")
            }
            config.precision.withProducts {
                if let gradientBuckets, micro == microBatches - 1 {
                    gradientBuckets.begin()
                    lossTensor.backward(observer: gradientBuckets.observe)
                } else {
                    lossTensor.backward()
                }
            }
        }
        let loss = try averageOverRanks(lossSum: lossSum)
        guard loss.isFinite else {
            throw TrainerError.diverged(step: attempted, reason: "the training loss is \(Trainer.describe(loss))")
        }
        let norm: Double
        if shards != nil {
            norm = try clipShardedGradients()
        } else {
            norm = config.gradClip > 0
                ? GradientClipping.clip(store, maxNorm: config.gradClip)
                : GradientClipping.norm(UnsafeBufferPointer(store.gradients))
        }
        guard norm.isFinite else {
            throw TrainerError.diverged(step: attempted, reason: "the gradient norm is \(Trainer.describe(norm))")
        }
        optimizer.step(learningRate: rate)
        if let shards { try communicator.allGather(inPlace: store.values, ranges: shards.ranges) }
        step = attempted
        let stepTokens = batch.inputs.count * microBatches * communicator.size
        tokens += stepTokens
        return StepResult(step: step, loss: loss, gradNorm: norm, learningRate: rate,
                          tokens: stepTokens, seconds: Trainer.now() - start,
                          communicationSeconds: communicator.waitSeconds - communicationStart)
    }

    /// True when every parameter is finite (checked before a checkpoint is written).
    public func parametersAreFinite() -> Bool {
        let values = model.parameters.values
        let count = values.count
        guard let base = values.baseAddress, count > 0 else { return true }
        let chunks = Parallel.chunkCount(for: count, minimumChunk: 1 << 18)
        let bad = UnsafeMutableBufferPointer<Bool>.allocate(capacity: chunks)
        defer { bad.deallocate() }
        bad.initialize(repeating: false)
        Parallel.forEachChunk(chunks) { indices in
            for chunk in indices {
                let range = Parallel.chunkRange(chunk, of: chunks, count: count)
                // x - x is 0 for finite x and NaN for NaN or ±inf: one branch-free pass.
                var acc: Float = 0
                for i in range { acc += base[i] - base[i] }
                bad[chunk] = !acc.isFinite || acc != 0
            }
        }
        return !bad.contains(true)
    }

    // MARK: - Helpers

    /// Seconds on a monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func describe(_ x: Double) -> String {
        x.isNaN ? "NaN" : (x.isInfinite ? (x > 0 ? "+Inf" : "-Inf") : "\(x)")
    }
}

/// Why training stopped or could not go on.
public enum TrainerError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The loss, gradient or weights became non-finite at `step` (the step that was tried).
    case diverged(step: Int, reason: String)
    /// A run's folder or file could not be created, read or written.
    case fileSystem(path: String, reason: String)
    /// `--out` already holds a run.
    case runExists(path: String)
    /// There is nothing to resume from.
    case nothingToResume(path: String, reason: String)
    /// A checkpoint does not belong to this run's configuration.
    case checkpointMismatch(path: String, reason: String)
    /// Another process is training in the run folder; `holder` names it ("pid 123 on host").
    case runLocked(path: String, holder: String)
    /// `--out` holds a config.json that is not from a run there; it is not overwritten.
    case foreignConfig(path: String)

    public var description: String {
        switch self {
        case let .diverged(step, reason):
            return "training diverged at step \(step): \(reason)"
        case let .fileSystem(path, reason):
            return "\(path): \(reason)"
        case let .runExists(path):
            return "\(path) already holds a training run (metrics.jsonl or checkpoints); "
                + "continue it with --resume \(path), or choose another --out"
        case let .nothingToResume(path, reason):
            return "cannot resume \(path): \(reason)"
        case let .checkpointMismatch(path, reason):
            return "\(path): \(reason)"
        case let .runLocked(path, holder):
            return "\(path) is in use by another training run (\(holder)); wait for it to finish or stop it first"
        case let .foreignConfig(path):
            return "\(path) already exists and is not a run's config (no metrics.jsonl beside it); "
                + "it is left alone: choose another --out, or pass it with --config and an empty --out"
        }
    }

    public var errorDescription: String? { description }
}

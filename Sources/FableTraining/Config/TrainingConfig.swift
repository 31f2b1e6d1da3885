import FableModel
import FableTensor
import Foundation

/// Everything that decides a training run: the model, the optimizer and its schedule, the
/// batch size and length of the run, how often to evaluate, log and checkpoint, and the
/// seed. Written to RUN_DIR/config.json (every key, resolved) so a run can be repeated or
/// resumed, and read from `fable train --config FILE.json`.
///
/// JSON uses the snake_case key on each field. Only `model` is required: it is a
/// ``ModelConfig`` object or the name of a model preset (`"model": "tinystories-17m"`).
/// Unknown keys are rejected at every level, so a misspelt key cannot silently fall back
/// to its default.
///
/// ```json
/// {"model": "tinystories-17m",
///  "optimizer": {"kind": "adamw", "lr": 0.001, "betas": [0.9, 0.95], "weight_decay": 0.1},
///  "schedule": {"kind": "cosine", "warmup_steps": 200, "min_lr_ratio": 0.1},
///  "batch_size": 32, "steps": 5000, "eval_interval": 500, "eval_batches": 10,
///  "checkpoint_interval": 1000, "log_interval": 10, "grad_clip": 1.0, "seed": 0,
///  "precision": "fp32"}
/// ```
///
/// The run's length is `steps`, or `max_tokens` (a token budget) turned into steps of
/// `batch_size × context_length` tokens, rounded up; exactly one of them is given.
public struct TrainingConfig: Codable, Equatable, Sendable {
    // MARK: - Fields

    /// `model`: the architecture (a ModelConfig object, or a model preset's name in JSON).
    public var model: ModelConfig
    /// `optimizer`: AdamW (default), SGD or Muon+AdamW, with the peak learning rate `lr`.
    public var optimizer: OptimizerConfig
    /// `schedule`: warmup and cosine decay from `optimizer.lr` down to the minimum rate;
    /// `cosine_steps` defaults to the run's total steps.
    public var schedule: ScheduleConfig
    /// `batch_size`: sequences of `context_length` tokens per optimizer step.
    public var batchSize: Int
    /// `steps`: optimizer steps in the run (give this or `max_tokens`).
    public var steps: Int?
    /// `max_tokens`: a training-token budget instead of `steps`; the run takes
    /// ceil(max_tokens / (batch_size × context_length)) steps.
    public var maxTokens: Int?
    /// `eval_interval`: measure the validation loss every this many steps (and at the end);
    /// 0 evaluates only at the end.
    public var evalInterval: Int
    /// `eval_batches`: how many fixed validation batches each evaluation averages over
    /// (the first ones of the split, the same every time, so evaluations compare exactly).
    public var evalBatches: Int
    /// `full_eval`: the final evaluation covers the whole validation split instead of
    /// `eval_batches` batches.
    public var fullEval: Bool
    /// `checkpoint_interval`: save a checkpoint every this many steps (and always at the
    /// end); 0 saves only at the end.
    public var checkpointInterval: Int
    /// `keep_checkpoints`: how many step checkpoints to keep, newest first (older ones are
    /// deleted once a newer one is safely written); 0 keeps all.
    public var keepCheckpoints: Int
    /// `log_interval`: append a metrics line every this many steps (losses averaged over them).
    public var logInterval: Int
    /// `grad_clip`: clip gradients to this global L2 norm; 0 turns clipping off.
    public var gradClip: Double
    /// `seed`: decides the initial weights and the order of training batches (0 ... 2^53).
    public var seed: Int
    /// `threads`: worker threads for the kernels; null uses `FABLE_THREADS` or every core.
    /// Results are bit-identical only between runs with the same thread count.
    public var threads: Int?
    /// `tokenizer`: where the tokenizer that encoded the data lives (a folder or vocab
    /// file); recorded in checkpoints so generation can find it. Optional.
    public var tokenizer: String?
    /// `grad_accum_steps`: micro-batches of `batch_size` whose gradients are averaged into
    /// one optimizer step (gradient accumulation). With N ranks the global batch is
    /// batch_size × grad_accum_steps × N sequences.
    public var gradAccumSteps: Int
    /// `bucket_mb`: data-parallel runs sum gradients over ranks in buckets of about this
    /// many megabytes (MiB), each started as soon as backward has finished it.
    public var bucketMB: Double
    /// `overlap_communication`: start each bucket's all-reduce during backward (true) or
    /// reduce every bucket after backward (false; for measuring what overlap gains).
    public var overlapCommunication: Bool
    /// `shard_optimizer`: in a data-parallel job each rank keeps the optimizer state of its
    /// share of the parameters only (ZeRO stage 1): gradients are reduce-scattered, each rank
    /// updates its share, and the parameters are all-gathered. AdamW or Muon; checkpoints
    /// hold the whole state, so any rank count, sharded or not, resumes them.
    public var shardOptimizer: Bool
    /// `divergence_loss`: stop the run as diverged once the training loss, averaged over
    /// the last ``divergenceWindow`` steps, exceeds this (the last good checkpoint stays);
    /// null lets a run go on until its loss is no longer finite. A learning-rate sweep sets
    /// it a little above the untrained loss, ln(vocab_size), so a run that has blown up stops.
    public var divergenceLoss: Double?
    /// Steps whose mean training loss ``divergenceLoss`` is compared with.
    public static let divergenceWindow = 10
    /// `precision`: the matrix products' inputs, `fp32` (default) or `bf16` (mixed precision:
    /// every product of forward, backward and evaluation takes bf16-rounded inputs and
    /// accumulates in fp32; weights, gradients, optimizer state, norms, softmax, the loss and
    /// checkpoints stay fp32). `bf16` needs a CPU with AVX512_BF16 (`fable info` says) and is
    /// refused elsewhere.
    public var precision: MatmulPrecision

    /// A configuration with the given model and default settings for everything else.
    public init(
        model: ModelConfig, optimizer: OptimizerConfig = OptimizerConfig(),
        schedule: ScheduleConfig = ScheduleConfig(), batchSize: Int = 32, steps: Int? = 1000,
        maxTokens: Int? = nil, evalInterval: Int = 200, evalBatches: Int = 10, fullEval: Bool = false,
        checkpointInterval: Int = 1000, keepCheckpoints: Int = 3, logInterval: Int = 10,
        gradClip: Double = 1.0, seed: Int = 0, threads: Int? = nil, tokenizer: String? = nil,
        gradAccumSteps: Int = 1, bucketMB: Double = 8, overlapCommunication: Bool = true,
        shardOptimizer: Bool = false, divergenceLoss: Double? = nil, precision: MatmulPrecision = .fp32
    ) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.batchSize = batchSize
        self.steps = steps
        self.maxTokens = maxTokens
        self.evalInterval = evalInterval
        self.evalBatches = evalBatches
        self.fullEval = fullEval
        self.checkpointInterval = checkpointInterval
        self.keepCheckpoints = keepCheckpoints
        self.logInterval = logInterval
        self.gradClip = gradClip
        self.seed = seed
        self.threads = threads
        self.tokenizer = tokenizer
        self.gradAccumSteps = gradAccumSteps
        self.bucketMB = bucketMB
        self.overlapCommunication = overlapCommunication
        self.shardOptimizer = shardOptimizer
        self.divergenceLoss = divergenceLoss
        self.precision = precision
    }

    // MARK: - Derived values

    /// Training tokens per optimizer step in one process:
    /// batch_size × grad_accum_steps × context_length.
    public var tokensPerStep: Int { tokensPerStep(ranks: 1) }

    /// Training tokens per optimizer step of a job of `ranks` processes (the global batch).
    public func tokensPerStep(ranks: Int) -> Int { batchSize * gradAccumSteps * ranks * model.contextLength }

    /// The number of optimizer steps the run takes (from `steps` or `max_tokens`) in one process.
    public var totalSteps: Int { totalSteps(ranks: 1) }

    /// The number of optimizer steps of a job of `ranks` processes: `steps`, or `max_tokens`
    /// divided by the global batch's tokens, rounded up.
    public func totalSteps(ranks: Int) -> Int {
        if let steps { return steps }
        let perStep = tokensPerStep(ranks: ranks)
        guard let maxTokens, perStep > 0 else { return 0 }
        return (maxTokens + perStep - 1) / perStep
    }

    /// The learning-rate schedule of this run.
    /// - Throws: ``TrainingConfigError`` naming the `schedule.*` key at fault.
    public func makeSchedule(ranks: Int = 1) throws(TrainingConfigError) -> any LearningRateSchedule {
        let totalSteps = totalSteps(ranks: ranks)
        if schedule.kind == .cosine, schedule.cosineSteps == nil, schedule.warmupSteps > totalSteps {
            throw .invalidValue(key: "schedule.warmup_steps", value: "\(schedule.warmupSteps)",
                                expected: "at most the run's \(totalSteps) steps (the cosine ends at the last step)")
        }
        do {
            return try schedule.makeSchedule(maxRate: optimizer.lr, totalSteps: totalSteps)
        } catch let error as OptimizerConfigError {
            throw TrainingConfigError(error, section: "schedule")
        } catch {
            throw .invalidValue(key: "schedule", value: "", expected: "\(error)")
        }
    }

    /// The generator seed that draws training batches, kept apart from the weights' seed so
    /// changing the model does not change the data order.
    public var samplerSeed: UInt64 { UInt64(seed) ^ 0x5DEE_CE66_D1CE_5EED }

    // MARK: - Codable

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, optimizer, schedule
        case batchSize = "batch_size"
        case steps
        case maxTokens = "max_tokens"
        case evalInterval = "eval_interval"
        case evalBatches = "eval_batches"
        case fullEval = "full_eval"
        case checkpointInterval = "checkpoint_interval"
        case keepCheckpoints = "keep_checkpoints"
        case logInterval = "log_interval"
        case gradClip = "grad_clip"
        case seed, threads, tokenizer
        case gradAccumSteps = "grad_accum_steps"
        case bucketMB = "bucket_mb"
        case overlapCommunication = "overlap_communication"
        case shardOptimizer = "shard_optimizer"
        case divergenceLoss = "divergence_loss"
        case precision
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfig(model: ModelConfig(vocabSize: 1, contextLength: 1, dModel: 2, numLayers: 1, numHeads: 1))
        model = try c.decode(ModelConfig.self, forKey: .model)
        optimizer = try c.decodeIfPresent(OptimizerConfig.self, forKey: .optimizer) ?? d.optimizer
        schedule = try c.decodeIfPresent(ScheduleConfig.self, forKey: .schedule) ?? d.schedule
        batchSize = try c.decodeWholeNumberIfPresent(forKey: .batchSize) ?? d.batchSize
        // A file that gives neither length key gets the default step count.
        let steps = try c.decodeWholeNumberIfPresent(forKey: .steps)
        maxTokens = try c.decodeWholeNumberIfPresent(forKey: .maxTokens)
        self.steps = steps ?? (maxTokens == nil ? d.steps : nil)
        evalInterval = try c.decodeWholeNumberIfPresent(forKey: .evalInterval) ?? d.evalInterval
        evalBatches = try c.decodeWholeNumberIfPresent(forKey: .evalBatches) ?? d.evalBatches
        fullEval = try c.decodeIfPresent(Bool.self, forKey: .fullEval) ?? d.fullEval
        checkpointInterval = try c.decodeWholeNumberIfPresent(forKey: .checkpointInterval) ?? d.checkpointInterval
        keepCheckpoints = try c.decodeWholeNumberIfPresent(forKey: .keepCheckpoints) ?? d.keepCheckpoints
        logInterval = try c.decodeWholeNumberIfPresent(forKey: .logInterval) ?? d.logInterval
        gradClip = try c.decodeIfPresent(Double.self, forKey: .gradClip) ?? d.gradClip
        seed = try c.decodeWholeNumberIfPresent(forKey: .seed) ?? d.seed
        threads = try c.decodeWholeNumberIfPresent(forKey: .threads)
        tokenizer = try c.decodeIfPresent(String.self, forKey: .tokenizer)
        gradAccumSteps = try c.decodeWholeNumberIfPresent(forKey: .gradAccumSteps) ?? d.gradAccumSteps
        bucketMB = try c.decodeIfPresent(Double.self, forKey: .bucketMB) ?? d.bucketMB
        overlapCommunication = try c.decodeIfPresent(Bool.self, forKey: .overlapCommunication) ?? d.overlapCommunication
        shardOptimizer = try c.decodeIfPresent(Bool.self, forKey: .shardOptimizer) ?? d.shardOptimizer
        divergenceLoss = try c.decodeIfPresent(Double.self, forKey: .divergenceLoss)
        // Runs from before the key existed were fp32.
        precision = try c.decodeIfPresent(MatmulPrecision.self, forKey: .precision) ?? d.precision
    }

    /// Writes every key; absent optional values are written as `null` so config.json lists
    /// every setting a run has.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(steps, forKey: .steps)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encode(evalInterval, forKey: .evalInterval)
        try c.encode(evalBatches, forKey: .evalBatches)
        try c.encode(fullEval, forKey: .fullEval)
        try c.encode(checkpointInterval, forKey: .checkpointInterval)
        try c.encode(keepCheckpoints, forKey: .keepCheckpoints)
        try c.encode(logInterval, forKey: .logInterval)
        try c.encode(gradClip, forKey: .gradClip)
        try c.encode(seed, forKey: .seed)
        try c.encode(threads, forKey: .threads)
        try c.encode(tokenizer, forKey: .tokenizer)
        try c.encode(gradAccumSteps, forKey: .gradAccumSteps)
        try c.encode(bucketMB, forKey: .bucketMB)
        try c.encode(overlapCommunication, forKey: .overlapCommunication)
        try c.encode(shardOptimizer, forKey: .shardOptimizer)
        try c.encode(divergenceLoss, forKey: .divergenceLoss)
        try c.encode(precision.rawValue, forKey: .precision)
    }

    /// The configuration as pretty, key-sorted JSON with every key (config.json).
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Plain numbers, strings and booleans: encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// The configuration as compact JSON text (for checkpoint metadata).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

// MARK: - Validation

extension TrainingConfig {
    /// The largest seed: seeds travel through JSON numbers, exact up to 2^53.
    public static let maxSeed = 1 << 53

    /// Checks every setting on its own and against the others; the error names the key.
    /// Checks against the data (vocabulary, lengths) are in ``validate(train:val:)``.
    public func validate() throws(TrainingConfigError) {
        do { try model.validate() } catch { throw TrainingConfigError(error, section: "model") }
        do { try optimizer.validate() } catch let error as OptimizerConfigError {
            throw TrainingConfigError(error, section: "optimizer")
        } catch {
            throw .invalidValue(key: "optimizer", value: "", expected: "\(error)")
        }
        func require(_ ok: Bool, _ key: String, _ value: Any, _ expected: String) throws(TrainingConfigError) {
            if !ok { throw .invalidValue(key: key, value: "\(value)", expected: expected) }
        }
        try require(batchSize >= 1, "batch_size", batchSize, "a positive integer")
        switch (steps, maxTokens) {
        case (nil, nil):
            throw .invalidValue(key: "steps", value: "null", expected: "a number of steps, or a token budget in max_tokens")
        case (.some, .some):
            throw .invalidValue(key: "max_tokens", value: "\(maxTokens!)",
                                expected: "null when steps is given (give steps or max_tokens, not both)")
        case (let s?, nil):
            try require(s >= 1, "steps", s, "a positive integer")
        case (nil, let t?):
            try require(t >= 1, "max_tokens", t, "a positive integer")
        }
        try require(evalInterval >= 0, "eval_interval", evalInterval, "an integer >= 0 (0: only at the end)")
        try require(evalBatches >= 1, "eval_batches", evalBatches, "a positive integer")
        try require(checkpointInterval >= 0, "checkpoint_interval", checkpointInterval,
                    "an integer >= 0 (0: only at the end)")
        try require(keepCheckpoints >= 0, "keep_checkpoints", keepCheckpoints, "an integer >= 0 (0: keep all)")
        try require(logInterval >= 1, "log_interval", logInterval, "a positive integer")
        try require(gradClip.isFinite && gradClip >= 0, "grad_clip", gradClip, "a number >= 0 (0: no clipping)")
        try require(seed >= 0 && seed <= Self.maxSeed, "seed", seed, "an integer from 0 to 2^53")
        try require(gradAccumSteps >= 1, "grad_accum_steps", gradAccumSteps, "a positive integer (1: no accumulation)")
        try require(bucketMB.isFinite && bucketMB > 0, "bucket_mb", bucketMB, "a positive number of megabytes")
        try require(!shardOptimizer || optimizer.kind != .sgd, "shard_optimizer", shardOptimizer,
                    "false with optimizer.kind sgd (SGD keeps no state to shard; use adamw or muon)")
        if let divergenceLoss {
            try require(divergenceLoss.isFinite && divergenceLoss > 0, "divergence_loss", divergenceLoss,
                        "a positive number of nats, or null for no limit")
        }
        if let threads { try require(threads >= 1, "threads", threads, "a positive integer, or null for every core") }
        try checkPrecision(unavailableReason: precision.unavailableReason)
        try checkSizeLimits()
        _ = try makeSchedule()
    }

    /// Refuses a `precision` this machine cannot run, naming the key and the missing CPU
    /// feature (`unavailableReason` is ``MatmulPrecision/unavailableReason`` of this CPU).
    func checkPrecision(unavailableReason: String?) throws(TrainingConfigError) {
        if let reason = unavailableReason {
            throw .invalidValue(key: "precision", value: "\"\(precision.rawValue)\"",
                                expected: "a precision this machine runs: \(reason); use \"fp32\" "
                                    + "(--set precision=fp32)")
        }
    }

    /// Checks the configuration against the token files it will train and evaluate on:
    /// every id must be below `model.vocab_size`, and each split must hold at least one
    /// window of context_length + 1 tokens.
    /// - Parameters:
    ///   - train: the training tokens (opened without a vocabulary limit).
    ///   - val: the validation tokens, if any.
    public func validate(train: TokenDataset, val: TokenDataset?) throws(TrainingConfigError) {
        for (role, dataset) in [("training", train), ("validation", val)] {
            guard let dataset else { continue }
            let needed = model.contextLength + 1
            if dataset.count < needed {
                throw .invalidValue(
                    key: "model.context_length", value: "\(model.contextLength)",
                    expected: "a context the \(role) data can fill: \(dataset.url.path) holds \(dataset.count) tokens, "
                        + "and a window needs context_length + 1")
            }
            let maxID = dataset.maxTokenID()
            if maxID >= Int64(model.vocabSize) {
                throw .invalidValue(
                    key: "model.vocab_size", value: "\(model.vocabSize)",
                    expected: "more than the largest token id in the \(role) data (\(dataset.url.lastPathComponent) "
                        + "holds id \(maxID)); use the tokenizer's vocabulary size, at least \(maxID + 1) "
                        + "(--set model.vocab_size=\(maxID + 1))")
            }
        }
    }
}

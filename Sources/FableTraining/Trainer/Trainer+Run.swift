import FableTensor
import Foundation

extension Trainer {
    // MARK: - Results and events

    /// How a run ended.
    public enum Outcome: Equatable, Sendable {
        /// Every planned step is done; the final checkpoint is written.
        case finished
        /// `shouldStop` asked to stop (Ctrl-C); a checkpoint of the current step is written.
        case interrupted
        /// A loss, gradient or weight became non-finite at `step`; nothing was saved after
        /// the last good checkpoint. `message` says what happened and where that checkpoint is.
        case diverged(step: Int, message: String)
    }

    /// What ``run(in:shouldStop:onEvent:)`` did.
    public struct RunResult: Sendable {
        public var outcome: Outcome
        /// Steps completed.
        public var step: Int
        /// Training tokens consumed.
        public var tokens: Int
        /// The last training-loss line's mean loss.
        public var lastTrainLoss: Double?
        /// The last validation pass.
        public var lastEvaluation: Evaluation?
        /// The newest checkpoint on disk (nil without a run directory).
        public var lastCheckpoint: URL?
        /// The run's wall-clock seconds, all sessions included.
        public var wallSeconds: Double
        /// Where this session's time went.
        public var timing: Timing
    }

    /// Things a caller may want to show as the run goes: the CLI turns them into its progress
    /// display (FableWorkbench's `TrainingProgress`), tests record them.
    public enum Event {
        /// One optimizer step finished.
        case step(StepResult)
        /// A metrics line was written (or would have been, without a run directory).
        case record(MetricsRecord)
        /// A validation pass finished after `step` steps.
        case evaluation(step: Int, Evaluation)
        /// A checkpoint was written; `seconds` is how long writing it took.
        case checkpoint(step: Int, url: URL, seconds: Double)
    }

    // MARK: - The loop

    /// Trains until the planned number of steps, evaluating, logging and checkpointing at
    /// the configured intervals.
    ///
    /// In a data-parallel job every rank calls this with the same arguments; rank 0 alone
    /// writes config.json, metrics and checkpoints (the others only take part in the
    /// collectives and check that the weights are finite when a checkpoint is due).
    ///
    /// With a run directory, a trainer at step 0 starts a new run there (the folder must not
    /// hold one; config.json is written) and a trainer restored from a checkpoint
    /// (``restore(from:)``) continues it: lines of metrics.jsonl after the checkpoint's
    /// step are removed and a `resumed` event appended. Without a directory nothing is
    /// written (tests, benchmarks, embedding).
    ///
    /// - Parameters:
    ///   - directory: where config.json, metrics.jsonl and checkpoints go; nil for none.
    ///   - shouldStop: polled between steps; returning true saves a checkpoint and ends the
    ///     run as ``Outcome/interrupted`` (wire it to ``InterruptSignal`` for Ctrl-C).
    ///   - onEvent: called for every step, metrics line, evaluation and checkpoint; the only
    ///     way the loop reports (it prints nothing).
    /// - Returns: the outcome; divergence is an outcome, not an error.
    /// - Throws: file-system and data errors.
    public func run(
        in directory: RunDirectory?,
        shouldStop: () -> Bool = { false }, onEvent: ((Event) -> Void)? = nil
    ) throws -> RunResult {
        let sessionStart = Trainer.now()
        let total = totalSteps
        let startStep = step
        func wall() -> Double { previousWallSeconds + Trainer.now() - sessionStart }
        timing = Timing()

        // Files: a new run or the continuation of one.
        var writer: MetricsLogWriter?
        var lastCheckpoint: URL?
        var runLock: RunLock?
        defer { runLock?.release() }
        if let directory, communicator.isRoot {
            // One process per run folder: a second run would interleave files.
            runLock = try RunLock.acquire(directory)
            if startStep == 0 {
                if directory.holdsRun { throw TrainerError.runExists(path: directory.url.path) }
                try directory.checkConfigIsReplaceable(by: config)
                try directory.create()
            } else {
                try directory.create()
                lastCheckpoint = directory.latestCheckpoint()
                if FileManager.default.fileExists(atPath: directory.metricsURL.path) {
                    try MetricsLogWriter.rewind(directory.metricsURL, toStep: startStep)
                }
            }
            try directory.writeConfig(config)
            writer = try MetricsLogWriter(url: directory.metricsURL)
            if startStep > 0 {
                try writer?.append(MetricsEvent(MetricsEvent.resumed, step: startStep, fields: [
                    "message": .string("resumed from \(lastCheckpoint?.lastPathComponent ?? "a checkpoint")"),
                ]))
            }
        }

        var interval = IntervalStats()
        var lastEvaluation: Evaluation?
        var lastTrainLoss: Double?
        var lastRate = 0.0

        func result(_ outcome: Outcome) -> RunResult {
            RunResult(outcome: outcome, step: step, tokens: tokens, lastTrainLoss: lastTrainLoss,
                      lastEvaluation: lastEvaluation, lastCheckpoint: lastCheckpoint, wallSeconds: wall(), timing: timing)
        }

        /// Writes the metrics line for the steps since the last one.
        func writeRecord(evaluation: Evaluation?) throws {
            let start = Trainer.now()
            var record = MetricsRecord(step: step, tokens: tokens, wallSeconds: wall())
            if interval.steps > 0 {
                record.lr = lastRate
                record.trainLoss = interval.loss / Double(interval.steps)
                record.gradNorm = interval.gradNorm / Double(interval.steps)
                if interval.seconds > 0 { record.tokensPerSecond = Double(interval.tokens) / interval.seconds }
                if communicator.isDistributed {
                    record.extra["ranks"] = .number(.integer(Int64(communicator.size)))
                    record.extra["comm_seconds"] = .number(.double(interval.communication / Double(interval.steps)))
                }
                lastTrainLoss = record.trainLoss
            }
            if let evaluation {
                record.valLoss = evaluation.loss
                if evaluation.isFullSplit { record.extra["val_full_split"] = .bool(true) }
            }
            guard interval.steps > 0 || evaluation != nil else { return }
            try writer?.append(record)
            interval = IntervalStats()
            onEvent?(.record(record))
            timing.logging += Trainer.now() - start
        }

        // The step of the newest checkpoint, known to every rank alike (a sharded save is a
        // collective, so all ranks must decide the same way whether one is needed).
        var checkpointedStep: Int? = directory != nil && startStep > 0 ? startStep : nil

        /// Saves a checkpoint of the current step; nil when there is no directory.
        func saveCheckpoint() throws {
            guard let directory else { return }
            defer { checkpointedStep = step }
            guard communicator.isRoot else {
                // The same check rank 0 makes before writing, so every rank agrees.
                if !parametersAreFinite() {
                    throw TrainerError.diverged(step: step, reason: "the weights hold NaN or infinite values")
                }
                if shards != nil { _ = try gatheredOptimizer() }  // rank 0 gathers the state to write it
                return
            }
            let start = Trainer.now()
            let url = directory.checkpointURL(step: step)
            try self.saveCheckpoint(to: url, wallSeconds: wall())
            try directory.markLatest(url)
            directory.pruneCheckpoints(keep: config.keepCheckpoints)
            lastCheckpoint = url
            let seconds = Trainer.now() - start
            timing.checkpointing += seconds
            onEvent?(.checkpoint(step: step, url: url, seconds: seconds))
        }

        func diverged(_ failedStep: Int, _ reason: String) throws -> RunResult {
            let kept = lastCheckpoint.map { "the last good checkpoint is checkpoints/\($0.lastPathComponent) (step \(stepNumber(of: $0)))" }
                ?? "no checkpoint was saved"
            let message = "\(reason) at step \(failedStep); stopped, \(kept)"
            try writer?.append(MetricsEvent(MetricsEvent.diverged, step: failedStep, fields: ["message": .string(message)]))
            return result(.diverged(step: failedStep, message: message))
        }

        // MARK: The steps
        var recentLosses: [Double] = []
        while step < total {
            if try agreedStop(shouldStop()) {
                try writeRecord(evaluation: nil)
                do {
                    if checkpointedStep != step { try saveCheckpoint() }
                } catch TrainerError.diverged(let s, let reason) {
                    return try diverged(s, reason)
                }
                try writer?.append(MetricsEvent(MetricsEvent.interrupted, step: step, fields: [
                    "message": .string("stopped by the user after step \(step)"),
                ]))
                return result(.interrupted)
            }

            let stepResult: StepResult
            do {
                stepResult = try trainStep()
            } catch TrainerError.diverged(let s, let reason) {
                try writeRecord(evaluation: nil)
                return try diverged(s, reason)
            }
            timing.training += stepResult.seconds
            interval.add(stepResult)
            lastRate = stepResult.learningRate
            onEvent?(.step(stepResult))
            if let limit = config.divergenceLoss {
                recentLosses.append(stepResult.loss)
                if recentLosses.count > TrainingConfig.divergenceWindow { recentLosses.removeFirst() }
                let mean = recentLosses.reduce(0, +) / Double(recentLosses.count)
                if recentLosses.count == TrainingConfig.divergenceWindow && mean > limit {
                    try writeRecord(evaluation: nil)
                    return try diverged(step, "the training loss averaged over the last \(recentLosses.count) steps is "
                        + String(format: "%.4f", mean) + ", above divergence_loss \(limit)")
                }
            }

            let isLast = step == total
            let evalDue = valData != nil && (isLast || (config.evalInterval > 0 && step % config.evalInterval == 0))
            let checkpointDue = directory != nil
                && (isLast || (config.checkpointInterval > 0 && step % config.checkpointInterval == 0))

            var evaluation: Evaluation?
            if evalDue {
                let start = Trainer.now()
                evaluation = try evaluate(fullSplit: isLast && config.fullEval)
                timing.evaluation += Trainer.now() - start
                if let e = evaluation {
                    lastEvaluation = e
                    onEvent?(.evaluation(step: step, e))
                    if !e.loss.isFinite {
                        try writeRecord(evaluation: e)
                        return try diverged(step, "the validation loss is \(Trainer.describe(e.loss))")
                    }
                }
            }
            if isLast || evalDue || checkpointDue || step % config.logInterval == 0 {
                try writeRecord(evaluation: evaluation)
            }
            if checkpointDue {
                do { try saveCheckpoint() } catch TrainerError.diverged(let s, let reason) {
                    return try diverged(s, reason)
                }
            }
        }

        try writer?.append(MetricsEvent(MetricsEvent.finished, step: step))
        return result(.finished)
    }

    /// The step in a checkpoint's file name (`step_000100.safetensors` gives 100).
    func stepNumber(of url: URL) -> Int {
        let name = url.lastPathComponent
        guard name.hasPrefix("step_"), name.hasSuffix(".safetensors") else { return -1 }
        return Int(name.dropFirst(5).dropLast(12)) ?? -1
    }
}

/// Sums over the steps since the last metrics line.
struct IntervalStats {
    var steps = 0
    var loss = 0.0
    var gradNorm = 0.0
    var tokens = 0
    var seconds = 0.0
    var communication = 0.0

    mutating func add(_ result: Trainer.StepResult) {
        communication += result.communicationSeconds
        steps += 1
        loss += result.loss
        gradNorm += result.gradNorm
        tokens += result.tokens
        seconds += result.seconds
    }
}

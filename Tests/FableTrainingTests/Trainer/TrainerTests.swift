import FableFormats
import FableModel
import FableTensor
import Foundation
import Testing
@testable import FableTraining

// MARK: - Fixtures

/// A tiny model (vocab 16, context 8, d_model 16, one layer) that trains in milliseconds.
private let tinyJSON = #"""
{"model": {"vocab_size": 16, "context_length": 8, "d_model": 16, "num_layers": 1, "num_heads": 2, "d_ff": 32},
 "batch_size": 4, "steps": 12, "eval_interval": 4, "eval_batches": 2, "checkpoint_interval": 4,
 "keep_checkpoints": 0, "log_interval": 2, "optimizer": {"lr": 0.01}, "schedule": {"warmup_steps": 2},
 "threads": 1}
"""#

func tinyConfig(_ overrides: String...) throws -> TrainingConfig {
    try TrainingConfig.resolve(JSONValue.parse(tinyJSON), source: "tiny", overrides: overrides.map { try ConfigOverride(parsing: $0) })
}

/// Tokens that mostly follow t[i+1] = (3 t[i] + 1) mod 16, with 10% random ones: learnable
/// down to well below the uniform loss ln 16 ≈ 2.77.
func patternDataset(_ name: String, count: Int = 3000, seed: UInt64 = 5) throws -> TokenDataset {
    var rng = RandomGenerator(seed: seed)
    var tokens: [UInt16] = [0]
    while tokens.count < count {
        let next = rng.nextInt(below: 10) == 0 ? UInt16(rng.nextInt(below: 16)) : (tokens.last! * 3 + 1) % 16
        tokens.append(next)
    }
    return try TokenDataset(url: writeNpy(tokens, name))
}

func freshDirectory(_ name: String) -> RunDirectory {
    let url = temporaryFile("runs-\(name)-\(UInt32.random(in: 0...UInt32.max))")
    return RunDirectory(url)
}

/// Runs `trainer` and returns the loss of every step.
private func losses(_ trainer: Trainer, in directory: RunDirectory?, stopAfter stop: Int? = nil) throws -> (losses: [Double], result: Trainer.RunResult) {
    var losses: [Double] = []
    let result = try trainer.run(in: directory, shouldStop: { stop.map { trainer.step >= $0 } ?? false }) { event in
        if case .step(let s) = event { losses.append(s.loss) }
    }
    return (losses, result)
}

private func parameters(_ trainer: Trainer) -> [Float] { Array(trainer.model.parameters.values) }

// MARK: - Tests

@Suite("Trainer", .serialized)
struct TrainerTests {
    @Test("the loss decreases on a learnable sequence, training and validation")
    func lossDecreases() throws {
        let config = try tinyConfig("steps=60", "eval_interval=0", "optimizer.lr=0.02", "schedule.warmup_steps=5")
        let trainer = try Trainer(config: config, train: patternDataset("learn-train.npy"), val: patternDataset("learn-val.npy", count: 400, seed: 6))
        let before = try #require(try trainer.evaluate())
        #expect(abs(before.loss - log(16)) < 0.5)
        let (steps, result) = try losses(trainer, in: nil)
        #expect(steps.count == 60 && result.outcome == .finished)
        let first = steps.prefix(5).reduce(0, +) / 5, last = steps.suffix(10).reduce(0, +) / 10
        #expect(last < first - 0.8, "first \(first), last \(last)")
        let after = try #require(result.lastEvaluation)
        #expect(after.loss < before.loss - 0.8)
        // Evaluation is deterministic.
        let again = try GEMM.withBackend(GEMM.defaultSelection.backend) { try (trainer.evaluate()!, trainer.evaluate()!) }
        #expect(again.0 == again.1)
    }

    @Test("overfitting a single batch drives the loss near zero")
    func overfitSingleBatch() throws {
        // Nine tokens hold exactly one window of 8, so every batch is that window.
        let tokens: [UInt16] = [3, 14, 1, 5, 9, 2, 6, 5, 3]
        let data = try TokenDataset(url: writeNpy(tokens, "one-batch.npy"))
        let config = try tinyConfig("steps=150", "schedule.kind=constant", "optimizer.lr=0.02",
                                    "optimizer.weight_decay=0", "eval_interval=0")
        let trainer = try Trainer(config: config, train: data, val: data)
        let (steps, _) = try losses(trainer, in: nil)
        #expect(steps[0] > 2)
        #expect(steps.last! < 0.05, "final loss \(steps.last!)")
    }

    @Test("--resume is bit-identical to an uninterrupted run")
    func resumeIsExact() throws {
        // Hold one GEMM backend: other suites swap the process-wide one, and backends
        // agree only to rounding.
        try GEMM.withBackend(GEMM.defaultSelection.backend) { try resumeRun() }
    }

    private func resumeRun() throws {
        let config = try tinyConfig()
        let train = try patternDataset("resume-train.npy"), val = try patternDataset("resume-val.npy", count: 200, seed: 9)

        let whole = try Trainer(config: config, train: train, val: val)
        let wholeDir = freshDirectory("whole")
        let (wholeLosses, wholeResult) = try losses(whole, in: wholeDir)
        #expect(wholeLosses.count == 12 && wholeResult.outcome == .finished)

        // Stop after step 6 (between checkpoints), then continue in a new trainer.
        let splitDir = freshDirectory("split")
        let first = try Trainer(config: config, train: train, val: val)
        let (firstLosses, firstResult) = try losses(first, in: splitDir, stopAfter: 6)
        #expect(firstResult.outcome == .interrupted && firstResult.step == 6)
        #expect(splitDir.latestCheckpoint()?.lastPathComponent == "step_000006.safetensors")

        let second = try Trainer(config: config, train: train, val: val)
        try second.restore(from: #require(splitDir.latestCheckpoint()))
        #expect(second.step == 6 && second.tokens == 6 * 4 * 8)
        let (secondLosses, secondResult) = try losses(second, in: splitDir)
        #expect(secondResult.outcome == .finished)
        #expect(firstLosses + secondLosses == wholeLosses)  // exact Double equality
        #expect(parameters(second) == parameters(whole))
        #expect(secondResult.lastEvaluation == wholeResult.lastEvaluation)

        // The resumed log keeps the first session's lines, marks the resume and ends finished.
        let log = try MetricsLog.read(splitDir.metricsURL)
        #expect(log.events.map(\.name) == [MetricsEvent.interrupted, MetricsEvent.resumed, MetricsEvent.finished])
        let wholeLog = try MetricsLog.read(wholeDir.metricsURL)
        #expect(log.records.last?.valLoss == wholeLog.records.last?.valLoss)
        #expect(log.records.last?.tokens == wholeLog.records.last?.tokens)
    }

    @Test("a non-finite loss stops the run and keeps the last good checkpoint")
    func divergenceKeepsLastGoodCheckpoint() throws {
        // SGD at 1e25 blows the weights up within a few steps.
        let config = try tinyConfig("optimizer.kind=sgd", "optimizer.lr=1e25", "schedule.kind=constant",
                                    "grad_clip=0", "checkpoint_interval=1", "steps=20", "eval_interval=0")
        let trainer = try Trainer(config: config, train: patternDataset("diverge.npy"), val: nil)
        let directory = freshDirectory("diverge")
        let (_, result) = try losses(trainer, in: directory)
        guard case .diverged(let failedStep, let message) = result.outcome else {
            Issue.record("the run did not diverge: \(result.outcome)"); return
        }
        #expect(message.contains("step \(failedStep)"))
        let checkpoints = directory.stepCheckpoints()
        #expect(checkpoints.allSatisfy { $0.step < failedStep })
        let kept = try #require(directory.latestCheckpoint())
        #expect(message.contains(kept.lastPathComponent))
        let model = try ModelFile.load(from: kept).model
        #expect(Array(model.parameters.values).allSatisfy { $0.isFinite })
        let log = try MetricsLog.read(directory.metricsURL)
        #expect(log.events.last?.name == MetricsEvent.diverged && log.events.last?.step == failedStep)
    }

    @Test("divergence_loss stops a run whose loss has blown up but stays finite; a healthy run finishes")
    func divergenceLossStopsEarly() throws {
        // AdamW at lr 1 on this tiny model: the loss climbs far above the uniform ln 16 ≈ 2.77
        // and stays finite, so only the limit stops it.
        let limit = 2 * log(16.0)
        let blownUp = try tinyConfig("optimizer.lr=1", "schedule.kind=constant", "steps=200", "eval_interval=0",
                                     "checkpoint_interval=5", "divergence_loss=\(limit)")
        let trainer = try Trainer(config: blownUp, train: patternDataset("blowup.npy"), val: nil)
        let directory = freshDirectory("blowup")
        let (steps, result) = try losses(trainer, in: directory)
        guard case .diverged(let failedStep, let message) = result.outcome else {
            Issue.record("the run did not stop: \(result.outcome)"); return
        }
        #expect(failedStep < 200 && failedStep >= TrainingConfig.divergenceWindow)
        #expect(steps.allSatisfy { $0.isFinite }, "stopped by the limit, not by a non-finite loss")
        let window = steps.suffix(TrainingConfig.divergenceWindow)
        #expect(window.reduce(0, +) / Double(window.count) > limit)
        #expect(message.contains("divergence_loss"))
        #expect(directory.stepCheckpoints().allSatisfy { $0.step < failedStep })
        let log = try MetricsLog.read(directory.metricsURL)
        #expect(log.events.last?.name == MetricsEvent.diverged && log.events.last?.step == failedStep)

        let healthy = try tinyConfig("steps=60", "eval_interval=0", "optimizer.lr=0.02", "divergence_loss=\(limit)")
        let (_, finished) = try losses(try Trainer(config: healthy, train: patternDataset("healthy.npy"), val: nil), in: nil)
        guard case .finished = finished.outcome else { Issue.record("a healthy run stopped: \(finished.outcome)"); return }
    }

    @Test("divergence_loss must be a positive number")
    func divergenceLossValidation() throws {
        for bad in ["0", "-1"] {
            #expect(throws: TrainingConfigError.self) { try tinyConfig("divergence_loss=\(bad)").validate() }
        }
        #expect(try tinyConfig("divergence_loss=null").divergenceLoss == nil)
    }

    @Test("weights with NaN are never written as a checkpoint")
    func nanWeightsNotSaved() throws {
        let trainer = try Trainer(config: tinyConfig(), train: patternDataset("nan.npy"), val: nil)
        try trainer.trainStep()
        let url = temporaryFile("nan-checkpoint.safetensors")
        try trainer.saveCheckpoint(to: url, wallSeconds: 1)
        let good = try Data(contentsOf: url)
        trainer.model.parameters.values[7] = .nan
        #expect(!trainer.parametersAreFinite())
        #expect(throws: TrainerError.self) { try trainer.saveCheckpoint(to: url, wallSeconds: 2) }
        #expect(try Data(contentsOf: url) == good)
    }

    @Test("the final checkpoint exists, reloads the weights, and old checkpoints are pruned")
    func finalCheckpoint() throws {
        let config = try tinyConfig("keep_checkpoints=2")
        let trainer = try Trainer(config: config, train: patternDataset("final.npy"), val: nil)
        let directory = freshDirectory("final")
        let (_, result) = try losses(trainer, in: directory)
        #expect(result.outcome == .finished)
        #expect(result.lastCheckpoint == directory.checkpointURL(step: 12))
        #expect(directory.latestCheckpoint() == directory.checkpointURL(step: 12))
        #expect(directory.stepCheckpoints().map(\.step) == [8, 12])
        let model = try ModelFile.load(from: directory.checkpointURL(step: 12)).model
        #expect(Array(model.parameters.values) == parameters(trainer))
        // config.json holds the resolved config; a second run into the folder is refused.
        #expect(try TrainingConfig.load(from: directory.configURL) == config)
        let again = try Trainer(config: config, train: trainer.trainData, val: nil)
        #expect(throws: TrainerError.self) { try again.run(in: directory) }
        // The metrics lines carry what the report needs.
        let records = try MetricsLog.read(directory.metricsURL).records
        #expect(records.map(\.step) == [2, 4, 6, 8, 10, 12])
        #expect(records.allSatisfy { $0.trainLoss != nil && $0.lr != nil && $0.gradNorm != nil && $0.tokensPerSecond != nil })
        #expect(records.last?.tokens == 12 * 32)
    }

    @Test("max_tokens sets the number of steps; full_eval evaluates the whole split at the end")
    func tokenBudgetAndFullEval() throws {
        let config = try tinyConfig("max_tokens=100", "full_eval=true", "eval_interval=0")
        #expect(config.totalSteps == 4)  // ceil(100 / 32)
        let val = try patternDataset("full-val.npy", count: 300, seed: 3)
        let trainer = try Trainer(config: config, train: patternDataset("budget.npy"), val: val)
        let (steps, result) = try losses(trainer, in: nil)
        #expect(steps.count == 4)
        let e = try #require(result.lastEvaluation)
        #expect(e.isFullSplit && e.tokens == (300 - 1) / 8 * 8)
    }

    @Test("Ctrl-C (SIGINT) sets the interrupt flag instead of ending the process")
    func interruptSignal() throws {
        let signal = InterruptSignal(secondSignalTerminates: false)
        defer { signal.cancel() }
        #expect(!signal.isRaised)
        kill(getpid(), SIGINT)
        for _ in 0..<2_000 where !signal.isRaised { usleep(5_000) }  // up to 10 s on a loaded machine
        #expect(signal.isRaised)
    }

    @Test("SIGTERM and SIGHUP stop a run like Ctrl-C (timeout, docker stop, Slurm, a closed terminal)",
          arguments: [SIGTERM, SIGHUP])
    func stopSignals(_ number: Int32) throws {
        let seen = SeenSignal()
        let signal = InterruptSignal(secondSignalTerminates: false) { seen.set($0) }
        defer { signal.cancel() }
        kill(getpid(), number)
        for _ in 0..<2_000 where !signal.isRaised || seen.value == 0 { usleep(5_000) }
        #expect(signal.isRaised)
        #expect(seen.value == number)
        #expect(InterruptSignal.name(of: number) == (number == SIGTERM ? "SIGTERM" : "SIGHUP"))
    }
}

/// The signal number an `onFirst` callback received.
private final class SeenSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var number: Int32 = 0
    func set(_ value: Int32) { lock.lock(); number = value; lock.unlock() }
    var value: Int32 { lock.lock(); defer { lock.unlock() }; return number }
}

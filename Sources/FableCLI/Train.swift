import ArgumentParser
import FableDistributed
import FableFormats
import FableTensor
import FableTraining
import FableWorkbench
import Foundation

extension TokenDataset.Element: ExpressibleByArgument {}

/// `fable train`: trains a Transformer LM on token files, with metrics and checkpoints.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a Transformer language model on token files (.npy or .bin).",
        discussion: """
            Start from a preset (\(TrainingConfig.presets.map(\.name).joined(separator: ", "))) or a JSON \
            config, and change any setting with --set (dotted keys, checked before training starts):

              fable train --preset cpu-small --set optimizer.lr=1e-3 \\
                  --set model.vocab_size=2048 \\
                  --train train.npy --val val.npy --out runs/small

            `--dry-run` prints the resolved config: every key --set accepts.

            Under `mpirun -np N` or `srun`, N processes train one model (data parallel, MPI \
            loaded at run time; FABLE_MPI names the library): the global batch is \
            batch_size x grad_accum_steps x N and rank 0 writes the run's files.

            RUN_DIR receives config.json (every setting), metrics.jsonl (one line per log \
            interval) and checkpoints/ (step_NNNNNN.safetensors and latest.safetensors). \
            Ctrl-C, SIGTERM or SIGHUP saves a checkpoint and stops; `fable train --resume RUN_DIR` continues \
            exactly where it stopped. A loss that becomes NaN or infinite stops the run and \
            keeps the last good checkpoint. Compare runs with `fable report RUN_DIR ...`.

            Presets:
            \(TrainingConfig.presets.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))
            """
    )

    @Option(help: ArgumentHelp("A training preset: \(TrainingConfig.presets.map(\.name).joined(separator: ", ")).",
                               valueName: "name"))
    var preset: String?

    @Option(help: ArgumentHelp("A training config JSON file (its `model` may name a model preset).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Change one setting, e.g. optimizer.lr=3e-4, batch_size=16, model.num_layers=2; repeat for several.",
        valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Training tokens (.npy, or raw .bin with --dtype). (default: the run's own, with --resume)",
                               valueName: "file"))
    var train: String?

    @Option(help: ArgumentHelp("Validation tokens (.npy or .bin). (default: the run's own, with --resume; none otherwise)",
                               valueName: "file"))
    var val: String?

    @Option(help: ArgumentHelp("Element type of raw .bin token files.", valueName: "type"))
    var dtype: TokenDataset.Element?

    @Option(help: ArgumentHelp("The run directory to create (must not hold a run already).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Continue the run in this directory from its latest checkpoint.", valueName: "dir"))
    var resume: String?

    @Option(help: ArgumentHelp("Kernel threads (overrides the config's `threads`). (default: FABLE_THREADS or every core)",
                               valueName: "n"))
    var threads: Int?

    @Option(name: .customLong("init-from"), help: ArgumentHelp(
        "Start from the weights of this checkpoint or weights file (fresh optimizer and schedule); the model shape comes from the file.",
        valueName: "file"))
    var initFrom: String?

    @Flag(help: "Check the config (and the data, when given), print the resolved config and stop.")
    var dryRun = false

    @Flag(help: "No progress line; only the plan and the summary.")
    var quiet = false

    func validate() throws {
        if preset != nil && config != nil { throw ValidationError("give either --preset or --config, not both") }
        if let resume {
            if preset != nil || config != nil {
                throw ValidationError("--resume continues a run with its own config.json; drop --preset/--config")
            }
            if let out, URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: resume).standardizedFileURL {
                throw ValidationError("--resume writes into its own directory; drop --out (or give the same folder)")
            }
        } else {
            if preset == nil && config == nil { throw ValidationError("give --preset NAME or --config FILE (or --resume RUN_DIR)") }
            if out == nil && !dryRun { throw ValidationError("give --out RUN_DIR, the folder for the run's files") }
            if train == nil && !dryRun { throw ValidationError("give --train FILE, the training tokens") }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if initFrom != nil && resume != nil { throw ValidationError("--resume continues its own weights; drop --init-from") }
    }

    func run() throws {
        let communicator: Communicator
        do { communicator = try Communicator.connect() } catch { throw CommandFailure("\(error)") }
        guard communicator.isDistributed else {
            try train(communicator)
            return
        }
        // A rank that fails ends the whole job (MPI_Abort) with its message, so no rank
        // waits forever in a collective; outcomes every rank agrees on end normally.
        do {
            try train(communicator)
        } catch let code as ExitCode {
            communicator.finalize()
            throw code
        } catch {
            communicator.abort(code: 1, message: "error: \(error)")
        }
        communicator.finalize()
    }

    private func train(_ communicator: Communicator) throws {
        var sets = try overrides.map { try ConfigOverride(parsing: $0) }
        if let threads { sets.append(ConfigOverride(key: "threads", value: String(threads))) }

        if let resume {
            try resumeRun(RunDirectory(URL(fileURLWithPath: resume)), sets: sets, communicator: communicator)
            return
        }
        var resolved: TrainingConfig
        if let path = config {
            resolved = try TrainingConfig.load(from: URL(fileURLWithPath: path), overrides: sets)
        } else {
            resolved = try TrainingConfig.preset(named: preset!, overrides: sets)
        }
        if let initFrom { resolved = try Self.adopting(initFrom, into: resolved, sets: sets) }
        try TrainingRunner.applyThreads(resolved)
        if dryRun {
            try dryRunCheck(resolved)
            return
        }
        let trainData = try TrainingRunner.openDataset(train!, dtype: dtype)
        let valData = try val.map { try TrainingRunner.openDataset($0, dtype: dtype) }
        let directory = RunDirectory(URL(fileURLWithPath: out!))
        if communicator.isRoot && directory.holdsRun { throw TrainerError.runExists(path: directory.url.path) }
        let trainer = try Trainer(config: resolved, train: trainData, val: valData, communicator: communicator)
        if let initFrom {
            // Every rank reads the same file, so replicas start equal.
            try trainer.initializeWeights(from: URL(fileURLWithPath: initFrom))
            if communicator.isRoot { printNow(["init      weights from \(initFrom) (fresh optimizer state and schedule)"]) }
        }
        if communicator.isRoot {
            printNow(TrainingRunner.plan(resolved, train: trainData, val: valData, out: directory, communicator: communicator))
            if let line = TrainingRunner.shardingLine(trainer) { printNow([line]) }
        }
        try finish(TrainingRunner.run(trainer, in: directory, quiet: quiet), directory: directory, communicator: communicator)
    }

    /// `config` with the model (and, when the config names none, the tokenizer) of the
    /// file given to --init-from.
    static func adopting(_ path: String, into config: TrainingConfig, sets: [ConfigOverride]) throws -> TrainingConfig {
        if let set = sets.first(where: { $0.key == "model" || $0.key.hasPrefix("model.") }) {
            throw CommandFailure("--set \(set.key): with --init-from the model's shape comes from the file; drop it")
        }
        let initial = try Trainer.initialWeights(at: URL(fileURLWithPath: path))
        guard let model = initial.config else {
            throw CommandFailure("--init-from \(path): the file records no model config (a PyTorch state dict?); "
                + "save it with `fable import` or as a Fable weights file")
        }
        var adopted = config
        adopted.model = model
        if adopted.tokenizer == nil { adopted.tokenizer = initial.tokenizer }
        try adopted.validate()
        return adopted
    }

    /// Settings a resumed run may change: they do not alter the steps already taken.
    static let resumableKeys: Set<String> = [
        "steps", "max_tokens", "eval_interval", "eval_batches", "full_eval", "checkpoint_interval",
        "keep_checkpoints", "log_interval", "threads", "tokenizer",
        // A different rank count changes the global batch; grad_accum_steps can restore it.
        "grad_accum_steps", "bucket_mb", "overlap_communication", "shard_optimizer",
        // The products' precision changes the steps to come only.
        "precision",
    ]

    private func resumeRun(_ directory: RunDirectory, sets: [ConfigOverride], communicator: Communicator) throws {
        for set in sets where !Self.resumableKeys.contains(set.key) {
            throw CommandFailure("--set \(set.key) cannot change when resuming (it would change the steps already "
                + "taken); resumable settings: \(Self.resumableKeys.sorted().joined(separator: ", "))")
        }
        guard FileManager.default.fileExists(atPath: directory.configURL.path) else {
            throw TrainerError.nothingToResume(path: directory.url.path, reason: "it has no config.json (not a run directory?)")
        }
        // Held until the process ends: nobody else may train here meanwhile.
        let lock = try RunLock.acquire(directory)
        defer { lock.release() }
        let resolved = try TrainingConfig.load(from: directory.configURL, overrides: sets)
        if directory.resumeCandidates().isEmpty {
            // A run that stopped before its first checkpoint: start it again from step 0
            // (its metrics lines, if any, describe steps no checkpoint kept).
            guard let train else {
                throw TrainerError.nothingToResume(path: directory.url.path,
                    reason: "it has no checkpoint yet; give --train FILE to start it again from step 0")
            }
            try TrainingRunner.applyThreads(resolved)
            if dryRun {
                print(String(decoding: resolved.jsonData(), as: UTF8.self))
                return
            }
            let trainData = try TrainingRunner.openDataset(train, dtype: dtype)
            let valData = try val.map { try TrainingRunner.openDataset($0, dtype: dtype) }
            let trainer = try Trainer(config: resolved, train: trainData, val: valData, communicator: communicator)
            if communicator.isRoot {
                if FileManager.default.fileExists(atPath: directory.metricsURL.path) {
                    do { try AtomicFile.write([UInt8](), to: directory.metricsURL) } catch {
                        throw TrainerError.fileSystem(path: directory.metricsURL.path, reason: "\(error)")
                    }
                }
                printNow(TrainingRunner.plan(resolved, train: trainData, val: valData, out: directory, communicator: communicator))
            }
            try finish(TrainingRunner.run(trainer, in: directory, quiet: quiet), directory: directory, communicator: communicator)
            return
        }
        try TrainingRunner.applyThreads(resolved)
        let (checkpoint, state, skipped) = try directory.loadNewestCheckpoint { url in
            try Checkpoint.runState(of: SafeTensorsFile(contentsOf: url))
        }
        for bad in skipped {
            let aside = bad.movedTo.map { " (moved to \($0.lastPathComponent))" } ?? ""
            printWarning("\(bad.url.lastPathComponent) does not load\(aside): \(bad.reason)")
        }
        if !skipped.isEmpty { printWarning("resuming from the newest checkpoint that loads: \(checkpoint.lastPathComponent)") }
        let trainPath = train ?? state.extra[Trainer.MetadataKey.trainData]
        let valPath = val ?? state.extra[Trainer.MetadataKey.valData]
        guard let trainPath else {
            throw TrainerError.nothingToResume(path: checkpoint.path, reason: "the checkpoint does not name its training data; give --train")
        }
        if dryRun {
            print(String(decoding: resolved.jsonData(), as: UTF8.self))
            return
        }
        let trainData = try TrainingRunner.openDataset(trainPath, dtype: dtype)
        let valData = try valPath.map { try TrainingRunner.openDataset($0, dtype: dtype) }
        let trainer = try Trainer(config: resolved, train: trainData, val: valData, communicator: communicator)
        let restored = try trainer.restore(from: checkpoint)
        if communicator.isRoot, let saved = Trainer.threadCount(of: restored), saved != Parallel.threadCount {
            print("note: the checkpoint was written with \(saved) threads and this session uses \(Parallel.threadCount); "
                + "results will not be bit-identical to an uninterrupted run (use --threads \(saved))")
        }
        if communicator.isRoot {
            printNow(TrainingRunner.plan(resolved, train: trainData, val: valData, out: directory, resumedAt: trainer.step,
                                         communicator: communicator))
            if let line = TrainingRunner.shardingLine(trainer) { printNow([line]) }
            if let saved = Trainer.rankCount(of: restored), saved != communicator.size {
                print("note: the checkpoint was written by \(saved) rank\(saved == 1 ? "" : "s") and this job has \(communicator.size); "
                    + "the global batch is now \(trainer.config.batchSize * trainer.config.gradAccumSteps * communicator.size) "
                    + "sequences (keep it with --set grad_accum_steps=N)")
            }
        }
        if trainer.isFinished {
            if communicator.isRoot { print("the run already finished all \(trainer.totalSteps) steps; extend it with --set steps=N") }
            return
        }
        try finish(TrainingRunner.run(trainer, in: directory, quiet: quiet), directory: directory, communicator: communicator)
    }

    private func dryRunCheck(_ resolved: TrainingConfig) throws {
        if let train {
            let trainData = try TrainingRunner.openDataset(train, dtype: dtype)
            let valData = try val.map { try TrainingRunner.openDataset($0, dtype: dtype) }
            try resolved.validate(train: trainData, val: valData)
            printNow(TrainingRunner.plan(resolved, train: trainData, val: valData, out: nil))
        }
        print(String(decoding: resolved.jsonData(), as: UTF8.self))
    }

    private func finish(_ result: Trainer.RunResult, directory: RunDirectory, communicator: Communicator) throws {
        if communicator.isRoot { printNow(TrainingRunner.summary(result, directory: directory)) }
        switch result.outcome {
        case .finished: return
        case .interrupted: throw ExitCode(130)
        case .diverged: throw ExitCode(2)
        }
    }
}

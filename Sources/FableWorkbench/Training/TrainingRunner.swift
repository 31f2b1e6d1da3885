import FableDistributed
import FableModel
import FableTensor
import FableTraining
import Foundation

/// What `fable train` and `fable sweep` share: opening the token files, printing the plan,
/// running a trainer with a progress line and Ctrl-C handling, and the closing summary.
package enum TrainingRunner {
    /// Opens a token file (fully validated: ids must fit Int32; the vocabulary is checked
    /// by the config against the file's largest id).
    package static func openDataset(_ path: String, dtype: TokenDataset.Element?) throws -> TokenDataset {
        try requirePath(path, option: "token file")
        return try TokenDataset(url: URL(fileURLWithPath: path), element: dtype)
    }

    /// Applies the config's thread count to the kernels, after checking FABLE_THREADS and
    /// that the system lets that many threads start.
    package static func applyThreads(_ config: TrainingConfig) throws {
        let count = try config.threads ?? Parallel.environmentThreadCount() ?? Parallel.defaultThreadCount()
        try Parallel.ensureThreadsCanStart(count)
        Parallel.threadCount = count
    }

    /// The lines printed before training starts.
    package static func plan(_ config: TrainingConfig, train: TokenDataset, val: TokenDataset?, out: RunDirectory?,
                             resumedAt step: Int = 0, communicator: Communicator = .single) -> [String] {
        let m = config.model
        let parameters = TransformerLM.parameterLayout(for: m).reduce(0) { $0 + $1.shape.reduce(1, *) }
        var lines: [String] = []
        lines.append("model:  \(HumanFormat.count(Double(parameters))) parameters (vocab \(m.vocabSize), context \(m.contextLength), "
            + "d_model \(m.dModel), \(m.numLayers) layer\(m.numLayers == 1 ? "" : "s"), \(m.numHeads) heads, d_ff \(m.dFF))")
        var data = "data:   train \(HumanFormat.count(Double(train.count))) tokens (\(train.url.lastPathComponent))"
        if let val { data += ", val \(HumanFormat.count(Double(val.count))) tokens (\(val.url.lastPathComponent))" }
        lines.append(data)
        let o = config.optimizer
        let schedule: String
        switch config.schedule.kind {
        case .constant: schedule = "constant"
        case .cosine:
            let minimum = config.schedule.minLR ?? o.lr * config.schedule.minLRRatio
            schedule = "warmup \(config.schedule.warmupSteps), cosine to \(HumanFormat.compact(minimum))"
        }
        let optimizerName = o.kind == .muon ? "Muon (lr \(HumanFormat.compact(o.muonLR))) + AdamW" : o.kind.rawValue
        let ranks = communicator.size
        let steps = config.totalSteps(ranks: ranks)
        var batch = "\(config.batchSize)"
        if config.gradAccumSteps > 1 { batch += " x \(config.gradAccumSteps) accumulated" }
        if ranks > 1 { batch += " x \(ranks) ranks" }
        lines.append("run:    \(steps) steps x \(batch) x \(m.contextLength) = "
            + "\(HumanFormat.count(Double(steps * config.tokensPerStep(ranks: ranks)))) tokens; "
            + "\(optimizerName) lr \(HumanFormat.compact(o.lr)), \(schedule); \(Parallel.threadCount) threads"
            + (ranks > 1 ? " per rank" : ""))
        if config.precision == .bf16, BF16GEMM.isSupported {
            lines.append("precision: bf16 matrix products (\(BF16GEMM().name), fp32 accumulation); "
                + "weights, optimizer and loss fp32")
        }
        if ranks > 1 {
            lines.append("ranks:  \(communicator.summary); gradients summed in \(HumanFormat.compact(config.bucketMB)) MB buckets"
                + (config.overlapCommunication && !config.shardOptimizer ? " during backward" : " after backward"))
        }
        if let out {
            let what = step > 0 ? "resuming at step \(step)" : "config.json, metrics.jsonl, checkpoints/"
            lines.append("out:    \(out.url.path) (\(what))")
        }
        return lines
    }

    /// The line on sharded optimizer state, or nil when it is not sharded.
    package static func shardingLine(_ trainer: Trainer) -> String? {
        guard trainer.shards != nil else { return nil }
        let (perRank, unsharded) = trainer.optimizerStateBytes
        func mb(_ bytes: Int) -> String { HumanFormat.significant(Double(bytes) / 1_048_576, digits: 3) + " MiB" }
        return "shard:  optimizer state \(mb(perRank)) on this rank instead of \(mb(unsharded)) "
            + "(saves \(mb(unsharded - perRank)) per rank; ZeRO-1 over \(trainer.communicator.size) ranks)"
    }

    /// Runs `trainer` into `directory` with a progress line and Ctrl-C handling (in a
    /// data-parallel job, rank 0 alone shows progress).
    /// - Parameter label: the progress line's name.
    package static func run(_ trainer: Trainer, in directory: RunDirectory, label: String = "train",
                    quiet: Bool) throws -> Trainer.RunResult {
        let root = trainer.communicator.isRoot
        let progress = TrainingProgress(
            display: ProgressDisplay(total: trainer.totalSteps, label: label, unit: .items("steps"),
                                     style: quiet || !root ? .silent : .automatic),
            totalSteps: trainer.totalSteps, ranks: trainer.communicator.size)
        defer { progress.finish() }
        // SIGINT, SIGTERM and SIGHUP all stop after this step with a checkpoint (timeout,
        // Slurm, docker stop, systemd); mpirun turns Ctrl-C into SIGTERM for every rank (and
        // SIGKILL 1 s later unless `--mca odls_base_sigkill_timeout` is raised).
        let interrupt = InterruptSignal { signal in
            guard root else { return }
            ProgressDisplay.writeStandardError("\n\(InterruptSignal.name(of: signal)): stopping after this step and saving a checkpoint "
                + "(press Ctrl-C again to quit without saving)\n")
        }
        defer { interrupt.cancel() }
        return try trainer.run(in: directory, shouldStop: { interrupt.isRaised }, onEvent: progress.handle)
    }

    /// The lines printed after a run.
    package static func summary(_ result: Trainer.RunResult, directory: RunDirectory) -> [String] {
        var lines: [String] = []
        let rate = result.timing.training > 0 ? Double(result.tokens) / result.wallSeconds : 0
        switch result.outcome {
        case .finished:
            lines.append("finished \(result.step) steps (\(HumanFormat.count(Double(result.tokens))) tokens) in "
                + "\(HumanFormat.duration(result.wallSeconds)), \(HumanFormat.count(rate)) tokens/s")
        case .interrupted:
            lines.append("interrupted after step \(result.step); continue with: fable train --resume \(directory.url.path)")
        case .diverged(_, let message):
            lines.append("diverged: \(message)")
        }
        if let loss = result.lastTrainLoss {
            lines.append("train loss \(HumanFormat.fixed(loss, decimals: 4))")
        }
        if let e = result.lastEvaluation {
            let scope = e.isFullSplit ? "full validation split" : "\(e.batches) validation batches"
            lines.append("val loss \(HumanFormat.fixed(e.loss, decimals: 4)) (perplexity "
                + "\(HumanFormat.significant(e.perplexity, digits: 4)), \(scope))")
        }
        let t = result.timing
        let total = t.training + t.evaluation + t.checkpointing + t.logging
        if total > 0 {
            func percent(_ x: Double) -> String { HumanFormat.fixed(100 * x / total, decimals: 2) + "%" }
            lines.append("time:   training \(percent(t.training)), evaluation \(percent(t.evaluation)), "
                + "checkpoints \(percent(t.checkpointing)), logging \(percent(t.logging))")
        }
        if let checkpoint = result.lastCheckpoint {
            lines.append("checkpoint: \(checkpoint.path)")
        }
        lines.append("metrics: \(directory.metricsURL.path)  (fable report \(directory.url.path))")
        return lines
    }
}

/// Checks that `path`, given with `option`, is a regular file, if it exists (or, with
/// `directory`, a folder), so the error names the option rather than Foundation's
/// "NSCocoaErrorDomain error 256".
package func requirePath(_ path: String, option: String, directory: Bool = false) throws {
    var isDirectory: ObjCBool = false
    // A missing path is left to the reader, whose message names it already.
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    if isDirectory.boolValue != directory {
        throw CommandFailure("\(option) \(path): is a \(directory ? "file" : "folder"); expected a \(directory ? "folder" : "file")")
    }
}

/// A command failure reported as its message alone (no usage text), exit status 1.
package struct CommandFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ message: String) { description = message }
}

/// Prints lines and flushes standard output, so they appear before the progress line
/// (standard error) even when both go to one pipe or file.
package func printNow(_ lines: [String]) {
    for line in lines { print(line) }
    fflush(nil)  // all output streams; naming `stdout` is a global Swift 6 cannot check
}

/// Writes "warning: MESSAGE" to standard error (after flushing standard output, so the
/// order holds when both go to one file).
package func printWarning(_ message: String) {
    fflush(nil)
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

import ArgumentParser
import FableTensor
import FableReports
import FableTraining
import FableWorkbench
import Foundation

/// `fable sweep`: trains every combination of a grid of settings, one after another, and
/// ends with the report comparing them.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a grid of settings one run after another, then write the comparison report.",
        discussion: """
            Each --grid gives a key and its values; every combination becomes a run in \
            SWEEP_DIR, named after its settings:

              fable sweep --preset cpu-small --grid optimizer.lr=1e-3,3e-3,1e-2 \\
                  --grid batch_size=16,32 \\
                  --train train.npy --val val.npy --out sweeps/lr

            makes sweeps/lr/lr=1e-3,batch_size=16 ... and sweeps/lr/report/index.html. Every \
            config is checked before the first run starts. A diverged run is marked in the \
            report and the sweep goes on. Run the same command again to continue a sweep: \
            finished runs are skipped and interrupted ones resumed from their checkpoints. \
            Ctrl-C saves the current run's checkpoint, stops the sweep and writes the report.
            """
    )

    @Option(help: ArgumentHelp("A training preset: \(TrainingConfig.presets.map(\.name).joined(separator: ", ")).",
                               valueName: "name"))
    var preset: String?

    @Option(help: ArgumentHelp("A training config JSON file.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Change one setting for every run, e.g. steps=500; repeat for several.", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .customLong("grid"), help: ArgumentHelp(
        "A key and the values to try, e.g. optimizer.lr=1e-4,3e-4,1e-3; repeat for more axes.",
        valueName: "key=v1,v2,..."))
    var grid: [String] = []

    @Option(help: ArgumentHelp("Training tokens (.npy, or raw .bin with --dtype).", valueName: "file"))
    var train: String

    @Option(help: ArgumentHelp("Validation tokens (.npy or .bin).", valueName: "file"))
    var val: String?

    @Option(help: ArgumentHelp("Element type of raw .bin token files.", valueName: "type"))
    var dtype: TokenDataset.Element?

    @Option(help: ArgumentHelp("The sweep's folder: one run directory per combination, and report/.", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Kernel threads for every run. (default: the config's, else FABLE_THREADS or every core)",
                               valueName: "n"))
    var threads: Int?

    @Flag(help: "Draw the report's losses on a logarithmic axis.")
    var logScale = false

    @Flag(help: "No progress line; only the plan and the summaries.")
    var quiet = false

    func validate() throws {
        if preset != nil && config != nil { throw ValidationError("give either --preset or --config, not both") }
        if preset == nil && config == nil { throw ValidationError("give --preset NAME or --config FILE") }
        if grid.isEmpty { throw ValidationError("give at least one --grid key=v1,v2,...") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        var sets = try overrides.map { try ConfigOverride(parsing: $0) }
        if let threads { sets.append(ConfigOverride(key: "threads", value: String(threads))) }
        let base = try config.map { try TrainingConfig.load(from: URL(fileURLWithPath: $0), overrides: sets) }
            ?? TrainingConfig.preset(named: preset!, overrides: sets)
        let points = try SweepGrid(parsing: grid).points

        // Every config and the data are checked before the first run starts.
        let trainData = try TrainingRunner.openDataset(train, dtype: dtype)
        let valData = try val.map { try TrainingRunner.openDataset($0, dtype: dtype) }
        var runs: [(name: String, config: TrainingConfig)] = []
        for point in points {
            let checked = Result { () throws(TrainingConfigError) -> TrainingConfig in
                let resolved = try base.applying(point.overrides)
                try resolved.validate(train: trainData, val: valData)
                return resolved
            }
            switch checked {
            case .success(let resolved): runs.append((point.name, resolved))
            case .failure(let error): throw CommandFailure("run \(point.name): \(error.underlying)")
            }
        }

        let sweepDirectory = URL(fileURLWithPath: out).standardizedFileURL
        print("sweep:  \(runs.count) runs into \(sweepDirectory.path): \(runs.map(\.name).joined(separator: "; "))")
        var stopped = false
        var diverged: [String] = []
        for (index, run) in runs.enumerated() {
            let directory = RunDirectory(sweepDirectory.appendingPathComponent(run.name))
            print("")
            print("[\(index + 1)/\(runs.count)] \(run.name)")
            TrainingRunner.applyThreads(run.config)
            let trainer = try Trainer(config: run.config, train: trainData, val: valData)
            if directory.holdsRun {
                guard let checkpoint = directory.latestCheckpoint() else {
                    print("skipped: \(directory.url.path) holds a run without a checkpoint; delete it to run it again")
                    continue
                }
                try trainer.restore(from: checkpoint)
                if trainer.isFinished || Self.hasEnded(directory) {
                    print("already done (step \(trainer.step)); skipped")
                    continue
                }
                print("resuming at step \(trainer.step)")
            }
            printNow(TrainingRunner.plan(run.config, train: trainData, val: valData, out: directory, resumedAt: trainer.step))
                
            let result = try TrainingRunner.run(trainer, in: directory, label: run.name, quiet: quiet)
            printNow(TrainingRunner.summary(result, directory: directory))
            if case .interrupted = result.outcome { stopped = true; break }
            if case .diverged = result.outcome { diverged.append(run.name) }
        }

        try writeReport(sweepDirectory, names: runs.map(\.name))
        if !diverged.isEmpty { print("diverged: \(diverged.joined(separator: ", "))") }
        if stopped {
            print("sweep interrupted; run the same command again to continue it")
            throw ExitCode(130)
        }
    }

    /// True when the run's metrics end with a `diverged` event (nothing more to do).
    static func hasEnded(_ directory: RunDirectory) -> Bool {
        guard let log = try? MetricsLog.read(directory.metricsURL) else { return false }
        return log.events.last?.name == MetricsEvent.diverged
    }

    private func writeReport(_ sweepDirectory: URL, names: [String]) throws {
        let summaries = try names.compactMap { name -> RunSummary? in
            let directory = RunDirectory(sweepDirectory.appendingPathComponent(name))
            guard FileManager.default.fileExists(atPath: directory.metricsURL.path) else { return nil }
            return try RunSummary.load(directory.url, name: name)
        }
        guard !summaries.isEmpty else { return }
        let report = HTMLReport(runs: HyperparameterColumns.orderedBySettings(summaries), options: ReportOptions(
            title: "Sweep: \(sweepDirectory.lastPathComponent)", logScale: logScale, metric: .valLoss))
        let files = try report.write(to: sweepDirectory.appendingPathComponent("report"))
        print("")
        print("report: \(files.page.path)")
        print(report.table.text(), terminator: "")
    }
}

import ArgumentParser

/// `fable bench`: timings of Fable's kernels, for BENCHMARKS.md.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time Fable's compute kernels (use a release build: swift build -c release).",
        subcommands: [
            BenchModel.self,
            BenchGEMM.self,
            BenchOps.self,
            BenchTrainStep.self,
            BenchOptimizer.self,
            BenchGenerate.self,
            BenchAllreduce.self,
        ]
    )
}

import ArgumentParser
import FableTensor

/// `--threads N`: the worker threads a command computes with.
struct ThreadsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Worker threads: FABLE_THREADS if set, else one per core.", valueName: "n"))
    var threads: Int = Parallel.threadCount

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Checks FABLE_THREADS and --threads against the limit, makes sure that many threads
    /// can start (a memory or process limit would otherwise hang a kernel later), and makes
    /// them the kernels' thread count.
    func apply() throws {
        _ = try Parallel.environmentThreadCount()
        try Parallel.checkThreadOption(threads)
        try Parallel.ensureThreadsCanStart(threads)
        Parallel.threadCount = threads
    }
}

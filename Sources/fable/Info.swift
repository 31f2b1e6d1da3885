import ArgumentParser
import FableTensor

/// `fable info`: what this build will compute with.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the compute setup: worker threads and the matrix-multiply backend."
    )

    func run() throws {
        print("fable \(Fable.configuration.version)")
        print("threads: \(Parallel.threadCount) (FABLE_THREADS overrides)")
        print("gemm:    \(GEMM.backend.name)")
    }
}

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
        let selection = GEMM.defaultSelection
        print("gemm:    \(selection.backend.name)")
        print("         chosen because \(selection.reason) (FABLE_GEMM=blas|swift|reference overrides, FABLE_BLAS=/path/to/lib picks the library)")
    }
}

import ArgumentParser
import FableTensor
import Foundation

/// `fable info`: what this build will compute with.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the compute setup: worker threads and the matrix-multiply backend."
    )

    func run() throws {
        print("fable \(Fable.configuration.version)")
        print("threads: \(Parallel.threadCount) (FABLE_THREADS overrides)")
        print("cpu:     \(KernelISA.featureSummary)")
        print("kernels: \(KernelISA.active.rawValue) (\(KernelISA.activeReason); FABLE_ISA=avx512|avx2|swift caps it)")
        let selection = GEMM.defaultSelection
        print("gemm:    \(selection.backend.name)")
        print("         chosen because \(selection.reason)")
        print("         (FABLE_GEMM=auto|fable|blas|swift|reference overrides, FABLE_BLAS=/path/to/lib picks the library)")
        if let note = Self.coreTypeNote(backend: selection.backend.name) { print("note:    \(note)") }
        if let reason = MatmulPrecision.bf16.unavailableReason {
            print("bf16:    unavailable: \(reason); training with precision=bf16 is refused")
        } else {
            print("bf16:    available (\(BF16GEMM().name): bf16 inputs, fp32 accumulation; --set precision=bf16)")
        }
    }

    /// A hint when OPENBLAS_CORETYPE pins OpenBLAS to kernels older than the CPU's widest
    /// vectors: OpenBLAS obeys the variable, so products can run at half speed (an AVX2
    /// `Haswell` pin on an AVX-512 CPU ran the 17M model's step 1.7x slower, BENCHMARKS.md).
    static func coreTypeNote(backend: String) -> String? {
        guard backend.lowercased().contains("openblas"),
              let coreType = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !coreType.isEmpty,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let hasAVX512 = flags.split(separator: " ").contains("avx512f")
        let avx512Kernels = ["skylakex", "cooperlake", "sapphirerapids"]
        guard hasAVX512, !avx512Kernels.contains(coreType.lowercased()) else { return nil }
        return "OPENBLAS_CORETYPE=\(coreType) keeps OpenBLAS on those kernels although this CPU has AVX-512; "
            + "unset it (or set SkylakeX) for faster matrix products"
    }
}

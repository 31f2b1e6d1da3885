import Foundation

/// Which matrix-multiply backend to use, as named by `FABLE_GEMM`.
public enum GEMMChoice: String, Sendable, CaseIterable {
    /// The faster of Fable's own kernel and a BLAS library, by the rule of
    /// ``GEMM/ownKernelIsFaster(isa:library:environment:)`` (the default).
    case automatic = "auto"
    /// A CBLAS library loaded at run time (``BLASLibrary``).
    case blas
    /// Fable's own kernel (``SIMDGEMM``) with the instruction set of ``KernelISA/active``
    /// (the widest the CPU has; `FABLE_ISA` caps it).
    case fable
    /// Fable's portable Swift SIMD kernel (``SIMDGEMM`` with ``KernelISA/swift``).
    case swift
    /// The Double-accumulating triple loop (``ReferenceGEMM``); for tests only.
    case reference
}

/// The outcome of choosing a backend: the backend plus the notes worth showing a user.
public struct GEMMSelection: Sendable {
    /// The backend chosen.
    public let backend: any GEMMBackend
    /// Lines to print on stderr (for example a requested BLAS that did not load).
    public let warnings: [String]
    /// Why this backend, in one line (for `fable info`).
    public let reason: String
}

extension GEMM {
    // MARK: - The process-wide backend

    /// The backend ``withBackend(_:_:)`` installed for the current task, if any
    /// (``Parallel`` re-installs it on the threads that run a region's chunks).
    @TaskLocal static var overrideBackend: (any GEMMBackend)?

    /// The selection made at first use from the environment; warnings go to stderr once.
    public static let defaultSelection: GEMMSelection = {
        let selection = select(environment: ProcessInfo.processInfo.environment)
        for line in selection.warnings {
            FileHandle.standardError.write(Data("fable: \(line)\n".utf8))
        }
        return selection
    }()

    /// The backend in use: the one given to ``withBackend(_:_:)`` while that runs, else the
    /// one chosen at first use (``defaultSelection``).
    public static var backend: any GEMMBackend {
        overrideBackend ?? defaultSelection.backend
    }

    /// Runs `body` with `backend` as the backend of the current task, then restores the
    /// previous one.
    ///
    /// Meant for tests that must exercise a particular path (such as tensor ops on both the
    /// BLAS and the Swift kernel). The override is task-local, so tests running
    /// concurrently in other tasks keep the default backend and their bits do not change
    /// under them. Products issued from worker threads that a kernel started itself (not
    /// tasks) use the default backend.
    public static func withBackend<R>(_ backend: any GEMMBackend, _ body: () throws -> R) rethrows -> R {
        try $overrideBackend.withValue(backend) { try body() }
    }

    // MARK: - Choosing

    /// Whether Fable's own kernel at `isa` beats `library`, so that `auto` prefers it.
    ///
    /// A measured rule rather than a per-run race (`fable bench gemm`, `fable bench
    /// train-step`, BENCHMARKS.md): at the 17M model's large training products the own
    /// AVX-512 kernel is level with OpenBLAS's own AVX-512 (SkylakeX) kernels (0.96-1.07);
    /// a whole training step ran level with OpenBLAS at batch 8 (0.94-1.17 by round) and
    /// 1-11% faster at batch 32, while decoding one sequence ran about 6% faster with
    /// OpenBLAS (its unpacked small-matrix kernels); against OpenBLAS pinned by `OPENBLAS_CORETYPE` to
    /// narrower kernels (Haswell: AVX2) the own kernel wins by far. So the own kernel wins
    /// exactly when the library is OpenBLAS pinned to kernels narrower than `isa`; an
    /// unpinned or other BLAS (MKL, Accelerate) is kept, and every BLAS wins over the portable
    /// Swift kernel.
    public static func ownKernelIsFaster(
        isa: KernelISA, library: BLASLibrary, environment: [String: String]
    ) -> Bool {
        guard isa != .swift, library.vendor == .openBLAS,
              let coreType = environment["OPENBLAS_CORETYPE"]?.lowercased(), !coreType.isEmpty
        else { return false }
        let avx512Kernels = ["skylakex", "cooperlake", "sapphirerapids"]
        let avx2Kernels = ["haswell", "zen", "skylake"] + avx512Kernels
        return !(isa == .avx512 ? avx512Kernels : avx2Kernels).contains(coreType)
    }

    /// Chooses a backend from an environment: `FABLE_GEMM` (`auto`, `blas`, `fable`, `swift`,
    /// `reference`; default `auto`), `FABLE_ISA` (the own kernel's instruction set, see
    /// ``KernelISA/select(environment:)``) and `FABLE_BLAS` (a library path, see
    /// ``BLASLibrary``).
    ///
    /// Never fails: a requested BLAS that does not load falls back to ``SIMDGEMM`` with a
    /// warning, and an unknown `FABLE_GEMM` value is reported and treated as `auto`.
    public static func select(environment: [String: String]) -> GEMMSelection {
        var warnings: [String] = []
        var choice = GEMMChoice.automatic
        if let text = environment["FABLE_GEMM"], !text.isEmpty {
            if let parsed = GEMMChoice(rawValue: text.lowercased()) {
                choice = parsed
            } else {
                let known = GEMMChoice.allCases.map(\.rawValue).joined(separator: ", ")
                warnings.append("FABLE_GEMM=\(text) is not one of \(known); using auto")
            }
        }
        let isaChoice = KernelISA.select(environment: environment)
        let isaNote = "instruction set \(isaChoice.isa.rawValue): \(isaChoice.reason)"
        if isaChoice.isWarning { warnings.append(isaChoice.reason) }
        let own = SIMDGEMM(isa: isaChoice.isa)
        switch choice {
        case .fable:
            return GEMMSelection(backend: own, warnings: warnings, reason: "FABLE_GEMM=fable; \(isaNote)")
        case .swift:
            return GEMMSelection(backend: SIMDGEMM(isa: .swift), warnings: warnings, reason: "FABLE_GEMM=swift")
        case .reference:
            return GEMMSelection(backend: ReferenceGEMM(), warnings: warnings, reason: "FABLE_GEMM=reference")
        case .blas, .automatic:
            switch BLASLibrary.load(environment: environment) {
            case .success(let library):
                if choice == .blas {
                    return GEMMSelection(
                        backend: BLASBackend(library: library), warnings: warnings, reason: "FABLE_GEMM=blas")
                }
                if ownKernelIsFaster(isa: own.isa, library: library, environment: environment) {
                    let pin = environment["OPENBLAS_CORETYPE"] ?? ""
                    return GEMMSelection(
                        backend: own, warnings: warnings,
                        reason: "auto: OPENBLAS_CORETYPE=\(pin) pins \(library.summary) to kernels narrower "
                            + "than the own \(own.isa.rawValue) kernel, which is faster then; \(isaNote); "
                            + "FABLE_GEMM=blas forces the library")
                }
                return GEMMSelection(
                    backend: BLASBackend(library: library), warnings: warnings,
                    reason: "auto: a BLAS library loaded (\(library.summary)), measured faster than the own "
                        + "\(own.isa.rawValue) kernel unless OPENBLAS_CORETYPE pins it to narrower kernels; "
                        + "FABLE_GEMM=fable forces the own kernel")
            case .failure(let error):
                if choice == .blas || environment["FABLE_BLAS"] != nil {
                    warnings.append("\(error); using Fable's own kernel (\(own.name))")
                }
                return GEMMSelection(
                    backend: own, warnings: warnings, reason: "no BLAS library loaded (\(error)); \(isaNote)")
            }
        }
    }
}

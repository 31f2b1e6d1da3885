import FableKernels
import Foundation

/// The instruction set Fable's own kernels run with, chosen at run time from the CPU.
///
/// The AVX-512 and AVX2+FMA kernels live in the C target `FableKernels` (each function
/// compiled for its instruction set); `swift` is the portable Swift SIMD code, which the
/// toolchain compiles for baseline x86-64 (SSE2) or arm64 (NEON). Results can differ in
/// the last bits between instruction sets, never between runs with the same one.
public enum KernelISA: String, Sendable, CaseIterable, Comparable {
    /// The portable Swift SIMD kernels (SSE2 on x86-64, NEON on arm64).
    case swift
    /// AVX2 and FMA3: 8 lanes.
    case avx2
    /// AVX-512 F/BW/VL/DQ: 16 lanes.
    case avx512

    public static func < (lhs: KernelISA, rhs: KernelISA) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The CPU's feature bits (`FABLE_CPU_*` from cpuid and xgetbv), read once.
    static let cpuFeatures: UInt32 = fable_cpu_features()

    /// Whether this CPU (and OS) can run the set.
    public var isSupported: Bool {
        switch self {
        case .swift: return true
        case .avx2: return Self.cpuFeatures & UInt32(FABLE_CPU_AVX2_FMA) != 0
        case .avx512: return Self.cpuFeatures & UInt32(FABLE_CPU_AVX512) != 0
        }
    }

    /// Every set this CPU can run, widest first.
    public static var supported: [KernelISA] { allCases.filter(\.isSupported).reversed() }

    /// The widest set this CPU runs.
    public static var widest: KernelISA { supported.first ?? .swift }

    /// Whether the CPU has AVX512_BF16 (bf16 dot products with fp32 accumulation).
    public static var hasBF16: Bool { cpuFeatures & UInt32(FABLE_CPU_AVX512_BF16) != 0 }

    /// The set in use, read once: `FABLE_ISA` (`avx512`, `avx2`, `swift`) caps it, else the
    /// widest the CPU supports. Problems are reported by ``selectionWarning``.
    public static var active: KernelISA { activeSelection.isa }

    /// Why ``active`` is what it is, including any problem with `FABLE_ISA`.
    public static var activeReason: String { activeSelection.reason }

    private static let activeSelection = select(environment: ProcessInfo.processInfo.environment)

    /// Chooses from an environment: `FABLE_ISA` names a set; one the CPU lacks falls back to
    /// the widest supported set below it, an unknown name to the widest, with the reason.
    /// `isWarning` is true when `FABLE_ISA` could not be followed.
    public static func select(environment: [String: String]) -> (isa: KernelISA, reason: String, isWarning: Bool) {
        let widest = Self.widest
        guard let text = environment["FABLE_ISA"], !text.isEmpty else {
            return (widest, "the widest instruction set this CPU supports", false)
        }
        guard let requested = KernelISA(rawValue: text.lowercased()) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            return (widest, "FABLE_ISA=\(text) is not one of \(known); using \(widest.rawValue)", true)
        }
        if requested.isSupported { return (requested, "FABLE_ISA=\(text)", false) }
        let fallback = supported.first { $0 < requested } ?? .swift
        return (fallback, "FABLE_ISA=\(text) but this CPU lacks it; using \(fallback.rawValue)", true)
    }

    /// The CPU features found, for `fable info`.
    public static var featureSummary: String {
        var names: [String] = []
        if cpuFeatures & UInt32(FABLE_CPU_AVX2_FMA) != 0 { names.append("avx2+fma") }
        if cpuFeatures & UInt32(FABLE_CPU_AVX512) != 0 { names.append("avx512f/bw/vl/dq") }
        if hasBF16 { names.append("avx512_bf16") }
        if cpuFeatures & UInt32(FABLE_CPU_AMX_BF16) != 0 { names.append("amx_bf16") }
        #if arch(arm64)
        names.append("neon")
        #endif
        return names.isEmpty ? "baseline only" : names.joined(separator: ", ")
    }
}

// MARK: - Peak throughput

extension KernelISA {
    /// Measured fused multiply-add throughput of one thread with this set's widest vectors,
    /// in GFLOP/s (2 flops per lane per FMA), timed over about `seconds`. Nil for `swift`,
    /// whose baseline x86-64 build has no FMA instruction.
    public func measurePeakGFLOPS(seconds: Double = 0.2) -> Double? {
        let bits: UInt32
        switch self {
        case .swift: return nil
        case .avx2: bits = UInt32(FABLE_CPU_AVX2_FMA)
        case .avx512: bits = UInt32(FABLE_CPU_AVX512)
        }
        guard isSupported else { return nil }
        return Self.bestThroughput(seconds: seconds) { fable_fma_peak(bits, $0) }
    }

    /// Measured vdpbf16ps throughput of one thread on zmm registers, in GFLOP/s (4 flops per
    /// fp32 lane: two products, two sums; twice the fp32 FMA rate per instruction), timed
    /// over about `seconds`. Nil without AVX512_BF16. The bf16 products' yardstick.
    public static func measureBF16PeakGFLOPS(seconds: Double = 0.2) -> Double? {
        guard hasBF16, KernelISA.avx512.isSupported else { return nil }
        return bestThroughput(seconds: seconds) { fable_bf16_dot_peak($0) }
    }

    /// Measured AMX tdpbf16ps throughput of one thread on tile registers, in GFLOP/s (2 flops
    /// per multiply-add), timed over about `seconds`. Nil without AMX-BF16 (or the OS's grant).
    public static func measureAMXPeakGFLOPS(seconds: Double = 0.2) -> Double? {
        guard BF16GEMM.Kernel.amx.isSupported else { return nil }
        return bestThroughput(seconds: seconds) { fable_amx_peak($0 / 16) }
    }

    /// The best flops / thread-CPU-second of `run(iterations)` (which returns its flops),
    /// timed by the thread's CPU clock (other processes sharing the core do not count),
    /// growing the round count until a run takes an eighth of the budget; the best run is
    /// kept (interruptions only ever slow a run down).
    private static func bestThroughput(seconds: Double, _ run: (Int) -> Double) -> Double {
        func threadSeconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        var iterations = 100_000
        var best = 0.0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            let start = threadSeconds()
            let flops = run(iterations)
            let elapsed = Swift.max(threadSeconds() - start, 1e-9)
            best = Swift.max(best, flops / elapsed / 1e9)
            if elapsed < seconds / 8 { iterations *= 2 }
        }
        return best
    }
}

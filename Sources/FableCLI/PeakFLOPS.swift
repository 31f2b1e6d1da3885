import Dispatch
import FableTensor

/// The CPU's fused multiply-add peak, the yardstick every GEMM figure is compared with.
struct PeakFLOPS {
    /// The widest FMA instruction set, whose peak this is.
    let isa: KernelISA
    /// GFLOP/s of one thread alone (2 flops per lane per FMA).
    let gflopsPerThread: Double
    /// GFLOP/s of `threads` threads running at once (summed).
    let gflopsAllThreads: Double
    let threads: Int
    /// The vdpbf16ps peak (4 flops per lane) of `threads` threads at once; nil without
    /// AVX512_BF16. The yardstick of the bf16 products.
    var bf16GflopsAllThreads: Double?
    /// The AMX tdpbf16ps peak of `threads` threads at once; nil without AMX-BF16.
    var amxGflopsAllThreads: Double?

    /// Measures one thread, then `threads` at once, with the widest FMA set; nil on CPUs
    /// without FMA.
    static func measure(threads: Int, seconds: Double = 0.3, bf16: Bool = false) -> PeakFLOPS? {
        guard let isa = KernelISA.supported.first(where: { $0 != .swift }),
              let single = isa.measurePeakGFLOPS(seconds: seconds)
        else { return nil }
        var all = single
        if threads > 1 {
            let results = PerThreadResults(count: threads)
            defer { results.slots.deallocate() }
            DispatchQueue.concurrentPerform(iterations: threads) { index in
                results.slots[index] = isa.measurePeakGFLOPS(seconds: seconds) ?? 0
            }
            all = results.slots.reduce(0, +)
        }
        var peak = PeakFLOPS(isa: isa, gflopsPerThread: single, gflopsAllThreads: all, threads: threads)
        if bf16 {
            peak.bf16GflopsAllThreads = allThreads(threads) { KernelISA.measureBF16PeakGFLOPS(seconds: seconds) }
            peak.amxGflopsAllThreads = allThreads(threads) { KernelISA.measureAMXPeakGFLOPS(seconds: seconds) }
        }
        return peak
    }

    /// The sum of `measure` run on `threads` threads at once; nil when it gives nil.
    private static func allThreads(_ threads: Int, _ measure: @Sendable @escaping () -> Double?) -> Double? {
        guard measure() != nil else { return nil }
        let results = PerThreadResults(count: threads)
        defer { results.slots.deallocate() }
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            results.slots[index] = measure() ?? 0
        }
        return results.slots.reduce(0, +)
    }

    /// "41.2 GFLOP/s per thread (avx512 FMA), 80.1 on 2 threads at once".
    var summary: String {
        let one = String(format: "%.1f", gflopsPerThread), all = String(format: "%.1f", gflopsAllThreads)
        var bf16 = bf16GflopsAllThreads.map { String(format: "; bf16 vdpbf16ps %.1f", $0) } ?? ""
        bf16 += amxGflopsAllThreads.map { String(format: ", AMX tdpbf16ps %.1f", $0) } ?? ""
        return "\(one) GFLOP/s per thread (\(isa.rawValue) FMA), \(all) on \(threads) thread(s) at once" + bf16
    }
}

/// One slot per thread; each thread writes only its own index, so sharing is safe.
private struct PerThreadResults: @unchecked Sendable {
    let slots: UnsafeMutableBufferPointer<Double>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: 0)
    }
}

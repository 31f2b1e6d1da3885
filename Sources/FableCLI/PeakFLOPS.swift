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

    /// Measures one thread, then `threads` at once, with the widest FMA set; nil on CPUs
    /// without FMA.
    static func measure(threads: Int, seconds: Double = 0.3) -> PeakFLOPS? {
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
        return PeakFLOPS(isa: isa, gflopsPerThread: single, gflopsAllThreads: all, threads: threads)
    }

    /// "41.2 GFLOP/s per thread (avx512 FMA), 80.1 on 2 threads at once".
    var summary: String {
        let one = String(format: "%.1f", gflopsPerThread), all = String(format: "%.1f", gflopsAllThreads)
        return "\(one) GFLOP/s per thread (\(isa.rawValue) FMA), \(all) on \(threads) thread(s) at once"
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

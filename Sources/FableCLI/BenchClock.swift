import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clock a benchmark times with: elapsed time, or the process's CPU time shared out
/// over the threads it ran (steadier than wall time when other work shares the cores).
enum BenchClock: String, ExpressibleByArgument, CaseIterable {
    case wall, cpu

    /// Seconds since an arbitrary origin: wall time, or process CPU time / `threads`.
    func now(threads: Int) -> Double {
        switch self {
        case .wall: return Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        case .cpu:
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return (Double(t.tv_sec) + Double(t.tv_nsec) / 1e9) / Double(threads)
        }
    }
}

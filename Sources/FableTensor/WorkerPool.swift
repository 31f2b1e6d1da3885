import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Worker threads that stay awake for a short while after each parallel region.
///
/// `DispatchQueue.concurrentPerform` parks its workers as soon as a region ends, and waking
/// one costs 15-35 µs on a small VM: about as long as the work a decoding step hands to it
/// (BENCHMARKS.md, Generation). These workers watch for the next region for
/// ``spinNanoseconds`` after each one (yielding the core now and then, so that a BLAS
/// library's threads are not starved), and only then sleep on a condition variable.
/// `FABLE_SPIN=0` turns the pool off (see ``Parallel``).
///
/// One region at a time: a call made while another region runs (a nested call, or another
/// task's) returns false and the caller falls back to Dispatch. Chunks are claimed one at
/// a time through a single atomic word holding the region's generation, chunk count and
/// next index, so a worker that arrives late can never claim a chunk of another region.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker watches for the next region before sleeping.
    static let spinNanoseconds: UInt64 = 50_000
    /// The most workers the pool starts (besides the calling thread).
    static let maximumWorkers = 63

    /// The region's body: a pointer to a closure on the caller's stack, valid while the
    /// region's chunks are not all done.
    private typealias Body = (Range<Int>) -> Void

    /// generation << 40 | chunks << 20 | next chunk index: everything a claim checks, in
    /// one word, so that a claim on a region that has ended always fails.
    private let ticket = Atomic<UInt64>(0)
    private static let fieldMask: UInt64 = (1 << 20) - 1
    /// The address of the region's `Body` and its item count: read only after a successful
    /// claim, which proves the region is still live.
    private let bodyAddress = Atomic<UInt>(0)
    private let regionCount = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var started = 0   // guarded by `busy`

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body` on each of `chunks` near-equal parts of `0..<count` with up to
    /// `threads` threads (the caller included). Returns false, having run nothing, when
    /// another region is running.
    func run(count: Int, chunks: Int, threads: Int, _ body: (Range<Int>) -> Void) -> Bool {
        guard chunks < 1 << 20,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        let wanted = min(threads, chunks, Self.maximumWorkers + 1) - 1
        while started < wanted { startWorker(); started += 1 }

        withoutActuallyEscaping(body) { escapable in
            var region: Body = escapable
            withUnsafeMutablePointer(to: &region) { pointer in
                finished.store(0, ordering: .relaxed)
                bodyAddress.store(UInt(bitPattern: pointer), ordering: .relaxed)
                regionCount.store(count, ordering: .relaxed)
                let generation = ((ticket.load(ordering: .relaxed) >> 40) &+ 1) & 0xFF_FFFF
                // Publishes the region: sequentially consistent so that a worker about to
                // sleep either sees it or is counted in `sleepers` below.
                ticket.store(generation << 40 | UInt64(chunks) << 20, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(mutex)
                    pthread_cond_broadcast(wake)
                    pthread_mutex_unlock(mutex)
                }
                work(generation: generation)
                // Every chunk claimed by a worker finishes before the region's memory goes.
                // Yield while waiting: the worker may be waiting for this very core (other
                // threads, such as a BLAS library's, can hold the rest).
                var spins = 0
                while finished.load(ordering: .acquiring) < chunks {
                    spins += 1
                    if spins > 64 { sched_yield() }
                }
            }
        }
        return true
    }

    /// Claims and runs chunks of region `generation` until none is left.
    private func work(generation: UInt64) {
        while true {
            let current = ticket.load(ordering: .acquiring)
            guard current >> 40 == generation else { return }
            let index = Int(current & Self.fieldMask)
            let chunks = Int((current >> 20) & Self.fieldMask)
            guard index < chunks else { return }
            guard ticket.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing).exchanged
            else { continue }
            // The claim succeeded, so the region is live: its body and count are the ones
            // published with this generation, and stay in place until the chunk is done.
            let count = regionCount.load(ordering: .relaxed)
            guard let body = UnsafePointer<Body>(bitPattern: bodyAddress.load(ordering: .relaxed)) else { return }
            body.pointee(Parallel.chunkRange(index, of: chunks, count: count))
            finished.add(1, ordering: .releasing)
        }
    }

    private func startWorker() {
        let thread = Thread { [self] in workerLoop() }
        thread.name = "fable-worker"
        thread.start()
    }

    private func workerLoop() {
        var seen = ticket.load(ordering: .acquiring) >> 40
        while true {
            // Spin for a while, then sleep until a new region is published.
            var generation = ticket.load(ordering: .acquiring) >> 40
            if generation == seen {
                let deadline = Self.now() &+ Self.spinNanoseconds
                var spins = 0
                while generation == seen {
                    spins += 1
                    if spins & 255 == 0 {
                        if Self.now() > deadline { break }
                        sched_yield()   // let other runnable threads have this core
                    }
                    generation = ticket.load(ordering: .acquiring) >> 40
                }
            }
            if generation == seen {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while ticket.load(ordering: .sequentiallyConsistent) >> 40 == seen {
                    pthread_cond_wait(wake, mutex)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                generation = ticket.load(ordering: .acquiring) >> 40
            }
            seen = generation
            work(generation: generation)
        }
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

import Dispatch
import Foundation
import Synchronization

/// Runs kernel work on several cores.
///
/// Work is split into contiguous chunks by a fixed rule that depends only on the
/// element count and ``threadCount``, so a kernel that reduces within each chunk gives
/// the same bits on every run with the same thread count.
public enum Parallel {
    /// The process-wide count; an atomic rather than a Mutex since it is one word, read on
    /// every parallel region.
    private static let configuredThreads = Atomic<Int>(defaultThreadCount())

    /// Whether ``forEachChunk(_:minimumChunk:_:)`` uses the spinning ``WorkerPool``
    /// (`FABLE_SPIN=0` turns it off: Dispatch only).
    static let useWorkerPool = ProcessInfo.processInfo.environment["FABLE_SPIN"] != "0"

    /// A thread count set by ``withThreadCount(_:_:)`` for the current task.
    @TaskLocal private static var taskThreadCount: Int?

    /// The number of worker threads kernels use. Defaults to `FABLE_THREADS` when set,
    /// else every active core. Values below 1 are treated as 1. Setting it changes the
    /// process-wide count; ``withThreadCount(_:_:)`` changes it for one task only.
    public static var threadCount: Int {
        get { taskThreadCount ?? configuredThreads.load(ordering: .relaxed) }
        set { configuredThreads.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Runs `body` with `count` worker threads for kernels started from the current task,
    /// leaving other tasks (such as tests running concurrently) at the process-wide count.
    public static func withThreadCount<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        try $taskThreadCount.withValue(max(1, count)) { try body() }
    }

    /// The thread count from `FABLE_THREADS`, or the number of active cores.
    public static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["FABLE_THREADS"],
           let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Calls `body` once per chunk of `0..<count`, in parallel: on ``WorkerPool``'s
    /// threads, or through `DispatchQueue.concurrentPerform` when the pool is busy with
    /// another region (nested or concurrent calls) or turned off with `FABLE_SPIN=0`.
    ///
    /// - Parameters:
    ///   - count: the number of work items.
    ///   - minimumChunk: the fewest items worth a thread of their own; small jobs run inline.
    ///   - body: receives a half-open range of item indices; chunks never overlap.
    public static func forEachChunk(
        _ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = chunkCount(for: count, minimumChunk: minimumChunk)
        if chunks == 1 {
            body(0..<count)
            return
        }
        // Task-local settings do not reach worker threads, which run outside the caller's
        // task: re-install the ones kernels read, so that every chunk computes alike.
        let threadOverride = taskThreadCount, backendOverride = GEMM.overrideBackend
        func inheriting(_ range: Range<Int>) {
            $taskThreadCount.withValue(threadOverride) {
                GEMM.$overrideBackend.withValue(backendOverride) { body(range) }
            }
        }
        if threadOverride == nil && backendOverride == nil {
            run(count: count, chunks: chunks, body)
        } else {
            run(count: count, chunks: chunks, inheriting)
        }
    }

    /// Runs the chunks on the worker pool, or through Dispatch when the pool is busy or off.
    private static func run(count: Int, chunks: Int, _ body: (Range<Int>) -> Void) {
        if useWorkerPool && WorkerPool.shared.run(count: count, chunks: chunks, threads: chunks, body) { return }
        concurrentPerform(iterations: chunks) { chunk in
            body(chunkRange(chunk, of: chunks, count: count))
        }
    }

    /// Runs `body(i)` for every i in `0..<iterations` on Dispatch's threads.
    ///
    /// `body` is not `@Sendable`: kernels capture raw pointers into buffers their caller keeps
    /// alive, and the chunks write disjoint parts of them. Swift cannot check either fact, so
    /// the promise is made here, once, for every kernel.
    static func concurrentPerform(iterations: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: iterations) { shared.value($0) }
        }
    }

    /// How many chunks ``forEachChunk(_:minimumChunk:_:)`` uses for `count` items.
    public static func chunkCount(for count: Int, minimumChunk: Int = 1) -> Int {
        max(1, min(threadCount, count / max(1, minimumChunk)))
    }

    /// The items of chunk `index` when `count` items are split into `chunks` near-equal parts.
    public static func chunkRange(_ index: Int, of chunks: Int, count: Int) -> Range<Int> {
        let base = count / chunks, extra = count % chunks
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }
}

/// A value carried to other threads without a Sendable check; see
/// ``Parallel/concurrentPerform(iterations:_:)`` for the promise that makes it safe.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

import Testing
@testable import FableTensor

/// The spinning worker pool behind `Parallel.forEachChunk`: every item of every region
/// runs exactly once, back-to-back regions never mix, and regions started while another
/// runs (nested, or from concurrent tasks) fall back to Dispatch and still cover every item.
@Suite("Worker pool")
struct WorkerPoolTests {
    /// Marks each item of `count` through `forEachChunk` and checks each was marked once.
    static func coverOnce(count: Int, threads: Int) -> Bool {
        // Chunks never overlap, so each item is written by one thread only (when they do
        // overlap, some count shows it).
        let marks = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        defer { marks.deallocate() }
        marks.initialize(repeating: 0)
        Parallel.withThreadCount(threads) {
            Parallel.forEachChunk(count, minimumChunk: 1) { range in
                for i in range { marks[i] += 1 }
            }
        }
        return marks.allSatisfy { $0 == 1 }
    }

    @Test("thousands of short regions in a row each cover every item once", arguments: [2, 3, 5])
    func backToBack(threads: Int) {
        var failures = 0
        for round in 0..<3_000 where !Self.coverOnce(count: 1 + round % 17, threads: threads) { failures += 1 }
        #expect(failures == 0)
    }

    @Test("regions from concurrent tasks and nested regions cover every item once")
    func concurrentAndNested() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var ok = true
                    for round in 0..<300 { ok = ok && Self.coverOnce(count: 3 + (round + task) % 29, threads: 2 + task % 2) }
                    return ok
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 })

        let outer = 6, inner = 50
        let marks = UnsafeMutableBufferPointer<Int>.allocate(capacity: outer * inner)
        defer { marks.deallocate() }
        marks.initialize(repeating: 0)
        Parallel.withThreadCount(3) {
            Parallel.forEachChunk(outer) { rows in
                for row in rows {
                    Parallel.forEachChunk(inner) { columns in
                        for column in columns { marks[row * inner + column] += 1 }
                    }
                }
            }
        }
        #expect(marks.allSatisfy { $0 == 1 })
    }

    @Test("chunks run on other threads see the caller's task-local thread count and GEMM backend")
    func taskSettingsReachChunks() {
        let chunks = 3
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        let backends = UnsafeMutableBufferPointer<Bool>.allocate(capacity: chunks)
        defer { counts.deallocate(); backends.deallocate() }
        var mismatches = 0
        // Many rounds, so that worker threads (not only the caller) run some of the chunks.
        for _ in 0..<300 {
            Parallel.withThreadCount(chunks) {
                GEMM.withBackend(ReferenceGEMM()) {
                    Parallel.forEachChunk(chunks * 10, minimumChunk: 10) { range in
                        let chunk = range.lowerBound / 10
                        counts[chunk] = Parallel.threadCount
                        backends[chunk] = GEMM.backend is ReferenceGEMM
                    }
                }
            }
            mismatches += (0..<chunks).filter { counts[$0] != chunks || !backends[$0] }.count
        }
        #expect(mismatches == 0)
    }

    @Test("a direct call while a region runs declines instead of waiting")
    func declinesWhenBusy() {
        var inner: Bool?
        let ran = WorkerPool.shared.run(count: 2, chunks: 2, threads: 2) { range in
            if range.lowerBound == 0 {
                inner = WorkerPool.shared.run(count: 2, chunks: 2, threads: 2) { _ in }
            }
        }
        // Another test may hold the pool; then the outer call declines and nothing runs.
        if ran { #expect(inner == false) } else { #expect(inner == nil) }
    }
}

import Dispatch
import Foundation

// Streaming, parallel pre-token counting: the input is read in chunks cut at special
// tokens (see ChunkReader); each batch of chunks, one per worker, is counted in parallel
// into the worker's own table, and the tables are merged at the end. Only `threads`
// chunks and the count tables are ever in memory.

extension BPETrainer {
    /// The pre-token counts of a whole input and what was seen on the way.
    struct CountedPretokens {
        var counts: PretokenCounts
        var inputBytes = 0
        var pretokens = 0
        var chunks = 0
        var replacements = 0
        var firstInvalidOffset: Int?
    }

    /// One worker's tallies.
    private final class WorkerState {
        let counts = PretokenCounts()
        let buffer: ChunkBuffer
        var pretokens = 0
        var replacements = 0
        var firstInvalidOffset: Int?

        init(chunkCapacity: Int) { buffer = ChunkBuffer(capacity: chunkCapacity) }
    }

    /// The chunk size used for an input of `totalBytes` bytes: one chunk per thread for
    /// small inputs, at most 4 MiB so memory stays bounded on large ones.
    func effectiveChunkSize(totalBytes: Int?) -> Int {
        if let size = configuration.chunkSize { return size }
        let perThread = (totalBytes ?? Int.max) / configuration.threads + 1
        return min(max(perThread, 1 << 16), 4 << 20)
    }

    func countPretokens(source: ByteSource, progress: ((Progress) -> Void)?) throws -> CountedPretokens {
        let total = source.totalBytes
        let chunkSize = effectiveChunkSize(totalBytes: total)
        let matcher = SpecialTokenMatcher(configuration.specialTokens)
        let reader = ChunkReader(source: source, matcher: matcher, chunkSize: chunkSize)
        let workerCount = configuration.threads
        let workers = (0..<workerCount).map { _ in WorkerState(chunkCapacity: chunkSize + (1 << 16)) }

        var chunks = 0
        progress?(.pretokenizing(bytesDone: 0, bytesTotal: total))
        while true {
            var filled = 0
            while filled < workerCount, try reader.next(into: workers[filled].buffer) { filled += 1 }
            if filled == 0 { break }
            chunks += filled
            if filled == 1 {
                Self.count(workers[0], matcher: matcher)
            } else {
                concurrentPerform(iterations: filled) { index in
                    Self.count(workers[index], matcher: matcher)
                }
            }
            progress?(.pretokenizing(bytesDone: reader.bytesDelivered, bytesTotal: total))
        }

        // Merge the workers' tables into the largest one.
        let sorted = workers.sorted { $0.counts.count > $1.counts.count }
        let target = sorted[0].counts
        for worker in sorted.dropFirst() { target.merge(worker.counts) }
        var result = CountedPretokens(counts: target)
        result.inputBytes = reader.bytesDelivered
        result.chunks = chunks
        for worker in workers {
            result.pretokens += worker.pretokens
            result.replacements += worker.replacements
            if let offset = worker.firstInvalidOffset {
                result.firstInvalidOffset = min(result.firstInvalidOffset ?? offset, offset)
            }
        }
        return result
    }

    /// Counts the pre-tokens of the worker's current chunk.
    private static func count(_ worker: WorkerState, matcher: SpecialTokenMatcher) {
        let chunk = worker.buffer.bytes
        if let invalid = UTF8Repair.firstInvalidOffset(in: chunk) {
            let offset = worker.buffer.startOffset + invalid
            worker.firstInvalidOffset = min(worker.firstInvalidOffset ?? offset, offset)
            let repaired = UTF8Repair.repaired(chunk)
            worker.replacements += repaired.replacements
            repaired.bytes.withUnsafeBufferPointer { countValid($0, worker: worker, matcher: matcher) }
        } else {
            countValid(chunk, worker: worker, matcher: matcher)
        }
    }

    private static func countValid(_ chunk: UnsafeBufferPointer<UInt8>, worker: WorkerState,
                                   matcher: SpecialTokenMatcher) {
        let counts = worker.counts
        var pieces = 0
        matcher.forEachSegment(in: chunk) { segmentRange in
            let segment = UnsafeBufferPointer(rebasing: chunk[segmentRange])
            GPT2Pretokenizer.forEachPiece(in: segment) { range in
                counts.add(UnsafeBufferPointer(rebasing: segment[range]))
                pieces += 1
            }
        }
        worker.pretokens += pieces
    }
}

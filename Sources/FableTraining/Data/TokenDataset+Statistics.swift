import FableTensor

extension TokenDataset {
    /// The largest token id in the file (-1 when it is empty): one parallel pass at memory
    /// speed, used to check a model's vocabulary against its data before training.
    /// - Note: ids are read as ``copyTokens(from:count:into:)`` reads them; a lazily
    ///   validated file with an id outside Int32 reports it through that method's check,
    ///   which this scan skips, so open files fully validated (the default) first.
    public func maxTokenID() -> Int64 {
        guard count > 0 else { return -1 }
        let block = 1 << 16
        let blocks = (count + block - 1) / block
        let chunks = Parallel.chunkCount(for: blocks, minimumChunk: 16)
        let partial = UnsafeMutableBufferPointer<Int32>.allocate(capacity: chunks)
        defer { partial.deallocate() }
        partial.initialize(repeating: -1)
        Parallel.forEachChunk(chunks) { chunkIndices in
            let buffer = UnsafeMutablePointer<Int32>.allocate(capacity: block)
            defer { buffer.deallocate() }
            for chunk in chunkIndices {
                var high: Int32 = -1
                for b in Parallel.chunkRange(chunk, of: chunks, count: blocks) {
                    let start = b * block
                    let length = Swift.min(block, count - start)
                    // Validated files copy without checks, so this cannot throw for them.
                    guard (try? copyTokens(from: start, count: length, into: buffer)) != nil else { continue }
                    for i in 0..<length { high = Swift.max(high, buffer[i]) }
                }
                partial[chunk] = high
            }
        }
        return Int64(partial.max() ?? -1)
    }
}

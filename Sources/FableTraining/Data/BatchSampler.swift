import FableTensor

/// A batch of next-token prediction examples: `inputs[b*T + t]` is followed by
/// `targets[b*T + t]` in the dataset. Both are row-major (batchSize, contextLength).
public struct TokenBatch: Equatable, Sendable {
    public let batchSize: Int
    public let contextLength: Int
    public var inputs: [Int32]
    public var targets: [Int32]
    /// Where each row starts in the dataset.
    public var starts: [Int]

    /// A zero batch with room for `batchSize` rows of `contextLength` tokens.
    public init(batchSize: Int, contextLength: Int) {
        self.batchSize = batchSize
        self.contextLength = contextLength
        inputs = [Int32](repeating: 0, count: batchSize * contextLength)
        targets = inputs
        starts = [Int](repeating: 0, count: batchSize)
    }
}

extension TokenDataset {
    /// Checks that windows of `contextLength` + 1 tokens fit.
    func checkWindow(batchSize: Int, contextLength: Int) throws {
        guard batchSize > 0 else {
            throw TokenDatasetError.invalidArgument(name: "batch size", value: "\(batchSize)", expected: "a positive integer")
        }
        guard contextLength > 0 else {
            throw TokenDatasetError.invalidArgument(name: "context length", value: "\(contextLength)", expected: "a positive integer")
        }
        guard count >= contextLength + 1 else {
            throw TokenDatasetError.tooShort(path: url.path, tokens: count, needed: contextLength + 1)
        }
    }

    /// Fills row `row` of `batch` with the window starting at `start`.
    func fill(_ batch: inout TokenBatch, row: Int, start: Int) throws {
        let t = batch.contextLength
        batch.starts[row] = start
        try batch.inputs.withUnsafeMutableBufferPointer { inputs in
            try copyTokens(from: start, count: t, into: inputs.baseAddress! + row * t)
        }
        // The targets are the inputs shifted by one: copy the overlap, read one new token.
        try batch.targets.withUnsafeMutableBufferPointer { targets in
            try batch.inputs.withUnsafeBufferPointer { inputs in
                let out = targets.baseAddress! + row * t
                if t > 1 { out.update(from: inputs.baseAddress! + row * t + 1, count: t - 1) }
                try copyTokens(from: start + t, count: 1, into: out + t - 1)
            }
        }
    }
}

/// Samples a training batch: `batchSize` windows whose starts are drawn uniformly from every
/// valid start 0 ... n − T − 1 (so the last target can be the last token), inputs the T
/// tokens from the start and targets the T tokens after them.
///
/// - Parameters:
///   - rng: the sampler's generator; its state is part of a checkpoint, so a resumed run
///     draws the same batches. One draw per row.
/// - Throws: ``TokenDatasetError`` when the dataset is shorter than T + 1 tokens or a lazily
///   validated file holds an id outside the vocabulary.
public func batch(
    _ dataset: TokenDataset, batchSize: Int, contextLength: Int, rng: inout RandomGenerator
) throws -> TokenBatch {
    var result = TokenBatch(batchSize: batchSize, contextLength: contextLength)
    try sampleBatch(dataset, into: &result, rng: &rng)
    return result
}

/// Refills `batch` in place (no allocation) with a fresh random sample; see
/// ``batch(_:batchSize:contextLength:rng:)``.
public func sampleBatch(_ dataset: TokenDataset, into batch: inout TokenBatch, rng: inout RandomGenerator) throws {
    try dataset.checkWindow(batchSize: batch.batchSize, contextLength: batch.contextLength)
    let validStarts = dataset.count - batch.contextLength  // starts 0 ..< n − T
    for row in 0..<batch.batchSize {
        try dataset.fill(&batch, row: row, start: rng.nextInt(below: validStarts))
    }
}

/// Deterministic evaluation batches: the dataset cut into fixed, non-overlapping windows
/// (starts 0, T, 2T, ...), `batchSize` windows per batch in order; the last batch may be
/// smaller. Every run and every thread count sees the same batches.
public struct ValidationBatches {
    public let dataset: TokenDataset
    public let batchSize: Int
    public let contextLength: Int
    /// Whole windows of T + 1 tokens the dataset holds: (n − 1) / T.
    public let windowCount: Int
    /// Number of batches (capped by `maxBatches`).
    public let count: Int

    /// - Parameter maxBatches: evaluate at most this many batches (the first ones); nil for all.
    public init(_ dataset: TokenDataset, batchSize: Int, contextLength: Int, maxBatches: Int? = nil) throws {
        try dataset.checkWindow(batchSize: batchSize, contextLength: contextLength)
        if let maxBatches, maxBatches <= 0 {
            throw TokenDatasetError.invalidArgument(name: "max batches", value: "\(maxBatches)", expected: "a positive integer")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.contextLength = contextLength
        windowCount = (dataset.count - 1) / contextLength
        let all = (windowCount + batchSize - 1) / batchSize
        count = min(all, maxBatches ?? all)
    }

    /// Batch `index` (0 ..< count).
    public func batch(at index: Int) throws -> TokenBatch {
        precondition(index >= 0 && index < count, "validation batch index out of range")
        let rows = min(batchSize, windowCount - index * batchSize)
        var result = TokenBatch(batchSize: rows, contextLength: contextLength)
        for row in 0..<rows {
            try dataset.fill(&result, row: row, start: (index * batchSize + row) * contextLength)
        }
        return result
    }
}

/// The keys and values every layer has computed so far, so that generating a token costs
/// one position's work instead of a recomputation of the whole prefix.
///
/// Each layer owns one key and one value buffer shaped (batch, heads, max_length, d_head),
/// allocated once; a forward pass through ``TransformerLM/forward(appending:batch:cache:allPositions:)``
/// writes its new positions at `length..<length + T` and advances ``length``. Keys are
/// stored after RoPE, at their absolute positions. Every row of the batch holds the same
/// number of positions.
///
/// For continuous batching the rows can instead be used as independent *slots*, each with
/// its own length (``slotLength(_:)``): ``TransformerLM/forward(prefill:slot:cache:)`` fills
/// one slot, ``TransformerLM/forward(step:slots:cache:)`` advances any set of slots by one
/// token at their own positions, and ``clearSlot(_:)`` frees one. The two uses do not mix on
/// one cache.
///
/// The cache also keeps the scratch buffers of the inference pass, so a generation loop
/// allocates nothing per token.
///
/// ```swift
/// let cache = KVCache(config: model.config, batch: 4)
/// var logits = try model.forward(appending: prompt4x, batch: 4, cache: cache)   // prefill
/// logits = try model.forward(appending: next4, batch: 4, cache: cache)          // one step
/// ```
public final class KVCache {
    /// The most rows the buffers hold.
    public let capacity: Int
    /// The rows in use (at most ``capacity``); ``keepRows(_:)`` and ``replicateFirstRow(count:)`` change it.
    public private(set) var batch: Int
    public let numLayers: Int
    public let numHeads: Int
    public let headDim: Int
    /// The most positions the cache holds (at most the model's context length).
    public let maxLength: Int
    /// Positions filled so far, the same for every row.
    public internal(set) var length: Int = 0
    /// Positions filled per slot, when rows are used as independent slots.
    var slotLengths: [Int]

    /// Per layer, (capacity, heads, maxLength, headDim).
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    /// Scratch memory of the inference pass.
    let workspace = InferenceWorkspace()

    /// Empty buffers for `batch` rows of `config`'s model.
    /// - Parameters:
    ///   - batch: rows generated together (at least 1).
    ///   - maxLength: positions to hold; default (and at most) the context length.
    public init(config: ModelConfig, batch: Int, maxLength: Int? = nil) {
        precondition(batch >= 1, "KVCache: batch must be at least 1, got \(batch)")
        let length = min(maxLength ?? config.contextLength, config.contextLength)
        precondition(length >= 1, "KVCache: maxLength must be at least 1")
        capacity = batch
        self.batch = batch
        numLayers = config.numLayers
        numHeads = config.numHeads
        headDim = config.headDim
        self.maxLength = length
        slotLengths = Array(repeating: 0, count: batch)
        let count = batch * config.numHeads * length * config.headDim
        keys = (0..<config.numLayers).map { _ in .allocate(capacity: count) }
        values = (0..<config.numLayers).map { _ in .allocate(capacity: count) }
    }

    deinit {
        for buffer in keys { buffer.deallocate() }
        for buffer in values { buffer.deallocate() }
    }

    /// Positions still free.
    public var remaining: Int { maxLength - length }

    /// The bytes the key and value buffers take.
    public var byteCount: Int { 2 * numLayers * capacity * numHeads * maxLength * headDim * MemoryLayout<Float>.stride }

    // MARK: - Layout

    /// Floats between consecutive heads of one row.
    var headStride: Int { maxLength * headDim }
    /// Floats between consecutive rows.
    var rowStride: Int { numHeads * maxLength * headDim }

    // MARK: - Rows

    /// Forgets every position and uses `batch` rows (default: the current count).
    public func reset(batch newBatch: Int? = nil) {
        let rows = newBatch ?? batch
        precondition(rows >= 1 && rows <= capacity, "KVCache: batch \(rows) outside 1...\(capacity)")
        batch = rows
        length = 0
    }

    /// Keeps only the given rows, in that order, as rows 0..<rows.count (for dropping
    /// samples that finished). `rows` must be strictly increasing.
    public func keepRows(_ rows: [Int]) {
        precondition(!rows.isEmpty, "KVCache: keep at least one row")
        for (i, row) in rows.enumerated() {
            precondition(row >= 0 && row < batch && (i == 0 || rows[i - 1] < row), "KVCache: rows must increase within 0..<\(batch)")
            guard row != i else { continue }
            // Slot i < row: moving in increasing order never overwrites a row still needed.
            for layer in 0..<numLayers {
                copyRow(keys[layer], from: row, to: i)
                copyRow(values[layer], from: row, to: i)
            }
        }
        batch = rows.count
    }

    /// Copies row 0 into rows 1..<count and uses `count` rows: a prompt shared by several
    /// samples is computed once.
    public func replicateFirstRow(count: Int) {
        precondition(count >= 1 && count <= capacity, "KVCache: \(count) rows outside 1...\(capacity)")
        for row in 1..<max(count, 1) {
            for layer in 0..<numLayers {
                copyRow(keys[layer], from: 0, to: row)
                copyRow(values[layer], from: 0, to: row)
            }
        }
        batch = count
    }

    // MARK: - Slots (continuous batching)

    /// Positions filled in `slot`.
    public func slotLength(_ slot: Int) -> Int {
        precondition(slot >= 0 && slot < capacity, "KVCache: slot \(slot) outside 0..<\(capacity)")
        return slotLengths[slot]
    }

    /// Forgets `slot`'s positions so another sequence can use it.
    public func clearSlot(_ slot: Int) {
        precondition(slot >= 0 && slot < capacity, "KVCache: slot \(slot) outside 0..<\(capacity)")
        slotLengths[slot] = 0
    }

    /// Makes `destination` a copy of `source` (its positions and length): a prompt shared by
    /// several samples is computed once.
    public func copySlot(_ source: Int, to destination: Int) {
        precondition(source >= 0 && source < capacity && destination >= 0 && destination < capacity,
                     "KVCache: slots \(source), \(destination) outside 0..<\(capacity)")
        guard source != destination else { return }
        for layer in 0..<numLayers {
            copyRow(keys[layer], from: source, to: destination, positions: slotLengths[source])
            copyRow(values[layer], from: source, to: destination, positions: slotLengths[source])
        }
        slotLengths[destination] = slotLengths[source]
    }

    /// Copies the filled positions of one row's heads.
    private func copyRow(_ buffer: UnsafeMutablePointer<Float>, from source: Int, to destination: Int, positions: Int? = nil) {
        for head in 0..<numHeads {
            let offset = head * headStride
            (buffer + destination * rowStride + offset)
                .update(from: buffer + source * rowStride + offset, count: (positions ?? length) * headDim)
        }
    }
}

/// Growable scratch buffers for one inference pass; reused across calls.
final class InferenceWorkspace {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var capacities: [Int] = []

    deinit { for buffer in buffers { buffer.deallocate() } }

    /// Buffer `index`, holding at least `count` floats (contents undefined).
    func buffer(_ index: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while buffers.count <= index {
            buffers.append(.allocate(capacity: 1))
            capacities.append(1)
        }
        if capacities[index] < count {
            buffers[index].deallocate()
            buffers[index] = .allocate(capacity: count)
            capacities[index] = count
        }
        return buffers[index]
    }
}

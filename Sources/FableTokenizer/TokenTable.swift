import Foundation

/// The bytes of every token id, at addresses that never move: spans live in one
/// fixed-capacity allocation and bytes in append-only blocks, so heap entries can keep a
/// pointer to the spans for their tie-breaks while tokens are added.
struct TokenTable {
    /// Where one token's bytes are.
    struct Span {
        var start: UnsafePointer<UInt8>?
        var count: Int
    }

    /// The span of each id (`capacity` of them; unset ids are empty).
    let spans: UnsafeMutablePointer<Span>
    let capacity: Int
    private var blocks: [UnsafeMutablePointer<UInt8>] = []
    private var blockFree = 0
    private var blockCursor: UnsafeMutablePointer<UInt8>?

    init(capacity: Int) {
        self.capacity = capacity
        spans = .allocate(capacity: capacity)
        spans.initialize(repeating: Span(start: nil, count: 0), count: capacity)
    }

    /// Stores `bytes` as token `id`.
    mutating func set(id: Int, bytes: [UInt8]) {
        precondition(id >= 0 && id < capacity, "token id \(id) beyond the table's capacity")
        if bytes.count > blockFree {
            let size = max(1 << 16, bytes.count)
            let block = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
            blocks.append(block)
            blockCursor = block
            blockFree = size
        }
        let destination = blockCursor!
        bytes.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: bytes.count) }
        spans[id] = Span(start: UnsafePointer(destination), count: bytes.count)
        blockCursor = destination + bytes.count
        blockFree -= bytes.count
    }

    /// The bytes of token `id`.
    func bytes(_ id: Int32) -> [UInt8] {
        let span = spans[Int(id)]
        guard let start = span.start else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: span.count))
    }

    /// Compares two byte strings like Python compares `bytes`: -1, 0 or 1.
    @inline(__always)
    static func compare(_ a: Span, _ b: Span) -> Int {
        let shared = min(a.count, b.count)
        if shared > 0, let pa = a.start, let pb = b.start {
            let order = memcmp(pa, pb, shared)
            if order != 0 { return order < 0 ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    func deallocate() {
        for block in blocks { block.deallocate() }
        spans.deallocate()
    }
}

/// An open-addressing map from a pair of token ids to a pair id.
struct PairIndex {
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<Int32>
    private var mask: Int
    private var count = 0
    private static let empty = UInt64.max

    init(expected: Int) {
        var size = 1024
        while size < expected * 2 { size <<= 1 }
        keys = .allocate(capacity: size)
        keys.initialize(repeating: Self.empty, count: size)
        values = .allocate(capacity: size)
        mask = size - 1
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: left)) << 32) | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    /// The value stored for `key`, or `next` stored and returned when the key is new.
    @inline(__always)
    mutating func findOrInsert(_ key: UInt64, next: Int32) -> (value: Int32, inserted: Bool) {
        var slot = Self.slot(key, mask)
        while true {
            let stored = keys[slot]
            if stored == key { return (values[slot], false) }
            if stored == Self.empty { break }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = next
        count += 1
        if count * 2 > mask + 1 { grow() }
        return (next, true)
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values, oldSize = mask + 1
        let size = oldSize * 2
        keys = .allocate(capacity: size)
        keys.initialize(repeating: Self.empty, count: size)
        values = .allocate(capacity: size)
        mask = size - 1
        for index in 0..<oldSize where oldKeys[index] != Self.empty {
            var slot = Self.slot(oldKeys[index], mask)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[index]
            values[slot] = oldValues[index]
        }
        oldKeys.deallocate()
        oldValues.deallocate()
    }

    func deallocate() {
        keys.deallocate()
        values.deallocate()
    }
}

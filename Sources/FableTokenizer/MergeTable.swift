// BPE merge lookup: for a pair of adjacent token ids, the merge's rank and the id it
// produces. This is the innermost lookup of encoding, so it is an open-addressing table
// of 64-bit keys with the value beside the key (one cache line per probe).

/// An immutable map (left id, right id) -> (rank, merged id).
final class MergeTable: @unchecked Sendable {
    /// Returned for pairs with no merge: a rank above every real one.
    static let noRank: UInt32 = .max

    /// Slot layout: `slots[2k]` is the key (left << 32 | right), `slots[2k + 1]` the value
    /// (rank << 32 | merged). Empty slots hold `empty` as their key.
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    private static let empty = UInt64.max

    /// Builds the table from merges given as id triples, in rank order.
    /// A pair listed twice keeps its first (lowest) rank.
    init(merges: [(left: UInt32, right: UInt32, merged: UInt32)]) {
        var size = 1024
        while size < merges.count * 2 { size <<= 1 }
        mask = size - 1
        slots = .allocate(capacity: size * 2)
        for k in 0..<size {
            slots[2 * k] = Self.empty
            slots[2 * k + 1] = 0
        }
        for (rank, merge) in merges.enumerated() {
            let key = Self.key(merge.left, merge.right)
            var slot = Self.slot(key, mask)
            while slots[2 * slot] != Self.empty && slots[2 * slot] != key { slot = (slot + 1) & mask }
            if slots[2 * slot] == key { continue }
            slots[2 * slot] = key
            slots[2 * slot + 1] = UInt64(rank) << 32 | UInt64(merge.merged)
        }
    }

    deinit { slots.deallocate() }

    @inline(__always)
    static func key(_ left: UInt32, _ right: UInt32) -> UInt64 {
        UInt64(left) << 32 | UInt64(right)
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The merge of `left` followed by `right`: rank in the high 32 bits and merged id in
    /// the low 32 bits, or `noRank << 32` when the pair has no merge.
    @inline(__always)
    func lookup(_ left: UInt32, _ right: UInt32) -> UInt64 {
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        while true {
            let stored = slots[2 * slot]
            if stored == key { return slots[2 * slot + 1] }
            if stored == Self.empty { return UInt64(Self.noRank) << 32 }
            slot = (slot + 1) & mask
        }
    }
}

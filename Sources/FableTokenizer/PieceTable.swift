import Foundation

// A hash map from piece bytes to token ids, laid out for the encoder's hot loop: a piece of
// up to 16 bytes is stored inside its 32-byte slot (two overlapping 64-bit words that, with
// the length, determine the bytes), and a piece with one id keeps it in the slot too, so a
// typical lookup touches one cache line. Longer keys and id lists live in arenas.
//
// The tokenizer keeps one immutable table of the tokens that BPE reproduces from their own
// bytes (most pieces are one token); each encoder keeps a bounded cache of the other
// pieces it has merged, emptied when full.

/// A map from byte strings (up to ``maximumKeyLength`` bytes) to id lists.
final class PieceTable: @unchecked Sendable {
    /// The longest key stored.
    static let maximumKeyLength = 64

    struct Slot {
        var word0: UInt64 = 0
        var word1: UInt64 = 0
        var tag: UInt32 = 0
        var length: UInt16 = 0  // 0: empty
        var idCount: UInt16 = 0
        var payload: UInt32 = 0  // the id when idCount == 1, else an offset into `ids`
        var keyOffset: UInt32 = 0  // an offset into `keys` when length > 16
    }

    /// A key's words and hash, computed once per piece and used for every probe.
    struct Key {
        let base: UnsafePointer<UInt8>
        let length: Int
        let word0: UInt64
        let word1: UInt64
        let hash: UInt64

        @inline(__always)
        init(_ base: UnsafePointer<UInt8>, _ length: Int) {
            self.base = base
            self.length = length
            let raw = UnsafeRawPointer(base)
            var w0: UInt64, w1: UInt64 = 0
            if length >= 8 {
                w0 = raw.loadUnaligned(as: UInt64.self)
                w1 = raw.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
            } else if length >= 4 {
                w0 = UInt64(raw.loadUnaligned(as: UInt32.self))
                    | UInt64(raw.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)) << 32
            } else {
                w0 = UInt64(base[0]) | UInt64(base[length >> 1]) << 8 | UInt64(base[length - 1]) << 16
            }
            word0 = w0
            word1 = w1
            var h = (w0 ^ UInt64(length) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
            h ^= (w1 &+ (h >> 31)) &* 0x94D0_49BB_1331_11EB
            if length > 16 {
                // The middle bytes too, so long keys with equal ends spread out.
                var offset = 8
                while offset < length - 8 {
                    h = (h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
                    h ^= h >> 29
                    offset += 8
                }
            }
            hash = h ^ (h >> 32)
        }
    }

    /// The storage as plain values, for the hot loop: reading a class's stored properties
    /// there would cost reference counting and exclusivity checks on every piece.
    /// Take a fresh view after every ``insert(_:ids:count:)``.
    struct View {
        let slots: UnsafeMutablePointer<Slot>
        let mask: Int
        let ids: UnsafeMutablePointer<UInt32>
        let keys: UnsafeMutablePointer<UInt8>

        /// Appends the ids stored for `key` to `out` and returns true, or returns false.
        @inline(__always)
        func lookup(_ key: Key, into out: inout [UInt32]) -> Bool {
            let tag = UInt32(truncatingIfNeeded: key.hash)
            var index = Int(truncatingIfNeeded: key.hash >> 40) & mask
            while true {
                let slot = slots[index]
                if slot.length == 0 { return false }
                if slot.tag == tag && Int(slot.length) == key.length && slot.word0 == key.word0 && slot.word1 == key.word1
                    && (key.length <= 16 || memcmp(keys + Int(slot.keyOffset), key.base, key.length) == 0) {
                    if slot.idCount == 1 {
                        out.append(slot.payload)
                    } else {
                        let start = ids + Int(slot.payload)
                        for k in 0..<Int(slot.idCount) { out.append(start[k]) }
                    }
                    return true
                }
                index = (index + 1) & mask
            }
        }

        /// The id stored for `key` when it is a single id, else nil.
        @inline(__always)
        func single(_ key: Key) -> UInt32? {
            let tag = UInt32(truncatingIfNeeded: key.hash)
            var index = Int(truncatingIfNeeded: key.hash >> 40) & mask
            while true {
                let slot = slots[index]
                if slot.length == 0 { return nil }
                if slot.tag == tag && Int(slot.length) == key.length && slot.word0 == key.word0 && slot.word1 == key.word1
                    && (key.length <= 16 || memcmp(keys + Int(slot.keyOffset), key.base, key.length) == 0) {
                    return slot.idCount == 1 ? slot.payload : nil
                }
                index = (index + 1) & mask
            }
        }
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    private(set) var count = 0
    /// The table grows until it has this many slots; then it is emptied when half full.
    private let maximumSlots: Int
    private var keys: Arena<UInt8>
    private var ids: Arena<UInt32>

    /// An empty table of `initialSlots` slots that may grow to `maximumSlots` (powers of two).
    init(initialSlots: Int = 1024, maximumSlots: Int = 1 << 16) {
        var size = 16
        while size < initialSlots { size <<= 1 }
        var limit = size
        while limit < maximumSlots { limit <<= 1 }
        self.maximumSlots = limit
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(), count: size)
        keys = Arena(capacity: 4096)
        ids = Arena(capacity: 4096)
    }

    deinit {
        slots.deallocate()
        keys.deallocate()
        ids.deallocate()
    }

    /// The current storage, for lookups.
    var view: View { View(slots: slots, mask: mask, ids: ids.base, keys: keys.base) }

    // MARK: - Insert

    /// Stores the ids of a key that a lookup did not find. When the table is at its
    /// largest and half full it is emptied first.
    func insert(_ key: Key, ids source: UnsafePointer<UInt32>, count idCount: Int) {
        precondition(key.length > 0 && key.length <= Self.maximumKeyLength && idCount > 0, "invalid piece table entry")
        if (count + 1) * 2 > mask + 1 {
            if mask + 1 < maximumSlots { grow() } else { removeAll() }
        }
        var slot = Slot(word0: key.word0, word1: key.word1, tag: UInt32(truncatingIfNeeded: key.hash),
                        length: UInt16(key.length), idCount: UInt16(idCount))
        if idCount == 1 {
            slot.payload = source[0]
        } else {
            slot.payload = UInt32(ids.append(source, idCount))
        }
        if key.length > 16 {
            slot.keyOffset = UInt32(keys.append(key.base, key.length))
        }
        place(slot, hash: key.hash)
        count += 1
    }

    private func place(_ slot: Slot, hash: UInt64) {
        var index = Int(truncatingIfNeeded: hash >> 40) & mask
        while slots[index].length != 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    /// Doubles the slots, re-placing every entry (the arenas stay as they are).
    private func grow() {
        let old = slots, oldSize = mask + 1
        mask = oldSize * 2 - 1
        slots = .allocate(capacity: oldSize * 2)
        slots.initialize(repeating: Slot(), count: oldSize * 2)
        for index in 0..<oldSize where old[index].length != 0 {
            let entry = old[index]
            // Recompute the hash from the stored key.
            let hash = entry.length <= 16
                ? Self.hashOfWords(entry.word0, entry.word1, Int(entry.length))
                : Key(keys.base + Int(entry.keyOffset), Int(entry.length)).hash
            place(entry, hash: hash)
        }
        old.deallocate()
    }

    /// The hash a short key with these words has (as ``Key`` computes it).
    private static func hashOfWords(_ w0: UInt64, _ w1: UInt64, _ length: Int) -> UInt64 {
        var h = (w0 ^ UInt64(length) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        h ^= (w1 &+ (h >> 31)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 32)
    }

    /// Forgets every entry, keeping the slots.
    func removeAll() {
        slots.update(repeating: Slot(), count: mask + 1)
        count = 0
        keys.count = 0
        ids.count = 0
    }
}

/// An append-only buffer of trivial values that hands out offsets.
struct Arena<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    /// Copies `length` values and returns the offset of the first.
    mutating func append(_ source: UnsafePointer<Element>, _ length: Int) -> Int {
        if count + length > capacity {
            var larger = capacity * 2
            while larger < count + length { larger *= 2 }
            let fresh = UnsafeMutablePointer<Element>.allocate(capacity: larger)
            fresh.update(from: base, count: count)
            base.deallocate()
            base = fresh
            capacity = larger
        }
        (base + count).update(from: source, count: length)
        count += length
        return count - length
    }

    func deallocate() { base.deallocate() }
}

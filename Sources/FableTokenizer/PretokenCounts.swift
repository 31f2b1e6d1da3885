import Foundation

/// A hash table from byte strings (pre-tokens) to occurrence counts.
///
/// Pre-tokenization calls ``add(_:count:)`` once per piece of the corpus, so this is the
/// hottest code of BPE training: keys live in one growing byte arena (no allocation per
/// piece), slots are open-addressed with linear probing, and each entry keeps its full
/// 64-bit hash so almost every mismatch is rejected without comparing bytes.
/// Memory grows with the number of distinct pre-tokens, never with the corpus size.
final class PretokenCounts {
    /// One distinct pre-token: where its bytes sit in the arena, its hash and its count.
    struct Entry {
        var offset: Int
        var length: Int
        var hash: UInt64
        var count: Int64
    }

    private(set) var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private(set) var arenaCount = 0

    private(set) var entries: UnsafeMutablePointer<Entry>
    private var entryCapacity: Int
    /// The number of distinct pre-tokens.
    private(set) var count = 0

    /// Entry index + 1 per slot; 0 marks an empty slot.
    private var slots: UnsafeMutablePointer<Int32>
    private var slotMask: Int

    init(expectedDistinct: Int = 1 << 12) {
        var slotCount = 64
        while slotCount < expectedDistinct * 2 { slotCount <<= 1 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        entryCapacity = max(16, expectedDistinct)
        entries = .allocate(capacity: entryCapacity)
        arenaCapacity = max(1 << 10, expectedDistinct * 8)
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        slots.deallocate()
        entries.deallocate()
        arena.deallocate()
    }

    /// The bytes of entry `index`.
    @inline(__always)
    func bytes(of index: Int) -> UnsafeBufferPointer<UInt8> {
        let entry = entries[index]
        return UnsafeBufferPointer(start: arena + entry.offset, count: entry.length)
    }

    /// Total bytes held by the table (slots, entries, arena), for memory reports.
    var allocatedBytes: Int {
        (slotMask + 1) * MemoryLayout<Int32>.stride + entryCapacity * MemoryLayout<Entry>.stride + arenaCapacity
    }

    // MARK: - Adding

    /// Adds `count` occurrences of the byte string `key`.
    @inline(__always)
    func add(_ key: UnsafeBufferPointer<UInt8>, count: Int64 = 1) {
        add(key, hash: Self.hash(key), count: count)
    }

    func add(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, count addend: Int64) {
        let length = key.count
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { break }
            let entry = entries[stored - 1]
            if entry.hash == hash && entry.length == length
                && (length == 0 || Self.equal(arena + entry.offset, key.baseAddress!, length)) {
                entries[stored - 1].count += addend
                return
            }
            slot = (slot + 1) & slotMask
        }
        // A new key.
        if arenaCount + length > arenaCapacity { growArena(minimum: arenaCount + length) }
        if length > 0 { (arena + arenaCount).update(from: key.baseAddress!, count: length) }
        if count == entryCapacity { growEntries() }
        entries[count] = Entry(offset: arenaCount, length: length, hash: hash, count: addend)
        arenaCount += length
        count += 1
        slots[slot] = Int32(count)
        if count * 2 > slotMask + 1 { rehash() }
    }

    /// Adds every entry of `other` into this table.
    func merge(_ other: PretokenCounts) {
        for index in 0..<other.count {
            let entry = other.entries[index]
            add(other.bytes(of: index), hash: entry.hash, count: entry.count)
        }
    }

    // MARK: - Growth

    private func growArena(minimum: Int) {
        var capacity = arenaCapacity * 2
        while capacity < minimum { capacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.update(from: arena, count: arenaCount)
        arena.deallocate()
        arena = grown
        arenaCapacity = capacity
    }

    private func growEntries() {
        let capacity = entryCapacity * 2
        let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
        grown.moveInitialize(from: entries, count: count)
        entries.deallocate()
        entries = grown
        entryCapacity = capacity
    }

    private func rehash() {
        let slotCount = (slotMask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        for index in 0..<count {
            var slot = Int(truncatingIfNeeded: entries[index].hash) & slotMask
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            slots[slot] = Int32(index + 1)
        }
    }

    // MARK: - Hashing

    /// Whether `length` bytes at `a` and `b` are equal; short keys (the common case) are
    /// compared with overlapping word loads instead of a call to memcmp.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        if length >= 8 {
            if length > 32 { return memcmp(a, b, length) == 0 }
            var offset = 0
            while offset + 8 <= length {
                if ra.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    != rb.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                offset += 8
            }
            return offset == length
                || ra.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
                    == rb.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
        }
        if length >= 4 {
            return ra.loadUnaligned(as: UInt32.self) == rb.loadUnaligned(as: UInt32.self)
                && ra.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)
                    == rb.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)
        }
        return a[0] == b[0] && a[length >> 1] == b[length >> 1] && a[length - 1] == b[length - 1]
    }

    /// A fast 64-bit hash of a short byte string (wyhash-style multiply-mix over 8-byte words;
    /// short tails are read as overlapping words so no byte outside `key` is touched).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let length = key.count
        guard let base = key.baseAddress, length > 0 else { return 0x9E37_79B9_7F4A_7C15 }
        let raw = UnsafeRawPointer(base)
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(truncatingIfNeeded: length)
        if length >= 8 {
            var offset = 0
            while offset + 8 <= length {
                h = mix(h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            if offset < length {
                h = mix(h ^ raw.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self))
            }
        } else if length >= 4 {
            let low = UInt64(raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            let high = UInt64(raw.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self))
            h = mix(h ^ (low | (high << 32)))
        } else {
            let value = UInt64(base[0]) | (UInt64(base[length >> 1]) << 8) | (UInt64(base[length - 1]) << 16)
            h = mix(h ^ value)
        }
        return finalize(h)
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        let product = x.multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return product.high ^ product.low
    }

    @inline(__always)
    private static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return z ^ (z >> 33)
    }
}

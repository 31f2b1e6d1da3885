import Foundation

/// A hash table from byte strings (pre-tokens) to occurrence counts.
///
/// Pre-tokenization calls ``add(_:)`` once per piece of the corpus, so this is the hottest
/// code of BPE training. Most pre-tokens are at most 16 bytes: those live inside their
/// 32-byte slot (two zero-padded words), so a lookup touches one cache line and compares
/// two words; longer ones keep their bytes in an append-only arena. Slots are
/// open-addressed with linear probing and filled to at most 3/4.
/// Memory grows with the number of distinct pre-tokens, never with the corpus size.
final class PretokenCounts {
    /// One slot: a key of up to 16 bytes inline (`w0`, `w1`, zero-padded), or for a longer
    /// key its arena offset in `w0`; `count == 0` marks an empty slot.
    struct Slot {
        var w0: UInt64
        var w1: UInt64
        var count: Int64
        var length: UInt32
        var hash: UInt32
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    /// The number of distinct pre-tokens.
    private(set) var count = 0

    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaCount = 0

    /// Keys longer than this go to the arena.
    static let inlineLimit = 16

    init(expectedDistinct: Int = 1 << 12) {
        var size = 64
        while size * 3 < expectedDistinct * 4 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(w0: 0, w1: 0, count: 0, length: 0, hash: 0), count: size)
        mask = size - 1
        arenaCapacity = 1 << 12
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }


    // MARK: - Adding

    /// Adds `count` occurrences of the byte string `key` (which must not be empty).
    @inline(__always)
    func add(_ key: UnsafeBufferPointer<UInt8>, count addend: Int64 = 1) {
        let length = key.count
        guard let base = key.baseAddress, length > 0 else { return }
        if length <= Self.inlineLimit {
            let (w0, w1) = Self.words(base, length)
            addInline(w0, w1, length: length, count: addend)
        } else {
            addLong(key, hash: Self.hash(key), count: addend)
        }
    }

    @inline(__always)
    private func addInline(_ w0: UInt64, _ w1: UInt64, length: Int, count addend: Int64) {
        let h = Self.mum(w0 ^ 0x243F_6A88_85A3_08D3, w1 ^ (UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15))
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        let length32 = UInt32(truncatingIfNeeded: length)
        var index = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots + index
            if slot.pointee.count == 0 { break }
            if slot.pointee.hash == tag && slot.pointee.length == length32
                && slot.pointee.w0 == w0 && slot.pointee.w1 == w1 {
                slot.pointee.count += addend
                return
            }
            index = (index + 1) & mask
        }
        slots[index] = Slot(w0: w0, w1: w1, count: addend, length: length32, hash: tag)
        inserted()
    }

    private func addLong(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64, count addend: Int64) {
        let length = key.count
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var index = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots + index
            if slot.pointee.count == 0 { break }
            if slot.pointee.hash == tag && Int(slot.pointee.length) == length
                && Self.equal(arena + Int(slot.pointee.w0), key.baseAddress!, length) {
                slot.pointee.count += addend
                return
            }
            index = (index + 1) & mask
        }
        if arenaCount + length > arenaCapacity { growArena(minimum: arenaCount + length) }
        (arena + arenaCount).update(from: key.baseAddress!, count: length)
        // Lengths past UInt32 are impossible here: a piece lies inside one chunk buffer
        // that is far smaller, and `length` of the slot only needs to tell long keys apart.
        slots[index] = Slot(w0: UInt64(arenaCount), w1: h, count: addend,
                            length: UInt32(truncatingIfNeeded: length), hash: tag)
        arenaCount += length
        inserted()
    }

    @inline(__always)
    private func inserted() {
        count += 1
        if count * 4 > (mask + 1) * 3 { rehash() }
    }

    /// Adds every entry of `other` into this table.
    func merge(_ other: PretokenCounts) {
        other.forEach { key, count in add(key, count: count) }
    }

    /// Calls `body` with every distinct pre-token and its count (in table order).
    func forEach(_ body: (UnsafeBufferPointer<UInt8>, Int64) -> Void) {
        var scratch: (UInt64, UInt64) = (0, 0)
        for index in 0...mask {
            let slot = slots[index]
            if slot.count == 0 { continue }
            let length = Int(slot.length)
            if length <= Self.inlineLimit {
                scratch = (slot.w0.littleEndian, slot.w1.littleEndian)
                withUnsafeBytes(of: &scratch) { raw in
                    body(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length),
                         slot.count)
                }
            } else {
                body(UnsafeBufferPointer(start: arena + Int(slot.w0), count: length), slot.count)
            }
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

    private func rehash() {
        let old = slots, oldSize = mask + 1
        let size = oldSize * 2
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(w0: 0, w1: 0, count: 0, length: 0, hash: 0), count: size)
        mask = size - 1
        for index in 0..<oldSize where old[index].count != 0 {
            let slot = old[index]
            let h: UInt64
            if Int(slot.length) <= Self.inlineLimit {
                h = Self.mum(slot.w0 ^ 0x243F_6A88_85A3_08D3,
                             slot.w1 ^ (UInt64(slot.length) &* 0x9E37_79B9_7F4A_7C15))
            } else {
                h = slot.w1  // long keys keep their full hash in w1
            }
            var target = Int(truncatingIfNeeded: h) & mask
            while slots[target].count != 0 { target = (target + 1) & mask }
            slots[target] = slot
        }
        old.deallocate()
    }

    // MARK: - Keys and hashing

    /// The first 16 bytes of a key of `length` (1...16) bytes as two little-endian words,
    /// zero-padded, reading no byte outside the key.
    @inline(__always)
    static func words(_ base: UnsafePointer<UInt8>, _ length: Int) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(base)
        if length >= 8 {
            let w0 = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            if length == 8 { return (w0, 0) }
            let tail = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self))
            return (w0, tail >> UInt64(8 * (16 - length)))
        }
        if length >= 4 {
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)))
            return (low | ((high >> UInt64(8 * (8 - length))) << 32), 0)
        }
        var w: UInt64 = UInt64(base[0])
        if length > 1 { w |= UInt64(base[1]) << 8 }
        if length > 2 { w |= UInt64(base[2]) << 16 }
        return (w, 0)
    }

    /// wyhash's multiply-fold.
    @inline(__always)
    static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// A 64-bit hash of a long key: multiply-folds over 8-byte words.
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let length = key.count
        let raw = UnsafeRawPointer(key.baseAddress!)
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(truncatingIfNeeded: length)
        var offset = 0
        while offset + 8 <= length {
            h = mum(h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self), 0x9E37_79B9_7F4A_7C15)
            offset += 8
        }
        if offset < length {
            h = mum(h ^ raw.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self), 0xA076_1D64_78BD_642F)
        }
        return mum(h, 0xE703_7ED1_A0B4_28DB)
    }

    /// Whether `length` bytes at `a` and `b` are equal.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        memcmp(a, b, length) == 0
    }
}

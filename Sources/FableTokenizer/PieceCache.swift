import Foundation

// Natural text repeats its pieces (" the", " said", "," ...), so an encoder remembers the
// ids of the pieces it has merged. The cache is bounded: when it fills up it is emptied
// and refilled, which keeps memory flat on any input and costs little since the frequent
// pieces come back within a few thousand pieces.

/// A bounded map from piece bytes to the ids BPE merged them into. Not thread-safe:
/// each ``TokenEncoder`` owns one.
final class PieceCache {
    /// The longest piece (in bytes) worth caching; longer pieces are rare and unique.
    static let maximumKeyLength = 64

    private struct Slot {
        var hash: UInt64 = 0  // 0: empty
        var keyStart: UInt32 = 0
        var keyLength: UInt32 = 0
        var idStart: UInt32 = 0
        var idCount: UInt32 = 0
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int
    private let maximumEntries: Int
    private var entries = 0
    private let keyBytes: UnsafeMutablePointer<UInt8>
    private let keyCapacity: Int
    private var keyUsed = 0
    private let ids: UnsafeMutablePointer<UInt32>
    private let idCapacity: Int
    private var idUsed = 0

    /// A cache of at most `capacity` pieces (rounded up to a power of two).
    init(capacity: Int = 1 << 15) {
        var size = 1024
        while size < capacity * 2 { size <<= 1 }
        mask = size - 1
        maximumEntries = size / 2
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(), count: size)
        keyCapacity = maximumEntries * 16
        keyBytes = .allocate(capacity: keyCapacity)
        idCapacity = maximumEntries * 4
        ids = .allocate(capacity: idCapacity)
    }

    deinit {
        slots.deallocate()
        keyBytes.deallocate()
        ids.deallocate()
    }

    // MARK: - Hashing

    @inline(__always)
    private static func load64(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
    }

    @inline(__always)
    private static func load32(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        let y = x &* 0x9E37_79B9_7F4A_7C15
        return y ^ (y >> 29)
    }

    /// A 64-bit hash of `count` bytes at `p` (never 0).
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(count)
        var i = 0
        while i + 8 <= count {
            h = mix(h ^ load64(p + i))
            i += 8
        }
        if i < count {
            let word: UInt64
            if count >= 8 {
                word = load64(p + count - 8)
            } else if count >= 4 {
                word = load32(p) | load32(p + count - 4) << 32
            } else {
                word = UInt64(p[0]) | UInt64(p[count >> 1]) << 8 | UInt64(p[count - 1]) << 16
            }
            h = mix(h ^ word)
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h | 1
    }

    // MARK: - Lookup and insert

    /// The cached ids of the piece, or nil.
    @inline(__always)
    func lookup(_ key: UnsafePointer<UInt8>, _ count: Int, hash: UInt64) -> UnsafeBufferPointer<UInt32>? {
        var index = Int(truncatingIfNeeded: hash >> 20) & mask
        while true {
            let slot = slots[index]
            if slot.hash == 0 { return nil }
            if slot.hash == hash && Int(slot.keyLength) == count
                && memcmp(keyBytes + Int(slot.keyStart), key, count) == 0 {
                return UnsafeBufferPointer(start: ids + Int(slot.idStart), count: Int(slot.idCount))
            }
            index = (index + 1) & mask
        }
    }

    /// Remembers the ids of a piece that ``lookup(_:_:hash:)`` did not find.
    func insert(_ key: UnsafePointer<UInt8>, _ count: Int, hash: UInt64, ids source: UnsafePointer<UInt32>, idCount: Int) {
        if entries >= maximumEntries || keyUsed + count > keyCapacity || idUsed + idCount > idCapacity {
            removeAll()
        }
        var index = Int(truncatingIfNeeded: hash >> 20) & mask
        while slots[index].hash != 0 { index = (index + 1) & mask }
        (keyBytes + keyUsed).update(from: key, count: count)
        (ids + idUsed).update(from: source, count: idCount)
        slots[index] = Slot(hash: hash, keyStart: UInt32(keyUsed), keyLength: UInt32(count),
                            idStart: UInt32(idUsed), idCount: UInt32(idCount))
        keyUsed += count
        idUsed += idCount
        entries += 1
    }

    /// Forgets every piece.
    func removeAll() {
        slots.update(repeating: Slot(), count: mask + 1)
        entries = 0
        keyUsed = 0
        idUsed = 0
    }

    /// The number of cached pieces.
    var count: Int { entries }
}

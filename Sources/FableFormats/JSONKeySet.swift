/// The keys of one JSON object seen so far, for rejecting a repeated key.
///
/// Keys are compared by their UTF-8 bytes (JSON keys are code point sequences, RFC 8259
/// §8.3; see ``JSONKey``). An open-addressing table of 64-bit hashes is used rather than
/// `Set<String>`: vocab.json's 50,000 keys made `Set`'s SipHash and bookkeeping the larger
/// part of parsing the file. The hash is seeded once per process, so a file cannot be
/// crafted to make every key collide.
struct JSONKeySet {
    private struct Slot {
        var hash: UInt32  // the high half of the key's hash (the low half picks the slot)
        var key: Int32  // index into `keys`; -1 when the slot is empty
    }

    private var slots: [Slot]
    private var keys: [String] = []
    private var mask: Int

    private static let seed = UInt64.random(in: .min ... .max)

    /// A set sized for about `expectedCount` keys (it grows past that as needed).
    init(expectedCount: Int = 0) {
        var capacity = 16
        while capacity < 2 * expectedCount { capacity *= 2 }
        slots = Array(repeating: Slot(hash: 0, key: -1), count: capacity)
        mask = capacity - 1
        keys.reserveCapacity(expectedCount)
    }

    /// Adds `key`; returns false (and changes nothing) when an equal key is present.
    mutating func insert(_ key: String) -> Bool {
        var key = key
        let hash = key.withUTF8 { Self.hash($0) }
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].key >= 0 {
            if slots[index].hash == tag, JSONKey(keys[Int(slots[index].key)]) == JSONKey(key) { return false }
            index = (index + 1) & mask
        }
        guard keys.count < Int32.max else { preconditionFailure("more than 2^31 keys in one JSON object") }
        slots[index] = Slot(hash: tag, key: Int32(keys.count))
        keys.append(key)
        if 2 * keys.count > slots.count { grow() }
        return true
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, key: -1), count: 2 * old.count)
        mask = slots.count - 1
        for slot in old where slot.key >= 0 {
            var key = keys[Int(slot.key)]
            var index = Int(truncatingIfNeeded: key.withUTF8 { Self.hash($0) }) & mask
            while slots[index].key >= 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }

    /// A seeded hash of `bytes`, eight bytes at a time, each step a folded 128-bit product.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let raw = UnsafeRawBufferPointer(bytes)
        var h = seed ^ UInt64(raw.count)
        var offset = 0
        while offset + 8 <= raw.count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < raw.count {
            tail |= UInt64(raw[offset]) << shift
            shift += 8
            offset += 1
        }
        return mix(h ^ tail ^ 0xA076_1D64_78BD_642F)
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        let product = x.multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return product.high ^ product.low
    }
}

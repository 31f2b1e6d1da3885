/// Finds and replaces invalid UTF-8 the way Python decodes with `errors="replace"`:
/// each maximal ill-formed subpart (Unicode's "substitution of maximal subparts", which
/// Python and Swift's `String(decoding:as:)` both follow) becomes one U+FFFD.
enum UTF8Repair {
    /// The UTF-8 bytes of U+FFFD REPLACEMENT CHARACTER.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// What a multi-byte lead byte asks of the bytes after it: how many continuation bytes,
    /// and the allowed range of the first one (the others are always 0x80...0xBF; the
    /// narrower first ranges exclude over-long forms, surrogates and code points above
    /// U+10FFFF). Nil for ASCII, continuation bytes and bytes that never start a sequence.
    @inline(__always)
    static func continuation(after lead: UInt8) -> (needed: Int, low: UInt8, high: UInt8)? {
        switch lead {
        case 0xC2...0xDF: return (1, 0x80, 0xBF)
        case 0xE0: return (2, 0xA0, 0xBF)
        case 0xED: return (2, 0x80, 0x9F)
        case 0xE1...0xEF: return (2, 0x80, 0xBF)
        case 0xF0: return (3, 0x90, 0xBF)
        case 0xF4: return (3, 0x80, 0x8F)
        case 0xF1...0xF3: return (3, 0x80, 0xBF)
        default: return nil
        }
    }

    /// Whether `byte` may stand `k` bytes (1-based) after a lead byte that asks `rule`.
    @inline(__always)
    static func accepts(_ byte: UInt8, at k: Int, _ rule: (needed: Int, low: UInt8, high: UInt8)) -> Bool {
        k == 1 ? (rule.low...rule.high).contains(byte) : (0x80...0xBF).contains(byte)
    }

    /// The length of the well-formed sequence at `i`, or the negated length of the maximal
    /// ill-formed subpart there (at least 1 byte).
    @inline(__always)
    static func sequenceLength(_ base: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let lead = base[i]
        if lead < 0x80 { return 1 }
        guard let rule = continuation(after: lead) else { return -1 }
        for k in 1...rule.needed {
            guard i + k < count, accepts(base[i + k], at: k, rule) else { return -k }
        }
        return rule.needed + 1
    }

    /// The offset of the first invalid byte, or nil when `bytes` is valid UTF-8.
    static func firstInvalidOffset(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i < count {
            // ASCII fast path: 8 bytes at a time.
            while i + 8 <= count && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
            if i >= count { break }
            let length = sequenceLength(base, i, count)
            if length < 0 { return i }
            i += length
        }
        return nil
    }

    /// `bytes` with every maximal ill-formed subpart replaced by U+FFFD, and the number of
    /// replacements made.
    static func repaired(_ bytes: UnsafeBufferPointer<UInt8>) -> (bytes: [UInt8], replacements: Int) {
        guard let base = bytes.baseAddress else { return ([], 0) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 8)
        var replacements = 0
        var i = 0
        while i < bytes.count {
            let length = sequenceLength(base, i, bytes.count)
            if length > 0 {
                output.append(contentsOf: UnsafeBufferPointer(start: base + i, count: length))
                i += length
            } else {
                output.append(contentsOf: replacement)
                replacements += 1
                i += -length
            }
        }
        return (output, replacements)
    }
}

/// Finds and replaces invalid UTF-8 the way Python decodes with `errors="replace"`:
/// each maximal ill-formed subpart (Unicode's "substitution of maximal subparts", which
/// Python and Swift's `String(decoding:as:)` both follow) becomes one U+FFFD.
enum UTF8Repair {
    /// The UTF-8 bytes of U+FFFD REPLACEMENT CHARACTER.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// The length of the well-formed sequence at `i`, or the negated length of the maximal
    /// ill-formed subpart there (at least 1 byte).
    @inline(__always)
    static func sequenceLength(_ base: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let lead = base[i]
        if lead < 0x80 { return 1 }
        let needed: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: needed = 1
        case 0xE0: needed = 2; low = 0xA0
        case 0xED: needed = 2; high = 0x9F
        case 0xE1...0xEF: needed = 2
        case 0xF0: needed = 3; low = 0x90
        case 0xF4: needed = 3; high = 0x8F
        case 0xF1...0xF3: needed = 3
        default: return -1
        }
        for k in 1...needed {
            guard i + k < count else { return -k }
            let byte = base[i + k]
            let lo: UInt8 = k == 1 ? low : 0x80, hi: UInt8 = k == 1 ? high : 0xBF
            if byte < lo || byte > hi { return -k }
        }
        return needed + 1
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

// vocab.txt: the vocabulary for people to read (as minbpe writes beside its model file).
// Tokens are shown as quoted strings: UTF-8 where the bytes are valid UTF-8, escapes for
// control characters, and \xNN for bytes that are not valid UTF-8 on their own.

extension Vocabulary {
    // MARK: - Readable tokens

    /// `bytes` as a quoted, escaped string, e.g. `" the"`, `"\n\n"`, `"\xE2\x80"`.
    public static func readable(_ bytes: [UInt8]) -> String {
        var out = "\""
        var index = 0
        while index < bytes.count {
            if let (scalar, length) = scalarAt(index, in: bytes) {
                appendEscaped(scalar, to: &out)
                index += length
            } else {
                out += "\\x" + hex2(bytes[index])
                index += 1
            }
        }
        return out + "\""
    }

    private static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
            out += "\\x" + hex2(UInt8(scalar.value))
        case _ where scalar.properties.generalCategory == .format
            || scalar.properties.generalCategory == .lineSeparator
            || scalar.properties.generalCategory == .paragraphSeparator
            || scalar.properties.generalCategory == .unassigned:
            out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
            out.unicodeScalars.append(scalar)
        }
    }

    private static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }

    /// The scalar encoded at `index` and its length, or nil when the bytes there are not
    /// one complete, well-formed UTF-8 sequence.
    static func scalarAt(_ index: Int, in bytes: [UInt8]) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        // Reject overlong forms and values outside Unicode; Unicode.Scalar rejects surrogates.
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, value <= 0x10FFFF, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    // MARK: - The listing

    /// The content of vocab.txt: a comment header, then per token a tab-separated line
    /// with its id, its length in bytes, the readable token, and the merge that made it
    /// (`"left" + "right"`) or `special` for a special token.
    public func listingText() -> String {
        var madeBy: [[UInt8]: MergePair] = [:]
        for merge in merges where madeBy[merge.merged] == nil { madeBy[merge.merged] = merge }
        let specials = Set(specialTokens.map { Array($0.utf8) })
        var out = "# Fable tokenizer vocabulary, for reading (Fable loads vocab.json and merges.txt).\n"
        out += "# \(tokens.count) tokens, \(merges.count) merges, \(specialTokens.count) special "
            + (specialTokens.count == 1 ? "token.\n" : "tokens.\n")
        out += "# id<TAB>bytes<TAB>token<TAB>made from (\\xNN: a byte that is not UTF-8 on its own)\n"
        for (id, bytes) in tokens.enumerated() {
            out += String(id) + "\t" + String(bytes.count) + "\t" + Self.readable(bytes)
            if specials.contains(bytes) {
                out += "\tspecial"
            } else if let merge = madeBy[bytes] {
                out += "\t" + Self.readable(merge.left) + " + " + Self.readable(merge.right)
            }
            out += "\n"
        }
        return out
    }
}

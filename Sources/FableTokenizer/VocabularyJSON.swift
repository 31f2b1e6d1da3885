// vocab.json is one flat JSON object from token string to id. A small reader for exactly
// that shape gives errors with a line and column (Foundation's JSON errors do not), and
// the writer puts one entry per line in id order, as Hugging Face does.

/// Reads and writes the `{"token": id, ...}` object of a vocab.json file.
enum VocabularyJSON {
    /// One entry of the object, with the byte offset of its key for error messages.
    struct Entry {
        var key: String
        var id: Int
        var offset: Int
    }

    /// A parse failure at a byte offset.
    struct Failure: Error {
        var offset: Int
        var expected: String
    }

    // MARK: - Reading

    /// Parses a JSON object whose values are all non-negative integers.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [Entry] {
        var reader = Reader(bytes: bytes)
        return try reader.object()
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            // A UTF-8 byte order mark is allowed before the object.
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        }

        mutating func object() throws -> [Entry] {
            skipSpace()
            try expect(UInt8(ascii: "{"), "'{' opening the vocab object")
            var entries: [Entry] = []
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                position += 1
            } else {
                while true {
                    skipSpace()
                    let offset = position
                    let key = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "':' after a token string")
                    skipSpace()
                    let id = try integer()
                    entries.append(Entry(key: key, id: id, offset: offset))
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { position += 1; continue }
                    try expect(UInt8(ascii: "}"), "',' or '}' after a token id")
                    break
                }
            }
            skipSpace()
            guard position == bytes.count else { throw Failure(offset: position, expected: "end of file after the vocab object") }
            return entries
        }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            guard peek() == byte else { throw Failure(offset: position, expected: what) }
            position += 1
        }

        mutating func integer() throws -> Int {
            let start = position
            var value = 0
            while let byte = peek(), byte >= 0x30, byte <= 0x39 {
                guard value < Int(Int32.max) else { throw Failure(offset: start, expected: "a token id below 2^31") }
                value = value * 10 + Int(byte - 0x30)
                position += 1
            }
            guard position > start else { throw Failure(offset: start, expected: "a non-negative integer token id") }
            if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                throw Failure(offset: start, expected: "an integer token id")
            }
            return value
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""), "a '\"' opening a token string")
            var utf8: [UInt8] = []
            while true {
                guard let byte = peek() else { throw Failure(offset: position, expected: "a '\"' closing the token string") }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = decodeUTF8(utf8) else {
                        throw Failure(offset: position - 1, expected: "valid UTF-8 in the token string")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    try escape(into: &utf8)
                case 0..<0x20:
                    throw Failure(offset: position - 1, expected: "no raw control character inside a string (use an escape)")
                default:
                    utf8.append(byte)
                }
            }
        }

        mutating func escape(into utf8: inout [UInt8]) throws {
            guard let byte = peek() else { throw Failure(offset: position, expected: "an escape character") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                let start = position - 2
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard peek() == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                        throw Failure(offset: start, expected: "a low surrogate escape after a high surrogate")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Failure(offset: start, expected: "a low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Failure(offset: start, expected: "a valid unicode escape") }
                utf8.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw Failure(offset: position - 1, expected: "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
            }
        }

        mutating func hex4() throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = peek() else { throw Failure(offset: position, expected: "four hex digits") }
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw Failure(offset: position, expected: "a hex digit")
                }
                value = value << 4 | digit
                position += 1
            }
            return value
        }
    }

    /// The string for `utf8`, or nil when it is not valid UTF-8.
    static func decodeUTF8(_ utf8: [UInt8]) -> String? {
        var iterator = utf8.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput: return String(scalars)
            case .error: return nil
            }
        }
    }

    // MARK: - Writing

    /// A JSON string literal for `text`: quotes, backslashes and control characters escaped,
    /// everything else as raw UTF-8.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The vocab.json text for `keys` (the key of id i at index i): one entry per line.
    static func render(_ keys: [String]) -> String {
        var out = "{\n"
        for (id, key) in keys.enumerated() {
            out += "  " + quoted(key) + ": " + String(id) + (id + 1 < keys.count ? ",\n" : "\n")
        }
        return out + "}\n"
    }
}

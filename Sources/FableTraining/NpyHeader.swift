/// The header of a NumPy `.npy` file: magic `\x93NUMPY`, a version byte pair, the header
/// length (2 bytes in version 1, 4 in versions 2 and 3, little-endian), then a Python dict
/// literal such as `{'descr': '<u2', 'fortran_order': False, 'shape': (1000,), }` padded
/// with spaces and a newline so the data starts at a multiple of 64 bytes.
public struct NpyHeader: Equatable, Sendable {
    /// The dtype string, e.g. `<u2`.
    public var descr: String
    public var fortranOrder: Bool
    public var shape: [Int]
    /// The major format version (1, 2 or 3).
    public var majorVersion: Int
    /// Where the array data starts in the file.
    public var dataOffset: Int

    public init(descr: String, fortranOrder: Bool = false, shape: [Int], majorVersion: Int = 1, dataOffset: Int = 0) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
        self.majorVersion = majorVersion
        self.dataOffset = dataOffset
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: - Parsing

    /// Parses the header at the start of `bytes`; `path` names the file in errors.
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NpyHeader {
        func invalid(_ reason: String) -> TokenDatasetError { .invalidNpyHeader(path: path, reason: reason) }
        guard bytes.count >= 10 else { throw invalid("file is \(bytes.count) bytes, too short for the .npy preamble") }
        guard Array(bytes[0..<6]) == magic else { throw invalid("missing the \\x93NUMPY magic at offset 0 (not an .npy file)") }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw invalid("file too short for a version \(major) preamble") }
            headerLength = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
            headerStart = 12
        default:
            throw invalid("unsupported format version \(major).\(minor) at offset 6 (expected 1, 2 or 3)")
        }
        guard minor == 0 else { throw invalid("unsupported format version \(major).\(minor) at offset 6") }
        guard headerStart + headerLength <= bytes.count else {
            throw invalid("header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + headerLength)])
        var parser = DictParser(bytes: Array(text), path: path, base: headerStart)
        let entries = try parser.parseDict()
        guard case let .string(descr)? = entries["descr"] else { throw invalid("missing 'descr'") }
        guard case let .bool(fortran)? = entries["fortran_order"] else { throw invalid("missing 'fortran_order'") }
        guard case let .tuple(shape)? = entries["shape"] else { throw invalid("missing 'shape'") }
        return NpyHeader(descr: descr, fortranOrder: fortran, shape: shape, majorVersion: major,
                         dataOffset: headerStart + headerLength)
    }

    // MARK: - Encoding

    /// The header `np.save` writes for a C-order array of `shape`: the dict with keys
    /// sorted, 21 − digits spare spaces (room to grow the shape in place), padding so the
    /// data is 64-byte aligned, and a newline. Version 1 unless the header needs version 2.
    public static func encode(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        var body = Array(header.utf8)
        var version: UInt8 = 1
        var prefixLength = 10
        if body.count + 1 + 64 > 65_535 { version = 2; prefixLength = 12 }
        let hlen = body.count + 1
        let padding = 64 - (prefixLength + hlen) % 64  // numpy pads a full 64 when already aligned
        body.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        body.append(UInt8(ascii: "\n"))
        var out = magic + [version, 0]
        if version == 1 {
            withUnsafeBytes(of: UInt16(body.count).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(body.count).littleEndian) { out.append(contentsOf: $0) }
        }
        return out + body
    }
}

// MARK: - The dict literal

/// Parses the small Python literal subset .npy headers use: a dict of quoted string keys to
/// quoted strings, True/False, and tuples of integers.
private struct DictParser {
    enum Value { case string(String), bool(Bool), tuple([Int]) }

    let bytes: [UInt8]
    let path: String
    /// Offset of the dict in the file, for error messages.
    let base: Int
    var position = 0

    func error(_ reason: String) -> TokenDatasetError {
        .invalidNpyHeader(path: path, reason: "\(reason) at offset \(base + position)")
    }

    mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard position < bytes.count, bytes[position] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    mutating func peek() -> UInt8? {
        skipSpace()
        return position < bytes.count ? bytes[position] : nil
    }

    mutating func parseDict() throws -> [String: Value] {
        try expect(UInt8(ascii: "{"))
        var result: [String: Value] = [:]
        while true {
            if peek() == UInt8(ascii: "}") { position += 1; break }
            let key = try parseString()
            try expect(UInt8(ascii: ":"))
            result[key] = try parseValue()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"))
            break
        }
        return result
    }

    mutating func parseValue() throws -> Value {
        switch peek() {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "("): return .tuple(try parseTuple())
        case UInt8(ascii: "T"): try literal("True"); return .bool(true)
        case UInt8(ascii: "F"): try literal("False"); return .bool(false)
        default: throw error("unsupported value")
        }
    }

    mutating func literal(_ word: String) throws {
        for byte in word.utf8 {
            guard position < bytes.count, bytes[position] == byte else { throw error("expected \(word)") }
            position += 1
        }
    }

    mutating func parseString() throws -> String {
        guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
            throw error("expected a quoted string")
        }
        position += 1
        let start = position
        while position < bytes.count, bytes[position] != quote { position += 1 }
        guard position < bytes.count else { throw error("unterminated string") }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        return text
    }

    mutating func parseTuple() throws -> [Int] {
        try expect(UInt8(ascii: "("))
        var items: [Int] = []
        while true {
            if peek() == UInt8(ascii: ")") { position += 1; return items }
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            guard position > start, let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw error("expected a non-negative integer in the shape")
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }  // Python 2 longs
            items.append(value)
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: ")"))
            return items
        }
    }
}

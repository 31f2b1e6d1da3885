import Foundation

// Token arrays on disk: NumPy .npy (a one-dimensional little-endian unsigned array that
// `numpy.load` and `numpy.memmap` read) or raw .bin (the same values with no header, as
// nanoGPT and llm.c write them). uint16 when every id fits, else uint32.

/// The element type of a token array file.
public enum TokenDType: String, CaseIterable, Sendable {
    case uint16
    case uint32

    /// Bytes per id.
    public var byteWidth: Int { self == .uint16 ? 2 : 4 }

    /// NumPy's descriptor string for the type.
    public var numpyDescriptor: String { self == .uint16 ? "<u2" : "<u4" }

    /// The narrowest type that holds ids `0..<vocabularySize`.
    public static func fitting(vocabularySize: Int) -> TokenDType {
        vocabularySize <= 1 << 16 ? .uint16 : .uint32
    }
}

/// The container of a token array file, chosen by its extension.
public enum TokenFileFormat: String, Sendable {
    /// NumPy .npy with a header.
    case npy
    /// Raw little-endian values.
    case bin

    /// The format for a path ending in .npy or .bin, or nil.
    public init?(path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "npy": self = .npy
        case "bin": self = .bin
        default: return nil
        }
    }
}

/// Errors from reading and writing token array files.
public enum TokenFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be opened, read or written.
    case io(path: String, reason: String)
    /// The output path has an extension other than .npy or .bin.
    case unknownFormat(path: String)
    /// The vocabulary has ids that the requested type cannot hold.
    case dtypeTooNarrow(TokenDType, vocabularySize: Int)
    /// A .npy file's header or size is not what was expected.
    case malformedNPY(path: String, offset: Int, expected: String)
    /// A text file of ids holds something other than integers.
    case malformedIDText(path: String, line: Int, text: String)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .unknownFormat(path):
            return "\(path): expected an output path ending in .npy (NumPy) or .bin (raw ids)"
        case let .dtypeTooNarrow(dtype, size):
            return "\(dtype.rawValue) cannot hold ids up to \(size - 1); use uint32"
        case let .malformedNPY(path, offset, expected):
            return "\(path): at byte \(offset): expected \(expected)"
        case let .malformedIDText(path, line, text):
            return "\(path):\(line): expected token ids (integers separated by spaces, commas or newlines), found \"\(text)\""
        }
    }
}

// MARK: - The .npy header

/// Writes and reads the NumPy format's header for one-dimensional arrays.
public enum NPYHeader {
    /// The header size Fable writes: fixed, so the final count can be patched in place.
    public static let writtenLength = 128

    /// A version 1.0 header of exactly ``writtenLength`` bytes for `count` ids.
    public static func make(dtype: TokenDType, count: Int) -> [UInt8] {
        let dictionary = "{'descr': '\(dtype.numpyDescriptor)', 'fortran_order': False, 'shape': (\(count),), }"
        let padding = writtenLength - 10 - dictionary.utf8.count - 1
        precondition(padding >= 0, "npy header overflow")
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let headerLength = UInt16(writtenLength - 10)
        bytes += [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)]
        bytes += Array(dictionary.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0A]
        return bytes
    }

    /// The parsed header of a .npy file: element type, element count and data offset.
    public struct Parsed: Equatable, Sendable {
        /// NumPy's descriptor, e.g. `<u2`.
        public var descriptor: String
        /// The number of elements (the product of the shape).
        public var count: Int
        /// Where the data starts.
        public var dataOffset: Int
        /// Bytes per element.
        public var width: Int
    }

    /// Parses a .npy header from the start of a file.
    public static func parse(_ bytes: [UInt8], path: String) throws -> Parsed {
        func fail(_ offset: Int, _ expected: String) -> TokenFileError {
            .malformedNPY(path: path, offset: offset, expected: expected)
        }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail(0, "the NumPy magic \\x93NUMPY")
        }
        let major = bytes[6]
        var headerLength: Int
        var start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail(8, "a 4-byte header length") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw fail(6, "format version 1, 2 or 3")
        }
        guard bytes.count >= start + headerLength else { throw fail(start, "a header of \(headerLength) bytes") }
        let text = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard let descriptor = value(of: "descr", in: text)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) else {
            throw fail(start, "a 'descr' entry in the header")
        }
        if let order = value(of: "fortran_order", in: text), order == "True" {
            throw fail(start, "fortran_order False")
        }
        guard let shapeText = shape(in: text) else { throw fail(start, "a 'shape' tuple in the header") }
        var count = 1
        for part in shapeText.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dimension = Int(trimmed), dimension >= 0 else { throw fail(start, "integer dimensions in 'shape'") }
            // A shape whose element count (times 8 bytes) overflows is no file that exists.
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Int.max / 8 else {
                throw fail(start, "a 'shape' whose element count fits in memory (this one overflows 64 bits: \(shapeText))")
            }
            count = product
        }
        let widths = ["<u2": 2, "<u4": 4, "<i4": 4, "<i8": 8, "<u8": 8, "|u1": 1, "<i2": 2]
        guard let width = widths[descriptor] else {
            throw fail(start, "an integer element type (<u2, <u4, <i4, <i8, <u8, <i2 or |u1), not \(descriptor)")
        }
        return Parsed(descriptor: descriptor, count: count, dataOffset: start + headerLength, width: width)
    }

    /// The text after `'key':` up to the next comma or closing brace.
    private static func value(of key: String, in text: String) -> String? {
        guard let range = text.range(of: "'\(key)':") else { return nil }
        let rest = text[range.upperBound...]
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }

    /// The inside of the shape tuple.
    private static func shape(in text: String) -> String? {
        guard let range = text.range(of: "'shape':"),
              let open = text[range.upperBound...].firstIndex(of: "("),
              let close = text[open...].firstIndex(of: ")") else { return nil }
        return String(text[text.index(after: open)..<close])
    }
}

// MARK: - Reading ids

/// Reads token ids from .npy, .bin or text files.
public enum TokenArrayReader {
    /// Reads every id of a .npy file, a raw .bin file (of `binDType`), or a text file of
    /// integers separated by white space or commas (any other extension).
    public static func read(_ url: URL, binDType: TokenDType = .uint16) throws -> [Int] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenFileError.io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        let bytes = [UInt8](data)
        switch TokenFileFormat(path: url.path) {
        case .npy:
            let header = try NPYHeader.parse(Array(bytes.prefix(65_536 + 12)), path: url.path)
            let needed = header.dataOffset + header.count * header.width
            guard bytes.count >= needed else {
                throw TokenFileError.malformedNPY(path: url.path, offset: bytes.count,
                                                  expected: "\(header.count) elements of \(header.width) bytes (file is short)")
            }
            return decode(bytes, from: header.dataOffset, count: header.count, descriptor: header.descriptor)
        case .bin:
            guard bytes.count % binDType.byteWidth == 0 else {
                throw TokenFileError.malformedNPY(path: url.path, offset: bytes.count,
                                                  expected: "a size that is a multiple of \(binDType.byteWidth) (\(binDType.rawValue))")
            }
            return decode(bytes, from: 0, count: bytes.count / binDType.byteWidth, descriptor: binDType.numpyDescriptor)
        case nil:
            return try parseText(String(decoding: bytes, as: UTF8.self), path: url.path)
        }
    }

    /// Little-endian integers of the NumPy type `descriptor`.
    static func decode(_ bytes: [UInt8], from offset: Int, count: Int, descriptor: String) -> [Int] {
        bytes.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[offset...])
            func load<T: FixedWidthInteger>(_: T.Type) -> [Int] {
                (0..<count).map { Int(truncatingIfNeeded: T(littleEndian: data.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
            }
            switch descriptor {
            case "|u1": return load(UInt8.self)
            case "<u2": return load(UInt16.self)
            case "<i2": return load(Int16.self)
            case "<u4": return load(UInt32.self)
            case "<i4": return load(Int32.self)
            case "<u8": return load(UInt64.self)
            default: return load(Int64.self)
            }
        }
    }

    /// Integers separated by white space, commas or brackets (a printed Python list works).
    public static func parseText(_ text: String, path: String) throws -> [Int] {
        var ids: [Int] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            for field in line.split(whereSeparator: { " \t\r,[]".contains($0) }) {
                guard let id = Int(field) else {
                    throw TokenFileError.malformedIDText(path: path, line: index + 1, text: String(field.prefix(40)))
                }
                ids.append(id)
            }
        }
        return ids
    }
}

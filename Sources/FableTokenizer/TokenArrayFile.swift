import FableFormats
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
            let header: NPYHeader
            do {
                header = try NPYHeader.parse(bytes, path: url.path)
            } catch {
                throw TokenFileError.malformedNPY(path: error.path, offset: error.offset, expected: error.expected)
            }
            let integerTypes: Set = ["|u1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"]
            guard integerTypes.contains(header.descr), let width = header.itemSize else {
                throw TokenFileError.malformedNPY(path: url.path, offset: 0,
                                                  expected: "an integer element type (<u2, <u4, <i4, <i8, <u8, <i2 or |u1), not \(header.descr)")
            }
            guard !header.fortranOrder || header.shape.count <= 1 else {
                throw TokenFileError.malformedNPY(path: url.path, offset: 0, expected: "fortran_order False")
            }
            let count = header.elementCount
            guard bytes.count - header.dataOffset >= count * width else {
                throw TokenFileError.malformedNPY(path: url.path, offset: bytes.count,
                                                  expected: "\(count) elements of \(width) bytes (file is short)")
            }
            return decode(bytes, from: header.dataOffset, count: count, descriptor: header.descr)
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

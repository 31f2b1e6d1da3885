import FableFormats
import FableTensor
import Foundation

/// A memory-mapped array of token ids: a NumPy `.npy` file or a raw little-endian `.bin`.
///
/// The file is mapped, never read whole, so datasets of any size open instantly and cost
/// only the pages batches touch. Opening checks the .npy header (magic, version 1/2/3,
/// a supported little-endian dtype, C order, one dimension) and that the file size is
/// exactly header + count × element size.
///
/// Token ids are validated against the vocabulary in one of two ways (``Validation``):
/// `.full` (the default) scans the whole file on open, in parallel, and reports the first
/// bad id with its index; `.lazy` skips the scan and checks each window as a batch copies
/// it, so a bad id surfaces as an error from ``batch(_:batchSize:contextLength:rng:)`` when
/// (and only if) it is sampled. A full scan reads the file once at memory speed, which is
/// the right default for anything that fits the page cache.
public final class TokenDataset: @unchecked Sendable {
    /// The element types token files use. `int32`/`int64` are read for compatibility
    /// (e.g. arrays saved with NumPy's default integer type); values must fit Int32.
    public enum Element: String, CaseIterable, Sendable, Codable {
        case uint16, uint32, int32, int64

        /// Bytes per token.
        public var byteSize: Int {
            switch self {
            case .uint16: return 2
            case .uint32, .int32: return 4
            case .int64: return 8
            }
        }

        /// The NumPy `descr` for this type.
        public var npyDescr: String {
            switch self {
            case .uint16: return "<u2"
            case .uint32: return "<u4"
            case .int32: return "<i4"
            case .int64: return "<i8"
            }
        }

        init?(npyDescr: String) {
            guard let match = Element.allCases.first(where: { $0.npyDescr == npyDescr }) else { return nil }
            self = match
        }
    }

    /// When token ids are checked against the vocabulary.
    public enum Validation: Sendable {
        /// Scan every token on open (parallel); afterwards batches copy without checks.
        case full
        /// Check only the tokens each batch copies.
        case lazy
    }

    public let url: URL
    public let element: Element
    /// Number of tokens.
    public let count: Int
    /// Ids must be below this; nil accepts any id that fits Int32 (non-negative).
    public let vocabSize: Int?
    /// True once every token has been checked.
    public let isValidated: Bool
    private let mapping: MappedFile
    /// Byte offset of token 0 in the file.
    public let dataOffset: Int
    private var base: UnsafeRawPointer { mapping.bytes.baseAddress! + dataOffset }

    /// Opens a token file: `.npy` by its header, anything else as raw `element` values.
    /// - Parameters:
    ///   - element: required for raw files; for .npy it must match the header when given.
    ///   - vocabSize: token ids must be below it; nil checks only that ids fit Int32.
    ///   - validation: scan the whole file now (`.full`) or check batches as they are taken.
    /// - Throws: ``TokenDatasetError`` naming the file.
    public init(url: URL, element: Element? = nil, vocabSize: Int? = nil, validation: Validation = .full) throws {
        self.url = url
        self.vocabSize = vocabSize
        let path = url.path
        if let vocabSize, vocabSize <= 0 {
            throw TokenDatasetError.invalidArgument(name: "vocab size", value: "\(vocabSize)", expected: "a positive integer")
        }
        do {
            mapping = try MappedFile(url: url)
        } catch let error as MappedFileError {
            switch error {
            case let .cannotOpen(_, reason), let .cannotMap(_, reason):
                throw TokenDatasetError.cannotOpen(path: path, reason: reason)
            }
        }
        let fileSize = mapping.count
        if url.pathExtension.lowercased() == "npy" {
            let header: NPYHeader
            do {
                header = try NPYHeader.parse(mapping.bytes, path: path)
            } catch {
                throw TokenDatasetError.invalidNpyHeader(path: path, reason: "at byte \(error.offset): expected \(error.expected)")
            }
            guard let found = Element(npyDescr: header.descr) else {
                throw TokenDatasetError.unsupportedDType(path: path, descr: header.descr)
            }
            if let element, element != found {
                throw TokenDatasetError.dtypeMismatch(path: path, expected: element.rawValue, found: found.rawValue)
            }
            guard !header.fortranOrder else {
                throw TokenDatasetError.invalidNpyHeader(path: path, reason: "fortran_order is True; expected a C-order 1-D array")
            }
            guard header.shape.count == 1 else {
                throw TokenDatasetError.notOneDimensional(path: path, shape: header.shape)
            }
            let (bytes, overflow) = header.shape[0].multipliedReportingOverflow(by: found.byteSize)
            let expected = header.dataOffset + bytes
            guard !overflow, expected == fileSize else {
                throw TokenDatasetError.sizeMismatch(path: path, expectedBytes: overflow ? Int.max : expected, actualBytes: fileSize)
            }
            // Typed loads need aligned data; numpy always aligns it (to 16 or 64 bytes).
            guard header.dataOffset % found.byteSize == 0 else {
                throw TokenDatasetError.invalidNpyHeader(
                    path: path, reason: "data offset \(header.dataOffset) is not a multiple of \(found.byteSize)")
            }
            self.element = found
            count = header.shape[0]
            dataOffset = header.dataOffset
        } else {
            guard let element else { throw TokenDatasetError.missingDType(path: path) }
            guard fileSize % element.byteSize == 0 else {
                throw TokenDatasetError.rawSizeNotMultiple(path: path, size: fileSize, elementSize: element.byteSize)
            }
            self.element = element
            count = fileSize / element.byteSize
            dataOffset = 0
        }
        if validation == .full {
            mapping.adviseSequential(true)
            let start = dataOffset
            if let bad = Self.firstInvalidToken(base: mapping.bytes.baseAddress.map { $0 + start }, element: self.element,
                                                count: count, limit: vocabSize) {
                throw TokenDatasetError.tokenOutOfRange(path: path, index: bad.index, value: bad.value, vocabSize: vocabSize)
            }
            isValidated = true
        } else {
            isValidated = false
        }
        // Batches read windows at random places.
        mapping.adviseSequential(false)
    }

    /// The token at `index` (0 ..< count), widened to Int64 (unchecked against the vocab).
    public func token(at index: Int) -> Int64 {
        precondition(index >= 0 && index < count, "token index out of range")
        return Self.load(base, element, index)
    }

    // MARK: - Copying windows

    /// Copies tokens `start ..< start + length` into `destination` as Int32, checking each
    /// id unless the file was validated on open.
    /// - Throws: ``TokenDatasetError/tokenOutOfRange(path:index:value:vocabSize:)``.
    public func copyTokens(from start: Int, count length: Int, into destination: UnsafeMutablePointer<Int32>) throws {
        precondition(start >= 0 && length >= 0 && start + length <= count, "window outside the dataset")
        let source = base + start * element.byteSize
        switch element {
        case .uint16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<length { destination[i] = Int32(truncatingIfNeeded: s[i]) }
        case .uint32, .int32:
            // Same width: a byte copy; the check below catches values beyond Int32 / negative.
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: length * 4)
            if !isValidated, element == .uint32 {
                for i in 0..<length where destination[i] < 0 {
                    throw TokenDatasetError.tokenOutOfRange(
                        path: url.path, index: start + i, value: Int64(UInt32(bitPattern: destination[i])), vocabSize: vocabSize)
                }
            }
        case .int64:
            let s = source.assumingMemoryBound(to: Int64.self)
            for i in 0..<length {
                let value = s[i]
                if !isValidated, value < 0 || value > Int64(Int32.max) {
                    throw TokenDatasetError.tokenOutOfRange(path: url.path, index: start + i, value: value, vocabSize: vocabSize)
                }
                destination[i] = Int32(truncatingIfNeeded: value)
            }
        }
        if !isValidated {
            let limit = Int32(clamping: vocabSize ?? Int(Int32.max) + 1)
            for i in 0..<length where destination[i] < 0 || (vocabSize != nil && destination[i] >= limit) {
                throw TokenDatasetError.tokenOutOfRange(
                    path: url.path, index: start + i, value: Self.load(base, element, start + i), vocabSize: vocabSize)
            }
        }
    }

    // MARK: - Validation scan

    @inline(__always)
    private static func load(_ base: UnsafeRawPointer, _ element: Element, _ index: Int) -> Int64 {
        switch element {
        case .uint16: return Int64(base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
        case .uint32: return Int64(base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
        case .int32: return Int64(base.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))
        case .int64: return base.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)
        }
    }

    /// The lowest index whose id is negative, beyond Int32, or at least `limit`; nil if none.
    /// Chunks find their maximum (and minimum) first and only search for the index when
    /// their chunk fails, so the common all-valid case is one streaming pass.
    static func firstInvalidToken(base: UnsafeRawPointer?, element: Element, count: Int, limit: Int?)
        -> (index: Int, value: Int64)?
    {
        guard count > 0, let base else { return nil }
        let upper = Int64(min(limit ?? Int(Int32.max) + 1, Int(Int32.max) + 1))  // ids must be < upper
        let chunks = Parallel.chunkCount(for: count, minimumChunk: 1 << 20)
        let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { failures.deallocate() }
        failures.initialize(repeating: -1)
        Parallel.forEachChunk(chunks) { chunkIndices in
            for chunk in chunkIndices {
                let range = Parallel.chunkRange(chunk, of: chunks, count: count)
                let (low, high) = extremes(base, element, range)
                guard low < 0 || high >= upper else { continue }
                for i in range {
                    let value = load(base, element, i)
                    if value < 0 || value >= upper { failures[chunk] = i; break }
                }
            }
        }
        guard let index = failures.first(where: { $0 >= 0 }) else { return nil }
        return (index, load(base, element, index))
    }

    private static func extremes(_ base: UnsafeRawPointer, _ element: Element, _ range: Range<Int>) -> (Int64, Int64) {
        switch element {
        case .uint16:
            let p = base.assumingMemoryBound(to: UInt16.self)
            var high: UInt16 = 0
            for i in range { high = max(high, p[i]) }
            return (0, Int64(high))
        case .uint32:
            let p = base.assumingMemoryBound(to: UInt32.self)
            var high: UInt32 = 0
            for i in range { high = max(high, p[i]) }
            return (0, Int64(high))
        case .int32:
            let p = base.assumingMemoryBound(to: Int32.self)
            var low = Int32.max, high = Int32.min
            for i in range { low = min(low, p[i]); high = max(high, p[i]) }
            return (Int64(low), Int64(high))
        case .int64:
            let p = base.assumingMemoryBound(to: Int64.self)
            var low = Int64.max, high = Int64.min
            for i in range { low = min(low, p[i]); high = max(high, p[i]) }
            return (low, high)
        }
    }
}

/// Why a token file could not be opened or sampled. Messages name the file.
public enum TokenDatasetError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case invalidNpyHeader(path: String, reason: String)
    case unsupportedDType(path: String, descr: String)
    case dtypeMismatch(path: String, expected: String, found: String)
    case notOneDimensional(path: String, shape: [Int])
    case sizeMismatch(path: String, expectedBytes: Int, actualBytes: Int)
    case missingDType(path: String)
    case rawSizeNotMultiple(path: String, size: Int, elementSize: Int)
    case tokenOutOfRange(path: String, index: Int, value: Int64, vocabSize: Int?)
    case tooShort(path: String, tokens: Int, needed: Int)
    case invalidArgument(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open token file: \(reason)"
        case let .invalidNpyHeader(path, reason):
            return "\(path): invalid .npy header: \(reason)"
        case let .unsupportedDType(path, descr):
            return "\(path): unsupported token dtype '\(descr)'; expected '<u2' (uint16), '<u4' (uint32), '<i4' or '<i8'"
        case let .dtypeMismatch(path, expected, found):
            return "\(path): the file holds \(found) tokens but \(expected) was requested"
        case let .notOneDimensional(path, shape):
            return "\(path): token array has shape \(shape); expected a 1-D array"
        case let .sizeMismatch(path, expected, actual):
            let what = actual < expected ? "truncated" : "has trailing bytes"
            return "\(path): file is \(actual) bytes but its header describes \(expected) (\(what))"
        case let .missingDType(path):
            return "\(path): a raw token file needs its dtype (uint16 or uint32); only .npy files carry one"
        case let .rawSizeNotMultiple(path, size, elementSize):
            return "\(path): raw token file is \(size) bytes, not a multiple of \(elementSize) (truncated or wrong dtype)"
        case let .tokenOutOfRange(path, index, value, vocabSize):
            let bound = vocabSize.map { "below the vocab size \($0)" } ?? "between 0 and 2^31 - 1"
            return "\(path): token \(index) is \(value); ids must be \(bound) (wrong tokenizer or corrupt file?)"
        case let .tooShort(path, tokens, needed):
            return "\(path): \(tokens) tokens, but a context of \(needed - 1) needs at least \(needed)"
        case let .invalidArgument(name, value, expected):
            return "\(name) is \(value), expected \(expected)"
        }
    }
}

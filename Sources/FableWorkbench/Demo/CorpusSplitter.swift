import FableFormats
import FableStories
import Foundation

/// Splits a text corpus into training and validation files by whole documents: every
/// `validationEvery`-th document (the last of each group) goes to validation, the rest to
/// training, so both splits sample the whole file evenly and no document is cut in two.
///
/// Documents end with the separator (`<|endoftext|>`) and the line break after it, as in
/// TinyStories and ``StoryCorpus`` files; text after the last separator is a final
/// document. A file without any separator is split by lines instead (every
/// `validationEvery`-th non-empty line to validation).
///
/// ```swift
/// let splitter = CorpusSplitter(validationEvery: 20, maxBytes: 32 << 20)
/// let summary = try splitter.split(input: corpusURL, train: trainURL, validation: valURL)
/// ```
///
/// Both outputs are written to temporary files renamed into place.
package struct CorpusSplitter: Sendable {
    /// The document separator.
    package var separator: String
    /// One document in this many goes to validation (2 or more).
    package var validationEvery: Int
    /// Read at most this many bytes of the input, ending at the last document (or line)
    /// boundary inside them; nil reads the whole file.
    package var maxBytes: Int?

    /// - Parameters:
    ///   - separator: the document separator (default `<|endoftext|>`).
    ///   - validationEvery: one document in this many goes to validation (default 20: 5%).
    ///   - maxBytes: a cap on the bytes read; nil for the whole file.
    package init(separator: String = StoryGenerator.endOfText, validationEvery: Int = 20, maxBytes: Int? = nil) {
        precondition(!separator.isEmpty && validationEvery >= 2, "a separator and validationEvery >= 2")
        self.separator = separator
        self.validationEvery = validationEvery
        self.maxBytes = maxBytes
    }

    /// What ``split(input:train:validation:)`` wrote.
    package struct Summary: Sendable, Equatable {
        /// Bytes of the input file.
        package var inputBytes: Int
        /// Bytes used (less than `inputBytes` when `maxBytes` cut the input).
        package var usedBytes: Int
        /// Documents (or lines, without separators) in each split.
        package var trainDocuments: Int
        package var validationDocuments: Int
        /// Bytes of each split's file.
        package var trainBytes: Int
        package var validationBytes: Int
        /// False when the input held no separator and was split by lines.
        package var hasSeparators: Bool

        /// True when only a prefix of the input was used.
        package var isTruncated: Bool { usedBytes < inputBytes }
    }

    // MARK: - Splitting

    /// Splits `input` into `train` and `validation`.
    /// - Throws: ``CorpusSplitError`` naming the file: unreadable, not text, or too few
    ///   documents for two splits.
    package func split(input: URL, train: URL, validation: URL) throws -> Summary {
        let (bytes, inputBytes) = try read(input)
        var summary = try split(bytes, source: input.path, train: train, validation: validation)
        summary.inputBytes = inputBytes
        return summary
    }

    /// Splits text already in memory (`source` names it in errors).
    package func split(_ bytes: [UInt8], source: String, train: URL, validation: URL) throws -> Summary {
        let documents = self.documents(in: bytes)
        let hasSeparators = documents.separated
        let ranges = documents.ranges
        guard ranges.count >= 2 else {
            throw CorpusSplitError.tooFewDocuments(path: source, documents: ranges.count, separated: hasSeparators)
        }
        var trainBytes: [UInt8] = [], validationBytes: [UInt8] = []
        trainBytes.reserveCapacity(bytes.count)
        var trainCount = 0, validationCount = 0
        for (index, range) in ranges.enumerated() {
            // The last of each group of `validationEvery`; a short file still gives its last
            // document to validation so both splits exist.
            let toValidation = index % validationEvery == validationEvery - 1
                || (ranges.count < validationEvery && index == ranges.count - 1)
            if toValidation {
                validationBytes.append(contentsOf: bytes[range])
                if !hasSeparators { validationBytes.append(0x0A) }
                validationCount += 1
            } else {
                trainBytes.append(contentsOf: bytes[range])
                if !hasSeparators { trainBytes.append(0x0A) }
                trainCount += 1
            }
        }
        try Self.writeAtomically(trainBytes, to: train)
        try Self.writeAtomically(validationBytes, to: validation)
        return Summary(inputBytes: bytes.count, usedBytes: bytes.count, trainDocuments: trainCount,
                       validationDocuments: validationCount, trainBytes: trainBytes.count,
                       validationBytes: validationBytes.count, hasSeparators: hasSeparators)
    }

    /// The byte ranges of the documents in `bytes`: each ends after its separator and the
    /// line break that follows it. Without any separator, the non-empty lines (without
    /// their line breaks) and `separated` false.
    package func documents(in bytes: [UInt8]) -> (ranges: [Range<Int>], separated: Bool) {
        let pattern = Array(separator.utf8)
        var ranges: [Range<Int>] = []
        var start = 0
        var i = 0
        let n = bytes.count, m = pattern.count
        bytes.withUnsafeBufferPointer { b in
            while i + m <= n {
                if b[i] == pattern[0] && Self.matches(b, at: i, pattern) {
                    var end = i + m
                    if end < n && b[end] == 0x0D { end += 1 }
                    if end < n && b[end] == 0x0A { end += 1 }
                    ranges.append(start..<end)
                    start = end
                    i = end
                } else {
                    i += 1
                }
            }
        }
        if !ranges.isEmpty {
            // Trailing text after the last separator is a document when it holds more than white space.
            if bytes[start...].contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) {
                ranges.append(start..<n)
            }
            return (ranges, true)
        }
        var lines: [Range<Int>] = []
        start = 0
        for index in 0...n where index == n || bytes[index] == 0x0A {
            var end = index
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            if bytes[start..<end].contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines.append(start..<end) }
            start = index + 1
        }
        return (lines, false)
    }

    // MARK: - Reading

    /// The input's bytes (a prefix ending at a document or line boundary when `maxBytes`
    /// cuts it) and the file's whole size.
    func read(_ url: URL) throws -> ([UInt8], Int) {
        let path = url.path
        let size = try Self.inspect(url)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CorpusSplitError.unreadable(path: path, reason: "cannot open it for reading (permissions?)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            if let maxBytes, size > maxBytes {
                data = try handle.read(upToCount: maxBytes) ?? Data()
            } else {
                data = try handle.readToEnd() ?? Data()
            }
        } catch {
            throw CorpusSplitError.unreadable(path: path, reason: error.localizedDescription)
        }
        var bytes = [UInt8](data)
        if bytes.isEmpty { throw CorpusSplitError.empty(path: path) }
        if let maxBytes, size > maxBytes {
            bytes = cutAtBoundary(bytes)
        }
        return (bytes, max(size, bytes.count))
    }

    /// Checks that `url` is a readable, non-empty text file (its first megabyte is
    /// sniffed) before any work is done with it.
    /// - Returns: the file's size in bytes.
    /// - Throws: ``CorpusSplitError`` naming the file and what is wrong with it.
    @discardableResult
    package static func inspect(_ url: URL) throws -> Int {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusSplitError.unreadable(path: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw CorpusSplitError.unreadable(path: path, reason: "is a folder, expected a text file") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CorpusSplitError.unreadable(path: path, reason: "cannot open it for reading (permissions?)")
        }
        defer { try? handle.close() }
        let head: Data
        do {
            head = try handle.read(upToCount: 1 << 20) ?? Data()
        } catch {
            throw CorpusSplitError.unreadable(path: path, reason: error.localizedDescription)
        }
        if head.isEmpty { throw CorpusSplitError.empty(path: path) }
        try checkText([UInt8](head), path: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        return max(size ?? 0, head.count)
    }

    /// `bytes` up to the end of its last whole document (or, without separators, line).
    func cutAtBoundary(_ bytes: [UInt8]) -> [UInt8] {
        let documents = self.documents(in: bytes)
        guard documents.separated, documents.ranges.count >= 2 else {
            if let lastBreak = bytes.lastIndex(of: 0x0A) { return Array(bytes[...lastBreak]) }
            return bytes
        }
        // The final range may be a document cut short by the cap: drop it unless it ended
        // with a separator.
        let pattern = Array(separator.utf8)
        var ranges = documents.ranges
        if let last = ranges.last, !Self.containsSeparator(bytes[last], pattern) { ranges.removeLast() }
        return Array(bytes[..<(ranges.last?.upperBound ?? bytes.count)])
    }

    /// Rejects files that are not text: NUL bytes, or more than 1% invalid UTF-8 in the
    /// first megabyte.
    static func checkText(_ bytes: [UInt8], path: String) throws {
        let sample = bytes.prefix(1 << 20)
        if let offset = sample.firstIndex(of: 0) {
            throw CorpusSplitError.notText(path: path, reason: "it holds a NUL byte at offset \(offset)")
        }
        var invalid = 0
        var iterator = sample.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: invalid += 1
            }
        }
        if invalid * 100 > sample.count {
            throw CorpusSplitError.notText(path: path, reason: "\(invalid) invalid UTF-8 sequences in its first \(sample.count) bytes")
        }
    }

    // MARK: - Helpers

    @inline(__always)
    private static func matches(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ pattern: [UInt8]) -> Bool {
        for k in 1..<pattern.count where b[i + k] != pattern[k] { return false }
        return true
    }

    private static func containsSeparator(_ slice: ArraySlice<UInt8>, _ pattern: [UInt8]) -> Bool {
        guard slice.count >= pattern.count else { return false }
        var i = slice.startIndex
        while i + pattern.count <= slice.endIndex {
            if slice[i..<(i + pattern.count)].elementsEqual(pattern) { return true }
            i += 1
        }
        return false
    }

    /// Writes `bytes` to a temporary file beside `url` and renames it into place.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        do {
            try AtomicFile.write(bytes, to: url)
        } catch {
            throw CorpusSplitError.cannotWrite(path: url.path, reason: error.reason)
        }
    }
}

/// Why a corpus could not be split.
package enum CorpusSplitError: Error, CustomStringConvertible, Equatable {
    /// The file is missing, a folder or unreadable.
    case unreadable(path: String, reason: String)
    /// The file is empty.
    case empty(path: String)
    /// The file is not UTF-8 text.
    case notText(path: String, reason: String)
    /// Fewer than two documents (or lines): nothing to hold out.
    case tooFewDocuments(path: String, documents: Int, separated: Bool)
    /// An output could not be written.
    case cannotWrite(path: String, reason: String)

    package var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .empty(path):
            return "\(path) is empty; expected UTF-8 text with documents separated by <|endoftext|>"
        case let .notText(path, reason):
            return "\(path) does not look like UTF-8 text: \(reason)"
        case let .tooFewDocuments(path, documents, separated):
            let unit = separated ? "document" : "line"
            return "\(path) holds \(documents) \(unit)\(documents == 1 ? "" : "s"); at least 2 are needed "
                + "to hold one out for validation (separate documents with <|endoftext|>)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

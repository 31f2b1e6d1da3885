import FableFormats
import Foundation

// A tokenizer directory holds:
//
//   vocab.json          {"token": id, ...}: every token in GPT-2's byte-to-unicode form
//                        (see ByteLevel.swift), one entry per line in id order.
//   merges.txt          "#version: 0.2" then one merge per line, "left right", both in the
//                        byte-to-unicode form, highest priority first.
//   special_tokens.txt  the special tokens, one per line as plain UTF-8 (optional on load;
//                        an empty file means none).
//   vocab.txt           a listing for people: id, length in bytes, the token as a quoted
//                        string with escapes, and the merge that made it. Never read back.
//
// vocab.json and merges.txt are GPT-2's formats, so the directory also loads with Hugging
// Face's GPT2Tokenizer(vocab_file, merges_file) and CS336's gpt2_bytes_to_unicode helper.

extension Vocabulary {
    // MARK: - File names

    /// The token -> id map in the byte-to-unicode form.
    public static let vocabFileName = "vocab.json"
    /// The merge rules, one per line.
    public static let mergesFileName = "merges.txt"
    /// The special tokens, one per line.
    public static let specialTokensFileName = "special_tokens.txt"
    /// The human-readable listing.
    public static let listingFileName = "vocab.txt"

    /// The header line of merges.txt. Hugging Face's GPT2Tokenizer skips the first line
    /// unconditionally, so it must be there.
    public static let mergesHeader = "#version: 0.2"

    // MARK: - Saving

    /// Writes vocab.json, merges.txt, special_tokens.txt and vocab.txt into `directory`,
    /// creating it when needed. Each file is written to a temporary file and renamed into
    /// place, so a crash never leaves a half-written file.
    ///
    /// - Throws: ``VocabularyFileError`` when a file cannot be written, or when the
    ///   vocabulary cannot be represented (two ids with the same bytes, an empty token in a
    ///   merge, a special token that is empty or holds a line break).
    public func save(to directory: URL) throws {
        let vocabText = try vocabJSONText()
        let mergesText = try self.mergesText()
        let specialsText = try specialTokensText()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw VocabularyFileError.io(path: directory.path, reason: "cannot create the directory (\(error.localizedDescription))")
        }
        try Self.writeAtomically(vocabText, to: directory.appendingPathComponent(Self.vocabFileName))
        try Self.writeAtomically(mergesText, to: directory.appendingPathComponent(Self.mergesFileName))
        try Self.writeAtomically(specialsText, to: directory.appendingPathComponent(Self.specialTokensFileName))
        try Self.writeAtomically(listingText(), to: directory.appendingPathComponent(Self.listingFileName))
    }

    /// The content of vocab.json.
    public func vocabJSONText() throws -> String {
        var seen: [String: Int] = [:]
        var keys: [String] = []
        keys.reserveCapacity(tokens.count)
        for (id, bytes) in tokens.enumerated() {
            let key = ByteLevel.encode(bytes)
            if let other = seen.updateValue(id, forKey: key) {
                throw VocabularyFileError.io(
                    path: Self.vocabFileName,
                    reason: "ids \(other) and \(id) have the same bytes \(Self.readable(bytes)); vocab.json cannot hold both")
            }
            keys.append(key)
        }
        // One entry per line in id order, as Hugging Face writes it (Python's indent=2).
        var writer = JSONWriter(style: .indented(2))
        writer.beginObject()
        for (id, key) in keys.enumerated() {
            writer.key(key)
            writer.integer(id)
        }
        writer.endObject()
        writer.raw("\n")
        return writer.text
    }

    /// The content of merges.txt, header line included.
    public func mergesText() throws -> String {
        var out = Self.mergesHeader + "\n"
        for (rank, merge) in merges.enumerated() {
            guard !merge.left.isEmpty, !merge.right.isEmpty else {
                throw VocabularyFileError.io(path: Self.mergesFileName, reason: "merge \(rank) has an empty side")
            }
            out += ByteLevel.encode(merge.left) + " " + ByteLevel.encode(merge.right) + "\n"
        }
        return out
    }

    /// The content of special_tokens.txt.
    public func specialTokensText() throws -> String {
        var out = ""
        for token in specialTokens {
            if token.isEmpty { throw VocabularyFileError.unsupportedSpecialToken(token, reason: "it is empty") }
            if token.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
                throw VocabularyFileError.unsupportedSpecialToken(token, reason: "it holds a line break, which special_tokens.txt cannot store")
            }
            out += token + "\n"
        }
        return out
    }

    /// Writes `text` through ``AtomicFile``: a temporary file beside `url`, flushed and
    /// renamed into place.
    static func writeAtomically(_ text: String, to url: URL) throws {
        do {
            try AtomicFile.write(text, to: url)
        } catch {
            throw VocabularyFileError.io(path: url.path, reason: "cannot write (\(error))")
        }
    }

    // MARK: - Loading

    /// Loads a tokenizer directory written by ``save(to:)`` (special_tokens.txt may be
    /// missing: no special tokens).
    public static func load(from directory: URL) throws -> Vocabulary {
        let specialsURL = directory.appendingPathComponent(specialTokensFileName)
        var specials: [String] = []
        if FileManager.default.fileExists(atPath: specialsURL.path) {
            specials = try readSpecialTokens(specialsURL)
        }
        return try load(
            vocabJSON: directory.appendingPathComponent(vocabFileName),
            merges: directory.appendingPathComponent(mergesFileName),
            specialTokens: specials)
    }

    /// Loads GPT-2 style vocab.json and merges.txt files from explicit paths.
    ///
    /// - Parameters:
    ///   - vocabJSON: the token -> id file.
    ///   - merges: the merges file; a first line starting with `#version` is skipped.
    ///   - specialTokens: special tokens to use (e.g. `["<|endoftext|>"]` for GPT-2).
    ///     vocab.json keys that are not in the byte-to-unicode form are accepted when
    ///     they equal one of these (stored as their UTF-8 bytes).
    public static func load(vocabJSON: URL, merges: URL, specialTokens: [String] = []) throws -> Vocabulary {
        let tokens = try readVocabJSON(vocabJSON, specialTokens: specialTokens)
        let rules = try readMerges(merges)
        return Vocabulary(tokens: tokens, mergePairs: rules, specialTokens: specialTokens)
    }

    /// Reads a file's bytes, naming the file on failure.
    static func readFile(_ url: URL) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw VocabularyFileError.io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }

    /// Reads vocab.json into tokens indexed by id.
    public static func readVocabJSON(_ url: URL, specialTokens: [String] = []) throws -> [[UInt8]] {
        let bytes = try readFile(url)
        return try bytes.withUnsafeBytes { buffer in
            let members: [JSONParser.Member]
            do {
                members = try JSONParser.parseMembers(buffer)
            } catch let error as JSONParseError {
                throw VocabularyFileError.invalidJSON(path: url.path, line: error.line, column: error.column, reason: error.reason)
            }
            let specials = Set(specialTokens)
            var tokens = [[UInt8]?](repeating: nil, count: members.count)
            var ids: [Int] = []
            ids.reserveCapacity(members.count)
            for entry in members {
                // Located only on failure: counting lines per entry would be quadratic.
                var at: (line: Int, column: Int) { JSONParser.lineAndColumn(of: entry.keyOffset, in: buffer) }
                guard case .number(.integer(let value)) = entry.value, value >= 0, value < Int64(Int32.max) else {
                    throw VocabularyFileError.malformed(
                        path: url.path, line: at.line, column: at.column,
                        expected: "a non-negative integer token id below 2^31 for \(JSONWriter.quoted(entry.key)), found \(entry.value.jsonText)")
                }
                ids.append(Int(value))
            }
            for (entry, id) in zip(members, ids) {
                var at: (line: Int, column: Int) { JSONParser.lineAndColumn(of: entry.keyOffset, in: buffer) }
                guard id < members.count else {
                    throw VocabularyFileError.missingID(path: url.path, id: firstMissingID(ids), count: members.count)
                }
                guard tokens[id] == nil else {
                    throw VocabularyFileError.duplicateID(path: url.path, id: id, line: at.line)
                }
                switch ByteLevel.decode(entry.key) {
                case .success(let decoded):
                    tokens[id] = decoded
                case .failure(let unmapped):
                    guard specials.contains(entry.key) else {
                        throw VocabularyFileError.malformed(
                            path: url.path, line: at.line, column: at.column,
                            expected: "a token in the byte-to-unicode form; character \(unmapped.offset + 1) "
                                + "(U+\(String(unmapped.scalar.value, radix: 16, uppercase: true))) is not one of its 256 characters")
                    }
                    tokens[id] = Array(entry.key.utf8)
                }
            }
            return tokens.map { $0! }
        }
    }

    /// The smallest id in 0... that no entry uses.
    private static func firstMissingID(_ ids: [Int]) -> Int {
        let used = Set(ids)
        var id = 0
        while used.contains(id) { id += 1 }
        return id
    }

    /// Reads merges.txt: an optional `#version` first line, then "left right" lines;
    /// blank lines are skipped and a trailing carriage return is ignored.
    public static func readMerges(_ url: URL) throws -> [MergePair] {
        let bytes = try readFile(url)
        var merges: [MergePair] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }
            var stop = end
            if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
            let line = bytes[start..<stop]
            if line.isEmpty { continue }
            if lineNumber == 1, line.starts(with: Array("#version".utf8)) { continue }
            let spaces = line.indices.filter { line[$0] == 0x20 }
            guard spaces.count == 1, let space = spaces.first, space > start, space + 1 < stop else {
                throw VocabularyFileError.malformed(
                    path: url.path, line: lineNumber, column: 1,
                    expected: "two tokens separated by one space (\"left right\")")
            }
            let left = try decodeMergeToken(line[start..<space], url: url, line: lineNumber, column: 1)
            let right = try decodeMergeToken(line[(space + 1)..<stop], url: url, line: lineNumber, column: space + 1 - start + 1)
            merges.append(MergePair(left, right))
        }
        return merges
    }

    private static func decodeMergeToken(_ utf8: ArraySlice<UInt8>, url: URL, line: Int, column: Int) throws -> [UInt8] {
        guard let text = JSONParser.validatedString(Array(utf8)) else {
            throw VocabularyFileError.malformed(path: url.path, line: line, column: column, expected: "valid UTF-8")
        }
        switch ByteLevel.decode(text) {
        case .success(let decoded): return decoded
        case .failure(let unmapped):
            let offset = text.unicodeScalars.prefix(unmapped.offset).reduce(0) { $0 + String($1).utf8.count }
            throw VocabularyFileError.malformed(
                path: url.path, line: line, column: column + offset,
                expected: "a token in the byte-to-unicode form; U+\(String(unmapped.scalar.value, radix: 16, uppercase: true)) is not one of its 256 characters")
        }
    }

    /// Reads special_tokens.txt: one token per line, blank lines skipped.
    public static func readSpecialTokens(_ url: URL) throws -> [String] {
        let bytes = try readFile(url)
        var tokens: [String] = []
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            if trimmed.isEmpty { continue }
            guard let token = JSONParser.validatedString(Array(trimmed)) else {
                throw VocabularyFileError.malformed(path: url.path, line: index + 1, column: 1, expected: "UTF-8 text")
            }
            tokens.append(token)
        }
        return tokens
    }
}

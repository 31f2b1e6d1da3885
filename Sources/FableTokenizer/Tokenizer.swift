import Foundation

// The byte-level BPE tokenizer: GPT-2's scheme, and CS336's Tokenizer class in Swift.

/// Encodes text to token ids and decodes ids to text with a byte-level BPE vocabulary.
///
/// Encoding matches special tokens first (the longest where several match at one
/// position), splits the text between them with ``GPT2Pretokenizer``, and merges each
/// piece by merge rank. With GPT-2's vocab.json and merges.txt it gives the same ids as
/// tiktoken's `gpt2` encoding.
///
/// A `Tokenizer` is immutable and thread-safe. Its `encode` methods borrow a
/// ``TokenEncoder`` (with a warm piece cache) from a small pool; a thread that encodes a
/// lot can keep its own from ``makeEncoder()``.
public struct Tokenizer: Sendable {
    /// The vocabulary, with missing special tokens appended.
    public let vocabulary: Vocabulary
    let core: TokenizerCore
    let pool: EncoderPool

    /// A tokenizer for `vocabulary`; special tokens whose bytes are not yet tokens are
    /// appended to it.
    ///
    /// - Throws: ``TokenizerError`` when a single byte has no token or a merge names a
    ///   token the vocabulary lacks.
    public init(vocabulary: Vocabulary) throws {
        let full = vocabulary.addingMissingSpecialTokens()
        self.vocabulary = full
        core = try TokenizerCore(full)
        pool = EncoderPool(core: core)
    }

    /// A tokenizer from the trainer's output: tokens by id, merges, special tokens.
    public init(tokens: [[UInt8]], merges: [([UInt8], [UInt8])], specialTokens: [String] = []) throws {
        try self.init(vocabulary: Vocabulary(tokens: tokens, merges: merges, specialTokens: specialTokens))
    }

    /// Loads a tokenizer directory (vocab.json, merges.txt, special_tokens.txt).
    public static func load(from directory: URL) throws -> Tokenizer {
        try Tokenizer(vocabulary: Vocabulary.load(from: directory))
    }

    /// Loads GPT-2 style vocab.json and merges.txt files.
    ///
    /// - Parameters:
    ///   - vocabJSON: the token -> id file.
    ///   - merges: the merges file.
    ///   - specialTokens: special tokens, e.g. `["<|endoftext|>"]` for GPT-2.
    public static func load(vocabJSON: URL, merges: URL, specialTokens: [String] = []) throws -> Tokenizer {
        try Tokenizer(vocabulary: Vocabulary.load(vocabJSON: vocabJSON, merges: merges, specialTokens: specialTokens))
    }

    // MARK: - Properties

    /// The number of token ids (special tokens included).
    public var vocabularySize: Int { vocabulary.count }

    /// The special tokens, in the order given.
    public var specialTokens: [String] { vocabulary.specialTokens }

    /// The id of a special token, or nil when `token` is not one of ``specialTokens``.
    public func specialTokenID(_ token: String) -> Int? {
        let bytes = Array(token.utf8)
        return core.specialTokens.first { $0.bytes == bytes }.map { Int($0.id) }
    }

    /// The bytes of token `id`, or nil when the id is outside the vocabulary.
    public func tokenBytes(_ id: Int) -> [UInt8]? {
        guard id >= 0 && id < vocabulary.count else { return nil }
        return vocabulary.tokens[id]
    }

    // MARK: - Encoding

    /// A new encoding session with its own piece cache (one per thread).
    public func makeEncoder() -> TokenEncoder { TokenEncoder(core: core) }

    /// The token ids of `text`.
    public func encode(_ text: String) -> [Int] { pool.withEncoder { $0.encode(text) } }

    /// The token ids of UTF-8 `bytes` (invalid UTF-8 is encoded byte by byte).
    public func encode(bytes: [UInt8]) -> [Int] {
        var ids: [UInt32] = []
        pool.withEncoder { encoder in bytes.withUnsafeBufferPointer { encoder.encode($0, into: &ids) } }
        return ids.map { Int($0) }
    }

    // MARK: - Decoding

    /// The bytes of the tokens `ids`, concatenated.
    ///
    /// - Throws: ``TokenizerError/unknownTokenID(id:position:vocabularySize:)`` for an id
    ///   outside the vocabulary.
    public func decodeBytes<IDs: Sequence>(_ ids: IDs) throws -> [UInt8] where IDs.Element: BinaryInteger {
        // Ids beyond Int's range cannot be in the vocabulary; clamp them to -1 for the error.
        try decodeBytes(ids.map { Int(exactly: $0) ?? -1 })
    }

    /// The bytes of the tokens `ids`, concatenated (the fast, non-generic form).
    public func decodeBytes(_ ids: [Int]) throws -> [UInt8] {
        try ids.withUnsafeBufferPointer { try decodeBytes(contiguous: $0) }
    }

    /// Two passes: check every id and add up the lengths, then copy each token's bytes.
    private func decodeBytes(contiguous ids: UnsafeBufferPointer<Int>) throws -> [UInt8] {
        let size = core.tokenCount
        let offsets = core.tokenOffsets, source = core.tokenBytes
        var total = 0
        for (position, element) in ids.enumerated() {
            guard element >= 0, element < size else {
                throw TokenizerError.unknownTokenID(id: element, position: position, vocabularySize: size)
            }
            let id = element
            total += offsets[id + 1] - offsets[id]
        }
        if total == 0 { return [] }
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var cursor = buffer.baseAddress!
            for id in ids {
                let start = offsets[id], length = offsets[id + 1] - start
                cursor.update(from: source + start, count: length)
                cursor += length
            }
            initialized = total
        }
    }

    /// The text of the tokens `ids`: their bytes decoded as UTF-8, each malformed sequence
    /// replaced by U+FFFD (as Python's `bytes.decode("utf-8", errors="replace")`).
    public func decode<IDs: Sequence>(_ ids: IDs) throws -> String where IDs.Element: BinaryInteger {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }

    /// The text of the tokens `ids` (the fast, non-generic form).
    public func decode(_ ids: [Int]) throws -> String {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }
}

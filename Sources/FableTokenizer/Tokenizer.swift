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
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.underestimatedCount * 4)
        let size = core.tokenCount
        for (position, element) in ids.enumerated() {
            guard element >= 0, element < size else {
                throw TokenizerError.unknownTokenID(id: Int(truncatingIfNeeded: element), position: position, vocabularySize: size)
            }
            let id = Int(element)
            let start = Int(core.tokenOffsets[id]), end = Int(core.tokenOffsets[id + 1])
            bytes.append(contentsOf: UnsafeBufferPointer(start: core.tokenBytes + start, count: end - start))
        }
        return bytes
    }

    /// The text of the tokens `ids`: their bytes decoded as UTF-8, each malformed sequence
    /// replaced by U+FFFD (as Python's `bytes.decode("utf-8", errors="replace")`).
    public func decode<IDs: Sequence>(_ ids: IDs) throws -> String where IDs.Element: BinaryInteger {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }
}

// MARK: - Encoders for the convenience methods

/// Idle encoders kept for ``Tokenizer/encode(_:)``, so repeated calls find a warm cache.
final class EncoderPool: @unchecked Sendable {
    private let core: TokenizerCore
    private let lock = NSLock()
    private var idle: [TokenEncoder] = []

    init(core: TokenizerCore) { self.core = core }

    func withEncoder<T>(_ body: (TokenEncoder) throws -> T) rethrows -> T {
        lock.lock()
        let encoder = idle.popLast() ?? TokenEncoder(core: core)
        lock.unlock()
        defer {
            lock.lock()
            if idle.count < 8 { idle.append(encoder) }
            lock.unlock()
        }
        return try body(encoder)
    }
}

// MARK: - The shared tables

/// The immutable tables behind a ``Tokenizer``, shared by all its encoders.
final class TokenizerCore: @unchecked Sendable {
    /// The id of each single byte.
    let byteTokens: UnsafeMutablePointer<UInt32>
    /// (left id, right id) -> (rank, merged id).
    let merges: MergeTable
    /// Finds special tokens in text, longest first.
    let specials: SpecialTokenMatcher
    /// Each special token's bytes and id.
    let specialTokens: [(bytes: [UInt8], id: UInt32)]
    /// Every token's bytes, concatenated; token i is tokenBytes[offsets[i]..<offsets[i+1]].
    let tokenBytes: UnsafeMutablePointer<UInt8>
    let tokenOffsets: UnsafeMutablePointer<Int>
    let tokenCount: Int
    /// The tokens that BPE makes from their own bytes (nearly all), by bytes: a piece equal
    /// to one of them encodes to it without merging. Filled once at the end of `init`.
    let wholeTokens = PieceTable(initialSlots: 1024, maximumSlots: 1 << 30)

    init(_ vocabulary: Vocabulary) throws {
        let tokens = vocabulary.tokens
        guard tokens.count < Int(Int32.max) else { throw TokenizerError.vocabularyTooLarge(tokens.count) }
        tokenCount = tokens.count

        // The lowest id of each token's bytes.
        var idOf: [[UInt8]: UInt32] = [:]
        idOf.reserveCapacity(tokens.count)
        for (id, bytes) in tokens.enumerated() where idOf[bytes] == nil { idOf[bytes] = UInt32(id) }

        byteTokens = .allocate(capacity: 256)
        for byte in 0..<256 {
            guard let id = idOf[[UInt8(byte)]] else {
                byteTokens.deallocate()
                throw TokenizerError.missingByteToken(UInt8(byte))
            }
            byteTokens[byte] = id
        }

        var triples: [(left: UInt32, right: UInt32, merged: UInt32)] = []
        triples.reserveCapacity(vocabulary.merges.count)
        for (rank, merge) in vocabulary.merges.enumerated() {
            guard let left = idOf[merge.left] else {
                byteTokens.deallocate()
                throw TokenizerError.mergeTokenMissing(rank: rank, token: merge.left, role: "left token")
            }
            guard let right = idOf[merge.right] else {
                byteTokens.deallocate()
                throw TokenizerError.mergeTokenMissing(rank: rank, token: merge.right, role: "right token")
            }
            guard let merged = idOf[merge.merged] else {
                byteTokens.deallocate()
                throw TokenizerError.mergeTokenMissing(rank: rank, token: merge.merged, role: "merged token")
            }
            triples.append((left, right, merged))
        }
        merges = MergeTable(merges: triples)

        specials = SpecialTokenMatcher(vocabulary.specialTokens)
        // addingMissingSpecialTokens() put every special token in the vocabulary.
        specialTokens = vocabulary.specialTokens.filter { !$0.isEmpty }.map { token in
            let bytes = Array(token.utf8)
            return (bytes, idOf[bytes]!)
        }

        let total = tokens.reduce(0) { $0 + $1.count }
        tokenBytes = .allocate(capacity: max(total, 1))
        tokenOffsets = .allocate(capacity: tokens.count + 1)
        var offset = 0
        for (id, bytes) in tokens.enumerated() {
            tokenOffsets[id] = offset
            if !bytes.isEmpty {
                bytes.withUnsafeBufferPointer { (tokenBytes + offset).update(from: $0.baseAddress!, count: bytes.count) }
            }
            offset += bytes.count
        }
        tokenOffsets[tokens.count] = offset

        // Which tokens merge back from their own bytes; special tokens are never merged.
        let merger = TokenEncoder(core: self)
        let specialIDs = Set(specialTokens.map(\.id))
        for (id, bytes) in tokens.enumerated()
        where bytes.count > 1 && bytes.count <= PieceTable.maximumKeyLength && !specialIDs.contains(UInt32(id))
            && idOf[bytes] == UInt32(id) {
            bytes.withUnsafeBufferPointer { buffer in
                let count = merger.mergeShort(buffer.baseAddress!, bytes.count)
                if count == 1 && merger.tokens[0] == UInt32(id) {
                    wholeTokens.insert(PieceTable.Key(buffer.baseAddress!, bytes.count), ids: merger.tokens, count: 1)
                }
            }
        }
    }

    deinit {
        byteTokens.deallocate()
        tokenBytes.deallocate()
        tokenOffsets.deallocate()
    }

    /// The id of the special token of `length` bytes at `start` (which the matcher found).
    func specialID(in bytes: UnsafeBufferPointer<UInt8>, at start: Int, length: Int) -> UInt32 {
        for special in specialTokens where special.bytes.count == length {
            let equal = special.bytes.withUnsafeBufferPointer {
                memcmp($0.baseAddress!, bytes.baseAddress! + start, length) == 0
            }
            if equal { return special.id }
        }
        preconditionFailure("the special-token matcher reported a token the tokenizer does not know")
    }
}

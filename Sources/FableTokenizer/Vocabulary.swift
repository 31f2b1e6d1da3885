// A byte-level BPE vocabulary: what the trainer produces and the tokenizer consumes.

/// One BPE merge rule: the two tokens (as bytes) that are joined into one.
public struct MergePair: Hashable, Sendable {
    /// The left token's bytes.
    public var left: [UInt8]
    /// The right token's bytes.
    public var right: [UInt8]

    /// A merge of `left` followed by `right`.
    public init(_ left: [UInt8], _ right: [UInt8]) {
        self.left = left
        self.right = right
    }

    /// The bytes of the token the merge produces.
    public var merged: [UInt8] { left + right }
}

/// A byte-level BPE vocabulary: token ids, merge rules in rank order, special tokens.
///
/// It is the in-memory form of a tokenizer directory (vocab.json, merges.txt,
/// special_tokens.txt; see `VocabularyFiles.swift`). Ids are the indices of ``tokens``.
public struct Vocabulary: Equatable, Sendable {
    /// Each token's bytes, indexed by token id.
    public var tokens: [[UInt8]]
    /// Merge rules, highest priority (rank 0) first.
    public var merges: [MergePair]
    /// Strings that are never split: the encoder matches them before pre-tokenizing.
    public var specialTokens: [String]

    /// A vocabulary from its parts, as the BPE trainer produces them.
    ///
    /// - Parameters:
    ///   - tokens: each token's bytes, indexed by id.
    ///   - merges: merge rules in the order they were learned.
    ///   - specialTokens: special token strings; see ``addingMissingSpecialTokens()``.
    public init(tokens: [[UInt8]], merges: [([UInt8], [UInt8])], specialTokens: [String] = []) {
        self.init(tokens: tokens, mergePairs: merges.map { MergePair($0.0, $0.1) }, specialTokens: specialTokens)
    }

    /// A vocabulary from tokens and ``MergePair`` rules.
    public init(tokens: [[UInt8]], mergePairs: [MergePair], specialTokens: [String] = []) {
        self.tokens = tokens
        self.merges = mergePairs
        self.specialTokens = specialTokens
    }

    /// The number of tokens.
    public var count: Int { tokens.count }

    /// The merge rules as byte tuples, the trainer's form.
    public var mergeTuples: [([UInt8], [UInt8])] { merges.map { ($0.left, $0.right) } }

    /// This vocabulary with every special token whose UTF-8 bytes are not yet a token
    /// appended at the end, in the order given (what CS336's tokenizer does).
    public func addingMissingSpecialTokens() -> Vocabulary {
        var copy = self
        var known = Set(tokens)
        for special in specialTokens {
            let bytes = Array(special.utf8)
            if known.insert(bytes).inserted { copy.tokens.append(bytes) }
        }
        return copy
    }

    /// The id of each special token, in ``specialTokens`` order, or nil for one that is
    /// not in ``tokens``. When bytes occur under several ids the lowest id is used.
    public func specialTokenIDs() -> [Int?] {
        var firstID: [[UInt8]: Int] = [:]
        let wanted = Set(specialTokens.map { Array($0.utf8) })
        for (id, bytes) in tokens.enumerated() where wanted.contains(bytes) && firstID[bytes] == nil {
            firstID[bytes] = id
        }
        return specialTokens.map { firstID[Array($0.utf8)] }
    }

    // MARK: - The 256 single bytes

    /// A vocabulary of just the 256 byte values (ids 0-255) and no merges: BPE's start.
    public static var bytes: Vocabulary {
        Vocabulary(tokens: (0..<256).map { [UInt8($0)] }, mergePairs: [])
    }
}

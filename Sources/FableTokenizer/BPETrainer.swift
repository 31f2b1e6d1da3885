import Foundation

/// Trains a byte-level BPE tokenizer with the semantics of CS336 Assignment 1 and GPT-2.
///
/// - The initial vocabulary is the special tokens (ids `0..<specials`) followed by the 256
///   byte values (id `specials + byte`).
/// - The text between special tokens is split with ``GPT2Pretokenizer``; special tokens
///   never take part in merges and no merge crosses a piece or a special token.
/// - Each step merges the most frequent adjacent pair, ties broken by the lexicographically
///   greatest pair of byte strings, until the vocabulary holds `vocabSize` tokens or no
///   pair is left.
///
/// Invalid UTF-8 in the input is replaced by U+FFFD, one per maximal ill-formed subpart,
/// exactly as Python reads a file with `errors="replace"`; the statistics report how many
/// replacements were made and where the first one was.
///
/// Pre-tokenization streams the input in chunks cut at special tokens and counts them on
/// several threads, so memory grows with the number of distinct pre-tokens, not with the
/// input size. Merging keeps pair counts up to date incrementally, with a pair-to-words
/// index and a priority queue with lazy invalidation.
public struct BPETrainer: Sendable {
    /// Training options.
    public struct Configuration: Sendable {
        /// The final vocabulary size, special tokens and the 256 bytes included.
        public var vocabSize: Int
        /// Special tokens, given ids `0..<count` in this order; never merged.
        public var specialTokens: [String]
        /// Threads used for pre-tokenization (default: every active core).
        public var threads: Int
        /// Target chunk size in bytes; nil picks one from the input size and thread count.
        public var chunkSize: Int?

        /// - Parameters:
        ///   - vocabSize: the final vocabulary size (at least 256 + special tokens).
        ///   - specialTokens: special tokens such as `<|endoftext|>`.
        ///   - threads: pre-tokenization threads (1 or more).
        ///   - chunkSize: target bytes per chunk; nil to choose automatically.
        public init(vocabSize: Int, specialTokens: [String] = [],
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount, chunkSize: Int? = nil) {
            self.vocabSize = vocabSize
            self.specialTokens = specialTokens
            self.threads = threads
            self.chunkSize = chunkSize
        }
    }

    /// What the trainer is doing, for progress displays.
    public enum Progress: Sendable {
        /// Pre-tokenization has read `bytesDone` of `bytesTotal` (nil when unknown).
        case pretokenizing(bytesDone: Int, bytesTotal: Int?)
        /// `done` of at most `total` merges are made.
        case merging(done: Int, total: Int)
    }

    /// The validated options.
    public let configuration: Configuration

    /// The most pre-tokenization threads accepted (each holds its own counts).
    public static let maximumThreads = 1024

    /// Checks the options.
    /// - Throws: ``BPETrainerError`` naming the option that is out of range.
    public init(_ configuration: Configuration) throws {
        let minimum = 256 + configuration.specialTokens.count
        let maximum = Int(Int32.max)
        guard configuration.vocabSize >= minimum && configuration.vocabSize <= maximum else {
            throw BPETrainerError.vocabSizeOutOfRange(
                requested: configuration.vocabSize, minimum: minimum, maximum: maximum)
        }
        var seen = Set<String>()
        for (index, token) in configuration.specialTokens.enumerated() {
            if token.isEmpty { throw BPETrainerError.emptySpecialToken(index: index) }
            if !seen.insert(token).inserted { throw BPETrainerError.duplicateSpecialToken(token) }
            // Checked now rather than when the files are written, after all the training.
            if token.utf8.count == 1 {
                throw BPETrainerError.unsupportedSpecialToken(token, reason: "it is a single byte, which is already a token of its own")
            }
            if token.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
                throw BPETrainerError.unsupportedSpecialToken(token, reason: "it holds a line break, which special_tokens.txt cannot store")
            }
        }
        guard configuration.threads >= 1 && configuration.threads <= BPETrainer.maximumThreads else {
            throw BPETrainerError.invalidThreadCount(configuration.threads)
        }
        if let size = configuration.chunkSize, size < 1 { throw BPETrainerError.invalidChunkSize(size) }
        self.configuration = configuration
    }

    // MARK: - Training

    /// Trains on the text file at `path`, streaming it.
    /// - Parameters:
    ///   - path: a UTF-8 text file (invalid bytes are replaced, see the type's notes).
    ///   - progress: called now and then from the calling thread.
    /// - Throws: ``BPETrainerError`` when the file is missing or unreadable.
    public func train(file path: String, progress: ((Progress) -> Void)? = nil) throws -> BPETrainingResult {
        try train(source: FileByteSource(path: path), progress: progress)
    }

    /// Trains on UTF-8 bytes in memory.
    public func train(bytes: [UInt8], progress: ((Progress) -> Void)? = nil) throws -> BPETrainingResult {
        try train(source: MemoryByteSource(bytes), progress: progress)
    }

    /// Trains on a string.
    public func train(text: String, progress: ((Progress) -> Void)? = nil) throws -> BPETrainingResult {
        try train(bytes: Array(text.utf8), progress: progress)
    }

    func train(source: ByteSource, progress: ((Progress) -> Void)?) throws -> BPETrainingResult {
        let clock = ContinuousClock()
        let pretokenStart = clock.now
        let specials = configuration.specialTokens
        let maxMerges = configuration.vocabSize - 256 - specials.count
        var engine: BPEMergeEngine
        var statistics: BPETrainingStatistics
        var mergeStart = clock.now
        do {
            // The counts are released once the engine has its own copy of the words.
            let counted = try countPretokens(source: source, progress: progress)
            statistics = BPETrainingStatistics(
                inputBytes: counted.inputBytes,
                pretokens: counted.pretokens,
                distinctPretokens: counted.counts.count,
                chunks: counted.chunks,
                invalidUTF8Replacements: counted.replacements,
                firstInvalidUTF8Offset: counted.firstInvalidOffset,
                pretokenizeSeconds: (clock.now - pretokenStart).seconds,
                mergeSeconds: 0)
            mergeStart = clock.now
            engine = BPEMergeEngine(counts: counted.counts, firstByteId: specials.count,
                                    vocabCapacity: configuration.vocabSize)
        }
        defer { engine.deallocate() }
        let merged = engine.run(maxMerges: maxMerges) { done in
            progress?(.merging(done: done, total: maxMerges))
        }
        statistics.mergeSeconds = (clock.now - mergeStart).seconds

        var tokens: [[UInt8]] = specials.map { Array($0.utf8) }
        tokens += (0..<256).map { [UInt8($0)] }
        tokens += merged.map(\.merged)
        return BPETrainingResult(
            vocabulary: Vocabulary(tokens: tokens, mergePairs: merged, specialTokens: specials),
            statistics: statistics)
    }
}

// MARK: - Result

/// A trained byte-level BPE tokenizer and how the training went.
public struct BPETrainingResult: Sendable, Equatable {
    /// The tokens (special tokens, the 256 bytes, then one per merge), the merges in the
    /// order they were learned, and the special tokens. Save it with `save(to:)`.
    public var vocabulary: Vocabulary
    /// Sizes and timings of the run.
    public var statistics: BPETrainingStatistics

    /// The longest learned or byte token (special tokens left out): its id and bytes;
    /// ties go to the lowest id.
    public var longestToken: (id: Int, bytes: [UInt8])? {
        var best: (id: Int, bytes: [UInt8])?
        let tokens = vocabulary.tokens
        for id in vocabulary.specialTokens.count..<tokens.count where tokens[id].count > (best?.bytes.count ?? -1) {
            best = (id, tokens[id])
        }
        return best
    }

    /// Results are equal when their vocabularies are (timings differ between runs).
    public static func == (lhs: BPETrainingResult, rhs: BPETrainingResult) -> Bool {
        lhs.vocabulary == rhs.vocabulary
    }
}

/// Sizes and timings of a training run.
public struct BPETrainingStatistics: Sendable {
    /// Bytes read from the input.
    public var inputBytes: Int
    /// Pre-tokens counted (pieces between special tokens).
    public var pretokens: Int
    /// Distinct pre-tokens.
    public var distinctPretokens: Int
    /// Chunks the input was cut into.
    public var chunks: Int
    /// Maximal ill-formed UTF-8 subparts replaced by U+FFFD.
    public var invalidUTF8Replacements: Int
    /// The byte offset of the first invalid UTF-8 byte, if any.
    public var firstInvalidUTF8Offset: Int?
    /// Wall time of reading and pre-tokenization.
    public var pretokenizeSeconds: Double
    /// Wall time of the merge loop.
    public var mergeSeconds: Double
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}

import Foundation

// The encoding loop: special tokens first, then GPT-2 pre-tokenization of the text between
// them, then BPE within each piece (TokenEncoder+Merge.swift), with a piece cache.

/// An encoding session: the tokenizer's tables plus a piece cache and scratch memory.
///
/// Reuse one encoder for many texts to keep its cache warm. An encoder is not
/// thread-safe: give each thread its own (``Tokenizer/makeEncoder()``).
public final class TokenEncoder {
    let core: TokenizerCore
    /// The ids of pieces this encoder has merged that are not single tokens.
    let cache = PieceTable(initialSlots: 1024, maximumSlots: 1 << 16)
    /// The number of special tokens this encoder has produced (documents, for text
    /// separated by <|endoftext|>).
    public private(set) var specialTokensEmitted = 0

    /// Scratch for merging one piece: token ids, and per adjacent pair (rank << 32 | merged id).
    var tokens: UnsafeMutablePointer<UInt32>
    var pairs: UnsafeMutablePointer<UInt64>
    var scratchCapacity: Int

    init(core: TokenizerCore) {
        self.core = core
        scratchCapacity = 256
        tokens = .allocate(capacity: scratchCapacity)
        pairs = .allocate(capacity: scratchCapacity)
    }

    deinit {
        tokens.deallocate()
        pairs.deallocate()
    }

    // MARK: - Public entry points

    /// Encodes `text`, matching the tokenizer's special tokens.
    public func encode(_ text: String) -> [Int] {
        var ids: [UInt32] = []
        var copy = text
        copy.withUTF8 { encode($0, into: &ids) }
        return ids.map { Int($0) }
    }

    /// Encodes UTF-8 bytes, appending the ids to `ids`. Bytes that are not valid UTF-8
    /// are encoded as they are (each is a symbol to the pre-tokenizer).
    ///
    /// - Parameters:
    ///   - bytes: the text.
    ///   - ids: receives the token ids.
    ///   - specialTokens: false to treat special-token text as ordinary text.
    public func encode(_ bytes: UnsafeBufferPointer<UInt8>, into ids: inout [UInt32], specialTokens: Bool = true) {
        guard bytes.count > 0 else { return }
        ids.reserveCapacity(ids.count + bytes.count / 3 + 16)
        let matcher = core.specials
        if !specialTokens || matcher.isEmpty {
            encodeOrdinary(bytes, into: &ids)
            return
        }
        var start = 0
        while let match = matcher.nextMatch(in: bytes, from: start) {
            if match.start > start {
                encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start..<match.start]), into: &ids)
            }
            ids.append(core.specialID(in: bytes, at: match.start, length: match.length))
            specialTokensEmitted += 1
            start = match.start + match.length
        }
        if start < bytes.count {
            encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start...]), into: &ids)
        }
    }

    /// Encodes text that holds no special tokens: pre-tokenize, then merge each piece.
    func encodeOrdinary(_ bytes: UnsafeBufferPointer<UInt8>, into ids: inout [UInt32]) {
        guard let base = bytes.baseAddress else { return }
        let byteTokens = core.byteTokens
        let wholeTokens = core.wholeTokens.view
        var cached = cache.view
        GPT2Pretokenizer.forEachPiece(in: bytes) { range in
            let piece = base + range.lowerBound
            let count = range.count
            if count == 1 {
                ids.append(byteTokens[Int(piece[0])])
                return
            }
            if count <= PieceTable.maximumKeyLength {
                let key = PieceTable.Key(piece, count)
                // The cache holds the pieces this encoder has seen, densely; the table of
                // whole tokens is large, so it is asked only on a cache miss.
                if cached.lookup(key, into: &ids) { return }
                let merged: Int
                if let id = wholeTokens.single(key) {
                    tokens[0] = id
                    merged = 1
                } else {
                    merged = mergeShort(piece, count)
                }
                cache.insert(key, ids: tokens, count: merged)
                cached = cache.view
                appendScratch(merged, to: &ids)
                return
            }
            let merged = count <= Self.heapThreshold ? mergeShort(piece, count) : mergeLong(piece, count)
            appendScratch(merged, to: &ids)
        }
    }

    @inline(__always)
    private func appendScratch(_ count: Int, to ids: inout [UInt32]) {
        for index in 0..<count { ids.append(tokens[index]) }
    }

    /// Pieces longer than this many bytes are merged with a heap (O(n log n)) instead of
    /// the quadratic scan that is fastest for short pieces.
    static let heapThreshold = 128

    /// Makes the scratch buffers hold at least `count` entries.
    func reserveScratch(_ count: Int) {
        guard count > scratchCapacity else { return }
        tokens.deallocate()
        pairs.deallocate()
        scratchCapacity = max(count, scratchCapacity * 2)
        tokens = .allocate(capacity: scratchCapacity)
        pairs = .allocate(capacity: scratchCapacity)
    }
}

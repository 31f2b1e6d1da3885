import Foundation

// The immutable tables a Tokenizer shares among its encoders, and the pool of encoders
// behind Tokenizer.encode(_:).

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

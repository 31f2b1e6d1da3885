// Errors from building a tokenizer and from decoding ids.

/// A tokenizer could not be built, or ids could not be decoded.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The vocabulary has no token for a single byte, so some text could not be encoded.
    case missingByteToken(UInt8)
    /// A merge rule names a token, or produces one, that the vocabulary lacks.
    case mergeTokenMissing(rank: Int, token: [UInt8], role: String)
    /// An id passed to decode is not in the vocabulary.
    case unknownTokenID(id: Int, position: Int, vocabularySize: Int)
    /// The vocabulary has more tokens than ids can address (2^31).
    case vocabularyTooLarge(Int)

    public var description: String {
        switch self {
        case let .missingByteToken(byte):
            return "the vocabulary has no token for the single byte 0x\(String(byte, radix: 16, uppercase: true)); "
                + "a byte-level BPE vocabulary needs all 256"
        case let .mergeTokenMissing(rank, token, role):
            return "merge \(rank) (line \(rank + 1) of merges.txt after any #version line): its \(role) "
                + "\(Vocabulary.readable(token)) is not in the vocabulary"
        case let .unknownTokenID(id, position, size):
            return "token id \(id) at position \(position) is not in the vocabulary (ids are 0..<\(size))"
        case let .vocabularyTooLarge(count):
            return "the vocabulary has \(count) tokens; at most 2^31 are supported"
        }
    }
}

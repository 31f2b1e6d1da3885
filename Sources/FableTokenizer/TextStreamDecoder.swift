/// Turns a stream of token ids into text as it arrives, for printing generated text live.
///
/// A byte-level BPE token can end in the middle of a multi-byte UTF-8 character; the rest
/// arrives with the next token. The decoder returns the text of every complete character
/// and holds back the bytes of an unfinished one, so the pieces concatenate to exactly
/// ``Tokenizer/decode(_:)`` of all the ids (malformed bytes become U+FFFD there and here).
///
/// ```swift
/// var decoder = TextStreamDecoder(tokenizer: tokenizer)
/// for id in stream { print(try decoder.append(id), terminator: "") }
/// print(decoder.finish())
/// ```
public struct TextStreamDecoder {
    public let tokenizer: Tokenizer
    /// Bytes of an unfinished character, waiting for the next token.
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// The bytes held back so far (at most 3).
    public var pendingByteCount: Int { pending.count }

    /// The text that token `id` completes (possibly empty).
    /// - Throws: ``TokenizerError/unknownTokenID(id:position:vocabularySize:)`` for an id
    ///   outside the vocabulary.
    public mutating func append(_ id: Int) throws -> String {
        pending += try tokenizer.decodeBytes([id])
        return takeComplete()
    }

    /// The text that `bytes` complete, for callers with raw bytes.
    public mutating func append(bytes: [UInt8]) -> String {
        pending += bytes
        return takeComplete()
    }

    /// Everything still held back (an unfinished character becomes U+FFFD); the decoder is
    /// empty afterwards.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Decodes and removes every byte before the unfinished tail, if there is one.
    private mutating func takeComplete() -> String {
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// The length of `bytes` without a trailing unfinished character: a lead byte followed
    /// by fewer continuation bytes than it needs, each in its allowed range. Cutting there
    /// never changes the decoding, because the held-back part starts at a lead byte, which
    /// no earlier sequence can extend into.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let count = bytes.count
        // An unfinished character is at most 3 bytes long: look at the last 3 positions.
        for start in stride(from: count - 1, through: max(0, count - 3), by: -1) {
            let lead = bytes[start]
            if (0x80...0xBF).contains(lead) { continue }   // a continuation byte: the lead may be earlier
            // ASCII or an invalid byte: nothing to wait for.
            guard let rule = UTF8Repair.continuation(after: lead) else { return count }
            let have = count - start - 1
            guard have < rule.needed else { return count }   // complete (or over-long): emit all
            for k in stride(from: 1, through: have, by: 1) where !UTF8Repair.accepts(bytes[start + k], at: k, rule) {
                return count   // already malformed
            }
            return start
        }
        return count
    }
}

import Testing
@testable import FableTokenizer

/// Streaming text: the pieces must concatenate to the decoding of all the bytes at once,
/// whatever the split, including malformed UTF-8.
@Suite("TextStreamDecoder")
struct TextStreamDecoderTests {
    /// Feeds `bytes` in the given chunk sizes and returns the pieces.
    static func pieces(_ bytes: [UInt8], chunks: [Int]) -> [String] {
        var decoder = TextStreamDecoder(tokenizer: try! Tokenizer(vocabulary: .bytes))
        var out: [String] = [], i = 0, c = 0
        while i < bytes.count {
            let size = min(max(1, chunks[c % chunks.count]), bytes.count - i)
            out.append(decoder.append(bytes: Array(bytes[i..<(i + size)])))
            i += size
            c += 1
        }
        out.append(decoder.finish())
        return out
    }

    @Test("token by token, multi-byte characters come out whole")
    func tokenByToken() throws {
        let tokenizer = try Tokenizer(vocabulary: .bytes)   // one token per byte: every split happens
        let text = "Grüße, 世界! 🙂👍🏽 done"
        let ids = Array(text.utf8).map { Int($0) }
        var decoder = TextStreamDecoder(tokenizer: tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(try decoder.append(id)) }
        pieces.append(decoder.finish())
        #expect(pieces.joined() == text)
        #expect(pieces.joined() == (try tokenizer.decode(ids)))
        #expect(!pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") }, "no piece holds half a character")
        #expect(pieces.filter { !$0.isEmpty }.count < ids.count, "some bytes were held back")
    }

    @Test("any split of any bytes concatenates to the whole decoding")
    func randomBytes() {
        var rng = SplitMix(state: 8)
        let alphabet: [UInt8] = [0x41, 0x20, 0x80, 0x9F, 0xA0, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF,
                                 0xF0, 0xF1, 0xF4, 0xF5, 0xFF, 0x8F, 0x90]
        for trial in 0..<300 {
            let count = rng.nextInt(below: 40)
            let bytes = (0..<count).map { _ in alphabet[rng.nextInt(below: alphabet.count)] }
            let chunks = (0..<5).map { _ in 1 + rng.nextInt(below: 4) }
            let whole = String(decoding: bytes, as: UTF8.self)
            #expect(Self.pieces(bytes, chunks: chunks).joined() == whole, "trial \(trial): \(bytes)")
        }
    }

    @Test("an unfinished character at the end becomes U+FFFD")
    func unfinishedTail() {
        var decoder = TextStreamDecoder(tokenizer: try! Tokenizer(vocabulary: .bytes))
        #expect(decoder.append(bytes: [0x61, 0xE2, 0x82]) == "a")
        #expect(decoder.pendingByteCount == 2)
        #expect(decoder.finish() == "\u{FFFD}")
        #expect(decoder.pendingByteCount == 0)
        #expect(decoder.append(bytes: [0xE2, 0x82, 0xAC]) == "€")
    }

    @Test("an unknown id is an error")
    func unknownID() {
        var decoder = TextStreamDecoder(tokenizer: try! Tokenizer(vocabulary: .bytes))
        #expect(throws: TokenizerError.self) { try decoder.append(256) }
    }
}

/// A tiny deterministic generator for the split test (SplitMix64).
private struct SplitMix {
    var state: UInt64
    mutating func nextInt(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

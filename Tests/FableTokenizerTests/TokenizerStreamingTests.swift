import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

@Suite("Streaming encoding", .enabled(if: TestData.sharedAvailable, "needs ../shared (GPT-2 vocab)"))
struct TokenizerStreamingTests {
    /// `text` cut into chunks of `size` characters.
    static func chunks(_ text: String, size: Int) -> [String] {
        var result: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let end = text.index(index, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            result.append(String(text[index..<end]))
            index = end
        }
        return result
    }

    @Test("streamed ids equal whole-text ids for small chunks", arguments: [1, 3, 7, 64])
    func streamEqualsWhole(_ size: Int) throws {
        let fixture = try #require(GPT2EncodingFixture.shared)
        for name in ["tinystories_sample.txt", "address.txt", "german.txt", "overlapping special tokens",
                     "trailing newlines before special token", "contractions", "whitespace runs", "partial special token"] {
            let item = try #require(fixture.cases.first { $0.name == name })
            let text = try fixture.text(of: item)
            let tokenizer = try GPT2.tokenizer(item.special_tokens)
            var stream = tokenizer.encode(chunks: Self.chunks(text, size: size))
            stream.batchBytes = 1  // encode after every chunk: the most cuts
            #expect(Array(stream) == item.ids, "\(name), chunks of \(size)")
        }
    }

    @Test("the default batch size gives the same ids, empty chunks included")
    func defaultBatch() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>"])
        let text = try String(contentsOf: TestData.shared("fixtures/corpus.en"), encoding: .utf8)
        let chunks = Self.chunks(text, size: 4096).flatMap { [$0, ""] }
        #expect(Array(tokenizer.encode(chunks: chunks)) == tokenizer.encode(text))
        #expect(Array(tokenizer.encode(chunks: [String]())) == [])
    }

    @Test("memory stays flat: the held-back text and pending ids stay small on a long input")
    func flatMemory() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>"])
        let sample = try String(contentsOf: TestData.shared("fixtures/tinystories_sample.txt"), encoding: .utf8)
        let text = String(repeating: sample, count: 40)  // 150 kB: several 64 KiB batches
        let chunks = Self.chunks(text, size: 4096)
        var iterator = tokenizer.encode(chunks: chunks).makeIterator()
        var ids: [Int] = []
        var largestPending = 0, largestReady = 0
        while let id = iterator.next() {
            ids.append(id)
            largestPending = max(largestPending, iterator.pending.count)
            largestReady = max(largestReady, iterator.ready.count)
        }
        #expect(ids == tokenizer.encode(text))
        // One 64 KiB batch plus one chunk, and the ids of one batch.
        #expect(largestPending <= (1 << 16) + 4096 * 4)
        #expect(largestReady <= (1 << 16))
    }

    @Test("every final prefix encodes on its own as within the whole text")
    func finalPrefixIsFinal() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>", "<|endoftext|><|endoftext|>"])
        let encoder = tokenizer.makeEncoder()
        let alphabet = [" ", "  ", "\n", "\n\n", "\t", "'", "s", "re", "ll", "ve", "a", "The", "é", "1", "23", "!", "?!",
                        "\u{3000}", "🙃", "<|endoftext|>", "<|end", "oftext|>", "<", "|"]
        var rng = StreamTestRandom(seed: 7)
        for _ in 0..<150 {
            let text = (0..<24).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            let bytes = Array(text.utf8)
            let whole = tokenizer.encode(bytes: bytes)
            for known in stride(from: 0, through: bytes.count, by: 3) {
                let cut = bytes.withUnsafeBufferPointer {
                    encoder.finalPrefixLength(of: UnsafeBufferPointer(rebasing: $0[..<known]))
                }
                #expect(cut <= known)
                let parts = tokenizer.encode(bytes: Array(bytes[..<cut])) + tokenizer.encode(bytes: Array(bytes[cut...]))
                #expect(parts == whole, "\(text.debugDescription) cut at \(cut) of \(known)")
            }
        }
    }
}

/// A tiny seeded generator (SplitMix64) so failures reproduce.
private struct StreamTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

/// The expected ids, written by Scripts/reference/tokenizer_fixtures.py with tiktoken.
struct GPT2EncodingFixture: Decodable {
    struct Case: Decodable {
        var name: String
        var text: String?
        var file: String?
        var prefix_bytes: Int?
        var special_tokens: [String]
        var ids: [Int]
    }
    struct DecodeCase: Decodable {
        var ids: [Int]
        var text: String
    }
    var cases: [Case]
    var decodes: [DecodeCase]

    static let shared: GPT2EncodingFixture? = try? TestData.jsonFixture("tokenizer/gpt2_encodings.json")

    /// The text of a case: inline, or read from the shared folder.
    func text(of item: Case) throws -> String {
        if let text = item.text { return text }
        let data = try Data(contentsOf: TestData.shared(item.file!))
        return String(decoding: data.prefix(item.prefix_bytes ?? data.count), as: UTF8.self)
    }
}

/// GPT-2 tokenizers, loaded once per special-token set.
enum GPT2 {
    static let lock = NSLock()
    nonisolated(unsafe) static var loaded: [[String]: Tokenizer] = [:]

    static func tokenizer(_ specials: [String]) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let known = loaded[specials] { return known }
        let made = try Tokenizer.load(
            vocabJSON: TestData.shared("fixtures/gpt2_vocab.json"),
            merges: TestData.shared("fixtures/gpt2_merges.txt"),
            specialTokens: specials)
        loaded[specials] = made
        return made
    }
}

@Suite("Tokenizer matches tiktoken's GPT-2", .enabled(if: TestData.sharedAvailable, "needs ../shared (GPT-2 vocab)"))
struct TokenizerGPT2Tests {
    static var caseNames: [String] { GPT2EncodingFixture.shared?.cases.map(\.name) ?? [] }

    @Test("encode gives tiktoken's ids and decode gives the text back", arguments: caseNames)
    func encodeMatches(_ name: String) throws {
        let fixture = try #require(GPT2EncodingFixture.shared)
        let item = try #require(fixture.cases.first { $0.name == name })
        let text = try fixture.text(of: item)
        let tokenizer = try GPT2.tokenizer(item.special_tokens)
        let ids = tokenizer.encode(text)
        #expect(ids == item.ids)
        #expect(try tokenizer.decode(ids) == text)
    }

    @Test("the overlapping special token gets its own id after 50256")
    func overlappingSpecialID() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>", "<|endoftext|><|endoftext|>"])
        #expect(tokenizer.vocabularySize == 50258)
        #expect(tokenizer.specialTokenID("<|endoftext|>") == 50256)
        #expect(tokenizer.specialTokenID("<|endoftext|><|endoftext|>") == 50257)
        let ids = tokenizer.encode("Hello, how <|endoftext|><|endoftext|> are you?<|endoftext|>")
        #expect(ids.filter { $0 == 50257 }.count == 1 && ids.filter { $0 == 50256 }.count == 1)
    }

    @Test("decode replaces malformed UTF-8 with U+FFFD as Python does")
    func decodeReplacement() throws {
        let fixture = try #require(GPT2EncodingFixture.shared)
        let tokenizer = try GPT2.tokenizer([])
        for item in fixture.decodes {
            #expect(try tokenizer.decode(item.ids) == item.text, "ids \(item.ids)")
        }
    }

    @Test("ids outside the vocabulary are an error naming the id and position")
    func unknownID() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>"])
        #expect(throws: TokenizerError.unknownTokenID(id: 50257, position: 2, vocabularySize: 50257)) {
            try tokenizer.decode([1, 2, 50257])
        }
        #expect(throws: TokenizerError.unknownTokenID(id: -1, position: 0, vocabularySize: 50257)) {
            try tokenizer.decode([-1])
        }
    }

    @Test("long pieces take the heap path and agree with the scan")
    func heapAgreesWithScan() throws {
        let tokenizer = try GPT2.tokenizer([])
        let encoder = tokenizer.makeEncoder()
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzéü".utf8)
        for length in [129, 200, 1000] {
            let bytes = (0..<length).map { _ in alphabet[Int.random(in: 0..<26, using: &generator)] }
            let viaHeap = bytes.withUnsafeBufferPointer { buffer -> [UInt32] in
                let count = encoder.mergeLong(buffer.baseAddress!, length)
                return Array(UnsafeBufferPointer(start: encoder.tokens, count: count))
            }
            let viaScan = bytes.withUnsafeBufferPointer { buffer -> [UInt32] in
                let count = encoder.mergeShort(buffer.baseAddress!, length)
                return Array(UnsafeBufferPointer(start: encoder.tokens, count: count))
            }
            #expect(viaHeap == viaScan, "length \(length)")
        }
    }
}

@Suite("Tokenizer construction")
struct TokenizerConstructionTests {
    @Test("a merge naming an unknown token is an error")
    func missingMergeToken() {
        let tokens = (0..<256).map { [UInt8($0)] }
        #expect(throws: TokenizerError.mergeTokenMissing(rank: 0, token: [0x61, 0x62], role: "merged token")) {
            try Tokenizer(tokens: tokens, merges: [([0x61], [0x62])])
        }
    }

    @Test("a vocabulary without every byte is an error")
    func missingByte() {
        #expect(throws: TokenizerError.missingByteToken(255)) {
            try Tokenizer(tokens: (0..<255).map { [UInt8($0)] }, merges: [])
        }
    }

    @Test("a small trained vocabulary encodes by merge rank and round-trips")
    func smallVocabulary() throws {
        // Merges: "a"+"b", "ab"+"c", "b"+"c" (later, so "abc" wins over "a"+"bc").
        var tokens = (0..<256).map { [UInt8($0)] }
        tokens += [[0x61, 0x62], [0x61, 0x62, 0x63], [0x62, 0x63]]
        let tokenizer = try Tokenizer(
            tokens: tokens, merges: [([0x61], [0x62]), ([0x61, 0x62], [0x63]), ([0x62], [0x63])],
            specialTokens: ["<s>"])
        #expect(tokenizer.vocabularySize == 260)
        #expect(tokenizer.encode("abc bc abcbc<s>") == [257, 32, 258, 32, 257, 258, 259])
        #expect(try tokenizer.decode(tokenizer.encode("abc bc abcbc<s>")) == "abc bc abcbc<s>")
        #expect(tokenizer.encode("") == [])
    }

    @Test("a token that BPE does not rebuild from its own bytes is not taken as a whole")
    func unreachableToken() throws {
        // "b"+"c" ranks first, so "abc" merges to "a", "bc" although "abc" is a token.
        var tokens = (0..<256).map { [UInt8($0)] }
        tokens += [[0x62, 0x63], [0x61, 0x62], [0x61, 0x62, 0x63]]
        let tokenizer = try Tokenizer(
            tokens: tokens, merges: [([0x62], [0x63]), ([0x61], [0x62]), ([0x61, 0x62], [0x63])])
        #expect(tokenizer.encode("abc abc") == [97, 256, 32, 97, 256])
        #expect(tokenizer.encode("ab") == [257])
    }
}

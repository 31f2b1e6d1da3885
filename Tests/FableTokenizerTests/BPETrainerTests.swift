import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

@Suite("BPE trainer")
struct BPETrainerTests {
    private func train(_ text: String, vocabSize: Int, specials: [String] = ["<|endoftext|>"],
                       threads: Int = 1, chunkSize: Int? = nil) throws -> BPETrainingResult {
        let trainer = try BPETrainer(.init(vocabSize: vocabSize, specialTokens: specials,
                                           threads: threads, chunkSize: chunkSize))
        return try trainer.train(text: text)
    }

    @Test("corpus.en at vocab 500 equals the CS336 reference", .enabled(if: TestData.sharedAvailable, "needs ../shared"))
    func matchesReference() throws {
        let trainer = try BPETrainer(.init(vocabSize: 500, specialTokens: ["<|endoftext|>"], threads: 2))
        let result = try trainer.train(file: TestData.shared("fixtures/corpus.en").path)

        // The reference files are in GPT-2's byte-to-unicode form.
        let reference = try Vocabulary.load(
            vocabJSON: TestData.shared("fixtures/train-bpe-reference-vocab.json"),
            merges: TestData.shared("fixtures/train-bpe-reference-merges.txt"),
            specialTokens: ["<|endoftext|>"])
        #expect(reference.merges.count == 243)
        #expect(result.vocabulary.merges == reference.merges)
        #expect(result.vocabulary.tokens.count == 500)
        #expect(Set(result.vocabulary.tokens) == Set(reference.tokens))
        #expect(result.vocabulary.tokens[0] == Array("<|endoftext|>".utf8))
        #expect(result.vocabulary.tokens[1] == [0] && result.vocabulary.tokens[256] == [255])
    }
    // MARK: - Golden cases from the naive Python trainer

    private struct GoldenCase: Decodable {
        let name: String
        let inputHex: String
        let specialTokens: [String]
        let vocabSize: Int
        let mergesHex: [[String]]

        enum CodingKeys: String, CodingKey {
            case name
            case inputHex = "input_hex"
            case specialTokens = "special_tokens"
            case vocabSize = "vocab_size"
            case mergesHex = "merges_hex"
        }
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)!
        }
    }

    @Test("golden cases equal the naive Python trainer, for any threads and chunk size")
    func goldenCases() throws {
        let cases: [GoldenCase] = try TestData.jsonFixture("tokenizer/bpe_train_cases.json")
        #expect(cases.count >= 8)
        for golden in cases {
            let input = Self.hexBytes(golden.inputHex)
            let expected = golden.mergesHex.map {
                MergePair(Self.hexBytes($0[0]), Self.hexBytes($0[1]))
            }
            var results: [BPETrainingResult] = []
            for (threads, chunkSize) in [(1, nil), (3, 64), (2, 1), (4, 500)] as [(Int, Int?)] {
                let trainer = try BPETrainer(.init(vocabSize: golden.vocabSize, specialTokens: golden.specialTokens,
                                                   threads: threads, chunkSize: chunkSize))
                let result = try trainer.train(bytes: input)
                #expect(result.vocabulary.merges == expected, "\(golden.name), threads \(threads), chunk \(chunkSize ?? 0)")
                results.append(result)
            }
            #expect(results.allSatisfy { $0 == results[0] }, "\(golden.name)")
            let vocabulary = results[0].vocabulary.tokens
            #expect(vocabulary.count == golden.specialTokens.count + 256 + expected.count)
            #expect(Array(vocabulary.prefix(golden.specialTokens.count)) == golden.specialTokens.map { Array($0.utf8) })
        }
    }

    // MARK: - Edge cases

    @Test("special tokens in the text are never merged or crossed")
    func specialsNeverMerged() throws {
        let text = String(repeating: "ab<|endoftext|>ab<|endoftext|><|endoftext|>", count: 50)
        let result = try train(text, vocabSize: 300)
        #expect(result.vocabulary.merges == [MergePair(Array("a".utf8), Array("b".utf8))])
        for token in result.vocabulary.tokens.dropFirst(257) {
            #expect(!String(decoding: token, as: UTF8.self).contains("<|"))
        }
    }

    @Test("several special tokens take ids 0..<n in order")
    func severalSpecials() throws {
        let result = try train("hello<|pad|>hello<|sep|>world", vocabSize: 262, specials: ["<|sep|>", "<|pad|>", "<|x|>"])
        #expect(result.vocabulary.tokens[0] == Array("<|sep|>".utf8))
        #expect(result.vocabulary.tokens[1] == Array("<|pad|>".utf8))
        #expect(result.vocabulary.tokens[2] == Array("<|x|>".utf8))
        #expect(result.vocabulary.tokens[3] == [0])
        #expect(result.vocabulary.specialTokens == ["<|sep|>", "<|pad|>", "<|x|>"])
    }

    @Test("a vocab size below 256 + specials is a clear error")
    func vocabTooSmall() throws {
        #expect(throws: BPETrainerError.vocabSizeOutOfRange(requested: 256, minimum: 257, maximum: Int(Int32.max))) {
            try BPETrainer(.init(vocabSize: 256, specialTokens: ["<|endoftext|>"]))
        }
        let error = BPETrainerError.vocabSizeOutOfRange(requested: 100, minimum: 258, maximum: Int(Int32.max))
        #expect(error.description.contains("vocab size 100"))
        #expect(error.description.contains("258"))
        // Exactly the minimum is fine: no merges.
        let result = try train("hello hello", vocabSize: 257)
        #expect(result.vocabulary.merges.isEmpty && result.vocabulary.tokens.count == 257)
    }

    @Test("a huge vocab size stops when no pair is left")
    func hugeVocabSize() throws {
        let result = try train("low lower lowest<|endoftext|>newer newest", vocabSize: 2_000_000_000)
        // 5 words hold 28 bytes, so at most 23 merges; they stop once every word is one token.
        #expect(result.vocabulary.merges.count <= 23)
        #expect(result.vocabulary.tokens.count == 257 + result.vocabulary.merges.count)
        let tokens = Set(result.vocabulary.tokens)
        for word in ["low", " lower", " lowest", "newer", " newest"] {
            #expect(tokens.contains(Array(word.utf8)), "\(word)")
        }
    }

    @Test("bad options are typed errors")
    func badOptions() {
        #expect(throws: BPETrainerError.emptySpecialToken(index: 1)) {
            try BPETrainer(.init(vocabSize: 300, specialTokens: ["<|a|>", ""]))
        }
        #expect(throws: BPETrainerError.duplicateSpecialToken("<|a|>")) {
            try BPETrainer(.init(vocabSize: 300, specialTokens: ["<|a|>", "<|a|>"]))
        }
        #expect(throws: BPETrainerError.invalidThreadCount(0)) {
            try BPETrainer(.init(vocabSize: 300, threads: 0))
        }
        #expect(throws: BPETrainerError.invalidChunkSize(0)) {
            try BPETrainer(.init(vocabSize: 300, chunkSize: 0))
        }
    }

    @Test("empty input gives the initial vocabulary and no merges")
    func emptyInput() throws {
        let result = try train("", vocabSize: 1000)
        #expect(result.vocabulary.merges.isEmpty)
        #expect(result.vocabulary.tokens.count == 257)
        #expect(result.statistics.inputBytes == 0 && result.statistics.pretokens == 0)
        let onlySpecials = try train("<|endoftext|><|endoftext|>", vocabSize: 1000)
        #expect(onlySpecials.vocabulary.merges.isEmpty)
    }

    @Test("missing files and directories are typed errors naming the path")
    func missingFile() throws {
        let trainer = try BPETrainer(.init(vocabSize: 300))
        let path = "/nonexistent/fable/input.txt"
        #expect(throws: BPETrainerError.fileNotFound(path: path)) { try trainer.train(file: path) }
        #expect(BPETrainerError.fileNotFound(path: path).description.contains(path))
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: BPETrainerError.notAFile(path: directory)) { try trainer.train(file: directory) }
    }

    @Test("invalid UTF-8 is replaced by U+FFFD and reported")
    func invalidUTF8() throws {
        var bytes = Array("caf".utf8) + [0xE9] + Array(" ok ok".utf8) + [0xE2, 0x82] + Array(" end".utf8)
        bytes += Array(" café \u{FFFD}".utf8)
        let trainer = try BPETrainer(.init(vocabSize: 300, specialTokens: ["<|endoftext|>"], threads: 1))
        let result = try trainer.train(bytes: bytes)
        #expect(result.statistics.invalidUTF8Replacements == 2)
        #expect(result.statistics.firstInvalidUTF8Offset == 3)
        let replaced = try trainer.train(bytes: Array(String(decoding: bytes, as: UTF8.self).utf8))
        #expect(replaced.vocabulary.merges == result.vocabulary.merges)
        #expect(replaced.statistics.invalidUTF8Replacements == 0)
    }

    @Test("chunking and threads do not change corpus.en's result", .enabled(if: TestData.sharedAvailable, "needs ../shared"))
    func chunkIndependence() throws {
        let path = TestData.shared("fixtures/corpus.en").path
        let baseline = try BPETrainer(.init(vocabSize: 400, specialTokens: ["<|endoftext|>"], threads: 1))
            .train(file: path)
        #expect(baseline.statistics.chunks == 1)
        for (threads, chunkSize) in [(2, 4096), (3, 10_000), (4, 777)] {
            let result = try BPETrainer(.init(vocabSize: 400, specialTokens: ["<|endoftext|>"],
                                              threads: threads, chunkSize: chunkSize)).train(file: path)
            #expect(result.statistics.chunks > threads)
            #expect(result.statistics.pretokens == baseline.statistics.pretokens)
            #expect(result.statistics.distinctPretokens == baseline.statistics.distinctPretokens)
            #expect(result == baseline)
        }
    }

    @Test("the longest token leaves special tokens out")
    func longestToken() throws {
        let result = try train(String(repeating: " hello", count: 20), vocabSize: 262)
        let longest = try #require(result.longestToken)
        #expect(longest.bytes == Array(" hello".utf8))
        #expect(longest.id == 261)
        let noMerges = try train("", vocabSize: 257)
        #expect(noMerges.longestToken?.id == 1)
    }

    @Test("a trained vocabulary saves and loads back unchanged")
    func saveAndLoad() throws {
        let text = String(repeating: "the cat sat on the mat<|endoftext|>naïve café 日本語 12345\n", count: 30)
        let result = try train(text, vocabSize: 320)
        #expect(result.vocabulary.merges.count > 20)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fable-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try result.vocabulary.save(to: directory)
        let loaded = try Vocabulary.load(from: directory)
        #expect(loaded == result.vocabulary)
    }
}

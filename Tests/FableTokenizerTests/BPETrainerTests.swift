import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

/// GPT-2's byte-to-unicode table, only to read the CS336 reference files in these tests.
enum ReferenceBytes {
    static let byteForCharacter: [Character: UInt8] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var codes = printable
        var extra = 0
        for byte in 0..<256 where !printable.contains(byte) {
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
        }
        var table: [Character: UInt8] = [:]
        for (byte, code) in zip(printable, codes) {
            table[Character(Unicode.Scalar(UInt32(code))!)] = UInt8(byte)
        }
        return table
    }()

    static func decode(_ token: String) -> [UInt8] {
        token.map { byteForCharacter[$0]! }
    }
}

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

        let mergesText = try String(contentsOf: TestData.shared("fixtures/train-bpe-reference-merges.txt"), encoding: .utf8)
        let expectedMerges = mergesText.split(separator: "\n").map { line -> BPETrainingResult.Merge in
            let parts = line.split(separator: " ")
            return .init(left: ReferenceBytes.decode(String(parts[0])), right: ReferenceBytes.decode(String(parts[1])))
        }
        #expect(result.merges.count == expectedMerges.count)
        #expect(result.merges == expectedMerges)

        let vocabData = try Data(contentsOf: TestData.shared("fixtures/train-bpe-reference-vocab.json"))
        let reference = try JSONDecoder().decode([String: Int].self, from: vocabData)
        let expectedValues = Set(reference.keys.map { key -> [UInt8] in
            key == "<|endoftext|>" ? Array(key.utf8) : ReferenceBytes.decode(key)
        })
        #expect(result.vocabulary.count == 500)
        #expect(Set(result.vocabulary) == expectedValues)
        #expect(result.vocabulary[0] == Array("<|endoftext|>".utf8))
        #expect(result.vocabulary[1] == [0] && result.vocabulary[256] == [255])
    }
}

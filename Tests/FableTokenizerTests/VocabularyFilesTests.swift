import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

@Suite("GPT-2 byte <-> unicode map")
struct ByteLevelTests {
    @Test("matches GPT-2's bytes_to_unicode (fixture from Scripts/reference/tokenizer_fixtures.py)")
    func matchesReference() throws {
        let expected: [UInt32] = try TestData.jsonFixture("tokenizer/bytes_to_unicode.json")
        #expect(ByteLevel.byteToScalar.map(\.value) == expected)
    }

    @Test("every byte round-trips and unmapped characters are reported")
    func roundTrip() throws {
        let all = (0..<256).map { UInt8($0) }
        let text = ByteLevel.encode(all)
        #expect(try ByteLevel.decode(text).get() == all)
        #expect(ByteLevel.encode(Array(" \n".utf8)) == "\u{120}\u{10A}")
        guard case .failure(let unmapped) = ByteLevel.decode("ab c") else {
            Issue.record("a space is not a byte-level character")
            return
        }
        #expect(unmapped.offset == 2 && unmapped.scalar == " ")
    }
}

@Suite("Vocabulary files")
struct VocabularyFilesTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("fable-vocab-\(UUID().uuidString)")
    }

    /// A small vocabulary with awkward bytes: quotes, backslash, control bytes, invalid UTF-8.
    static func sample() -> Vocabulary {
        var tokens = (0..<256).map { [UInt8($0)] }
        let merges: [([UInt8], [UInt8])] = [
            ([0x20], [0x74]), ([0x22], [0x5C]), ([0x0A], [0x0A]), ([0xE2], [0x80]), ([0x20, 0x74], [0x68]),
        ]
        for merge in merges { tokens.append(merge.0 + merge.1) }
        tokens.append(Array("<|endoftext|>".utf8))
        return Vocabulary(tokens: tokens, merges: merges, specialTokens: ["<|endoftext|>", "<pad>"])
    }

    @Test("save then load gives the same vocabulary")
    func roundTrip() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vocabulary = Self.sample()
        try vocabulary.save(to: directory)
        let loaded = try Vocabulary.load(from: directory)
        #expect(loaded == vocabulary)
        let merges = try String(contentsOf: directory.appendingPathComponent("merges.txt"), encoding: .utf8)
        #expect(merges.hasPrefix("#version: 0.2\nĠ t\n\" \\\n"))
        let listing = try String(contentsOf: directory.appendingPathComponent("vocab.txt"), encoding: .utf8)
        #expect(listing.contains("\n258\t2\t\"\\n\\n\"\t\"\\n\" + \"\\n\"\n"))
        #expect(listing.contains("\n259\t2\t\"\\xE2\\x80\"\t\"\\xE2\" + \"\\x80\"\n"))
        #expect(listing.contains("\n261\t13\t\"<|endoftext|>\"\tspecial\n"))
    }

    @Test("vocab.json is valid JSON whose keys decode to the tokens")
    func vocabJSONIsJSON() throws {
        let vocabulary = Self.sample()
        let data = Data(try vocabulary.vocabJSONText().utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int])
        #expect(object.count == vocabulary.count)
        for (key, id) in object {
            #expect(try ByteLevel.decode(key).get() == vocabulary.tokens[id])
        }
    }

    @Test("special tokens missing from the vocabulary are appended in order")
    func appendsSpecials() {
        let vocabulary = Self.sample().addingMissingSpecialTokens()
        #expect(vocabulary.count == 263)
        #expect(vocabulary.tokens.last == Array("<pad>".utf8))
        #expect(vocabulary.specialTokenIDs() == [261, 262])
    }

    @Test("GPT-2's vocab.json and merges.txt load", .enabled(if: TestData.sharedAvailable, "needs ../shared"))
    func loadsGPT2() throws {
        let vocabulary = try Vocabulary.load(
            vocabJSON: TestData.shared("fixtures/gpt2_vocab.json"),
            merges: TestData.shared("fixtures/gpt2_merges.txt"),
            specialTokens: ["<|endoftext|>"])
        #expect(vocabulary.count == 50257)
        #expect(vocabulary.merges.count == 50000)
        #expect(vocabulary.tokens[50256] == Array("<|endoftext|>".utf8))
        #expect(vocabulary.tokens[220] == [0x20])
        #expect(vocabulary.merges[0] == MergePair([0x20], [0x74]))
        // The merge list of GPT-2 is exactly tokens 256..<50256, in order.
        #expect(vocabulary.merges.enumerated().allSatisfy { vocabulary.tokens[256 + $0.offset] == $0.element.merged })
    }

    // MARK: - Errors name the file, line and column

    func write(_ text: String, _ name: String, in directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test("malformed vocab.json reports line and column")
    func badVocabJSON() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try write("{\n  \"a\": 0,\n  \"b\" 1\n}\n", "vocab.json", in: directory)
        #expect(throws: VocabularyFileError.invalidJSON(path: url.path, line: 3, column: 7,
                                                        reason: "unexpected '1', expected ':' after the key \"b\"")) {
            try Vocabulary.readVocabJSON(url)
        }
        let duplicateKey = try write("{\n  \"a\": 0,\n  \"a\": 1\n}\n", "vocab.json", in: directory)
        let duplicate = #expect(throws: VocabularyFileError.self) { try Vocabulary.readVocabJSON(duplicateKey) }
        #expect(duplicate?.description == "\(duplicateKey.path):3:3: invalid JSON: duplicate key \"a\"")
        let fractional = try write("{\"a\": 0.5}", "vocab.json", in: directory)
        let notInteger = #expect(throws: VocabularyFileError.self) { try Vocabulary.readVocabJSON(fractional) }
        #expect(notInteger?.description.hasPrefix("\(fractional.path):1:2: expected a non-negative integer token id") == true)
        let unmapped = try write("{\"a\": 0, \"a b\": 1}", "vocab.json", in: directory)
        let error = #expect(throws: VocabularyFileError.self) { try Vocabulary.readVocabJSON(unmapped) }
        #expect(error?.description.hasPrefix("\(unmapped.path):1:10: expected a token in the byte-to-unicode form") == true)
        let gap = try write("{\"a\": 0, \"b\": 2}", "vocab.json", in: directory)
        #expect(throws: VocabularyFileError.missingID(path: gap.path, id: 1, count: 2)) { try Vocabulary.readVocabJSON(gap) }
        let twice = try write("{\"a\": 0,\n\"b\": 0}", "vocab.json", in: directory)
        #expect(throws: VocabularyFileError.duplicateID(path: twice.path, id: 0, line: 2)) { try Vocabulary.readVocabJSON(twice) }
    }

    @Test("escapes in vocab.json decode, a literal special token is accepted")
    func vocabJSONEscapes() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try write("{\"\\u0120t\": 0, \"\\\"\": 1, \"<sp ecial>\": 2}", "vocab.json", in: directory)
        let tokens = try Vocabulary.readVocabJSON(url, specialTokens: ["<sp ecial>"])
        #expect(tokens == [[0x20, 0x74], [0x22], Array("<sp ecial>".utf8)])
    }

    @Test("malformed merges.txt reports line and column")
    func badMerges() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = try write("#version: 0.2\r\nĠ t\r\n\r\nh e\n", "merges.txt", in: directory)
        #expect(try Vocabulary.readMerges(good) == [MergePair([0x20], [0x74]), MergePair([0x68], [0x65])])
        let three = try write("Ġ t\na b c\n", "merges.txt", in: directory)
        #expect(throws: VocabularyFileError.malformed(path: three.path, line: 2, column: 1,
                                                      expected: "two tokens separated by one space (\"left right\")")) {
            try Vocabulary.readMerges(three)
        }
        let unmapped = try write("Ġ t\nab c\u{3000}d\n", "merges.txt", in: directory)
        let error = #expect(throws: VocabularyFileError.self) { try Vocabulary.readMerges(unmapped) }
        #expect(error?.description.hasPrefix("\(unmapped.path):2:5: expected a token in the byte-to-unicode form; U+3000") == true)
    }

    @Test("special tokens that special_tokens.txt cannot hold are refused")
    func badSpecials() {
        var vocabulary = Self.sample()
        vocabulary.specialTokens = ["a\nb"]
        #expect(throws: VocabularyFileError.self) { try vocabulary.save(to: Self.temporaryDirectory()) }
    }

    @Test("readable tokens escape control bytes and invalid UTF-8")
    func readable() {
        #expect(Vocabulary.readable(Array(" the".utf8)) == "\" the\"")
        #expect(Vocabulary.readable([0x0A, 0x09, 0x22, 0x5C]) == "\"\\n\\t\\\"\\\\\"")
        #expect(Vocabulary.readable([0xE2, 0x80]) == "\"\\xE2\\x80\"")
        #expect(Vocabulary.readable(Array("🙃é".utf8) + [0x00]) == "\"🙃é\\x00\"")
    }
}

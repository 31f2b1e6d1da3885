import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableWorkbench

@Suite("Corpus splitter")
struct CorpusSplitterTests {
    static func documents(_ n: Int) -> [String] {
        (0..<n).map { "Story \($0) begins.\nIt ends.\n<|endoftext|>\n" }
    }

    static func split(_ text: String, _ splitter: CorpusSplitter = CorpusSplitter()) throws
        -> (CorpusSplitter.Summary, train: String, val: String) {
        let folder = TemporaryFolder("fable-split")
        let input = try folder.write(text, to: "corpus.txt")
        let train = folder.url.appendingPathComponent("train.txt")
        let val = folder.url.appendingPathComponent("val.txt")
        let summary = try splitter.split(input: input, train: train, validation: val)
        return (summary, try String(contentsOf: train, encoding: .utf8), try String(contentsOf: val, encoding: .utf8))
    }

    @Test("every 20th document goes to validation, whole and in order")
    func everyTwentieth() throws {
        let docs = Self.documents(45)
        let (summary, train, val) = try Self.split(docs.joined())
        #expect(val == docs[19] + docs[39])
        #expect(train == docs.enumerated().filter { $0.offset != 19 && $0.offset != 39 }.map(\.element).joined())
        #expect(summary.trainDocuments == 43 && summary.validationDocuments == 2)
        #expect(summary.trainBytes == train.utf8.count && summary.validationBytes == val.utf8.count)
        #expect(summary.hasSeparators && !summary.isTruncated)
    }

    @Test("a short file still holds out its last document; trailing text is a document, trailing space is not")
    func shortFiles() throws {
        let (summary, train, val) = try Self.split("one<|endoftext|>two<|endoftext|>\r\nthree")
        #expect(train == "one<|endoftext|>two<|endoftext|>\r\n" && val == "three")
        #expect(summary.trainDocuments == 2 && summary.validationDocuments == 1)
        let spaced = try Self.split("one<|endoftext|>\ntwo<|endoftext|>\n \n")
        #expect(spaced.val == "two<|endoftext|>\n" && spaced.0.validationDocuments == 1)
    }

    @Test("without separators the file is split by non-empty lines")
    func lines() throws {
        let lines = (0..<25).map { "line \($0)" }
        let (summary, train, val) = try Self.split(lines.joined(separator: "\n\n") + "\n")
        #expect(!summary.hasSeparators)
        #expect(val == "line 19\n")
        #expect(summary.trainDocuments == 24 && train.hasPrefix("line 0\nline 1\n"))
    }

    @Test("a byte cap keeps whole documents only")
    func cap() throws {
        let docs = Self.documents(30)
        let whole = docs.prefix(25).joined().utf8.count
        let (summary, train, val) = try Self.split(docs.joined(), CorpusSplitter(maxBytes: whole + 5))
        #expect(summary.isTruncated && summary.usedBytes == whole)
        #expect(summary.inputBytes == docs.joined().utf8.count)
        #expect(summary.trainDocuments + summary.validationDocuments == 25)
        #expect(train + val != "" && !train.contains("Story 25"))
    }

    @Test("bad inputs are errors that name the file")
    func badInputs() throws {
        let folder = TemporaryFolder("fable-split-bad")
        let train = folder.url.appendingPathComponent("t.txt"), val = folder.url.appendingPathComponent("v.txt")
        let splitter = CorpusSplitter()
        func error(_ url: URL) -> CorpusSplitError? {
            do { _ = try splitter.split(input: url, train: train, validation: val); return nil } catch {
                return error as? CorpusSplitError
            }
        }
        let missing = folder.url.appendingPathComponent("missing.txt")
        #expect(error(missing) == .unreadable(path: missing.path, reason: "no such file"))
        #expect(error(folder.url) == .unreadable(path: folder.url.path, reason: "is a folder, expected a text file"))
        let empty = try folder.write("", to: "empty.txt")
        #expect(error(empty) == .empty(path: empty.path))
        let one = try folder.write("only one story<|endoftext|>\n", to: "one.txt")
        #expect(error(one) == .tooFewDocuments(path: one.path, documents: 1, separated: true))
        let binary = folder.url.appendingPathComponent("binary.bin")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]).write(to: binary)
        #expect(error(binary) == .notText(path: binary.path, reason: "it holds a NUL byte at offset 4"))
        let latin1 = folder.url.appendingPathComponent("latin1.txt")
        try Data(Array(repeating: 0xE9, count: 50) + Array("abc\n".utf8)).write(to: latin1)
        if case .notText = error(latin1) {} else { Issue.record("Latin-1 bytes should be refused as not UTF-8") }
        #expect(error(one)?.description.contains(one.path) == true)
    }
}

import FableFormats
import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

@Suite("Token array files")
struct TokenArrayFileTests {
    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("fable-\(UUID().uuidString)-\(name)")
    }

    @Test("a written .npy parses back with its dtype and count", arguments: [TokenDType.uint16, .uint32])
    func npyRoundTrip(_ dtype: TokenDType) throws {
        let url = Self.temporaryURL("ids.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let ids: [UInt32] = [0, 1, 255, 256, 50256, 65535]
        let writer = try TokenArrayWriter(url: url, dtype: dtype)
        try ids.withUnsafeBufferPointer { try writer.append(UnsafeBufferPointer(rebasing: $0[..<2])) }
        try ids.withUnsafeBufferPointer { try writer.append(UnsafeBufferPointer(rebasing: $0[2...])) }
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: url))
        // NumPy's format: magic, version 1.0, header length, header padded so data is aligned.
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect(bytes.count == 128 + ids.count * dtype.byteWidth)
        let header = try NPYHeader.parse(bytes, path: url.path)
        #expect(header == NPYHeader(descr: dtype.numpyDescriptor, shape: [6], dataOffset: 128))
        // np.save's header: the dict, 21 - digits spare spaces, padding to 64 bytes, newline.
        #expect(Array(bytes[0..<128]) == NPYHeader.encode(descr: dtype.numpyDescriptor, shape: [6]))
        #expect(String(decoding: bytes[10..<128], as: UTF8.self)
            == "{'descr': '\(dtype.numpyDescriptor)', 'fortran_order': False, 'shape': (6,), }"
            .padding(toLength: 117, withPad: " ", startingAt: 0) + "\n")
        #expect(try TokenArrayReader.read(url) == ids.map { Int($0) })
    }

    @Test("a .bin holds the raw little-endian ids; no temporary file is left behind")
    func binRoundTrip() throws {
        let directory = Self.temporaryURL("dir")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("ids.bin")
        let writer = try TokenArrayWriter(url: url, dtype: .uint16)
        try [UInt32(1), 258, 65535].withUnsafeBufferPointer { try writer.append($0) }
        try writer.finish()
        #expect([UInt8](try Data(contentsOf: url)) == [1, 0, 2, 1, 255, 255])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["ids.bin"])
        let aborted = try TokenArrayWriter(url: directory.appendingPathComponent("other.npy"), dtype: .uint16)
        aborted.abort()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["ids.bin"])
    }

    @Test("malformed inputs name the file and what was expected")
    func errors() throws {
        #expect(throws: TokenFileError.unknownFormat(path: "/tmp/x.txt")) {
            try TokenArrayWriter(url: URL(fileURLWithPath: "/tmp/x.txt"), dtype: .uint16)
        }
        let notNumpy = Self.temporaryURL("f.npy")
        try Data("not numpy at all".utf8).write(to: notNumpy)
        defer { try? FileManager.default.removeItem(at: notNumpy) }
        #expect(throws: TokenFileError.malformedNPY(path: notNumpy.path, offset: 0, expected: "the NumPy magic \\x93NUMPY (not an .npy file)")) {
            try TokenArrayReader.read(notNumpy)
        }
        #expect(throws: TokenFileError.malformedIDText(path: "--ids", line: 2, text: "x")) {
            try TokenArrayReader.parseText("1 2\n3 x", path: "--ids")
        }
        #expect(try TokenArrayReader.parseText("[1, 2,\r\n3]", path: "--ids") == [1, 2, 3])
    }
}

@Suite("Parallel file encoder", .enabled(if: TestData.sharedAvailable, "needs ../shared (GPT-2 vocab)"))
struct TokenFileEncoderTests {
    /// Writes `text` to a temporary file.
    static func file(_ text: String) throws -> URL {
        let url = TokenArrayFileTests.temporaryURL("input.txt")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test("small blocks and several threads give the whole-text ids", arguments: [(64, 1), (64, 3), (1000, 2), (1 << 20, 2)])
    func blocksMatchWholeText(_ blockBytes: Int, _ threads: Int) throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>"])
        var text = try String(contentsOf: TestData.shared("fixtures/tinystories_sample.txt"), encoding: .utf8)
        text += try String(contentsOf: TestData.shared("fixtures/german.txt"), encoding: .utf8)
        text += "\n\n   " + String(repeating: "^", count: 300) + "  \n\n<|endoftext|>" + String(repeating: "a", count: 500) + "\n\n"
        let input = try Self.file(text)
        defer { try? FileManager.default.removeItem(at: input) }
        let encoder = TokenFileEncoder(tokenizer: tokenizer, threads: threads, blockBytes: blockBytes)
        var ids: [Int] = []
        let summary = try encoder.encode(input: input) { ids += $0.map { Int($0) } }
        #expect(ids == tokenizer.encode(text))
        #expect(summary.bytes == text.utf8.count && summary.tokens == ids.count)
        #expect(summary.specialTokens == 6)
    }

    @Test("encode(input:output:) writes an .npy of the ids")
    func writesNPY() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>"])
        let text = "Hello<|endoftext|> world\n\n"
        let input = try Self.file(text)
        let output = TokenArrayFileTests.temporaryURL("out.npy")
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        let summary = try TokenFileEncoder(tokenizer: tokenizer, threads: 2).encode(input: input, output: output)
        #expect(try TokenArrayReader.read(output) == tokenizer.encode(text))
        #expect(summary.tokens == tokenizer.encode(text).count)
        #expect(throws: TokenFileError.self) {
            try TokenFileEncoder(tokenizer: tokenizer).encode(input: URL(fileURLWithPath: "/nonexistent/x.txt"), output: output)
        }
    }

    @Test("invalid UTF-8 is replaced by U+FFFD, as the trainer does, and counted")
    func invalidUTF8() throws {
        let tokenizer = try GPT2.tokenizer(["<|endoftext|>"])
        // A lone continuation byte, a truncated 3-byte sequence and an overlong form.
        let raw: [UInt8] = Array("caf".utf8) + [0x80] + Array(" ok ".utf8) + [0xE2, 0x82] + Array(" x".utf8) + [0xC0, 0xAF] + Array("!".utf8)
        let input = TokenArrayFileTests.temporaryURL("invalid.txt")
        try Data(raw).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        var ids: [Int] = []
        let summary = try TokenFileEncoder(tokenizer: tokenizer, threads: 2, blockBytes: 64).encode(input: input) { ids += $0.map { Int($0) } }
        let expected = String(decoding: raw, as: UTF8.self)  // Swift's decoder also replaces maximal bad sequences
        #expect(ids == tokenizer.encode(expected))
        #expect(summary.invalidUTF8Replacements == expected.unicodeScalars.filter { $0 == "\u{FFFD}" }.count)
        #expect(summary.invalidUTF8Replacements >= 3)
    }
}

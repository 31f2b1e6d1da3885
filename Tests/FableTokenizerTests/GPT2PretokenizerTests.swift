import Foundation
import Testing
import FableTestSupport
@testable import FableTokenizer

/// The golden cases written by Scripts/reference/gpt2_pretokenizer_reference.py.
private struct PretokenizerFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let pieces: [String]
    }
    struct InvalidCase: Decodable {
        let hex: String
        let pieces: [String]
    }
    let pattern: String
    let cases: [Case]
    let invalidUTF8: [InvalidCase]

    enum CodingKeys: String, CodingKey {
        case pattern, cases
        case invalidUTF8 = "invalid_utf8"
    }
}

@Suite("GPT-2 pre-tokenizer")
struct GPT2PretokenizerTests {
    @Test("matches Python regex on the golden cases")
    func matchesRegexFixture() throws {
        let fixture: PretokenizerFixture = try TestData.jsonFixture("tokenizer/gpt2_pretokenizer.json")
        #expect(fixture.pattern == GPT2Pretokenizer.pattern)
        #expect(fixture.cases.count > 400)
        var mismatches = 0
        for testCase in fixture.cases {
            let pieces = GPT2Pretokenizer.pieces(testCase.text)
            if pieces != testCase.pieces {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("\(testCase.text.debugDescription): got \(pieces.map(\.debugDescription)), expected \(testCase.pieces.map(\.debugDescription))")
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("pieces cover the input contiguously, byte offsets included")
    func piecesCoverInput() {
        let text = "Hi there,  it's 2024!\r\n\u{3000}日本語 e\u{301} 😀\n"
        let bytes = Array(text.utf8)
        var next = 0
        bytes.withUnsafeBufferPointer { buffer in
            GPT2Pretokenizer.forEachPiece(in: buffer) { range in
                #expect(range.lowerBound == next)
                #expect(!range.isEmpty)
                next = range.upperBound
            }
        }
        #expect(next == bytes.count)
    }

    @Test("a few pieces spelled out", arguments: [
        ("I'm here", ["I", "'m", " here"]),
        ("a   b", ["a", "  ", " b"]),
        ("a\n\nb", ["a", "\n", "\n", "b"]),
        ("x  ", ["x", "  "]),
        ("'S", ["'", "S"]),
    ])
    func spelledOut(text: String, expected: [String]) {
        #expect(GPT2Pretokenizer.pieces(text) == expected)
    }

    @Test("empty input has no pieces")
    func emptyInput() {
        #expect(GPT2Pretokenizer.pieces("").isEmpty)
        var calls = 0
        GPT2Pretokenizer.forEachPiece(in: UnsafeBufferPointer(start: nil, count: 0)) { _ in calls += 1 }
        #expect(calls == 0)
    }

    @Test("invalid UTF-8 never traps and groups like Python's errors='replace'")
    func invalidBytes() throws {
        let fixture: PretokenizerFixture = try TestData.jsonFixture("tokenizer/gpt2_pretokenizer.json")
        #expect(fixture.invalidUTF8.count >= 5)
        for testCase in fixture.invalidUTF8 {
            let bytes = try #require(hexBytes(testCase.hex))
            var pieces: [String] = []
            bytes.withUnsafeBufferPointer { buffer in
                GPT2Pretokenizer.forEachPiece(in: buffer) { range in
                    // Swift's decoder replaces maximal ill-formed subparts, as Python's does.
                    pieces.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self))
                }
            }
            #expect(pieces == testCase.pieces, "bytes \(testCase.hex)")
        }
    }

    private func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).compactMap {
            UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)
        }
    }
}

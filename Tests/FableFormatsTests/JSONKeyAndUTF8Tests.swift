import FableFormats
import Foundation
import Testing

/// Paths of the parser that vocab.json's speed depends on: the key set, the string fast
/// path and the direct integer reading.
@Suite("JSON keys, UTF-8 checking and integers on the fast paths")
struct JSONKeyAndUTF8Tests {
    private static func members(_ text: String) throws -> [JSONParser.Member] {
        try Array(text.utf8).withUnsafeBytes { try JSONParser.parseMembers($0) }
    }

    @Test("keys compare by code points (RFC 8259 §8.3): canonically equivalent keys are two keys")
    func codePointKeys() throws {
        // Python: json.loads('{"\u00e9": 1, "e\u0301": 2}') has two keys.
        let text = "{\"\u{E9}\": 1, \"e\u{301}\": 2}"
        let object = try #require(try JSONValue.parse(text).objectValue)
        #expect(object.count == 2)
        #expect(object["\u{E9}"] == .number(.integer(1)))
        #expect(object["e\u{301}"] == .number(.integer(2)))
        #expect(try Self.members(text).count == 2)
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"\u{E9}\": 1, \"\\u00e9\": 2}") }
    }

    @Test("a duplicate among thousands of keys is found, past the first guess of the key count")
    func manyKeys() throws {
        let keys = (0..<3000).map { "k\($0)" }
        let body = keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",")
        let members = try Self.members("{" + body + "}")
        #expect(members.map(\.key) == keys)
        #expect(members.map(\.value) == (0..<3000).map { .number(.integer(Int64($0))) })
        #expect(try JSONValue.parse("{" + body + "}").objectValue?.count == 3000)

        let repeated = "{" + body + ",\"\u{120}x\":1,\"k1234\":5}"
        let parsers: [() throws -> Void] = [{ _ = try Self.members(repeated) }, { _ = try JSONValue.parse(repeated) }]
        for parse in parsers {
            let error = #expect(throws: JSONParseError.self) { try parse() }
            #expect(error?.reason == "duplicate key \"k1234\"")
            #expect(error?.offset == repeated.utf8.count - 10)
        }
    }

    @Test("invalid UTF-8 in a string is an error at its opening quote, with or without escapes")
    func invalidUTF8() throws {
        // Each is rejected by Python's bytes.decode("utf-8") (Unicode table 3-7).
        let invalid: [[UInt8]] = [
            [0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80],
            [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xE2, 0x82], [0xC3], [0xE2, 0x28, 0xA1], [0xFF],
        ]
        for bytes in invalid {
            for prefix in [Array("ab".utf8), Array("\\n".utf8)] {
                let text: [UInt8] = Array("[1, \"".utf8) + prefix + bytes + [0x22, 0x5D]
                let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
                #expect(error?.reason == "string is not valid UTF-8", "\(bytes)")
                #expect(error?.offset == 4, "\(bytes)")
            }
        }
        // The longest valid forms at each length read back as their scalars.
        let valid: [UInt8] = [0x22, 0x7F, 0xDF, 0xBF, 0xEF, 0xBF, 0xBF, 0xED, 0x9F, 0xBF, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]
        #expect(try JSONParser.parse(valid) == .string("\u{7F}\u{7FF}\u{FFFF}\u{D7FF}\u{10FFFF}"))
    }

    @Test("integers at the edges of Int64 and UInt64 are exact; one past them is an error")
    func integerEdges() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .number(.integer(.max)))
        #expect(try JSONValue.parse("9223372036854775808") == .number(.unsigned(9_223_372_036_854_775_808)))
        #expect(try JSONValue.parse("-9223372036854775808") == .number(.integer(.min)))
        #expect(try JSONValue.parse("-0") == .number(.integer(0)))
        #expect(try JSONValue.parse("[0,-1,42]") == .array([0, -1, 42].map { .number(.integer($0)) }))
        for text in ["-9223372036854775809", "18446744073709551616", "99999999999999999999999"] {
            let error = #expect(throws: JSONParseError.self) { try JSONValue.parse("[" + text + "]") }
            #expect(error?.reason == "integer \(text) does not fit in 64 bits")
            #expect(error?.offset == 1)
        }
    }
}

import FableFormats
import FableTestSupport
import Foundation
import Testing

private struct JSONCases: Decodable {
    struct Valid: Decodable { let hex: String; let compact: String; let spaced: String; let indented: String }
    struct DoubleCase: Decodable { let bits: String; let repr: String }
    struct NonFinite: Decodable { let text: String; let compact: String }
    let valid: [Valid]
    let invalid: [String]
    let doubles: [DoubleCase]
    let nonfinite: [NonFinite]
}

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

private func written(_ value: JSONValue, _ style: JSONWriter.Style, asciiOnly: Bool = false) throws -> String {
    var writer = JSONWriter(style: style, asciiOnly: asciiOnly, allowNonFiniteNumbers: true)
    try writer.value(value)
    return writer.text
}

@Suite("JSON against RFC 8259 and Python's json module")
struct JSONFixtureTests {
    private static let cases: JSONCases = try! TestData.jsonFixture("formats/json_cases.json")

    @Test("valid texts parse, and write back as json.dumps does (compact, default, indent=2)")
    func validTexts() throws {
        #expect(Self.cases.valid.count > 40)
        for entry in Self.cases.valid {
            let text = String(decoding: hexBytes(entry.hex), as: UTF8.self)
            let value = try JSONParser.parse(hexBytes(entry.hex))
            #expect(try written(value, .compact) == entry.compact, "\(text)")
            #expect(try written(value, .spaced, asciiOnly: true) == entry.spaced, "\(text)")
            #expect(try written(value, .indented(2)) == entry.indented, "\(text)")
            #expect(try JSONParser.parse(entry.compact) == value, "\(text)")
        }
    }

    @Test("texts RFC 8259 forbids (and Python rejects) are errors")
    func invalidTexts() {
        #expect(Self.cases.invalid.count > 40)
        for hex in Self.cases.invalid {
            #expect(throws: JSONParseError.self, "\(hex)") { try JSONParser.parse(hexBytes(hex)) }
        }
    }

    @Test("doubles are written as Python's repr: shortest digits that read back exactly")
    func doubles() throws {
        #expect(Self.cases.doubles.count > 250)
        for entry in Self.cases.doubles {
            let x = Double(bitPattern: UInt64(entry.bits, radix: 16)!)
            #expect(JSONWriter.doubleText(x) == entry.repr, "\(entry.bits)")
            #expect(try JSONParser.parse(entry.repr) == .number(.double(x)))
        }
    }

    @Test("NaN and Infinity only with the opt-in, written as Python writes them")
    func nonFinite() throws {
        for entry in Self.cases.nonfinite {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(entry.text) }
            let value = try JSONParser.parse(entry.text, options: .allowNonFiniteNumbers)
            #expect(try written(value, .compact) == entry.compact)
        }
        var strict = JSONWriter()
        #expect(throws: JSONWriteError.self) { try strict.double(.nan) }
        let items = try JSONParser.parse("[NaN, -Infinity]", options: .allowNonFiniteNumbers).arrayValue ?? []
        #expect(items.first?.doubleValue?.isNaN == true)
        #expect(items.last?.doubleValue == -.infinity)
    }
}

@Suite("JSON values, errors and writer")
struct JSONValueTests {
    @Test("parses every kind of value, nested")
    func parsesKinds() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"y\u00e9\n"}} "#)
        #expect(v == .object([
            "a": .array([.number(1), .number(-2500.0), .bool(true), .bool(false), .null]),
            "b": .object(["c": .string("x\"yé\n")]),
        ]))
    }

    @Test("object keys keep their order; equality ignores it")
    func keyOrder() throws {
        let v = try JSONValue.parse(#"{"z": 1, "a": 2, "m": 3}"#)
        #expect(v.objectValue?.keys == ["z", "a", "m"])
        #expect(v.jsonText == #"{"z":1,"a":2,"m":3}"#)
        #expect(v == .object(["a": .number(2), "m": .number(3), "z": .number(1)]))
        var object = v.objectValue!
        object["a"] = nil
        object["b"] = .null
        object["z"] = .bool(true)
        #expect(object.keys == ["z", "m", "b"])
        #expect(object["m"] == .number(3))
    }

    @Test("integers stay exact over the Int64 and UInt64 ranges")
    func bigIntegers() throws {
        #expect(try JSONValue.parse("9007199254740993") == .number(.integer(9_007_199_254_740_993)))
        #expect(try JSONValue.parse("-9223372036854775808") == .number(.integer(.min)))
        #expect(try JSONValue.parse("18446744073709551615") == .number(.unsigned(.max)))
        #expect(try JSONValue.parse("9007199254740993").jsonText == "9007199254740993")
        #expect(try JSONValue.parse("1.0") == .number(.double(1)))
        #expect(JSONNumber.integer(1) == JSONNumber.double(1))
        #expect(JSONNumber.integer(9_007_199_254_740_993) != JSONNumber.double(9_007_199_254_740_992))
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse("[18446744073709551616]") }
        #expect(error?.reason.contains("64 bits") == true)
        #expect(try JSONValue.parse("2.0").intValue == 2)
        #expect(try JSONValue.parse("2.5").intValue == nil)
    }

    @Test("a duplicate key is an error that names it and its position")
    func duplicateKeys() {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse("{\n  \"a\": 1,\n  \"a\": 2\n}") }
        #expect(error?.reason == "duplicate key \"a\"")
        #expect(error?.line == 3)
        #expect(error?.column == 3)
    }

    @Test("errors give the line, the column and what was expected")
    func errorPositions() {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse("{\n  \"a\": 1,\n  \"b\" 2\n}") }
        #expect(error?.line == 3)
        #expect(error?.column == 7)
        #expect(error?.reason.contains("expected ':'") == true)
        #expect(error?.description.hasPrefix("line 3, column 7: ") == true)
        let control = #expect(throws: JSONParseError.self) { try JSONValue.parse("[\"a\u{01}\"]") }
        #expect(control?.column == 4)
        let surrogate = #expect(throws: JSONParseError.self) { try JSONValue.parse(#"  "\ud800x""#) }
        #expect(surrogate?.column == 4)
        #expect(surrogate?.reason.contains("surrogate") == true)
    }

    @Test("nesting deeper than the limit is an error, not a crash")
    func deepNesting() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("a byte order mark is skipped; members come with their key offsets")
    func members() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{\"a\": 0,\n \"b\": 1}".utf8)
        let members = try bytes.withUnsafeBytes { try JSONParser.parseMembers($0) }
        #expect(members.map(\.key) == ["a", "b"])
        #expect(members.map(\.keyOffset) == [4, 13])
        let position = bytes.withUnsafeBytes { JSONParser.lineAndColumn(of: 13, in: $0) }
        #expect(position == (2, 2))
        #expect(throws: JSONParseError.self) { try Array("[1]".utf8).withUnsafeBytes { try JSONParser.parseMembers($0) } }
    }

    @Test("writing then parsing gives the same value; control characters and surrogates escape")
    func roundTrip() throws {
        let v = JSONValue.object(["k\"ey": .array([.string("tab\tand\u{01}\u{7F}😀"), .number(1.5), .null]), "z": .bool(true)])
        #expect(try JSONValue.parse(v.jsonText) == v)
        #expect(try written(v, .spaced, asciiOnly: true).contains(#"\u0001\u007f\ud83d\ude00"#))
        #expect(JSONWriter.quoted("a\u{08}\u{0C}\u{1F}/é") == "\"a\\b\\f\\u001f/é\"")
    }

    @Test("the streaming writer puts separators in and hands over its bytes")
    func streaming() throws {
        var writer = JSONWriter(style: .indented(2))
        writer.beginObject()
        writer.key("a")
        writer.integer(1)
        let head = writer.takeBytes()
        writer.key("b")
        writer.beginArray()
        writer.endArray()
        writer.key("c")
        writer.beginArray()
        try writer.double(0.5)
        writer.string("x")
        writer.endArray()
        writer.endObject()
        #expect(String(decoding: head + writer.bytes, as: UTF8.self) == "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": [\n    0.5,\n    \"x\"\n  ]\n}")
    }

    @Test("flattening joins nested keys with dots")
    func flatten() throws {
        let v = try JSONValue.parse(#"{"model":{"d_model":512,"rope":{"theta":10000}},"lr":0.001,"betas":[0.9,0.95]}"#)
        let flat = v.flattened
        #expect(flat["model.d_model"] == .number(512))
        #expect(flat["model.rope.theta"] == .number(10000))
        #expect(flat["lr"] == .number(0.001))
        #expect(flat["betas"] == .array([.number(0.9), .number(0.95)]))
        #expect(flat.count == 4)
    }
}

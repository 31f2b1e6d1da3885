import Foundation

/// A parsed JSON value, for files whose shape Fable does not fix in advance: metrics lines
/// with extra keys, a run's resolved `config.json`.
///
/// The parser accepts standard JSON plus the bare tokens `NaN`, `Infinity` and `-Infinity`
/// that Python's `json` module writes for non-finite floats, so a diverged loss survives a
/// round trip through Fable and Python alike. Errors carry the byte offset and the line and
/// column, so messages can point at the exact spot.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    // MARK: - Accessors

    /// The number, or nil for any other kind of value. The strings `"NaN"`, `"Infinity"`
    /// and `"-Infinity"` also count as numbers, as some writers quote them.
    public var doubleValue: Double? {
        switch self {
        case .number(let x): return x
        case .string(let s):
            switch s {
            case "NaN", "nan": return .nan
            case "Infinity", "inf": return .infinity
            case "-Infinity", "-inf": return -.infinity
            default: return nil
            }
        default: return nil
        }
    }

    /// The number as an integer when it is finite, integral and in range; nil otherwise.
    public var intValue: Int? {
        guard case .number(let x) = self, x.isFinite, x.rounded() == x,
              abs(x) <= 9_007_199_254_740_992 else { return nil }
        return Int(x)
    }

    /// The string, or nil for any other kind of value.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The members of an object, or nil for any other kind of value.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// A short name of the kind of value, for error messages ("a number", "a string").
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Nested objects flattened to dotted keys (`{"optimizer":{"lr":1}}` gives
    /// `optimizer.lr`); arrays and scalars are leaves. A non-object value flattens to `[:]`.
    public var flattened: [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        func visit(_ value: JSONValue, prefix: String) {
            if case .object(let members) = value {
                for (key, member) in members {
                    visit(member, prefix: prefix.isEmpty ? key : prefix + "." + key)
                }
            } else if !prefix.isEmpty {
                result[prefix] = value
            }
        }
        visit(self, prefix: "")
        return result
    }
}

// MARK: - Writing

extension JSONValue {
    /// Compact JSON text with object keys sorted. Non-finite numbers are written as the
    /// bare tokens `NaN`, `Infinity`, `-Infinity` (Python's convention).
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += JSONValue.numberText(x)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    /// The shortest text that reads back as exactly `x`; integral values below 2^53 are
    /// written without a fraction.
    static func numberText(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
        if x.rounded() == x, abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
        return "\(x)"  // Swift prints the shortest round-trip form, e.g. 0.001 or 1e-05
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

// MARK: - Parsing

/// Why a JSON text could not be parsed, with the position of the problem.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    /// Byte offset of the problem in the parsed text.
    public let offset: Int
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based column (in bytes) of the problem.
    public let column: Int
    /// What was found and what was expected.
    public let reason: String

    public var description: String { "line \(line), column \(column): \(reason)" }
}

extension JSONValue {
    /// Parses one JSON value that must fill `text` (surrounding whitespace allowed).
    /// - Throws: ``JSONParseError`` naming the line, column and what was expected.
    public static func parse(_ text: String) throws -> JSONValue {
        var bytes = Array(text.utf8)
        bytes.append(0)  // sentinel: the parser can look one byte ahead without a bounds check
        return try bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer, count: buffer.count - 1)
            return try parser.parseDocument()
        }
    }

    /// Parses a JSON document from raw bytes (UTF-8).
    public static func parse(_ data: Data) throws -> JSONValue {
        guard let text = String(data: data, encoding: .utf8) else {
            throw JSONParseError(offset: 0, line: 1, column: 1, reason: "the text is not valid UTF-8")
        }
        return try parse(text)
    }
}

/// A recursive-descent JSON parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let count: Int
    var position = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
    }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < count { throw error("unexpected \(found()) after the end of the JSON value") }
        return value
    }

    // MARK: Values

    mutating func parseValue() throws -> JSONValue {
        guard position < count else { throw error("unexpected end of text, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "N"): try expectWord("NaN"); return .number(.nan)
        case UInt8(ascii: "I"): try expectWord("Infinity"); return .number(.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(found()), expected a value")
        }
    }

    mutating func parseObject() throws -> JSONValue {
        try enterNested()
        position += 1  // {
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("unexpected \(found()), expected a quoted key")
            }
            let key = try parseString()
            skipWhitespace()
            try expectByte(":", "after the key \"\(key)\"")
            skipWhitespace()
            members[key] = try parseValue()
            skipWhitespace()
            if position < count, bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            try expectByte("}", "or ',' between members")
            depth -= 1
            return .object(members)
        }
    }

    mutating func parseArray() throws -> JSONValue {
        try enterNested()
        position += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if position < count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            if position < count, bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            try expectByte("]", "or ',' between items")
            depth -= 1
            return .array(items)
        }
    }

    mutating func parseString() throws -> String {
        let start = position
        position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun(_ end: Int) {
            if end > runStart {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<end])
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            }
        }
        while true {
            guard position < count else {
                position = start
                throw error("unterminated string")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                flushRun(position)
                position += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("control character inside a string (escape it as \\u00XX)") }
            if byte != UInt8(ascii: "\\") { position += 1; continue }
            flushRun(position)
            position += 1
            guard position < count else { throw error("unterminated escape in a string") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code), position + 1 < count,
                   bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                    position += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                position -= 1
                throw error("invalid escape \\\(Character(Unicode.Scalar(escape)))")
            }
            runStart = position
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard position < count, let digit = hexDigit(bytes[position]) else {
                throw error("expected four hex digits after \\u")
            }
            code = code * 16 + digit
            position += 1
        }
        return code
    }

    func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    mutating func parseNumber() throws -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
            if position < count, bytes[position] == UInt8(ascii: "I") {
                try expectWord("Infinity")
                return -.infinity
            }
        }
        let digitsStart = position
        while position < count, isDigit(bytes[position]) { position += 1 }
        if position == digitsStart { throw error("expected a digit in a number") }
        if bytes[digitsStart] == UInt8(ascii: "0"), position - digitsStart > 1 {
            position = digitsStart
            throw error("a number may not start with 0 followed by digits")
        }
        if position < count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let fraction = position
            while position < count, isDigit(bytes[position]) { position += 1 }
            if position == fraction { throw error("expected a digit after the decimal point") }
        }
        if position < count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            let exponent = position
            while position < count, isDigit(bytes[position]) { position += 1 }
            if position == exponent { throw error("expected a digit in the exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text) else {
            position = start
            throw error("invalid number \(text)")
        }
        return value
    }

    // MARK: Helpers

    func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    mutating func enterNested() throws {
        depth += 1
        // Deep nesting would overflow the stack of this recursive parser.
        if depth > 512 { throw error("nesting deeper than 512 levels") }
    }

    mutating func expectWord(_ word: String) throws {
        for byte in word.utf8 {
            guard position < count, bytes[position] == byte else {
                throw error("unexpected \(found()), expected \(word)")
            }
            position += 1
        }
    }

    mutating func expectByte(_ ascii: Unicode.Scalar, _ context: String) throws {
        guard position < count, bytes[position] == UInt8(ascii: ascii) else {
            throw error("unexpected \(found()), expected '\(ascii)' \(context)")
        }
        position += 1
    }

    func found() -> String {
        guard position < count else { return "end of text" }
        let byte = bytes[position]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    func error(_ reason: String) -> JSONParseError {
        var line = 1
        var lineStart = 0
        for i in 0..<min(position, count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return JSONParseError(offset: position, line: line, column: position - lineStart + 1, reason: reason)
    }
}

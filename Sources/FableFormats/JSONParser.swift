import Foundation

/// Why a JSON text could not be parsed, with the position of the problem.
package struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset of the problem in the parsed text.
    package let offset: Int
    /// 1-based line of the problem.
    package let line: Int
    /// 1-based column (in bytes) of the problem.
    package let column: Int
    /// What was found and what was expected.
    package let reason: String

    package init(offset: Int, line: Int, column: Int, reason: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.reason = reason
    }

    package var description: String { "line \(line), column \(column): \(reason)" }
}

/// A strict JSON reader (RFC 8259) over UTF-8 bytes.
///
/// Strict where lenient readers guess: duplicate keys, leading zeros, trailing commas,
/// raw control characters, lone surrogates, invalid UTF-8 and integers beyond 64 bits are
/// errors that name the line and column. A UTF-8 byte order mark before the value is
/// skipped. Python's `NaN`, `Infinity` and `-Infinity` are read only when
/// ``Options/allowNonFiniteNumbers`` is set.
package struct JSONParser {
    /// What the parser accepts beyond RFC 8259.
    package struct Options: OptionSet, Sendable {
        package let rawValue: Int
        package init(rawValue: Int) { self.rawValue = rawValue }
        /// Accept the bare tokens `NaN`, `Infinity` and `-Infinity` that Python's `json`
        /// module writes for non-finite floats (metrics logs record a diverged loss so).
        package static let allowNonFiniteNumbers = Options(rawValue: 1)
    }

    /// Nesting deeper than this is an error rather than a stack overflow.
    package static let maximumDepth = 512

    /// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
    /// - Throws: ``JSONParseError`` naming the line, column and what was expected.
    package static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = []) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, options: options)
        return try parser.parseDocument()
    }

    /// Parses one JSON value from UTF-8 bytes.
    package static func parse(_ bytes: [UInt8], options: Options = []) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) in try parse(raw, options: options) }
        }
        return try result.get()
    }

    /// Parses one JSON value from text.
    package static func parse(_ text: String, options: Options = []) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }

    /// Parses one JSON value from UTF-8 data.
    package static func parse(_ data: Data, options: Options = []) throws(JSONParseError) -> JSONValue {
        try parse([UInt8](data), options: options)
    }

    /// One member of a top-level object with the byte offset of its key, so a caller that
    /// checks values (vocab.json's ids) can point at the entry in its own errors.
    package struct Member: Sendable {
        package var key: String
        package var value: JSONValue
        package var keyOffset: Int
    }

    /// Parses a text that must be one JSON object, returning its members in order with
    /// the offset of each key. Duplicate keys are an error, as in ``parse(_:options:)-(UnsafeRawBufferPointer,_)``.
    package static func parseMembers(_ bytes: UnsafeRawBufferPointer, options: Options = []) throws(JSONParseError) -> [Member] {
        var parser = JSONParser(bytes: bytes, options: options)
        parser.skipByteOrderMark()
        parser.skipWhitespace()
        guard parser.current == UInt8(ascii: "{") else { throw parser.error("unexpected \(parser.found()), expected '{' opening an object") }
        // A guess from the size (vocab.json entries average ~21 bytes) saves regrowing.
        var members: [Member] = []
        let expectedCount = min(bytes.count / 16, 1 << 20)
        members.reserveCapacity(expectedCount)
        var seen = JSONKeySet(expectedCount: expectedCount)
        try parser.parseObjectBody { key, value, offset in
            guard seen.insert(key) else { return false }
            members.append(Member(key: key, value: value, keyOffset: offset))
            return true
        }
        parser.skipWhitespace()
        if parser.position < bytes.count { throw parser.error("unexpected \(parser.found()) after the end of the JSON object") }
        return members
    }

    /// The 1-based line and byte column of `offset` in `bytes`.
    package static func lineAndColumn(of offset: Int, in bytes: UnsafeRawBufferPointer) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }

    private let bytes: UnsafeRawBufferPointer
    private let options: Options
    private var position = 0
    private var depth = 0

    private init(bytes: UnsafeRawBufferPointer, options: Options) {
        self.bytes = bytes
        self.options = options
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipByteOrderMark() {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipByteOrderMark()
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count { throw error("unexpected \(found()) after the end of the JSON value") }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of text, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "N"): try expectNonFinite("NaN"); return .number(.double(.nan))
        case UInt8(ascii: "I"): try expectNonFinite("Infinity"); return .number(.double(.infinity))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(found()), expected a value")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        var members = JSONObject()
        try parseObjectBody { key, value, _ in members.appendIfAbsent(key, value) }
        return .object(members)
    }

    /// Reads `{...}` at the current position, handing each member and the offset of its
    /// key to `add`, which returns false for a duplicate key.
    private mutating func parseObjectBody(_ add: (String, JSONValue, Int) -> Bool) throws(JSONParseError) {
        try enterNested()
        position += 1  // {
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("unexpected \(found()), expected a quoted key") }
            let keyStart = position
            let key = try parseString()
            skipWhitespace()
            try expectByte(":", "after the key \"\(key)\"")
            skipWhitespace()
            let value = try parseValue()
            guard add(key, value, keyStart) else {
                position = keyStart
                throw error("duplicate key \"\(key)\"")
            }
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expectByte("}", "or ',' between members")
            depth -= 1
            return
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterNested()
        position += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expectByte("]", "or ',' between items")
            depth -= 1
            return .array(items)
        }
    }

    // MARK: Strings

    /// Reads a string. Most strings hold no escape: they are scanned once (quote, escape,
    /// control character, any non-ASCII byte) and made from the file's bytes in one go.
    private mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        var index = position + 1  // after the opening quote
        var orOfBytes: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<index])
                // ASCII needs no validation; anything else is checked before it is used.
                if orOfBytes < 0x80 {
                    position = index + 1
                    return String(decoding: run, as: UTF8.self)
                }
                guard let text = Self.validatedString(run) else { throw error("string is not valid UTF-8") }
                position = index + 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            orOfBytes |= byte
            index += 1
        }
        // Escapes, control characters and unterminated strings are read (or reported) by
        // the general loop from the start.
        return try parseEscapedString()
    }

    private mutating func parseEscapedString() throws(JSONParseError) -> String {
        let start = position
        position += 1  // opening quote
        var utf8: [UInt8] = []
        var runStart = position
        while true {
            guard let byte = current else {
                position = start
                throw error("unterminated string")
            }
            if byte == UInt8(ascii: "\"") {
                utf8.append(contentsOf: bytes[runStart..<position])
                let text = utf8.withUnsafeBytes { Self.validatedString($0) }
                guard let text else {
                    position = start
                    throw error("string is not valid UTF-8")
                }
                position += 1
                return text
            }
            if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) inside a string (escape it as \\u00XX)") }
            if byte != UInt8(ascii: "\\") { position += 1; continue }
            if utf8.isEmpty { utf8.reserveCapacity(2 * (position - runStart) + 16) }
            utf8.append(contentsOf: bytes[runStart..<position])
            try parseEscape(into: &utf8)
            runStart = position
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = position
        position += 1  // backslash
        guard let escape = current else { throw error("unterminated escape in a string") }
        position += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xDC00..<0xE000).contains(code) {
                position = escapeStart
                throw error("lone low surrogate \\u\(String(code, radix: 16)) (not a Unicode character)")
            }
            if (0xD800..<0xDC00).contains(code) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                      bytes[position + 1] == UInt8(ascii: "u") else {
                    position = escapeStart
                    throw error("high surrogate \\u\(String(code, radix: 16)) not followed by a \\u low surrogate")
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else {
                    position = escapeStart
                    throw error("high surrogate \\u\(String(code, radix: 16)) followed by \\u\(String(low, radix: 16)), not a low surrogate")
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            // Surrogates are handled above, so every remaining code is a scalar.
            utf8.append(contentsOf: String(Unicode.Scalar(code)!).utf8)
        default:
            position -= 1
            throw error("invalid escape \\\(Character(Unicode.Scalar(escape)))")
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Self.hexDigit(byte) else {
                throw error("expected four hex digits after \\u")
            }
            code = code << 4 | digit
            position += 1
        }
        return code
    }

    private static func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The string for `utf8`, or nil when it is not valid UTF-8.
    package static func validatedString(_ utf8: [UInt8]) -> String? {
        utf8.withUnsafeBytes { validatedString($0) }
    }

    /// The string for the UTF-8 bytes `utf8`, or nil when they are not valid UTF-8.
    package static func validatedString(_ utf8: UnsafeRawBufferPointer) -> String? {
        isValidUTF8(utf8) ? String(decoding: utf8, as: UTF8.self) : nil
    }

    /// Whether `b` is well-formed UTF-8 (Unicode 15 table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF). Inline here: `String(validating:)` is generic
    /// and cost a metadata lookup per string.
    private static func isValidUTF8(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = b.count
        while i < n {
            let lead = b[i]
            if lead < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF:
                length = 3
                if lead == 0xE0 { low = 0xA0 } else if lead == 0xED { high = 0x9F }
            case 0xF0...0xF4:
                length = 4
                if lead == 0xF0 { low = 0x90 } else if lead == 0xF4 { high = 0x8F }
            default: return false
            }
            guard i + length <= n, b[i + 1] >= low, b[i + 1] <= high else { return false }
            for k in 2..<length where b[i + k] & 0xC0 != 0x80 { return false }
            i += length
        }
        return true
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = position
        if current == UInt8(ascii: "-") {
            position += 1
            if current == UInt8(ascii: "I") {
                try expectNonFinite("Infinity")
                return .double(-.infinity)
            }
        }
        let digitsStart = position
        while let byte = current, Self.isDigit(byte) { position += 1 }
        if position == digitsStart { throw error("expected a digit in a number") }
        if bytes[digitsStart] == UInt8(ascii: "0"), position - digitsStart > 1 {
            position = digitsStart
            throw error("a number may not start with 0 followed by digits")
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let fraction = position
            while let byte = current, Self.isDigit(byte) { position += 1 }
            if position == fraction { throw error("expected a digit after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            let exponent = position
            while let byte = current, Self.isDigit(byte) { position += 1 }
            if position == exponent { throw error("expected a digit in the exponent") }
        }
        if isInteger, let value = Self.exactInteger(bytes[digitsStart..<position], negative: digitsStart > start) {
            return value
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger {
            position = start
            throw error("integer \(text) does not fit in 64 bits")
        }
        guard let value = Double(text), value.isFinite else {
            position = start
            throw error("number \(text) is out of the range of a double")
        }
        return .double(value)
    }

    /// The integer of decimal `digits` (with a minus sign before them when `negative`),
    /// exact over Int64 and, when positive, UInt64; nil when it does not fit.
    private static func exactInteger(_ digits: Slice<UnsafeRawBufferPointer>, negative: Bool) -> JSONNumber? {
        var magnitude: UInt64 = 0
        for byte in digits {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
        }
        if !negative { return magnitude <= UInt64(Int64.max) ? .integer(Int64(magnitude)) : .unsigned(magnitude) }
        if magnitude <= UInt64(Int64.max) { return .integer(-Int64(magnitude)) }
        return magnitude == UInt64(Int64.max) + 1 ? .integer(.min) : nil
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    // MARK: Helpers

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func enterNested() throws(JSONParseError) {
        depth += 1
        // Deep nesting would overflow the stack of this recursive parser.
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func expectWord(_ word: String) throws(JSONParseError) {
        for byte in word.utf8 {
            guard current == byte else { throw error("unexpected \(found()), expected \(word)") }
            position += 1
        }
    }

    private mutating func expectNonFinite(_ word: String) throws(JSONParseError) {
        guard options.contains(.allowNonFiniteNumbers) else {
            throw error("\(word) is not a JSON number (Python writes it for non-finite floats; not allowed here)")
        }
        try expectWord(word)
    }

    /// `context` is built only on failure (it may quote a key).
    private mutating func expectByte(_ ascii: Unicode.Scalar, _ context: @autoclosure () -> String) throws(JSONParseError) {
        guard current == UInt8(ascii: ascii) else { throw error("unexpected \(found()), expected '\(ascii)' \(context())") }
        position += 1
    }

    private func found() -> String {
        guard let byte = current else { return "end of text" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    private func error(_ reason: String) -> JSONParseError {
        let (line, column) = Self.lineAndColumn(of: position, in: bytes)
        return JSONParseError(offset: position, line: line, column: column, reason: reason)
    }
}

extension JSONValue {
    /// Parses one JSON value from text; see ``JSONParser``.
    package static func parse(_ text: String, options: JSONParser.Options = []) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(text, options: options)
    }

    /// Parses one JSON value from UTF-8 data; see ``JSONParser``.
    package static func parse(_ data: Data, options: JSONParser.Options = []) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(data, options: options)
    }
}

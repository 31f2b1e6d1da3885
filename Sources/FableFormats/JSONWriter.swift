/// Why a value could not be written as JSON.
package struct JSONWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What could not be written.
    package let reason: String
    package var description: String { reason }
}

/// Writes JSON text piece by piece into a byte buffer, the way Python's `json.dumps` does.
///
/// Call ``beginObject()``, ``key(_:)``, the value methods and ``endObject()`` (or the
/// array pair) in document order; the writer puts in the separators and indentation.
/// Long outputs can be streamed: ``takeBytes()`` hands over what is written so far.
///
/// Output matches Python's `json.dumps` byte for byte for the same style: strings escape
/// `"` `\` and control characters (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00xx`), with
/// ``asciiOnly`` every non-ASCII character as `\uXXXX` (surrogate pairs above U+FFFF, as
/// `ensure_ascii=True` does); doubles use the shortest digits that read back exactly, in
/// Python's `repr` layout (`1.0`, `0.0001`, `1e-05`, `1e+16`).
package struct JSONWriter {
    /// Separators and indentation.
    package enum Style: Equatable, Sendable {
        /// No spaces: `{"a":1,"b":[1,2]}` (Python's `separators=(",", ":")`, serde_json).
        case compact
        /// Python's default: `{"a": 1, "b": [1, 2]}`.
        case spaced
        /// One member per line, indented by this many spaces (Python's `indent=n`).
        case indented(Int)
    }

    /// The style in use.
    package let style: Style
    /// Escape every non-ASCII character (Python's `ensure_ascii=True`).
    package let asciiOnly: Bool
    /// Write non-finite doubles as `NaN`, `Infinity`, `-Infinity` instead of failing.
    package let allowNonFiniteNumbers: Bool
    /// The text written so far (since the last ``takeBytes()``).
    package private(set) var bytes: [UInt8] = []

    private struct Frame {
        var count = 0
        var afterKey = false
    }
    private var frames: [Frame] = []

    /// A writer with an empty buffer.
    package init(style: Style = .compact, asciiOnly: Bool = false, allowNonFiniteNumbers: Bool = false) {
        self.style = style
        self.asciiOnly = asciiOnly
        self.allowNonFiniteNumbers = allowNonFiniteNumbers
    }

    /// The text written so far, as a string.
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Returns the bytes written so far and empties the buffer (for streaming to a file).
    package mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Appends raw text (a newline between JSON Lines, say) with no separator logic.
    package mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    // MARK: Containers

    /// Opens an object; members follow as ``key(_:)`` and a value each.
    package mutating func beginObject() {
        prepareValue()
        bytes.append(UInt8(ascii: "{"))
        frames.append(Frame())
    }

    /// Closes the innermost object.
    package mutating func endObject() { close(UInt8(ascii: "}")) }

    /// Opens an array.
    package mutating func beginArray() {
        prepareValue()
        bytes.append(UInt8(ascii: "["))
        frames.append(Frame())
    }

    /// Closes the innermost array.
    package mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Writes an object key; the next value written is its value.
    package mutating func key(_ key: String) {
        separateItem()
        Self.appendQuoted(key, to: &bytes, asciiOnly: asciiOnly)
        bytes.append(UInt8(ascii: ":"))
        if style != .compact { bytes.append(UInt8(ascii: " ")) }
        frames[frames.count - 1].afterKey = true
    }

    // MARK: Scalars

    /// Writes a string.
    package mutating func string(_ value: String) {
        prepareValue()
        Self.appendQuoted(value, to: &bytes, asciiOnly: asciiOnly)
    }

    /// Writes an integer exactly.
    package mutating func integer<I: BinaryInteger>(_ value: I) {
        prepareValue()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a double in the shortest form that reads back exactly.
    /// - Throws: ``JSONWriteError`` for NaN or an infinity unless ``allowNonFiniteNumbers``.
    package mutating func double(_ value: Double) throws(JSONWriteError) {
        guard value.isFinite || allowNonFiniteNumbers else {
            throw JSONWriteError(reason: "\(value) is not a JSON number")
        }
        prepareValue()
        bytes.append(contentsOf: Self.doubleText(value).utf8)
    }

    /// Writes `true` or `false`.
    package mutating func bool(_ value: Bool) {
        prepareValue()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    package mutating func null() {
        prepareValue()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Writes a whole value, objects in their key order.
    package mutating func value(_ value: JSONValue) throws(JSONWriteError) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .string(let s): string(s)
        case .number(.integer(let i)): integer(i)
        case .number(.unsigned(let u)): integer(u)
        case .number(.double(let x)): try double(x)
        case .array(let items):
            beginArray()
            for item in items { try self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                key(name)
                try self.value(member)
            }
            endObject()
        }
    }

    // MARK: Separators

    private mutating func prepareValue() {
        guard !frames.isEmpty else { return }
        if frames[frames.count - 1].afterKey {
            frames[frames.count - 1].afterKey = false
        } else {
            separateItem()
        }
    }

    private mutating func separateItem() {
        let index = frames.count - 1
        if frames[index].count > 0 {
            bytes.append(UInt8(ascii: ","))
            if style == .spaced { bytes.append(UInt8(ascii: " ")) }
        }
        frames[index].count += 1
        newline(depth: frames.count)
    }

    private mutating func close(_ bracket: UInt8) {
        let frame = frames.removeLast()
        if frame.count > 0 { newline(depth: frames.count) }
        bytes.append(bracket)
    }

    private mutating func newline(depth: Int) {
        guard case .indented(let width) = style else { return }
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width * depth))
    }

    // MARK: Text of strings and numbers

    /// Appends `text` as a quoted JSON string literal (see the type's escaping rules).
    package static func appendQuoted(_ text: String, to out: inout [UInt8], asciiOnly: Bool = false) {
        out.append(UInt8(ascii: "\""))
        if asciiOnly {
            for scalar in text.unicodeScalars {
                if scalar.value < 0x80 {
                    appendEscaped(UInt8(scalar.value), to: &out, escapeDelete: true)
                } else if scalar.value < 0x10000 {
                    appendUnicodeEscape(UInt16(scalar.value), to: &out)
                } else {
                    for unit in String(scalar).utf16 { appendUnicodeEscape(unit, to: &out) }
                }
            }
        } else {
            for byte in text.utf8 { appendEscaped(byte, to: &out, escapeDelete: false) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `text` as a quoted JSON string literal.
    package static func quoted(_ text: String, asciiOnly: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &out, asciiOnly: asciiOnly)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8], escapeDelete: Bool) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0..<0x20: appendUnicodeEscape(UInt16(byte), to: &out)
        case 0x7F where escapeDelete: appendUnicodeEscape(0x7F, to: &out)
        default: out.append(byte)
        }
    }

    private static func appendUnicodeEscape(_ unit: UInt16, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int(unit >> UInt16(shift) & 0xF)]) }
    }

    /// The text of a double as Python's `repr` writes it: the shortest digits that read
    /// back exactly, fixed-point for decimal exponents -4...15 (always with a fraction, as
    /// in `1.0`), otherwise scientific with a signed two-digit exponent (`1e-05`,
    /// `1.5e+300`). Non-finite values give `NaN`, `Infinity`, `-Infinity`.
    package static func doubleText(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
        if x == 0 { return x.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description already holds the shortest round-trip digits; only the
        // layout differs from Python's.
        var text = Substring(x.description)
        let negative = text.first == "-"
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let point = text.firstIndex(of: ".") ?? text.endIndex
        let integerPart = text[..<point]
        let fractionPart = point < text.endIndex ? text[text.index(after: point)...] : ""
        var digits = Array(integerPart + fractionPart)
        var pointPosition = integerPart.count + exponent  // digits before the decimal point
        while digits.first == "0" { digits.removeFirst(); pointPosition -= 1 }
        while digits.last == "0" { digits.removeLast() }
        let scientific = pointPosition - 1
        var out = negative ? "-" : ""
        if scientific < -4 || scientific >= 16 {
            out.append(digits[0])
            if digits.count > 1 { out += "." + String(digits[1...]) }
            let magnitude = abs(scientific)
            out += (scientific < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        } else if pointPosition <= 0 {
            out += "0." + String(repeating: "0", count: -pointPosition) + String(digits)
        } else if pointPosition >= digits.count {
            out += String(digits) + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        } else {
            out += String(digits[..<pointPosition]) + "." + String(digits[pointPosition...])
        }
        return out
    }
}

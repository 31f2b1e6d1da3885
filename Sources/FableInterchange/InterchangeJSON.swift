import FableFormats
import Foundation

// FableInterchange reads and writes JSON (config.json, tokenizer.json, ...) through
// FableFormats' JSONValue, JSONParser and JSONWriter; this file adds what exporters and
// importers need on top: accessors whose errors name the file and key, and file output.

/// A JSON object read from a file, with accessors whose errors name the file and key.
struct JSONFields {
    let members: JSONObject
    /// The file (and key path) the object came from, for messages.
    let source: String

    /// Reads and parses the file at `url`, which must hold a JSON object.
    static func read(_ url: URL) throws(InterchangeError) -> JSONFields {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch {
            throw .unreadable(path: url.path, reason: "not valid JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw .unreadable(path: url.path, reason: "expected a JSON object, found \(value.kindDescription)")
        }
        return JSONFields(members: members, source: url.path)
    }

    /// The value of `key`; null counts as absent.
    subscript(key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func int(_ key: String) throws(InterchangeError) -> Int {
        guard let value = self[key] else { throw .missingKey(path: source, key: key) }
        guard let int = value.intValue else { throw mismatch(key, value, "a whole number") }
        return int
    }

    func optionalInt(_ key: String) throws(InterchangeError) -> Int? {
        self[key] == nil ? nil : try int(key)
    }

    func double(_ key: String) throws(InterchangeError) -> Double? {
        guard let value = self[key] else { return nil }
        guard let number = value.doubleValue else { throw mismatch(key, value, "a number") }
        return number
    }

    func string(_ key: String) throws(InterchangeError) -> String? {
        guard let value = self[key] else { return nil }
        guard let text = value.stringValue else { throw mismatch(key, value, "a string") }
        return text
    }

    func bool(_ key: String) throws(InterchangeError) -> Bool? {
        guard let value = self[key] else { return nil }
        guard let flag = value.boolValue else { throw mismatch(key, value, "true or false") }
        return flag
    }

    func object(_ key: String) throws(InterchangeError) -> JSONFields? {
        guard let value = self[key] else { return nil }
        guard let members = value.objectValue else { throw mismatch(key, value, "an object") }
        return JSONFields(members: members, source: "\(source) (key \(key))")
    }

    func array(_ key: String) throws(InterchangeError) -> [JSONValue]? {
        guard let value = self[key] else { return nil }
        guard let items = value.arrayValue else { throw mismatch(key, value, "an array") }
        return items
    }

    func mismatch(_ key: String, _ value: JSONValue, _ expected: String) -> InterchangeError {
        .invalidValue(path: source, key: key, value: Self.shortText(value), expected: expected)
    }

    /// The value's JSON text, shortened for messages.
    static func shortText(_ value: JSONValue) -> String {
        let text = value.jsonText
        return text.count <= 60 ? text : String(text.prefix(57)) + "..."
    }
}

extension JSONValue {
    /// An integer number.
    static func int(_ value: Int) -> JSONValue { .number(.integer(Int64(value))) }
    /// A floating-point number (written in Python's shortest form, e.g. `1e-05`).
    static func double(_ value: Double) -> JSONValue { .number(.double(value)) }
}

/// Renders JSON files.
enum JSONFile {
    /// The UTF-8 text of `value` with a final newline: indented like transformers' files,
    /// or compact for large files (tokenizer.json).
    static func bytes(_ value: JSONValue, indented: Bool = true) -> [UInt8] {
        var writer = JSONWriter(style: indented ? .indented(2) : .compact)
        // Only finite numbers are written here, so this cannot fail.
        try? writer.value(value)
        return writer.takeBytes() + [0x0A]
    }
}

import FableTraining
import Foundation

// The one place FableInterchange reads and writes JSON (config.json, tokenizer.json, ...),
// through the project's JSONValue, so a change of JSON library touches only this file.

/// A JSON object read from a file, with accessors whose errors name the file and key.
struct JSONObject {
    let members: [String: JSONValue]
    /// The file (and key path) the object came from, for messages.
    let source: String

    /// Reads and parses the file at `url`, which must hold a JSON object.
    static func read(_ url: URL) throws(InterchangeError) -> JSONObject {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch {
            throw .unreadable(path: url.path, reason: "not valid JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw .unreadable(path: url.path, reason: "expected a JSON object, found \(value.kindDescription)")
        }
        return JSONObject(members: members, source: url.path)
    }

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
        guard case .number(let number) = value else { throw mismatch(key, value, "a number") }
        return number
    }

    func string(_ key: String) throws(InterchangeError) -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let text) = value else { throw mismatch(key, value, "a string") }
        return text
    }

    func bool(_ key: String) throws(InterchangeError) -> Bool? {
        guard let value = self[key] else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(key, value, "true or false") }
        return flag
    }

    func object(_ key: String) throws(InterchangeError) -> JSONObject? {
        guard let value = self[key] else { return nil }
        guard case .object(let members) = value else { throw mismatch(key, value, "an object") }
        return JSONObject(members: members, source: "\(source) (key \(key))")
    }

    func array(_ key: String) throws(InterchangeError) -> [JSONValue]? {
        guard let value = self[key] else { return nil }
        guard case .array(let items) = value else { throw mismatch(key, value, "an array") }
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

/// Renders JSON files.
enum JSONFile {
    /// The UTF-8 text of `value` with a final newline.
    static func bytes(_ value: JSONValue) -> [UInt8] {
        Array((value.jsonText + "\n").utf8)
    }
}

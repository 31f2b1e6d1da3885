import FableFormats
import FableModel
import Foundation

/// One `--set key=value` argument: a dotted key (`optimizer.lr`, `model.num_layers`,
/// `batch_size`) and the value's text, read when it is applied: a JSON literal (`3e-4`,
/// `true`, `null`, `[0.9,0.99]`, `"text"`), a comma list for a list key (`0.9,0.99`), or
/// else the bare text as a string (`model.norm=post`, `tokenizer=tok/`).
public struct ConfigOverride: Equatable, Sendable, CustomStringConvertible {
    /// The dotted key.
    public let key: String
    /// The value as written.
    public let value: String
    /// The option that gave it (`--set`, or `--grid` for a sweep's runs), for messages.
    public let option: String

    public init(key: String, value: String, option: String = "--set") {
        self.key = key
        self.value = value
        self.option = option
    }

    /// Parses `key=value`, given to `option`.
    /// - Throws: ``TrainingConfigError/malformedOverride(option:argument:reason:)`` without
    ///   `=` or a key.
    public init(parsing argument: String, option: String = "--set") throws(TrainingConfigError) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw .malformedOverride(option: option, argument: argument, reason: "expected key=value, e.g. optimizer.lr=3e-4")
        }
        let key = argument[..<equals].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, !key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw .malformedOverride(option: option, argument: argument, reason: "expected a dotted key before '=', e.g. optimizer.lr")
        }
        let value = String(argument[argument.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        self.init(key: key, value: value, option: option)
    }

    public var description: String { "\(key)=\(value)" }

    /// The argument as given on the command line: `--set optimizer.lr=3e-4`.
    public var argument: String { "\(option) \(self)" }

    /// The key's parts: `["optimizer", "lr"]`.
    var path: [String] { key.split(separator: ".").map(String.init) }
}

// MARK: - Resolving a config

// A config resolves through Codable alone: the file or preset becomes a JSON tree, each
// override sets one value in it, and the tree is decoded once. The keys a config has come
// from encoding one (``keyTree``); what each key accepts comes from the decoding error,
// whose coding path is mapped back to the dotted key (``describe(_:in:)``).

extension TrainingConfig {
    /// Reads a JSON config file and applies `overrides`, then validates the result.
    /// - Throws: ``TrainingConfigError`` naming the file or `--set` argument and the key.
    public static func load(from url: URL, overrides: [ConfigOverride] = []) throws(TrainingConfigError) -> TrainingConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        let tree: JSONValue
        do { tree = try JSONValue.parse(data) } catch {
            throw .invalidJSON(path: url.path, reason: "\(error)")
        }
        return try resolve(tree, source: url.path, overrides: overrides)
    }

    /// The training preset called `name` with `overrides` applied, validated.
    public static func preset(named name: String, overrides: [ConfigOverride] = []) throws(TrainingConfigError) -> TrainingConfig {
        guard let preset = presets.first(where: { $0.name == name }) else {
            throw .unknownPreset(name: name, available: presets.map(\.name))
        }
        return try resolve(preset.config.jsonTree, source: "preset \(name)", overrides: overrides)
    }

    /// This configuration with `overrides` applied, validated (sweeps and resumed runs).
    public func applying(_ overrides: [ConfigOverride]) throws(TrainingConfigError) -> TrainingConfig {
        try Self.resolve(jsonTree, source: "config", overrides: overrides)
    }

    /// Checks the keys of a JSON tree (the `model` key may name a model preset), applies
    /// `overrides` in order, decodes once and validates.
    /// - Parameter source: names the tree in errors (a path, `preset NAME`); an error at a
    ///   key an override set names that override instead.
    package static func resolve(
        _ tree: JSONValue, source: String, overrides: [ConfigOverride] = []
    ) throws(TrainingConfigError) -> TrainingConfig {
        guard case .object(var members) = tree else {
            throw .inSource(source, .typeMismatch(key: "(top level)", expected: "a JSON object", found: tree.kindDescription))
        }
        do {
            if let model = members["model"] { members["model"] = try expandModel(model, key: "model") }
            try checkKeys(.object(members), against: keyTree, path: [])
        } catch { throw .inSource(source, error) }
        var root = JSONValue.object(members)
        for override in overrides {
            do { try apply(override, to: &root) } catch { throw .inSource(override.argument, error) }
        }
        // An error at a key an override set names that override; one at another key, the
        // source; one without a key, both.
        func attributed(_ error: TrainingConfigError) -> TrainingConfigError {
            if let key = error.key {
                return .inSource(origin(of: key, in: overrides)?.argument ?? source, error)
            }
            let options = Set(overrides.map(\.option)).sorted().joined(separator: " and ")
            return .inSource(overrides.isEmpty ? source : "\(source) with \(options)", error)
        }
        let config: TrainingConfig
        do { config = try decode(&root, overrides: overrides) } catch { throw attributed(error) }
        do { try config.validate() } catch { throw attributed(error) }
        return config
    }

    /// The configuration as a JSON tree with every key.
    var jsonTree: JSONValue {
        // Encoding plain values cannot fail, and JSONValue reads what JSONEncoder writes.
        (try? JSONValue.parse(jsonData())) ?? .object([:])
    }

    /// Every key a config has, each holding its default: a config encoded (the encoders
    /// write absent optional values as null, so every key is there).
    static let keyTree: JSONValue = TrainingConfig(model: ModelConfig(
        vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16)).jsonTree

    /// The keys of the section at dotted `path` ("" for the top level, "model", ...).
    static func knownKeys(in path: String) -> [String] {
        let parts = path.split(separator: ".").map(String.init)
        guard case .object(let members)? = keyTree.member(at: parts) else { return [] }
        return members.keys.sorted()
    }

    // MARK: - Keys

    /// Rejects keys that `shape` does not have, at every level, suggesting the closest.
    /// Values of the wrong kind are left to decoding, which names what the key accepts.
    static func checkKeys(_ value: JSONValue, against shape: JSONValue, path: [String]) throws(TrainingConfigError) {
        guard case .object(let known) = shape, case .object(let members) = value else { return }
        for key in members.keys.sorted() {
            guard let child = known[key] else {
                let names = known.keys.sorted()
                throw .unknownKey(key: dotted(path + [key]), known: names,
                                  suggestion: closest(key, in: names).map { dotted(path + [$0]) })
            }
            try checkKeys(members[key]!, against: child, path: path + [key])
        }
    }

    /// The default value at `path` in ``keyTree``, naming the first unknown part.
    static func shape(at path: [String]) throws(TrainingConfigError) -> JSONValue {
        var node = keyTree
        for (depth, part) in path.enumerated() {
            let walked = Array(path[..<depth])
            guard case .object(let known) = node else {
                throw .unknownKey(key: dotted(path), known: [], suggestion: dotted(walked))
            }
            guard let next = known[part] else {
                let names = known.keys.sorted()
                throw .unknownKey(key: dotted(walked + [part]), known: names,
                                  suggestion: closest(part, in: names).map { dotted(walked + [$0]) })
            }
            node = next
        }
        return node
    }

    /// A preset name under `model` becomes that preset's config object.
    static func expandModel(_ value: JSONValue, key: String) throws(TrainingConfigError) -> JSONValue {
        guard case .string(let name) = value else { return value }
        do {
            return try JSONValue.parse(ModelConfig.preset(named: name).jsonData())
        } catch let error as ModelConfigError {
            if case let .unknownPreset(_, available) = error {
                throw .invalidValue(key: key, value: "\"\(name)\"",
                                    expected: "a model config object or a model preset: " + available.joined(separator: ", "))
            }
            throw TrainingConfigError(error, section: key)
        } catch {
            throw .invalidValue(key: key, value: "\"\(name)\"", expected: "a model preset")
        }
    }

    // MARK: - Applying --set

    /// Sets the value of one override in `root`.
    static func apply(_ override: ConfigOverride, to root: inout JSONValue) throws(TrainingConfigError) {
        let path = override.path
        let shape = try shape(at: path)
        var value = parsedValue(override.value, shape: shape)
        if path == ["model"] { value = try expandModel(value, key: override.key) }
        try checkKeys(value, against: shape, path: path)
        root = root.setting(value, at: path[...])
        // The run's length is steps or max_tokens: setting one clears the other.
        if path == ["steps"], value != .null { root = root.setting(.null, at: ["max_tokens"]) }
        if path == ["max_tokens"], value != .null { root = root.setting(.null, at: ["steps"]) }
    }

    /// Reads the text of a `--set` value: a JSON literal (`true`, `3e-4`, `[0.9,0.99]`,
    /// `"x"`), a number in looser form (`1_000`, `.5`, `TRUE`), a comma list where `shape`
    /// is a list (`0.9,0.99`), empty text as null, or else the text as a string.
    static func parsedValue(_ text: String, shape: JSONValue) -> JSONValue {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return .null }
        if let number = numberLiteral(text) { return number }
        if let literal = try? JSONValue.parse(text) { return literal }
        switch text.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if case .array = shape {
            let items = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
            return .array(items.split(separator: ",", omittingEmptySubsequences: false).map {
                parsedValue(String($0), shape: .null)
            })
        }
        return .string(text)
    }

    /// A number written with optional `_` separators (`1_000`) or in a form JSON lacks
    /// (`.5`, `+5`), or nil. Integers stay exact, so a whole-number key rejects 2^53 + 1
    /// instead of reading it as 2^53.
    static func numberLiteral(_ text: String) -> JSONValue? {
        let plain = text.replacingOccurrences(of: "_", with: "")
        guard plain.first.map({ $0.isNumber || "+-.".contains($0) }) == true else { return nil }
        if let literal = try? JSONValue.parse(plain), case .number = literal { return literal }
        guard let x = Double(plain), x.isFinite else { return nil }
        return .number(.double(x))
    }

    /// The override that set `key` or a section holding it (the last one wins).
    static func origin(of key: String, in overrides: [ConfigOverride]) -> ConfigOverride? {
        overrides.last { key == $0.key || key.hasPrefix($0.key + ".") || $0.key.hasPrefix(key + ".") }
    }

    // MARK: - Decoding

    /// Decodes `root` once. A bare word read as another kind (`tokenizer=123`) where the key
    /// wants text is read again as text, once per override.
    static func decode(_ root: inout JSONValue, overrides: [ConfigOverride]) throws(TrainingConfigError) -> TrainingConfig {
        var reread: Set<String> = []
        while true {
            do {
                return try JSONDecoder().decode(TrainingConfig.self, from: Data(root.jsonText.utf8))
            } catch DecodingError.typeMismatch(let type, let context) where type == String.self {
                let key = codingKey(context.codingPath).key
                if let override = overrides.last(where: { $0.key == key }), !reread.contains(key),
                   let shape = try? shape(at: override.path) {
                    reread.insert(key)
                    root = root.setting(textValue(override.value, shape: shape), at: override.path[...])
                    continue
                }
                throw describe(.typeMismatch(type, context), in: root, overrides: overrides)
            } catch let error as DecodingError {
                throw describe(error, in: root, overrides: overrides)
            } catch let error as ModelConfigError {
                throw TrainingConfigError(error, section: "model")
            } catch {
                throw .invalidJSON(path: "config", reason: "\(error)")
            }
        }
    }

    /// The text of a `--set` value as a string, or a list of strings where `shape` is a list.
    static func textValue(_ text: String, shape: JSONValue) -> JSONValue {
        guard case .array = shape else { return .string(text) }
        let items = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        return .array(items.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
    }

    /// The dotted key of a coding path, up to the first list index, and whether the path
    /// goes on into the list (`optimizer.betas[1]` gives `optimizer.betas`, true).
    static func codingKey(_ path: [any CodingKey]) -> (key: String, inList: Bool) {
        let keys = path.prefix { $0.intValue == nil }
        return (dotted(keys.map(\.stringValue)), keys.count < path.count)
    }

    /// A keyed message for a decoding error: the key, what it holds and what it accepts.
    static func describe(_ error: DecodingError, in root: JSONValue, overrides: [ConfigOverride]) -> TrainingConfigError {
        func found(_ key: String) -> String {
            if let override = overrides.last(where: { $0.key == key }) { return "'\(override.value)'" }
            guard let value = root.member(at: key.split(separator: ".").map(String.init)) else { return "missing" }
            return value == .null ? "null" : "\(value.kindDescription) \(value.jsonText)"
        }
        switch error {
        case .keyNotFound(let missing, let context):
            let key = codingKey(context.codingPath + [missing]).key
            return .invalidValue(key: key, value: "missing", expected: "a value (this key is required)")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let (key, inList) = codingKey(context.codingPath)
            return .typeMismatch(key: key, expected: expectation(type, at: key, inList: inList, in: root), found: found(key))
        case .dataCorrupted(let context):
            let key = codingKey(context.codingPath).key
            if let choice = context.underlyingError as? InvalidChoice {
                return .invalidValue(key: key, value: "\"\(choice.value)\"",
                                     expected: "one of " + choice.choices.joined(separator: ", "))
            }
            return .typeMismatch(key: key, expected: context.debugDescription, found: found(key))
        @unknown default:
            return .invalidJSON(path: "config", reason: "\(error)")
        }
    }

    /// What a key of the Swift type `type` accepts, in words; a list key shows its default
    /// as an example, and a key whose default is null also accepts null.
    static func expectation(_ type: Any.Type, at key: String, inList: Bool, in root: JSONValue) -> String {
        let path = key.split(separator: ".").map(String.init)
        let example = keyTree.member(at: path)
        let one: String, many: String
        switch type {
        case is Int.Type:
            var large = false
            if case .number(let number)? = root.member(at: path) {
                large = number.intValue.map { $0.magnitude > UInt(configWholeNumberLimit) }
                    ?? (abs(number.doubleValue) > Double(configWholeNumberLimit))
            }
            (one, many) = large ? ("a whole number from -2^53 to 2^53", "whole numbers") : ("a whole number", "whole numbers")
        case is Double.Type, is Float.Type: (one, many) = ("a number", "numbers")
        case is Bool.Type: (one, many) = ("true or false", "booleans")
        case is String.Type: (one, many) = ("a string", "strings")
        default:
            switch example {
            case .array?: (one, many) = ("a list", "lists")
            case .object?: (one, many) = ("an object", "objects")
            default: (one, many) = ("a value of type \(type)", "values of type \(type)")
            }
        }
        var text = inList ? "a list of \(many)" : one
        if case .array(let items)? = example, !items.isEmpty { text += ", e.g. \(example!.jsonText)" }
        if example == .null { text += " or null" }
        return text
    }

    // MARK: - Suggestions

    /// The known key closest to `key` by edit distance, when it is close.
    static func closest(_ key: String, in known: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var current = [i + 1]
                for (j, cb) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        let target = Array(key.lowercased())
        let scored = known.map { ($0, distance(target, Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, target.count / 3) else {
            // A key that contains the typed one ("lr" in "muon_lr") is a good guess too.
            return known.first { $0.contains(key) || key.contains($0) && $0.count > 2 }
        }
        return best.0
    }

    static func dotted(_ parts: [String]) -> String { parts.joined(separator: ".") }
}

// MARK: - Tree paths

extension JSONValue {
    /// The value at `path` through nested objects, or nil.
    func member(at path: [String]) -> JSONValue? {
        var node = self
        for part in path {
            guard case .object(let members) = node, let next = members[part] else { return nil }
            node = next
        }
        return node
    }

    /// This value with `value` at `path`, creating objects on the way.
    func setting(_ value: JSONValue, at path: ArraySlice<String>) -> JSONValue {
        guard let first = path.first else { return value }
        var members = JSONObject()
        if case .object(let existing) = self { members = existing }
        members[first] = (members[first] ?? .object([:])).setting(value, at: path.dropFirst())
        return .object(members)
    }
}

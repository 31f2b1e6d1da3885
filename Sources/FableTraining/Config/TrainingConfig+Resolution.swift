import FableFormats
import FableModel
import Foundation

/// One `--set key=value` argument: a dotted key (`optimizer.lr`, `model.num_layers`,
/// `batch_size`) and the value's text, checked against the key's type when applied.
public struct ConfigOverride: Equatable, Sendable, CustomStringConvertible {
    /// The dotted key.
    public let key: String
    /// The value as written.
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value`.
    /// - Throws: ``TrainingConfigError/malformedOverride(argument:reason:)`` without `=` or a key.
    public init(parsing argument: String) throws(TrainingConfigError) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw .malformedOverride(argument: argument, reason: "expected key=value, e.g. optimizer.lr=3e-4")
        }
        let key = argument[..<equals].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, !key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw .malformedOverride(argument: argument, reason: "expected a dotted key before '=', e.g. optimizer.lr")
        }
        self.init(key: key, value: String(argument[argument.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
    }

    public var description: String { "\(key)=\(value)" }
}

// MARK: - Resolving a config

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

    /// Decodes a JSON tree (the `model` key may name a model preset), applies `overrides`
    /// in order, decodes and validates.
    /// - Parameter source: names the tree in errors (a path, `preset NAME`).
    package static func resolve(
        _ tree: JSONValue, source: String, overrides: [ConfigOverride] = []
    ) throws(TrainingConfigError) -> TrainingConfig {
        guard case .object(var members) = tree else {
            throw .inSource(source, .typeMismatch(key: "(top level)", expected: "a JSON object", found: tree.kindDescription))
        }
        do {
            if let model = members["model"] { members["model"] = try expandModel(model, key: "model") }
            try check(.object(members), against: schema, path: "")
        } catch { throw .inSource(source, error) }
        var root = JSONValue.object(members)
        for override in overrides {
            do { try apply(override, to: &root) } catch {
                if case .malformedOverride = error { throw error }
                throw .inSource("--set \(override)", error)
            }
        }
        let config: TrainingConfig
        do {
            config = try decode(root)
        } catch { throw .inSource(overrides.isEmpty ? source : "\(source) with --set", error) }
        do { try config.validate() } catch {
            throw .inSource(overrides.isEmpty ? source : "\(source) with --set", error)
        }
        return config
    }

    /// The configuration as a JSON tree with every key.
    var jsonTree: JSONValue {
        // Encoding plain values cannot fail, and JSONValue reads what JSONEncoder writes.
        (try? JSONValue.parse(jsonData())) ?? .object([:])
    }

    /// The keys of the section at dotted `path` ("" for the top level, "model", ...).
    public static func knownKeys(in path: String) -> [String] {
        var node = schema
        for part in path.split(separator: ".") where !path.isEmpty {
            guard case .object(let members) = node, let next = members[String(part)] else { return [] }
            node = next
        }
        guard case .object(let members) = node else { return [] }
        return members.keys.sorted()
    }

    // MARK: - Schema

    /// The shape of a config: every key with a value of its kind (a default config with
    /// its optional keys filled in). A null leaf is an optional key whose kind is in
    /// ``optionalKinds``.
    static let schema: JSONValue = {
        guard case .object(var root) = TrainingConfig(model: ModelConfig(
            vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16)).jsonTree
        else { return .object([:]) }
        for (section, key) in [("optimizer", "muon_weight_decay"), ("schedule", "cosine_steps"), ("schedule", "min_lr")] {
            if case .object(var members) = root[section] {
                if members[key] == nil { members[key] = .null }
                root[section] = .object(members)
            }
        }
        return .object(root)
    }()

    /// The kinds a leaf can hold.
    enum LeafKind: Equatable {
        case number, integer, bool, string, numberArray, stringArray

        var expected: String {
            switch self {
            case .number: return "a number"
            case .integer: return "a whole number"
            case .bool: return "true or false"
            case .string: return "a string"
            case .numberArray: return "a list of numbers, e.g. [0.9,0.95]"
            case .stringArray: return "a list of strings, e.g. [\"lm_head.weight\"]"
            }
        }
    }

    /// Kinds of the optional keys (null by default).
    static let optionalKinds: [String: LeafKind] = [
        "steps": .integer, "max_tokens": .integer, "threads": .integer, "tokenizer": .string,
        "schedule.cosine_steps": .integer, "schedule.min_lr": .number, "optimizer.muon_weight_decay": .number,
    ]

    /// Whole-number keys whose default is not null.
    static let integerKeys: [String: LeafKind] = [
        "batch_size": .integer, "eval_interval": .integer, "eval_batches": .integer, "checkpoint_interval": .integer,
        "keep_checkpoints": .integer, "log_interval": .integer, "seed": .integer, "schedule.warmup_steps": .integer,
        "optimizer.muon_ns_steps": .integer, "model.vocab_size": .integer, "model.context_length": .integer,
        "model.d_model": .integer, "model.num_layers": .integer, "model.num_heads": .integer, "model.d_ff": .integer,
    ]

    /// True for keys that may be null.
    static func isOptional(_ schemaValue: JSONValue, _ path: String) -> Bool {
        schemaValue == .null || optionalKinds[path] != nil
    }

    /// Keys whose string value must be one of a few words.
    static let choices: [String: [String]] = [
        "optimizer.kind": OptimizerConfig.Kind.allCases.map(\.rawValue),
        "optimizer.sgd_decay": ["none", "inverse_sqrt"],
        "schedule.kind": ["constant", "cosine"],
        "model.norm": ModelConfig.Norm.allCases.map(\.rawValue),
        "model.position": ModelConfig.Position.allCases.map(\.rawValue),
        "model.ffn": ModelConfig.FeedForward.allCases.map(\.rawValue),
    ]

    /// The kind of the leaf at `path` from its schema value.
    static func leafKind(_ schemaValue: JSONValue, path: String) -> LeafKind {
        if let kind = optionalKinds[path] ?? integerKeys[path] { return kind }
        switch schemaValue {
        case .bool: return .bool
        case .string: return .string
        case .array(let items):
            if case .string = items.first { return .stringArray }
            if items.isEmpty, path == "optimizer.muon_exclude" { return .stringArray }
            return .numberArray
        case .null: return optionalKinds[path] ?? .string
        default: return .number
        }
    }

    // MARK: - Checking a tree

    /// Checks that `value` has only known keys, each holding a value of the right kind.
    static func check(_ value: JSONValue, against schemaValue: JSONValue, path: String) throws(TrainingConfigError) {
        if case .object(let shape) = schemaValue {
            guard case .object(let members) = value else {
                throw .typeMismatch(key: path, expected: "an object", found: value.kindDescription)
            }
            for (key, member) in members {
                let childPath = path.isEmpty ? key : path + "." + key
                guard let childSchema = shape[key] else {
                    let known = shape.keys.sorted()
                    throw .unknownKey(key: childPath, known: known, suggestion: closest(key, in: known))
                }
                try check(member, against: childSchema, path: childPath)
            }
            return
        }
        try checkLeaf(value, kind: leafKind(schemaValue, path: path), optional: isOptional(schemaValue, path), path: path)
    }

    static func checkLeaf(_ value: JSONValue, kind: LeafKind, optional: Bool, path: String) throws(TrainingConfigError) {
        func mismatch() -> TrainingConfigError {
            .typeMismatch(key: path, expected: kind.expected + (optional ? " or null" : ""),
                          found: "\(value.kindDescription) \(value.jsonText)")
        }
        switch (kind, value) {
        case (_, .null) where optional: return
        case (.number, .number(let n)), (.integer, .number(let n)):
            let x = n.doubleValue
            guard x.isFinite else { throw mismatch() }
            if kind == .integer, x.rounded() != x { throw mismatch() }
        case (.bool, .bool): return
        case (.string, .string(let s)):
            if let allowed = choices[path], !allowed.contains(s) {
                throw .invalidValue(key: path, value: "\"\(s)\"", expected: "one of " + allowed.joined(separator: ", "))
            }
        case (.numberArray, .array(let items)):
            guard items.allSatisfy({ $0.doubleValue?.isFinite == true && $0.stringValue == nil }) else { throw mismatch() }
        case (.stringArray, .array(let items)):
            guard items.allSatisfy({ $0.stringValue != nil }) else { throw mismatch() }
        default:
            throw mismatch()
        }
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

    /// Sets the value of one override in `root`, parsed by the kind of its key.
    static func apply(_ override: ConfigOverride, to root: inout JSONValue) throws(TrainingConfigError) {
        let parts = override.key.split(separator: ".").map(String.init)
        // Find the schema for the key, naming the first unknown part.
        var schemaNode = schema
        var walked: [String] = []
        for part in parts {
            guard case .object(let shape) = schemaNode else {
                throw .unknownKey(key: override.key, known: [], suggestion: walked.joined(separator: "."))
            }
            guard let next = shape[part] else {
                let known = shape.keys.sorted()
                let prefix = walked.isEmpty ? "" : walked.joined(separator: ".") + "."
                throw .unknownKey(key: prefix + part, known: known, suggestion: closest(part, in: known).map { prefix + $0 })
            }
            walked.append(part)
            schemaNode = next
        }
        let value: JSONValue
        if case .object = schemaNode {
            // Only `model` takes a whole object on the command line: a preset name or JSON.
            let parsed = (try? JSONValue.parse(override.value)) ?? .string(override.value)
            value = try expandModel(parsed, key: override.key)
            try check(value, against: schemaNode, path: override.key)
        } else {
            value = try parseLeaf(override.value, kind: leafKind(schemaNode, path: override.key),
                                  optional: isOptional(schemaNode, override.key), path: override.key)
        }
        root = setting(value, at: parts[...], in: root)
        // The run's length is steps or max_tokens: setting one clears the other.
        if parts == ["steps"], value != .null { root = setting(.null, at: ["max_tokens"], in: root) }
        if parts == ["max_tokens"], value != .null { root = setting(.null, at: ["steps"], in: root) }
    }

    /// Parses the text of a `--set` value as `kind`.
    static func parseLeaf(_ text: String, kind: LeafKind, optional: Bool, path: String) throws(TrainingConfigError) -> JSONValue {
        if optional, text == "null" || text.isEmpty { return .null }
        func fail() -> TrainingConfigError {
            .typeMismatch(key: path, expected: kind.expected + (optional ? " or null" : ""), found: "'\(text)'")
        }
        func number(_ piece: Substring) -> Double? {
            let cleaned = piece.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            guard let x = Double(cleaned), x.isFinite else { return nil }
            return x
        }
        let value: JSONValue
        switch kind {
        case .number, .integer:
            guard let x = number(text[...]) else { throw fail() }
            // Integral values stay integers, so the decoder reads them into Int fields.
            value = .number(x.rounded() == x && abs(x) < 9e15 ? .integer(Int64(x)) : .double(x))
        case .bool:
            switch text.lowercased() {
            case "true": value = .bool(true)
            case "false": value = .bool(false)
            default: throw fail()
            }
        case .string:
            let unquoted = text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"")
                ? String(text.dropFirst().dropLast()) : text
            value = .string(unquoted)
        case .numberArray:
            if let parsed = try? JSONValue.parse(text), case .array = parsed {
                value = parsed
            } else {
                let pieces = text.split(separator: ",", omittingEmptySubsequences: false)
                var items: [JSONValue] = []
                for piece in pieces {
                    guard let x = number(piece) else { throw fail() }
                    items.append(.number(.double(x)))
                }
                value = .array(items)
            }
        case .stringArray:
            if let parsed = try? JSONValue.parse(text), case .array = parsed {
                value = parsed
            } else {
                value = .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
            }
        }
        try checkLeaf(value, kind: kind, optional: optional, path: path)
        return value
    }

    /// `root` with `value` at `path`, creating objects on the way.
    static func setting(_ value: JSONValue, at path: ArraySlice<String>, in root: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var members = JSONObject()
        if case .object(let existing) = root { members = existing }
        members[first] = setting(value, at: path.dropFirst(), in: members[first] ?? .object([:]))
        return .object(members)
    }

    // MARK: - Decoding

    /// Decodes a checked tree, turning decoding errors into keyed messages.
    static func decode(_ tree: JSONValue) throws(TrainingConfigError) -> TrainingConfig {
        do {
            return try JSONDecoder().decode(TrainingConfig.self, from: Data(tree.jsonText.utf8))
        } catch let error as ModelConfigError {
            throw TrainingConfigError(error, section: "model")
        } catch let error as DecodingError {
            throw describe(error, in: tree)
        } catch {
            throw .invalidJSON(path: "config", reason: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError, in tree: JSONValue) -> TrainingConfigError {
        func key(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        func found(_ path: String) -> String {
            var node = tree
            for part in path.split(separator: ".") {
                guard case .object(let members) = node, let next = members[String(part)] else { return "missing" }
                node = next
            }
            return node.jsonText
        }
        switch error {
        case .keyNotFound(let missing, let context):
            let path = (context.codingPath.map(\.stringValue) + [missing.stringValue]).joined(separator: ".")
            return .invalidValue(key: path, value: "missing", expected: "a value (this key is required)")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = key(context)
            let expected = optionalKinds[path] == .integer || context.debugDescription.contains("Int")
                ? "a whole number" : context.debugDescription
            return .typeMismatch(key: path, expected: expected, found: found(path))
        @unknown default:
            return .invalidJSON(path: "config", reason: "\(error)")
        }
    }

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
}

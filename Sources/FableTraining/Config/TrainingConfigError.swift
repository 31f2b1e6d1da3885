import FableModel
import Foundation

/// Why a training configuration was rejected. Every case names the dotted key at fault
/// (`optimizer.lr`, `model.vocab_size`, ...) and what was expected, and is raised before
/// any training starts.
public enum TrainingConfigError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A key holds a value the run cannot use.
    case invalidValue(key: String, value: String, expected: String)
    /// A key that no section defines; `known` lists the keys of its section and
    /// `suggestion` the closest one.
    case unknownKey(key: String, known: [String], suggestion: String?)
    /// A key holds the wrong kind of JSON value.
    case typeMismatch(key: String, expected: String, found: String)
    /// No training preset (or model preset, for `model`) has this name.
    case unknownPreset(name: String, available: [String])
    /// A `--set` (or `--grid`, named by `option`) argument that is not `key=value`.
    case malformedOverride(option: String, argument: String, reason: String)
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON, or not a JSON object.
    case invalidJSON(path: String, reason: String)
    /// An error found in the named source (a file, a preset or `--set`).
    indirect case inSource(String, TrainingConfigError)

    public var description: String {
        switch self {
        case let .invalidValue(key, value, expected):
            return value.isEmpty ? "\(key): expected \(expected)" : "\(key) is \(value); expected \(expected)"
        case let .unknownKey(key, known, suggestion):
            let hint = suggestion.map { " (did you mean \($0)?)" } ?? ""
            return "unknown key \(key)\(hint); known keys here: \(known.joined(separator: ", "))"
        case let .typeMismatch(key, expected, found):
            return "\(key) is \(found); expected \(expected)"
        case let .unknownPreset(name, available):
            return "no preset named \(name); available: \(available.joined(separator: ", "))"
        case let .malformedOverride(option, argument, reason):
            return "\(option) \(argument): \(reason)"
        case let .unreadable(path, reason):
            return "cannot read training config \(path): \(reason)"
        case let .invalidJSON(path, reason):
            return "\(path): not a valid training config: \(reason)"
        case let .inSource(source, error):
            return "\(source): \(error)"
        }
    }

    public var errorDescription: String? { description }

    /// The innermost error, without the sources that wrap it.
    public var underlying: TrainingConfigError {
        if case .inSource(_, let inner) = self { return inner.underlying }
        return self
    }

    /// The dotted key at fault, where the error names one.
    var key: String? {
        switch self {
        case .invalidValue(let key, _, _), .unknownKey(let key, _, _), .typeMismatch(let key, _, _): return key
        case .inSource(_, let inner): return inner.key
        default: return nil
        }
    }

    // MARK: - From the sections' errors

    /// A model config error with its key moved into the `model` section.
    init(_ error: ModelConfigError, section: String) {
        switch error {
        case let .invalidValue(key, value, expected):
            self = .invalidValue(key: section + "." + key, value: value, expected: expected)
        case .unknownKey(let key):
            self = .unknownKey(key: section + "." + key, known: TrainingConfig.knownKeys(in: section), suggestion: nil)
        case let .unknownPreset(name, available):
            self = .unknownPreset(name: name, available: available)
        case let .unreadable(path, reason):
            self = .unreadable(path: path, reason: reason)
        case let .invalidJSON(path, reason):
            self = .invalidJSON(path: path, reason: reason)
        case let .inFile(path, inner):
            self = .inSource(path, TrainingConfigError(inner, section: section))
        }
    }

    /// An optimizer or schedule error with its key moved into `section`.
    init(_ error: OptimizerConfigError, section: String) {
        switch error {
        case let .invalidValue(key, value, expected):
            self = .invalidValue(key: section + "." + key, value: value, expected: expected)
        }
    }
}

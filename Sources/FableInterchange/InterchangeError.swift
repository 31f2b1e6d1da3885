/// Why a model could not be exported or imported. Every message names the file, the key,
/// the tensor or the setting at fault, and what was expected.
public enum InterchangeError: Error, CustomStringConvertible, Equatable {
    /// A model setting the target format cannot express (post-norm, NoPE, ...).
    case unsupportedSetting(setting: String, value: String, format: String, reason: String)
    /// A file's key holds a value Fable cannot use.
    case invalidValue(path: String, key: String, value: String, expected: String)
    /// A required key is absent.
    case missingKey(path: String, key: String)
    /// A file could not be read or parsed.
    case unreadable(path: String, reason: String)
    /// A weights file lacks a tensor the model needs.
    case missingTensor(path: String, tensor: String)
    /// A weights file holds a tensor that has no place in the model.
    case unexpectedTensor(path: String, tensor: String)
    /// A tensor's shape differs from the one the config implies.
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    /// The output exists and would be replaced.
    case outputExists(path: String)
    /// The output could not be written.
    case writeFailed(path: String, reason: String)
    /// The tokenizer cannot be written in the target format or does not fit the model.
    case tokenizer(path: String, reason: String)
    /// A GGUF file is malformed at a byte offset.
    case malformedGGUF(path: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedSetting(setting, value, format, reason):
            return "model setting \(setting) = \(value) cannot be expressed in \(format): \(reason)"
        case let .invalidValue(path, key, value, expected):
            return "\(path): key \(key) is \(value); expected \(expected)"
        case let .missingKey(path, key):
            return "\(path): missing required key \(key)"
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .missingTensor(path, tensor):
            return "\(path): no tensor \(tensor), which the model config needs"
        case let .unexpectedTensor(path, tensor):
            return "\(path): tensor \(tensor) has no place in a Llama model Fable can load"
        case let .shapeMismatch(path, tensor, expected, actual):
            return "\(path): tensor \(tensor) has shape \(actual); the config implies \(expected)"
        case let .outputExists(path):
            return "\(path) already exists; remove it or pass --overwrite"
        case let .writeFailed(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .tokenizer(path, reason):
            return "tokenizer \(path): \(reason)"
        case let .malformedGGUF(path, offset, reason):
            return "\(path): not a valid GGUF file at byte \(offset): \(reason)"
        }
    }
}

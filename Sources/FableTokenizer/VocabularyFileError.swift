// Errors from reading and writing tokenizer files. Each names the file and, where there
// is one, the line and column (1-based, columns counted in bytes) and what was expected.

/// A tokenizer file could not be read or written.
public enum VocabularyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened, read or written.
    case io(path: String, reason: String)
    /// The file's content does not have the expected form.
    case malformed(path: String, line: Int, column: Int, expected: String)
    /// vocab.json is not valid JSON (a duplicate key included).
    case invalidJSON(path: String, line: Int, column: Int, reason: String)
    /// Two vocab.json entries have the same id.
    case duplicateID(path: String, id: Int, line: Int)
    /// vocab.json's ids do not cover 0..<count.
    case missingID(path: String, id: Int, count: Int)
    /// A special token cannot be stored in special_tokens.txt.
    case unsupportedSpecialToken(String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .malformed(path, line, column, expected):
            return "\(path):\(line):\(column): expected \(expected)"
        case let .invalidJSON(path, line, column, reason):
            return "\(path):\(line):\(column): invalid JSON: \(reason)"
        case let .duplicateID(path, id, line):
            return "\(path):\(line): id \(id) is used by more than one token"
        case let .missingID(path, id, count):
            return "\(path): no token has id \(id); ids must cover 0..<\(count) with no gaps"
        case let .unsupportedSpecialToken(token, reason):
            return "special token \(Vocabulary.readable(Array(token.utf8))): \(reason)"
        }
    }
}

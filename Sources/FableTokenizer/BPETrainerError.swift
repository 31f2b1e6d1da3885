import Foundation

/// What can go wrong when training a BPE tokenizer. Each message names the file or the
/// option at fault and what was expected.
public enum BPETrainerError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The input file does not exist.
    case fileNotFound(path: String)
    /// The input file exists but cannot be opened or read.
    case unreadableFile(path: String, offset: Int, reason: String)
    /// The input path names a directory.
    case notAFile(path: String)
    /// `vocabSize` is below 256 + the number of special tokens, or too large for 32-bit ids.
    case vocabSizeOutOfRange(requested: Int, minimum: Int, maximum: Int)
    /// A special token is the empty string.
    case emptySpecialToken(index: Int)
    /// The same special token was given twice.
    case duplicateSpecialToken(String)
    /// `threads` is below 1 or above ``BPETrainer/maximumThreads``.
    case invalidThreadCount(Int)
    /// A special token the tokenizer files cannot hold.
    case unsupportedSpecialToken(String, reason: String)
    /// `chunkSize` is below 1.
    case invalidChunkSize(Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "input file not found: \(path)"
        case .unreadableFile(let path, let offset, let reason):
            return "cannot read input file \(path) at byte offset \(offset): \(reason)"
        case .notAFile(let path):
            return "input path is a directory, expected a text file: \(path)"
        case .vocabSizeOutOfRange(let requested, let minimum, let maximum):
            return "vocab size \(requested) is out of range: expected \(minimum)...\(maximum) "
                + "(256 byte tokens + the special tokens, at least)"
        case .emptySpecialToken(let index):
            return "special token #\(index + 1) is empty: expected a non-empty string such as <|endoftext|>"
        case .duplicateSpecialToken(let token):
            return "special token \(token) is given more than once: expected distinct special tokens"
        case .invalidThreadCount(let threads):
            return "thread count \(threads) is invalid: expected 1 to \(BPETrainer.maximumThreads)"
        case .unsupportedSpecialToken(let token, let reason):
            return "special token \(Vocabulary.readable(Array(token.utf8))) cannot be used: \(reason)"
        case .invalidChunkSize(let size):
            return "chunk size \(size) is invalid: expected 1 byte or more"
        }
    }

    public var errorDescription: String? { description }
}

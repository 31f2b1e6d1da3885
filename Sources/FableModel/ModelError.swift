/// Why a model could not run on the given input; messages name the offending value.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A token id outside `0..<vocab_size`.
    case tokenOutOfRange(index: Int, token: Int, vocabSize: Int)
    /// More positions than the model's context length.
    case sequenceTooLong(length: Int, contextLength: Int)
    /// The token array does not fill the given shape, or the shape is not (batch..., T).
    case shapeMismatch(expected: String, actual: String)
    /// A token position outside `0..<context_length`.
    case positionOutOfRange(index: Int, position: Int, contextLength: Int)

    public var description: String {
        switch self {
        case let .tokenOutOfRange(index, token, vocab):
            return "token id \(token) at index \(index) is outside the vocabulary (0..<\(vocab))"
        case let .sequenceTooLong(length, context):
            return "sequence of \(length) tokens is longer than the model's context_length \(context)"
        case let .shapeMismatch(expected, actual):
            return "expected \(expected), got \(actual)"
        case let .positionOutOfRange(index, position, context):
            return "token position \(position) at index \(index) is outside 0..<\(context) (context_length)"
        }
    }
}

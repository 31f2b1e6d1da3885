import FableFormats
import FableModel
import FableTokenizer
import Foundation

/// What the server knows about the model it serves, shareable between request handlers:
/// name, configuration and tokenizer. The weights themselves belong to the
/// ``BatchScheduler``'s decode loop alone.
public struct ServedModel: Sendable {
    /// The id clients see in `/v1/models` and responses.
    public let name: String
    public let config: ModelConfig
    public let tokenizer: Tokenizer
    /// `<|endoftext|>`: ends a choice when drawn; an empty prompt starts from it.
    public let endOfText: Int?
    /// Set when the model's vocabulary is padded beyond the tokenizer's: only ids below it are drawn.
    public let vocabularyLimit: Int?
    /// Parameters in the model (for the playground's model panel).
    public let parameterCount: Int
    /// When the server loaded it (`created` in `/v1/models`).
    public let created: Int

    /// Checks that `tokenizer` fits `config`.
    /// - Throws: ``ServerSetupError/vocabularyMismatch(tokenizer:model:)`` when the tokenizer
    ///   has more tokens than the model's vocabulary.
    public init(name: String, config: ModelConfig, tokenizer: Tokenizer) throws(ServerSetupError) {
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw .vocabularyMismatch(tokenizer: tokenizer.vocabularySize, model: config.vocabSize)
        }
        self.name = name
        self.config = config
        self.tokenizer = tokenizer
        endOfText = tokenizer.specialTokenID("<|endoftext|>")
        vocabularyLimit = tokenizer.vocabularySize < config.vocabSize ? tokenizer.vocabularySize : nil
        parameterCount = ModelAccounting(config: config).parameters.total
        created = Int(Date().timeIntervalSince1970)
    }

    /// The `/v1/models` entry: OpenAI's fields plus Fable's configuration.
    var modelObject: JSONValue {
        // The configuration as its config.json holds it (ModelConfig's own encoding).
        let configObject = (try? JSONParser.parse(config.jsonData())) ?? .object([:])
        return .object([
            "id": .string(name), "object": .string("model"), "created": .int(created), "owned_by": .string("fable"),
            "context_length": .int(config.contextLength), "parameters": .int(parameterCount),
            "tokenizer_vocab_size": .int(tokenizer.vocabularySize), "config": configObject,
        ])
    }
}

/// Why the server could not start.
public enum ServerSetupError: Error, CustomStringConvertible, Equatable {
    case vocabularyMismatch(tokenizer: Int, model: Int)
    case invalidOption(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .vocabularyMismatch(tokenizer, model):
            return "the tokenizer has \(tokenizer) tokens but the model's vocab_size is \(model): they were not trained together (check --tokenizer)"
        case let .invalidOption(name, value, expected):
            return "--\(name) is \(value); expected \(expected)"
        }
    }
}

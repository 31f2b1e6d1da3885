import FableFormats
import FableModel
import Foundation

/// A `/v1/completions` or `/v1/chat/completions` request, validated against the served
/// model: prompt tokens, sampling, limits and how to answer.
struct CompletionRequest: Sendable {
    enum Endpoint: Sendable { case completions, chat }

    let endpoint: Endpoint
    let promptTokens: [Int]
    /// The most tokens to generate per choice (generation also ends when the context is full).
    let maxTokens: Int
    let sampling: SamplingOptions
    /// Choice `i` draws from a generator seeded with `seed + i` (as `fable generate --samples`).
    let seed: UInt64
    let stop: [String]
    /// `n`: choices generated together.
    let choices: Int
    let stream: Bool
    /// `stream_options.include_usage`: a last chunk with the token counts.
    let includeUsage: Bool

    /// OpenAI's default `max_tokens` for completions; chat generates until a turn ends or
    /// the context is full.
    static let defaultCompletionMaxTokens = 16
    /// OpenAI allows at most four stop sequences.
    static let stopLimit = 4

    /// Reads and checks every field.
    /// - Parameter maxChoices: the most choices one request may ask for (the batch slots).
    /// - Throws: ``APIError`` (400) naming the first bad field.
    init(endpoint: Endpoint, fields: RequestFields, model: ServedModel, maxChoices: Int) throws(APIError) {
        self.endpoint = endpoint
        let context = model.config.contextLength
        _ = try fields.string("model")   // any name is accepted: the server serves one model

        var tokens: [Int]
        var promptField = "prompt"
        switch endpoint {
        case .completions:
            tokens = try Self.promptTokens(fields, model: model)
        case .chat:
            promptField = "messages"
            tokens = model.tokenizer.encode(ChatTemplate.prompt(try ChatTemplate.messages(fields)))
        }
        if tokens.isEmpty {
            guard let endOfText = model.endOfText else {
                throw .invalidField(promptField, "is empty and the tokenizer has no <|endoftext|> token to start from")
            }
            tokens = [endOfText]
        }
        guard tokens.count <= context else {
            throw .promptTooLong(tokens: tokens.count, contextLength: context, param: promptField)
        }
        promptTokens = tokens

        let limitName = fields["max_completion_tokens"] != nil ? "max_completion_tokens" : "max_tokens"
        let requested = try fields.integer(limitName, in: 1...context)
        maxTokens = requested ?? (endpoint == .completions ? Self.defaultCompletionMaxTokens : context)

        let temperature = try fields.number("temperature", in: 0...2) ?? 1
        let topP = try fields.number("top_p", in: 0...1, openBelow: true) ?? 1
        let topK = try fields.integer("top_k", in: 0...Int(Int32.max)) ?? 0
        sampling = SamplingOptions(temperature: Float(temperature), topK: topK > 0 ? topK : nil, topP: Float(topP),
                                   vocabularyLimit: model.vocabularyLimit)
        seed = UInt64(try fields.integer("seed", in: 0...Int.max) ?? Int.random(in: 0...Int(UInt32.max)))
        var stops = try fields.stopSequences("stop", limit: Self.stopLimit)
        if endpoint == .chat { stops += ChatTemplate.turnStops }
        stop = stops
        choices = try fields.integer("n", in: 1...maxChoices) ?? 1
        stream = try fields.bool("stream") ?? false
        var includeUsage = false
        if let options = fields["stream_options"] {
            guard case let .object(values) = options else {
                throw .invalidField("stream_options", "must be an object, got \(options.kindDescription)")
            }
            includeUsage = try RequestFields(values: values).bool("include_usage") ?? false
        }
        self.includeUsage = includeUsage
    }

    /// `prompt`: a string, an array holding one string, or an array of token ids.
    private static func promptTokens(_ fields: RequestFields, model: ServedModel) throws(APIError) -> [Int] {
        guard let value = fields["prompt"] else { throw .missingField("prompt") }
        switch value {
        case let .string(text):
            return model.tokenizer.encode(text)
        case let .array(items):
            if items.count == 1, case let .string(text) = items[0] { return model.tokenizer.encode(text) }
            if items.contains(where: { if case .string = $0 { true } else { false } }) {
                throw .invalidField("prompt", "holds \(items.count) prompts; send one prompt per request (use 'n' for several choices)")
            }
            var tokens: [Int] = []
            for (i, item) in items.enumerated() {
                guard case let .number(.integer(id)) = item, id >= 0, id < model.config.vocabSize else {
                    throw .invalidField("prompt", "item \(i) is not a token id in 0..<\(model.config.vocabSize)")
                }
                tokens.append(Int(id))
            }
            return tokens
        default:
            throw .invalidField("prompt", "must be a string, or an array of token ids, got \(value.kindDescription)")
        }
    }
}

/// What a generation run does: how many tokens, how they are chosen, when it stops.
public struct GenerationOptions: Sendable, Equatable {
    /// The most tokens generated per sample (the end-of-text token, when drawn, is not
    /// counted or returned).
    public var maxNewTokens: Int
    /// Temperature, top-k and top-p.
    public var sampling: SamplingOptions
    /// Seeds sample `i`'s ``RandomGenerator`` with `seed + i`, so sample 0 of a batch draws
    /// from the same stream as a single-sample run with the same seed.
    public var seed: UInt64
    /// The `<|endoftext|>` id: generation of a sample stops when it is drawn, and an empty
    /// prompt starts from it. Nil: never stop early, and an empty prompt is an error.
    public var endOfText: Int?
    /// What happens when the sequence outgrows the context length.
    public var overflow: ContextOverflow
    /// Keep keys and values between steps (the fast path). Without the cache every step
    /// recomputes the whole window; the tokens are the same, only slower (for benchmarks
    /// and tests).
    public var useCache: Bool

    public init(
        maxNewTokens: Int = 256, sampling: SamplingOptions = SamplingOptions(), seed: UInt64 = 0,
        endOfText: Int? = nil, overflow: ContextOverflow = .slide, useCache: Bool = true
    ) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.seed = seed
        self.endOfText = endOfText
        self.overflow = overflow
        self.useCache = useCache
    }

    /// Checks the options against a model's configuration.
    public func validate(for config: ModelConfig) throws(GenerationError) {
        if maxNewTokens < 0 {
            throw .invalidOption(name: "max-tokens", value: "\(maxNewTokens)", expected: "a number >= 0")
        }
        try sampling.validate()
        if let endOfText, endOfText < 0 || endOfText >= config.vocabSize {
            throw .invalidOption(name: "end-of-text token", value: "\(endOfText)",
                                 expected: "an id below the model's vocab_size \(config.vocabSize)")
        }
    }
}

/// What generation does when a sequence reaches the model's context length.
///
/// With `.slide` the model keeps working on a window of the most recent tokens: when a new
/// token no longer fits, the window drops its oldest quarter (it keeps the last
/// `context_length - context_length / 4` tokens) and the cache is recomputed over what
/// remains, then grows again one token per step. Recomputing a quarter-context at a time,
/// rather than every step, keeps the cost per token near the cached cost. Positions are
/// counted from the window's start, as in training. With `.stop` the sample ends with
/// ``FinishReason/contextFull`` instead.
public enum ContextOverflow: String, Sendable, CaseIterable {
    case slide
    case stop

    /// The tokens a slid window keeps for a context of `contextLength`.
    public static func keptAfterSlide(contextLength: Int) -> Int {
        max(1, contextLength - contextLength / 4)
    }
}

/// Why a sample ended.
public enum FinishReason: String, Sendable, Equatable {
    /// The end-of-text token was drawn.
    case endOfText
    /// ``GenerationOptions/maxNewTokens`` tokens were generated.
    case maxTokens
    /// The context was full and ``ContextOverflow/stop`` was chosen.
    case contextFull
    /// The model's logits held NaN or infinity (damaged or diverged weights): nothing
    /// meaningful can be drawn.
    case nonFiniteLogits
}

extension FinishReason: CustomStringConvertible {
    /// Words for messages: "end of text", "token limit", "context full".
    public var description: String {
        switch self {
        case .endOfText: "end of text"
        case .maxTokens: "token limit"
        case .contextFull: "context full"
        case .nonFiniteLogits: "the model's output held NaN or infinity"
        }
    }
}

/// Why generation could not start; messages name the option or token.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// An option outside its range.
    case invalidOption(name: String, value: String, expected: String)
    /// The prompt is empty and no end-of-text token was given to start from.
    case emptyPromptWithoutStartToken
    /// The model rejected the prompt (for example an id outside its vocabulary).
    case model(ModelError)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, expected):
            return "\(name) is \(value); expected \(expected)"
        case .emptyPromptWithoutStartToken:
            return "the prompt is empty and there is no end-of-text token to start from"
        case let .model(error):
            return "\(error)"
        }
    }
}

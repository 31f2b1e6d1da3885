/// Generates token ids from a ``TransformerLM``: a prompt is computed once (prefill), then
/// each new token costs one position's work thanks to a ``KVCache``.
///
/// ```swift
/// let generator = TextGenerator(model: model)
/// var options = GenerationOptions(maxNewTokens: 100, seed: 42, endOfText: eot)
/// options.sampling = SamplingOptions(temperature: 0.8, topP: 0.95)
/// for token in try generator.tokens(prompt: ids, options: options) {
///     print(token)                                 // as soon as it is drawn
/// }
/// let samples = try generator.generate(prompt: ids, samples: 4, options: options)
/// ```
///
/// Text: feed the ids to FableTokenizer's `TextStreamDecoder`, which returns the text each
/// token completes and holds back bytes of a character split across tokens.
public final class TextGenerator {
    /// The model tokens come from.
    public let model: TransformerLM

    public init(model: TransformerLM) {
        self.model = model
    }

    /// A lazy stream of one sample's tokens: each `next()` runs one model step.
    ///
    /// The stream ends when end-of-text is drawn (not yielded), after
    /// `options.maxNewTokens` tokens, or when the context is full and
    /// `options.overflow` is `.stop`; ``TokenStream/finishReason`` says which.
    /// - Parameters:
    ///   - prompt: token ids; an empty prompt starts from `options.endOfText`, and a prompt
    ///     longer than the context keeps its last `context_length` tokens
    ///     (``TokenStream/droppedPromptTokens`` counts the rest).
    /// - Throws: ``GenerationError`` for invalid options or prompt ids.
    public func tokens(prompt: [Int], options: GenerationOptions) throws(GenerationError) -> TokenStream {
        TokenStream(session: try GenerationSession(model: model, prompt: prompt, samples: 1, options: options))
    }

    /// Generates `samples` continuations of `prompt` together, as one batch (the prompt is
    /// computed once and shared). Sample `i` draws from a generator seeded with
    /// `options.seed + i`.
    ///
    /// - Parameters:
    ///   - onToken: called with (sample, token) as each token is drawn.
    ///   - onFinish: called with the sample index as soon as a sample ends.
    /// - Returns: every sample, in order.
    /// - Throws: ``GenerationError`` for invalid options or prompt ids.
    public func generate(
        prompt: [Int], samples: Int = 1, options: GenerationOptions,
        onToken: ((_ sample: Int, _ token: Int) -> Void)? = nil,
        onFinish: ((_ sample: Int, _ result: GeneratedSample) -> Void)? = nil
    ) throws(GenerationError) -> [GeneratedSample] {
        let session = try GenerationSession(model: model, prompt: prompt, samples: samples, options: options)
        var reported = Array(repeating: false, count: samples)
        func reportFinished() {
            for sample in 0..<samples where !reported[sample] {
                if let reason = session.finishReasons[sample] {
                    reported[sample] = true
                    onFinish?(sample, GeneratedSample(
                        tokens: session.generated[sample], finishReason: reason,
                        droppedPromptTokens: session.droppedPromptTokens))
                }
            }
        }
        reportFinished()
        while !session.isFinished {
            for (sample, token) in session.step() { onToken?(sample, token) }
            reportFinished()
        }
        return (0..<samples).map {
            GeneratedSample(tokens: session.generated[$0], finishReason: session.finishReasons[$0] ?? .maxTokens,
                            droppedPromptTokens: session.droppedPromptTokens)
        }
    }
}

/// One finished sample.
public struct GeneratedSample: Sendable, Equatable {
    /// The generated ids (not the prompt; no end-of-text).
    public let tokens: [Int]
    /// Why it ended.
    public let finishReason: FinishReason
    /// Prompt tokens dropped because the prompt was longer than the context.
    public let droppedPromptTokens: Int
}

/// One sample's tokens, produced lazily; see ``TextGenerator/tokens(prompt:options:)``.
public final class TokenStream: Sequence, IteratorProtocol {
    private let session: GenerationSession

    init(session: GenerationSession) {
        self.session = session
    }

    /// Prompt tokens dropped because the prompt was longer than the context.
    public var droppedPromptTokens: Int { session.droppedPromptTokens }

    /// Why the stream ended; nil while it can still produce tokens.
    public var finishReason: FinishReason? { session.finishReasons[0] }

    /// The tokens produced so far.
    public var tokens: [Int] { session.generated[0] }

    /// The next token, or nil when the sample has ended.
    public func next() -> Int? {
        while !session.isFinished {
            if let (_, token) = session.step().first { return token }
        }
        return nil
    }
}

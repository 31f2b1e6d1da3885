import FableTensor

/// The decoding loop behind ``TextGenerator``: several samples of one prompt advanced in
/// lock-step, one token each per step, with finished samples dropped from the batch.
///
/// Every sample's sequence is the (clipped) prompt followed by its generated tokens. The
/// model sees a window `sequence[windowStart...]` of at most `context_length` tokens, the
/// same window for every sample; ``ContextOverflow`` says what happens when it is full.
final class GenerationSession {
    let model: TransformerLM
    let options: GenerationOptions
    let contextLength: Int
    /// Prompt tokens dropped because the prompt was longer than the context.
    let droppedPromptTokens: Int

    /// Per sample: the clipped prompt plus the generated tokens.
    private(set) var sequences: [[Int]]
    /// Per sample: the generated tokens (the end-of-text token excluded).
    private(set) var generated: [[Int]]
    /// Per sample: why it ended, nil while it runs.
    private(set) var finishReasons: [FinishReason?]
    /// The samples still running, in batch-row order.
    private(set) var active: [Int]
    /// Where the model's window starts in every sequence.
    private var windowStart = 0

    private let cache: KVCache
    private var samplers: [Sampler]
    private var generators: [RandomGenerator]
    /// Per active row: the logits for its next token, rows back to back.
    private var logits: [Float] = []

    /// Validates, clips the prompt and runs the prefill.
    init(model: TransformerLM, prompt: [Int], samples: Int, options: GenerationOptions) throws(GenerationError) {
        let config = model.config
        try options.validate(for: config)
        guard samples >= 1 else {
            throw .invalidOption(name: "samples", value: "\(samples)", expected: "a positive integer")
        }
        var start = prompt
        if start.isEmpty {
            guard let endOfText = options.endOfText else { throw .emptyPromptWithoutStartToken }
            start = [endOfText]
        }
        for (i, token) in start.enumerated() where token < 0 || token >= config.vocabSize {
            throw .model(.tokenOutOfRange(index: i, token: token, vocabSize: config.vocabSize))
        }
        droppedPromptTokens = max(0, start.count - config.contextLength)
        if droppedPromptTokens > 0 { start.removeFirst(droppedPromptTokens) }

        self.model = model
        self.options = options
        contextLength = config.contextLength
        sequences = Array(repeating: start, count: samples)
        generated = Array(repeating: [], count: samples)
        finishReasons = Array(repeating: nil, count: samples)
        active = Array(0..<samples)
        cache = KVCache(config: config, batch: samples)
        samplers = Array(repeating: Sampler(options: options.sampling), count: samples)
        generators = (0..<samples).map { RandomGenerator(seed: options.seed &+ UInt64($0)) }

        if options.maxNewTokens == 0 {
            for sample in 0..<samples { finishReasons[sample] = .maxTokens }
            active = []
            return
        }
        // The prompt is shared: compute it once, then copy its keys and values to every row.
        cache.reset(batch: 1)
        let first = run(start, batch: 1)
        cache.replicateFirstRow(count: samples)
        logits = Array((0..<samples).map { _ in first }.joined())
    }

    /// True once every sample has ended.
    var isFinished: Bool { active.isEmpty }

    // MARK: - Stepping

    /// Draws one token for every running sample and feeds them to the model. Returns the
    /// (sample, token) pairs produced, in sample order; a sample that drew end-of-text or
    /// hit a limit is finished and dropped.
    @discardableResult
    func step() -> [(sample: Int, token: Int)] {
        guard !active.isEmpty else { return [] }
        let vocab = model.config.vocabSize
        var produced: [(sample: Int, token: Int)] = []
        var keptRows: [Int] = []
        var fed: [Int] = []
        logits.withUnsafeBufferPointer { all in
            for (row, sample) in active.enumerated() {
                let rowLogits = UnsafeBufferPointer(rebasing: all[(row * vocab)..<((row + 1) * vocab)])
                // NaN weights would otherwise draw token 0 (often end-of-text) silently.
                if rowLogits.contains(where: { !$0.isFinite }) {
                    finishReasons[sample] = .nonFiniteLogits
                    continue
                }
                let token = samplers[sample].sample(rowLogits, using: &generators[sample])
                if token == options.endOfText {
                    finishReasons[sample] = .endOfText
                    continue
                }
                generated[sample].append(token)
                sequences[sample].append(token)
                produced.append((sample, token))
                if generated[sample].count >= options.maxNewTokens {
                    finishReasons[sample] = .maxTokens
                    continue
                }
                keptRows.append(row)
                fed.append(token)
            }
        }
        let survivors = keptRows.map { active[$0] }
        guard !survivors.isEmpty else {
            active = []
            return produced
        }
        // The window after appending the new token.
        let length = sequences[survivors[0]].count
        if length - windowStart > contextLength {
            if options.overflow == .stop {
                for sample in survivors { finishReasons[sample] = .contextFull }
                active = []
                return produced
            }
            windowStart = length - ContextOverflow.keptAfterSlide(contextLength: contextLength)
        }
        if options.useCache && cache.length == length - 1 - windowStart {
            if keptRows.count < active.count { cache.keepRows(keptRows) }
            active = survivors
            logits = run(fed, batch: active.count)
        } else {
            // No cache, or the window slid: recompute it for every running sample.
            active = survivors
            cache.reset(batch: active.count)
            let window = active.flatMap { sequences[$0][windowStart...] }
            logits = run(window, batch: active.count)
        }
        return produced
    }

    /// The cached forward pass on tokens this session has already validated.
    private func run(_ tokens: [Int], batch: Int) -> [Float] {
        do {
            return try model.forward(appending: tokens, batch: batch, cache: cache)
        } catch {
            preconditionFailure("generation fed the model an invalid step: \(error)")
        }
    }
}

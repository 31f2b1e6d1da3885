import FableTensor
import Testing
@testable import FableModel

/// The generation loop: stopping, seeding, prompts at the edges, the context window, and
/// cached generation against the recompute-everything path.
@Suite("TextGenerator")
struct TextGeneratorTests {
    static let config = ModelConfig(
        vocabSize: 53, contextLength: 16, dModel: 32, numLayers: 2, numHeads: 4, dFF: 64)

    static func model(_ config: ModelConfig = config, seed: UInt64 = 21) throws -> TransformerLM {
        try TransformerLM(config: config, seed: seed)
    }

    /// Greedy tokens by full recomputation over the slid window, step by step: the
    /// specification of `.slide` written out independently of GenerationSession.
    static func referenceGreedy(_ model: TransformerLM, prompt: [Int], count: Int) throws -> [Int] {
        let c = model.config.contextLength, keep = ContextOverflow.keptAfterSlide(contextLength: c)
        var sequence = Array(prompt.suffix(c)), start = 0, out: [Int] = []
        for _ in 0..<count {
            let window = Array(sequence[start...])
            let logits = try withNoGrad { try model.forward(tokens: window, shape: [window.count]) }.toArray()
            let last = Array(logits[((window.count - 1) * model.config.vocabSize)...])
            let token = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!
            out.append(token)
            sequence.append(token)
            if sequence.count - start > c { start = sequence.count - keep }
        }
        return out
    }

    @Test("greedy generation matches full recomputation, through several window slides",
          arguments: [true, false])
    func greedyMatchesReference(useCache: Bool) throws {
        let model = try Self.model()
        let prompt = [3, 1, 4, 1, 5, 9, 2, 6]
        let options = GenerationOptions(maxNewTokens: 40, sampling: .greedy, useCache: useCache)
        let tokens = Array(try TextGenerator(model: model).tokens(prompt: prompt, options: options))
        #expect(tokens.count == 40)
        #expect(tokens == (try Self.referenceGreedy(model, prompt: prompt, count: 40)))
    }

    @Test("cached and uncached sampling draw the same tokens")
    func cacheDoesNotChangeTokens() throws {
        let generator = TextGenerator(model: try Self.model())
        var options = GenerationOptions(maxNewTokens: 30, sampling: SamplingOptions(temperature: 1.2, topP: 0.9), seed: 5)
        let cached = try generator.generate(prompt: [7, 8], samples: 3, options: options)
        options.useCache = false
        let uncached = try generator.generate(prompt: [7, 8], samples: 3, options: options)
        #expect(cached == uncached)
    }

    @Test("the same seed gives the same tokens; sample i of a batch is seed + i")
    func seeds() throws {
        let generator = TextGenerator(model: try Self.model())
        let options = GenerationOptions(maxNewTokens: 20, sampling: SamplingOptions(temperature: 1, topK: 20), seed: 77)
        let a = try generator.generate(prompt: [1, 2, 3], samples: 3, options: options)
        let b = try generator.generate(prompt: [1, 2, 3], samples: 3, options: options)
        #expect(a == b)
        #expect(Set(a.map(\.tokens)).count == 3, "samples differ from each other")
        var single = options
        single.seed = 78
        let alone = try generator.generate(prompt: [1, 2, 3], options: single)
        #expect(alone[0].tokens == a[1].tokens)
        let streamed = Array(try generator.tokens(prompt: [1, 2, 3], options: options))
        #expect(streamed == a[0].tokens)
    }

    @Test("greedy generation is deterministic and the same for every sample")
    func greedyDeterministic() throws {
        let generator = TextGenerator(model: try Self.model())
        let options = GenerationOptions(maxNewTokens: 12, sampling: .greedy, seed: 1)
        let batch = try generator.generate(prompt: [9, 9, 9], samples: 4, options: options)
        #expect(Set(batch.map(\.tokens)).count == 1)
        var reseeded = options
        reseeded.seed = 99
        #expect(try generator.generate(prompt: [9, 9, 9], options: reseeded)[0].tokens == batch[0].tokens)
    }

    @Test("generation stops at end-of-text without returning it")
    func stopsAtEndOfText() throws {
        let generator = TextGenerator(model: try Self.model())
        let free = try generator.generate(prompt: [4, 5], options: GenerationOptions(maxNewTokens: 30, sampling: .greedy))
        #expect(free[0].finishReason == .maxTokens)
        let stop = free[0].tokens[5]
        let cut = free[0].tokens.firstIndex(of: stop)!
        let stream = try generator.tokens(prompt: [4, 5], options: GenerationOptions(maxNewTokens: 30, sampling: .greedy, endOfText: stop))
        #expect(Array(stream) == Array(free[0].tokens[..<cut]))
        #expect(stream.finishReason == .endOfText)
        #expect(stream.next() == nil)
    }

    @Test("samples that end early leave the batch; the others continue unchanged")
    func samplesFinishSeparately() throws {
        let generator = TextGenerator(model: try Self.model())
        var options = GenerationOptions(maxNewTokens: 25, sampling: SamplingOptions(temperature: 1.5), seed: 3)
        let free = try generator.generate(prompt: [2], samples: 4, options: options)
        // Stop at a token sample 0 draws early on; the other samples stop where they draw it.
        let stop = free[0].tokens[2]
        options.endOfText = stop
        var finished: [Int] = []
        var streamed = Array(repeating: [Int](), count: 4)
        let results = try generator.generate(prompt: [2], samples: 4, options: options,
                                             onToken: { streamed[$0].append($1) },
                                             onFinish: { sample, _ in finished.append(sample) })
        #expect(Set(finished) == Set(0..<4) && finished.count == 4)
        for sample in 0..<4 {
            let expected = Array(free[sample].tokens.prefix { $0 != stop })
            #expect(results[sample].tokens == expected, "sample \(sample)")
            #expect(streamed[sample] == expected)
            #expect(results[sample].finishReason == (expected.count < free[sample].tokens.count ? .endOfText : .maxTokens))
        }
    }

    @Test("an empty prompt starts from end-of-text; without one it is an error")
    func emptyPrompt() throws {
        let generator = TextGenerator(model: try Self.model())
        let options = GenerationOptions(maxNewTokens: 10, sampling: .greedy, endOfText: 0)
        // Token 0 stops generation too, so compare with a stop token greedy never draws here.
        var explicit = options
        explicit.endOfText = nil
        let fromEmpty = try generator.generate(prompt: [], options: options)[0].tokens
        let fromToken = try generator.generate(prompt: [0], options: explicit)[0].tokens
        #expect(fromEmpty == Array(fromToken.prefix { $0 != 0 }))
        #expect(throws: GenerationError.emptyPromptWithoutStartToken) {
            try generator.generate(prompt: [], options: explicit)
        }
    }

    @Test("a prompt longer than the context keeps its last tokens")
    func longPrompt() throws {
        let model = try Self.model()
        let generator = TextGenerator(model: model)
        let prompt = (0..<40).map { $0 % 53 }
        let options = GenerationOptions(maxNewTokens: 5, sampling: .greedy)
        let stream = try generator.tokens(prompt: prompt, options: options)
        #expect(stream.droppedPromptTokens == 24)
        let tokens = Array(stream)
        #expect(tokens == (try generator.generate(prompt: Array(prompt.suffix(16)), options: options)[0].tokens))
        #expect(tokens == (try Self.referenceGreedy(model, prompt: prompt, count: 5)))
    }

    @Test("with overflow .stop the sample ends once the context is full")
    func stopAtContext() throws {
        let generator = TextGenerator(model: try Self.model())
        let options = GenerationOptions(maxNewTokens: 100, sampling: .greedy, overflow: .stop)
        let result = try generator.generate(prompt: Array(0..<10), options: options)[0]
        // Tokens 1...6 fill the context to 16; token 7 is drawn from the full context.
        #expect(result.tokens.count == 7)
        #expect(result.finishReason == .contextFull)
    }

    @Test("options and prompts are checked before anything runs")
    func validation() throws {
        let generator = TextGenerator(model: try Self.model())
        #expect(throws: GenerationError.self) {
            try generator.generate(prompt: [1], options: GenerationOptions(maxNewTokens: -1))
        }
        #expect(throws: GenerationError.self) {
            try generator.generate(prompt: [1], samples: 0, options: GenerationOptions())
        }
        #expect(throws: GenerationError.model(.tokenOutOfRange(index: 1, token: 53, vocabSize: 53))) {
            try generator.generate(prompt: [1, 53], options: GenerationOptions())
        }
        #expect(throws: GenerationError.self) {
            try generator.generate(prompt: [1], options: GenerationOptions(endOfText: 99))
        }
        #expect(try generator.generate(prompt: [1], options: GenerationOptions(maxNewTokens: 0))[0].tokens.isEmpty)
    }
}

/// Generation that used to end with no tokens and no word of why.
@Suite("TextGenerator edge cases")
struct GenerationEdgeTests {
    @Test("a temperature so small that logits / temperature overflow is greedy, its limit")
    func tinyTemperature() throws {
        let model = try TextGeneratorTests.model()
        let prompt = [3, 1, 4]
        let greedy = Array(try TextGenerator(model: model).tokens(
            prompt: prompt, options: GenerationOptions(maxNewTokens: 12, sampling: .greedy)))
        let tiny = Array(try TextGenerator(model: model).tokens(
            prompt: prompt, options: GenerationOptions(maxNewTokens: 12, sampling: SamplingOptions(temperature: Float.leastNormalMagnitude / 100))))
        #expect(tiny == greedy && tiny.count == 12)
        var sampler = Sampler(options: SamplingOptions(temperature: Float.leastNormalMagnitude / 100))
        var rng = RandomGenerator(seed: 1)
        #expect(sampler.sample([0.5, 2, -1, 1.5], using: &rng) == 1)
    }

    @Test("non-finite logits end generation with their own reason, not a silent end of text")
    func nonFiniteLogits() throws {
        let model = try TextGeneratorTests.model()
        model.parameters.values.update(repeating: .nan)
        let samples = try TextGenerator(model: model).generate(
            prompt: [3, 1, 4], samples: 2, options: GenerationOptions(maxNewTokens: 5, sampling: .greedy, endOfText: 0))
        #expect(samples.map(\.finishReason) == [.nonFiniteLogits, .nonFiniteLogits])
        #expect(samples.allSatisfy { $0.tokens.isEmpty })
    }
}

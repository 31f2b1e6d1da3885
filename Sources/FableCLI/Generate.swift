import ArgumentParser
import FableModel
import FableTensor
import FableTokenizer
import FableTraining
import FableWorkbench
import Foundation

/// `fable generate`: completes a prompt with a trained model, streaming the text.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Complete a prompt with a trained model, streaming the text as it is generated.",
        discussion: """
            Loads a checkpoint written by `fable train` (or a weights-only safetensors file \
            with --config/--preset), encodes the prompt with the tokenizer and samples until \
            <|endoftext|> or --max-tokens. A KV cache makes each new token cost one \
            position's work. With --samples N the samples are generated together as one \
            batch and each is printed, labelled, when it ends. Sample i uses seed S + i.

            A prompt longer than the model's context keeps its last context_length tokens \
            (with a warning); an empty prompt starts from <|endoftext|>. When the text \
            outgrows the context, the window slides: the oldest quarter is dropped and the \
            cache recomputed (--context-overflow stop ends the sample instead).
            """
    )

    @OptionGroup var source: CheckpointOptions

    @Option(help: ArgumentHelp("The text to continue; '-' reads it from stdin (one trailing newline dropped); empty starts from <|endoftext|>.",
                               valueName: "text"))
    var prompt: String = ""

    @Option(name: .customLong("max-tokens"), help: ArgumentHelp("The most tokens to generate per sample.", valueName: "n"))
    var maxTokens: Int = 256

    @Option(help: ArgumentHelp("Softmax temperature; 0 is greedy (always the most likely token).", valueName: "t"))
    var temperature: Float = 1.0

    @Option(name: .customLong("top-p"), help: ArgumentHelp("Nucleus sampling: keep the smallest set of tokens whose probability reaches p (1 keeps all).", valueName: "p"))
    var topP: Float = 1.0

    @Option(name: .customLong("top-k"), help: ArgumentHelp("Keep only the k most likely tokens (0 keeps all).", valueName: "k"))
    var topK: Int = 0

    @Option(help: ArgumentHelp("Random seed; the same seed gives the same text (default: a random seed, printed to stderr).", valueName: "s"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Samples to generate together, as one batch.", valueName: "n"))
    var samples: Int = 1

    @Option(name: .customLong("context-overflow"),
            help: ArgumentHelp("When the text outgrows the context: slide (drop the oldest quarter, recompute) or stop.", valueName: "mode"))
    var contextOverflow: String = ContextOverflow.slide.rawValue

    @Flag(name: .customLong("no-cache"), help: "Recompute the whole window for every token (slow; for comparison).")
    var noCache = false

    @Flag(name: .customLong("hide-prompt"), help: "Print only the generated text, not the prompt before it.")
    var hidePrompt = false

    @Flag(name: .customLong("ignore-end-of-text"),
          help: "Keep generating after <|endoftext|> until --max-tokens (to compare with other runtimes token for token).")
    var ignoreEndOfText = false

    @Flag(help: "Print timing (prompt and tokens per second) to stderr at the end.")
    var stats = false

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must be 0 or more, got \(maxTokens)") }
        if !(temperature.isFinite && temperature >= 0) { throw ValidationError("--temperature must be 0 or more, got \(temperature)") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        if topK < 0 { throw ValidationError("--top-k must be 0 (off) or more, got \(topK)") }
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
        if ContextOverflow(rawValue: contextOverflow) == nil {
            throw ValidationError("--context-overflow must be slide or stop, got '\(contextOverflow)'")
        }
    }

    func run() throws {
        try threading.apply()
        let loaded = try source.loadModel()
        let lm = loaded.model
        try Self.checkMemory(samples: samples, config: lm.config)
        let tok = try source.loadTokenizer(for: loaded)
        let config = lm.config
        var sampling = SamplingOptions(temperature: temperature, topK: topK > 0 ? topK : nil, topP: topP)
        if tok.vocabularySize > config.vocabSize {
            throw GenerateError.vocabularyMismatch(tokenizer: tok.vocabularySize, model: config.vocabSize)
        }
        if tok.vocabularySize < config.vocabSize {
            warn("the model's vocab_size \(config.vocabSize) exceeds the tokenizer's \(tok.vocabularySize) tokens; only ids below \(tok.vocabularySize) are sampled")
            sampling.vocabularyLimit = tok.vocabularySize
        }

        let text = try promptText()
        var ids = tok.encode(text)
        if ids.count > config.contextLength {
            warn("the prompt has \(ids.count) tokens but the context is \(config.contextLength); keeping the last \(config.contextLength)")
        }
        let endOfText = tok.specialTokenID("<|endoftext|>")
        if endOfText == nil && ids.isEmpty {
            throw GenerateError.emptyPromptWithoutEndOfText
        }
        if ignoreEndOfText, ids.isEmpty, let endOfText { ids = [endOfText] }
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        if self.seed == nil { warn("seed \(seed)") }
        let options = GenerationOptions(
            maxNewTokens: maxTokens, sampling: sampling, seed: seed, endOfText: ignoreEndOfText ? nil : endOfText,
            overflow: ContextOverflow(rawValue: contextOverflow) ?? .slide, useCache: !noCache)

        let generator = TextGenerator(model: lm)
        let clock = ContinuousClock()
        let started = clock.now
        var firstToken: ContinuousClock.Instant?
        var produced = 0
        let shownPrompt = hidePrompt ? "" : text
        if samples == 1 {
            write(shownPrompt)
            var decoder = TextStreamDecoder(tokenizer: tok)
            let stream = try generator.tokens(prompt: ids, options: options)
            for token in stream {
                if firstToken == nil { firstToken = clock.now }
                produced += 1
                write(try decoder.append(token))
            }
            write(decoder.finish() + "\n")
            if stream.finishReason == .nonFiniteLogits {
                throw CommandFailure("generation stopped after \(produced) tokens: \(FinishReason.nonFiniteLogits) "
                    + "(are the checkpoint's weights damaged or from a diverged run?)")
            }
        } else {
            var decodeError: Error?
            let finished = try generator.generate(
                prompt: ids, samples: samples, options: options,
                onToken: { _, _ in
                    if firstToken == nil { firstToken = clock.now }
                    produced += 1
                },
                onFinish: { sample, result in
                    do {
                        let body = try tok.decode(result.tokens)
                        write("=== sample \(sample + 1) of \(samples) (\(result.tokens.count) tokens, \(result.finishReason)) ===\n")
                        write(shownPrompt + body + "\n")
                    } catch {
                        decodeError = decodeError ?? error
                    }
                })
            if let decodeError { throw decodeError }
            if finished.contains(where: { $0.finishReason == .nonFiniteLogits }) {
                throw CommandFailure("generation stopped: \(FinishReason.nonFiniteLogits) "
                    + "(are the checkpoint's weights damaged or from a diverged run?)")
            }
        }
        if stats {
            func seconds(_ d: Duration) -> Double {
                Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            }
            let total = seconds(clock.now - started)
            let prefill = firstToken.map { seconds($0 - started) } ?? total
            let rate = produced > 1 && total > prefill ? Double(produced - 1) / (total - prefill) : 0
            warn("prompt \(ids.count) tokens; \(produced) tokens generated in \(String(format: "%.2f", total)) s "
                 + "(first after \(String(format: "%.0f", prefill * 1000)) ms, then \(String(format: "%.1f", rate)) tokens/s)"
                 + (noCache ? " without cache" : ""))
        }
    }

    /// The key/value cache and logits of `samples` rows must fit in memory.
    static func checkMemory(samples: Int, config: ModelConfig) throws {
        let perSample = Double(2 * config.numLayers * config.contextLength * config.dModel + 2 * config.vocabSize) * 4
        let needed = Double(samples) * perSample
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        if needed > available / 2 {
            let fits = max(1, Int(available / 2 / perSample))
            throw CommandFailure(String(format: "--samples %d needs about %.1f GiB for the key/value cache; this machine has "
                + "%.1f GiB: at most %d samples fit", samples, needed / 1_073_741_824, available / 1_073_741_824, fits))
        }
    }

    // MARK: - Inputs

    /// The prompt text: the option, or stdin for "-".
    func promptText() throws -> String {
        guard prompt == "-" else { return prompt }
        // FileHandle.readDataToEndOfFile traps when standard input is a directory or closed.
        let data: Data
        do {
            data = try FileHandle.standardInput.readToEnd() ?? Data()
        } catch {
            throw CommandFailure("--prompt -: cannot read the prompt from standard input (\(error.localizedDescription)); "
                + "pipe text in, or give the prompt itself")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    // MARK: - Output

    private func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private func warn(_ line: String) {
        FileHandle.standardError.write(Data("fable generate: \(line)\n".utf8))
    }
}

/// Why `fable generate` could not run; messages name the file or option.
enum GenerateError: Error, CustomStringConvertible {
    case vocabularyMismatch(tokenizer: Int, model: Int)
    case emptyPromptWithoutEndOfText

    var description: String {
        switch self {
        case let .vocabularyMismatch(tokenizer, model):
            return "the tokenizer has \(tokenizer) tokens but the model's vocab_size is \(model): they were not trained together (check --tokenizer)"
        case .emptyPromptWithoutEndOfText:
            return "the prompt is empty and the tokenizer has no <|endoftext|> token to start from; give --prompt TEXT"
        }
    }
}

import ArgumentParser
import FableFormats
import FableTensor
import FableTokenizer
import FableTraining
import FableWorkbench
import Foundation

/// `fable eval`: loss, perplexity and bits per byte of a model on a whole held-out file.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss, perplexity and bits per byte of a model on a held-out file (text, .npy or .bin).",
        discussion: """
            Reads the whole file as consecutive windows of the model's context that share \
            their edge token, so every token after the first is predicted once. Text is \
            encoded with the model's tokenizer on the way; .npy/.bin token files are \
            memory-mapped. Either streams, so files larger than memory work. Bits per byte \
            is the total loss in bits over the bytes the predicted tokens decode to, and \
            compares models with different tokenizers:

              fable eval --checkpoint runs/wiki/checkpoints/latest.safetensors \\
                  --input ../shared/data/tinystories_sample_2MiB.txt
            """
    )

    @OptionGroup var source: CheckpointOptions

    @Option(help: ArgumentHelp("The held-out file: UTF-8 text, or token ids (.npy, raw .bin with --dtype).", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("Element type of a raw .bin token file.", valueName: "type"))
    var dtype: TokenDataset.Element?

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Windows per forward pass.", valueName: "n"))
    var batchSize = 8

    @Option(name: .customLong("context-length"), help: ArgumentHelp(
        "Window length (default, and at most, the model's context).", valueName: "n"))
    var contextLength: Int?

    @Option(name: .customLong("max-tokens"), help: ArgumentHelp(
        "Predict at most this many tokens (default: the whole file).", valueName: "n"))
    var maxTokens: Int?

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Flag(help: "Print the result as one JSON object on standard output instead of a sentence.")
    var json = false

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let contextLength, contextLength < 1 { throw ValidationError("--context-length must be at least 1, got \(contextLength)") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1, got \(maxTokens)") }
    }

    func run() throws {
        try threading.apply()
        let loaded = try source.loadModel()
        let kind = HeldOutEvaluator.InputKind(path: input, dtype: dtype)
        let tok: Tokenizer?
        do {
            tok = try source.loadTokenizer(for: loaded)
        } catch {
            // Token files evaluate without a tokenizer; only bits per byte needs one.
            guard kind != .text, source.tokenizer == nil else { throw error }
            printWarning("\(error); reporting no bits per byte")
            tok = nil
        }
        if let tok, tok.vocabularySize > loaded.model.config.vocabSize {
            throw CommandFailure("the tokenizer has \(tok.vocabularySize) tokens but the model's vocab_size is \(loaded.model.config.vocabSize); give the tokenizer the model was trained with (--tokenizer DIR)")
        }
        let evaluator = HeldOutEvaluator(model: loaded.model, tokenizer: tok, contextLength: contextLength,
                                         batchSize: batchSize, maxTokens: maxTokens)
        let unit: ProgressDisplay.Unit = kind == .text ? .bytes : .items("tokens")
        var display: ProgressDisplay?
        let start = Date()
        let result = try evaluator.evaluate(file: input, kind: kind, tokenizer: tok, threads: threads) { done, total, sofar in
            if display == nil {
                display = ProgressDisplay(total: maxTokens == nil ? total : nil, label: "eval", unit: unit, style: quiet ? .silent : .automatic)
            }
            display?.update(completed: done, fields: ["loss": HumanFormat.fixed(sofar.loss, decimals: 4)])
        }
        display?.finish()
        let seconds = Date().timeIntervalSince(start)
        if json {
            print(try Self.json(result, checkpoint: source.checkpoint, input: input, seconds: seconds))
        } else {
            print(Self.sentence(result, seconds: seconds))
        }
    }

    static func sentence(_ result: HeldOutEvaluator.Result, seconds: Double) -> String {
        var line = "eval: \(result.tokens) tokens: loss \(HumanFormat.fixed(result.loss, decimals: 4)) nats/token, "
            + "perplexity \(HumanFormat.fixed(result.perplexity, decimals: 2))"
        if let bpb = result.bitsPerByte, let bytes = result.bytes {
            line += ", \(HumanFormat.fixed(bpb, decimals: 4)) bits/byte over \(bytes) bytes"
        }
        return line + " (\(HumanFormat.duration(seconds)))"
    }

    static func json(_ result: HeldOutEvaluator.Result, checkpoint: String, input: String, seconds: Double) throws -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("checkpoint"); writer.string(checkpoint)
        writer.key("input"); writer.string(input)
        writer.key("tokens"); writer.integer(result.tokens)
        writer.key("loss"); try writer.double(result.loss)
        writer.key("perplexity"); try writer.double(result.perplexity)
        writer.key("bytes"); if let bytes = result.bytes { writer.integer(bytes) } else { writer.null() }
        writer.key("bits_per_byte"); if let bpb = result.bitsPerByte { try writer.double(bpb) } else { writer.null() }
        writer.key("seconds"); try writer.double(seconds)
        writer.endObject()
        return writer.text
    }
}

import ArgumentParser
import FableModel
import FableTensor
import FableTokenizer
import FableTraining
import FableWorkbench
import Foundation

/// `fable score`: how well a model predicts a text (loss, perplexity), and its raw logits
/// for comparing with another implementation of the same model.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a text with a model: mean loss and perplexity; optionally save the logits.",
        discussion: """
            Encodes the text, keeps its first --max-tokens tokens (at most the context), runs \
            one forward pass and reports the mean cross-entropy of each next token. \
            --logits-out writes a safetensors file with `tokens` (I64, T) and `logits` \
            (F32, T x vocab_size), e.g. to compare with the model exported by `fable export`.
            """
    )

    @OptionGroup var source: CheckpointOptions

    @Option(help: ArgumentHelp("The text file to score.", valueName: "file"))
    var text: String

    @Option(name: .customLong("max-tokens"), help: ArgumentHelp("Score at most this many tokens (default: the context length).", valueName: "n"))
    var maxTokens: Int?

    @Option(name: .customLong("logits-out"), help: ArgumentHelp("Write tokens and logits to this safetensors file.", valueName: "file"))
    var logitsOut: String?

    func validate() throws {
        if let maxTokens, maxTokens < 2 { throw ValidationError("--max-tokens must be at least 2, got \(maxTokens)") }
    }

    func run() throws {
        let loaded = try source.loadModel()
        let lm = loaded.model
        let tok = try source.loadTokenizer(for: loaded)
        let content: String
        do { content = try String(contentsOfFile: text, encoding: .utf8) } catch {
            throw CommandFailure("--text \(text): cannot read it as UTF-8 (\(error.localizedDescription))")
        }
        let ids = Array(tok.encode(content).prefix(min(maxTokens ?? lm.config.contextLength, lm.config.contextLength)))
        guard ids.count >= 2 else { throw CommandFailure("--text \(text): fewer than 2 tokens to score") }
        let logits = try lm.forward(tokens: ids, shape: [1, ids.count]).toArray()
        let vocab = lm.config.vocabSize
        var total = 0.0
        for t in 0..<(ids.count - 1) {
            let row = logits[(t * vocab)..<((t + 1) * vocab)]
            let peak = Double(row.max() ?? 0)
            let sum = row.reduce(0.0) { $0 + exp(Double($1) - peak) }
            total += peak + log(sum) - Double(row[row.startIndex + ids[t + 1]])
        }
        let loss = total / Double(ids.count - 1)
        print("scored \(ids.count) tokens: loss \(String(format: "%.4f", loss)) nats/token, perplexity \(String(format: "%.2f", exp(loss)))")
        if let logitsOut {
            var writer = SafeTensorsWriter(metadata: ["checkpoint": source.checkpoint, "text": text])
            try writer.add("tokens", shape: [ids.count], integers: ids.map { Int64($0) }, as: .i64)
            try writer.add("logits", shape: [ids.count, vocab], floats: logits)
            try writer.write(to: URL(fileURLWithPath: logitsOut))
            print("logits -> \(logitsOut)")
        }
    }
}

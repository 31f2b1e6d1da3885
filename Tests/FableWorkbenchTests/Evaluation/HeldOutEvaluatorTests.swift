import FableModel
import FableTensor
import FableTokenizer
import Foundation
import Testing
@testable import FableWorkbench

@Suite("HeldOutEvaluator: loss and bits per byte over a whole file (fable eval)")
struct HeldOutEvaluatorTests {
    static let text = (0..<12).map { i in
        "Story \(i): the cat sat on the mat, and the dog — a big one — ran \(i * 7) laps. Café!\n<|endoftext|>\n"
    }.joined()

    static func tokenizer() throws -> Tokenizer {
        try Tokenizer(vocabulary: BPETrainer(.init(vocabSize: 300, specialTokens: ["<|endoftext|>"])).train(text: text).vocabulary)
    }

    static func model(vocab: Int) throws -> TransformerLM {
        try TransformerLM(config: ModelConfig(vocabSize: vocab, contextLength: 8, dModel: 16, numLayers: 1,
                                              numHeads: 2, dFF: 32), seed: 3)
    }

    /// The independent reference: each window through `forward`, log-softmax in Double.
    static func reference(_ ids: [Int], model: TransformerLM, context: Int) throws -> (nats: Double, tokens: Int) {
        var nats = 0.0, tokens = 0, start = 0
        let vocab = model.config.vocabSize
        while start < ids.count - 1 {
            let length = min(context, ids.count - 1 - start)
            let logits = try model.forward(tokens: Array(ids[start..<(start + length)]), shape: [1, length]).toArray()
            for t in 0..<length {
                let row = logits[(t * vocab)..<((t + 1) * vocab)].map(Double.init)
                let peak = row.max()!
                let logSum = peak + log(row.reduce(0.0) { $0 + exp($1 - peak) })
                nats += logSum - row[ids[start + t + 1]]
            }
            tokens += length
            start += length
        }
        return (nats, tokens)
    }

    @Test("loss matches a window-by-window reference; bits/byte = loss x tokens / (bytes x ln 2)")
    func matchesReference() throws {
        let tok = try Self.tokenizer()
        let lm = try Self.model(vocab: tok.vocabularySize)
        let ids = tok.encode(Self.text)
        let evaluator = HeldOutEvaluator(model: lm, tokenizer: tok, batchSize: 3)
        try evaluator.feed(ids)
        let result = try evaluator.finish()
        let expected = try Self.reference(ids, model: lm, context: 8)
        #expect(result.tokens == ids.count - 1)
        #expect(result.tokens == expected.tokens)
        #expect(abs(result.totalNats - expected.nats) <= 1e-4 * expected.nats)
        // Every byte of the text but the first token's is predicted once.
        let bytes = Self.text.utf8.count - tok.tokenBytes(ids[0])!.count
        #expect(result.bytes == bytes)
        let bitsPerByte = try #require(result.bitsPerByte)
        #expect(abs(bitsPerByte - result.loss * Double(result.tokens) / (Double(bytes) * log(2.0))) <= 1e-12)
        #expect(abs(result.perplexity - exp(result.loss)) <= 1e-9 * result.perplexity)
    }

    @Test("streaming a text file, a .npy file and one pass over the ids agree")
    func streamingEqualsOnePass() throws {
        let tok = try Self.tokenizer()
        let lm = try Self.model(vocab: tok.vocabularySize)
        let ids = tok.encode(Self.text)
        let onePass = HeldOutEvaluator(model: lm, tokenizer: tok, batchSize: 1000)
        try onePass.feed(ids)
        let whole = try onePass.finish()

        let textURL = temporaryFile("eval-text.txt")
        try Data(Self.text.utf8).write(to: textURL)
        let fromText = try HeldOutEvaluator(model: lm, tokenizer: tok, batchSize: 2)
            .evaluate(file: textURL.path, kind: .text, tokenizer: tok, threads: 2)
        let npy = try writeNpy(ids.map { UInt16($0) }, "eval-tokens.npy")
        var updates = 0
        let fromNpy = try HeldOutEvaluator(model: lm, tokenizer: tok, batchSize: 5)
            .evaluate(file: npy.path, kind: .init(path: npy.path, dtype: nil), tokenizer: tok) { _, _, _ in updates += 1 }
        for result in [fromText, fromNpy] {
            #expect(result.tokens == whole.tokens)
            #expect(result.bytes == whole.bytes)
            #expect(abs(result.loss - whole.loss) <= 1e-5 * whole.loss)
        }
        #expect(updates >= 1)
        // Without a tokenizer a token file still gives loss, but no bits per byte.
        let bare = try HeldOutEvaluator(model: lm, tokenizer: nil).evaluate(file: npy.path, kind: .tokens(nil), tokenizer: nil)
        #expect(bare.bytes == nil && bare.bitsPerByte == nil)
        #expect(abs(bare.loss - whole.loss) <= 1e-5 * whole.loss)
    }

    @Test("--max-tokens stops after that many predictions, from the start of the file")
    func maxTokens() throws {
        let tok = try Self.tokenizer()
        let lm = try Self.model(vocab: tok.vocabularySize)
        let ids = tok.encode(Self.text)
        let npy = try writeNpy(ids.map { UInt16($0) }, "eval-max.npy")
        let result = try HeldOutEvaluator(model: lm, tokenizer: tok, batchSize: 2, maxTokens: 21)
            .evaluate(file: npy.path, kind: .tokens(nil), tokenizer: tok)
        let expected = try Self.reference(Array(ids.prefix(22)), model: lm, context: 8)
        #expect(result.tokens == 21)
        #expect(abs(result.totalNats - expected.nats) <= 1e-4 * expected.nats)
    }

    @Test("bad inputs give errors that name the file")
    func errors() throws {
        let tok = try Self.tokenizer()
        let lm = try Self.model(vocab: tok.vocabularySize)
        let missing = temporaryFile("no-such-file.txt").path
        #expect(throws: EvalFileError.missing(path: missing)) {
            try HeldOutEvaluator(model: lm, tokenizer: tok).evaluate(file: missing, kind: .text, tokenizer: tok)
        }
        let folder = FileManager.default.temporaryDirectory.path
        #expect(throws: EvalFileError.isFolder(path: folder)) {
            try HeldOutEvaluator(model: lm, tokenizer: tok).evaluate(file: folder, kind: .text, tokenizer: tok)
        }
        let textURL = temporaryFile("eval-short.txt")
        try Data("a".utf8).write(to: textURL)
        #expect(throws: EvalFileError.textNeedsTokenizer(path: textURL.path)) {
            try HeldOutEvaluator(model: lm, tokenizer: nil).evaluate(file: textURL.path, kind: .text, tokenizer: nil)
        }
        #expect(throws: EvalFileError.tooShort(path: textURL.path)) {
            try HeldOutEvaluator(model: lm, tokenizer: tok).evaluate(file: textURL.path, kind: .text, tokenizer: tok)
        }
        #expect(EvalFileError.textNeedsTokenizer(path: "x.txt").description.contains("--tokenizer DIR"))
        // An id the model does not have is the model's error, not a crash.
        let npy = try writeNpy([1, 2, 3, 999, 4], "eval-bad.npy")
        #expect(throws: (any Error).self) {
            try HeldOutEvaluator(model: lm, tokenizer: nil).evaluate(file: npy.path, kind: .tokens(nil), tokenizer: nil)
        }
    }
}

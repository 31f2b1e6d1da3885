import FableTensor
import FableTestSupport
import Foundation
import Testing
@testable import FableModel

@Suite("Model weights (safetensors)")
struct ModelWeightsTests {
    private let tiny = ModelConfig(vocabSize: 64, context: 16, dModel: 32, layers: 2, heads: 4, dFF: 48)

    private func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("fable-model-\(UUID().uuidString)-\(name)")
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test("a file saved without metadata is byte-identical to PyTorch's save_file")
    func byteIdenticalToPyTorch() throws {
        let pytorchFile = TestData.fixture("model/lm.weights.safetensors")
        let model = try TransformerLM(config: tiny, seed: 3)
        try model.loadWeights(from: pytorchFile)
        let url = temporaryURL("plain.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelWeights.save(model.parameters, to: url)
        #expect(try Data(contentsOf: url) == Data(contentsOf: pytorchFile))
    }

    @Test("save then load restores every parameter and the config")
    func roundTrip() throws {
        var config = tiny
        config.norm = .post
        config.ffn = .silu
        let model = try TransformerLM(config: config, seed: 7)
        let url = temporaryURL("round.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.saveWeights(to: url)
        #expect(try ModelWeights.config(in: url) == config)
        let loaded = try TransformerLM(contentsOf: url)
        #expect(loaded.config == config)
        #expect(Array(loaded.parameters.values) == Array(model.parameters.values))
    }

    @Test("seeded initialisation: reproducible, CS336 scales, truncated at 3 std")
    func initialisation() throws {
        let a = try TransformerLM(config: tiny, seed: 5), b = try TransformerLM(config: tiny, seed: 5)
        let c = try TransformerLM(config: tiny, seed: 6)
        #expect(Array(a.parameters.values) == Array(b.parameters.values))
        #expect(Array(a.parameters.values) != Array(c.parameters.values))
        func stats(_ name: String) -> (std: Double, maxAbs: Float) {
            let v = Array(a.parameters.values(of: a.parameters.entry(named: name)!))
            let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
            let variance = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)
            return (variance.squareRoot(), v.map(abs).max()!)
        }
        let emb = stats("token_embeddings.weight")   // std 1 truncated at 3: std ≈ 0.986
        #expect(abs(emb.std - 0.986) < 0.05 && emb.maxAbs <= 3)
        let w1 = stats("layers.0.ffn.w1.weight")      // std sqrt(2 / (32 + 48)) = 0.158
        let sigma = (2.0 / 80.0).squareRoot()
        #expect(abs(w1.std - 0.986 * sigma) < 0.1 * sigma && Double(w1.maxAbs) <= 3 * sigma + 1e-6)
        #expect(Array(a.parameters.values(of: a.parameters.entry(named: "ln_final.weight")!)).allSatisfy { $0 == 1 })
    }

    @Test("a tied model stores one matrix, loads PyTorch's tied file, and shares gradients")
    func tied() throws {
        let f = try GoldenFixture("lm_tied")
        let model = try TransformerLMGoldenTests.model(for: f)
        #expect(model.parameters.entry(named: "lm_head.weight") == nil)
        #expect(model.lmHead.weight.storage === model.tokenEmbeddings.weight.storage
                && model.lmHead.weight.offset == model.tokenEmbeddings.weight.offset)
        // A file that also holds lm_head.weight loads when the copy is equal, not otherwise.
        let entry = model.parameters.entry(named: "token_embeddings.weight")!
        let values = Array(model.parameters.values(of: entry))
        for (suffix, head, ok) in [("same", values, true), ("different", values.map { $0 + 1 }, false)] {
            var writer = SafeTensorsWriter()
            for e in model.parameters.entries {
                try writer.add(e.name, shape: e.shape, floats: Array(model.parameters.values(of: e)))
            }
            try writer.add("lm_head.weight", shape: entry.shape, floats: head)
            let url = temporaryURL("tied-\(suffix).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try writer.write(to: url)
            let text = message { try model.loadWeights(from: url) }
            if ok {
                #expect(text == "no error")
            } else {
                #expect(text.contains("lm_head.weight differs from token_embeddings.weight"))
            }
        }
    }

    @Test("missing, extra and mis-shaped tensors are errors naming the tensor; nothing changes")
    func errors() throws {
        let model = try TransformerLM(config: tiny, seed: 1)
        let before = Array(model.parameters.values)
        func write(_ edit: (inout [(String, [Int])]) -> Void) throws -> URL {
            var layout = model.parameters.entries.map { ($0.name, $0.shape) }
            edit(&layout)
            var writer = SafeTensorsWriter()
            for (name, shape) in layout {
                try writer.add(name, shape: shape, floats: [Float](repeating: 0.5, count: shape.reduce(1, *)))
            }
            let url = temporaryURL("bad.safetensors")
            try writer.write(to: url)
            return url
        }
        let missing = try write { $0.removeAll { $0.0 == "layers.1.ffn.w3.weight" } }
        let extra = try write { $0.append(("layers.2.ln1.weight", [32])) }
        let misShaped = try write { l in l = l.map { $0.0 == "layers.0.attn.k_proj.weight" ? ($0.0, [32, 16]) : $0 } }
        defer { for url in [missing, extra, misShaped] { try? FileManager.default.removeItem(at: url) } }

        let m1 = message { try model.loadWeights(from: missing) }
        #expect(m1.contains(missing.path) && m1.contains("missing tensor layers.1.ffn.w3.weight"))
        let m2 = message { try model.loadWeights(from: extra) }
        #expect(m2.contains("unexpected tensor layers.2.ln1.weight"))
        let m3 = message { try model.loadWeights(from: misShaped) }
        #expect(m3.contains("layers.0.attn.k_proj.weight has shape [32, 16], but the model expects [32, 32]"))
        let m4 = message { try model.loadWeights(from: URL(fileURLWithPath: "/nonexistent/w.safetensors")) }
        #expect(m4.contains("/nonexistent/w.safetensors"))
        #expect(Array(model.parameters.values) == before)
        // A PyTorch file without metadata needs a config.
        let m5 = message { _ = try TransformerLM(contentsOf: TestData.fixture("model/lm.weights.safetensors")) }
        #expect(m5.contains("holds no model config"))
    }

    @Test("bad token ids, shapes and positions are errors, not traps")
    func inputErrors() throws {
        let model = try TransformerLM(config: tiny, seed: 1)
        #expect(message { _ = try model.forward(tokens: [1, 2, 64], shape: [3]) }
            == "token id 64 at index 2 is outside the vocabulary (0..<64)")
        #expect(message { _ = try model.forward(tokens: [1, -2], shape: [2]) }.contains("token id -2"))
        #expect(message { _ = try model.forward(tokens: [Int](repeating: 1, count: 17), shape: [17]) }
            .contains("longer than the model's context_length 16"))
        #expect(message { _ = try model.forward(tokens: [1, 2, 3], shape: [2, 2]) }.contains("4 token ids"))
        #expect(message { _ = try model.forward(tokens: [1, 2], shape: [2], positions: [15, 16]) }
            .contains("token position 16"))
        #expect(message { _ = try model.forward(tokens: [Int](), shape: []) }.contains("positive sizes"))
    }
}

extension ModelConfig {
    /// A compact initialiser for tests.
    init(vocabSize: Int, context: Int, dModel: Int, layers: Int, heads: Int, dFF: Int) {
        self.init(vocabSize: vocabSize, contextLength: context, dModel: dModel, numLayers: layers, numHeads: heads, dFF: dFF)
    }
}

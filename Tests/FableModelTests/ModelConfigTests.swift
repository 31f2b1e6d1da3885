import Foundation
import Testing
@testable import FableModel

@Suite("ModelConfig")
struct ModelConfigTests {
    private func decode(_ json: String) throws -> ModelConfig {
        try ModelConfig.decode(Data(json.utf8), source: "test.json")
    }

    @Test("a minimal JSON gets the CS336 defaults")
    func defaults() throws {
        let c = try decode(#"{"vocab_size": 10000, "context_length": 256, "d_model": 512, "num_layers": 4, "num_heads": 16}"#)
        #expect(c.dFF == 1344)  // 8/3 · 512 = 1365.3, nearest multiple of 64
        #expect(c.ropeTheta == 10_000)
        #expect(c.norm == .pre && c.position == .rope && c.ffn == .swiglu && !c.tieEmbeddings)
        #expect(c.headDim == 32)
        #expect(c == (try ModelConfig.preset(named: "tinystories-17m")))
    }

    @Test("the SiLU default and ablation match SwiGLU's feed-forward parameter count")
    func siluWidth() throws {
        let swiglu = try ModelConfig.preset(named: "tinystories-17m")
        let silu = swiglu.withSiLUFeedForward()
        #expect(silu.ffn == .silu && silu.dFF == 2016)
        #expect(2 * silu.dModel * silu.dFF == 3 * swiglu.dModel * swiglu.dFF)
        #expect(ModelConfig.defaultFeedForwardWidth(dModel: 512, ffn: .silu) == 2016)
        #expect(ModelConfig.defaultFeedForwardWidth(dModel: 768, ffn: .swiglu) == 2048)
        #expect(ModelConfig.defaultFeedForwardWidth(dModel: 16, ffn: .swiglu) == 64)
        let decoded = try decode(#"{"vocab_size": 8, "context_length": 8, "d_model": 512, "num_layers": 1, "num_heads": 2, "ffn": "silu"}"#)
        #expect(decoded.dFF == 2016)
    }

    @Test("JSON round trip keeps every field, with snake_case keys")
    func roundTrip() throws {
        let c = ModelConfig(
            vocabSize: 64, contextLength: 16, dModel: 32, numLayers: 2, numHeads: 4, dFF: 48,
            ropeTheta: 500, norm: .post, position: .none, ffn: .silu, tieEmbeddings: true)
        let data = c.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        for key in ["vocab_size", "context_length", "d_model", "num_layers", "num_heads", "d_ff",
                    "rope_theta", "norm", "position", "ffn", "tie_embeddings"] {
            #expect(text.contains("\"\(key)\""), "missing \(key)")
        }
        #expect(try ModelConfig.decode(data) == c)
    }

    @Test("every preset validates, and the shapes are the handout's")
    func presets() throws {
        for preset in ModelConfig.presets { try preset.config.validate() }
        let xl = try ModelConfig.preset(named: "gpt2-xl")
        let xlShape: [Int] = [xl.vocabSize, xl.contextLength, xl.dModel, xl.numLayers, xl.numHeads, xl.dFF]
        #expect(xlShape == [50_257, 1024, 1600, 48, 25, 6400])
        let small = try ModelConfig.preset(named: "gpt2-small")
        let smallShape: [Int] = [small.dModel, small.numLayers, small.numHeads, small.dFF]
        #expect(smallShape == [768, 12, 12, 3072])
        #expect(throws: ModelConfigError.unknownPreset("gpt5", available: ModelConfig.presets.map(\.name))) {
            _ = try ModelConfig.preset(named: "gpt5")
        }
    }

    @Test("invalid values name their key")
    func invalidValues() throws {
        func message(_ json: String) -> String {
            do { _ = try decode(json); return "no error" } catch { return "\(error)" }
        }
        let base = #""vocab_size": 64, "context_length": 16, "num_layers": 2"#
        let notDivisible = message("{\(base), \"d_model\": 30, \"num_heads\": 4}")
        #expect(notDivisible.contains("test.json") && notDivisible.contains("num_heads")
            && notDivisible.contains("divisor of d_model (30)"))
        let oddHead = message("{\(base), \"d_model\": 12, \"num_heads\": 4}")
        #expect(oddHead.contains("num_heads") && oddHead.contains("even for RoPE"))
        #expect(message("{\(base), \"d_model\": 12, \"num_heads\": 4, \"position\": \"none\"}") == "no error")
        #expect(message("{\(base), \"d_model\": 0, \"num_heads\": 1}").contains("d_model is 0"))
        #expect(message("{\(base), \"d_model\": 8, \"num_heads\": 2, \"rope_theta\": -1}").contains("rope_theta"))
        #expect(message("{\(base), \"d_model\": 8, \"num_heads\": 2, \"tie_embedding\": true}")
            .contains("unknown key tie_embedding"))
        #expect(message("{\(base), \"d_model\": 8}").contains("missing required key num_heads"))
        #expect(message("{\(base), \"d_model\": 8, \"num_heads\": 2, \"norm\": \"layer\"}").contains("norm"))
        #expect(message("[1, 2]").contains("test.json"))
        // JSONDecoder reports these as invalid JSON without a key; the message must name it.
        let fraction = message(#"{"vocab_size": 512.5, "context_length": 16, "d_model": 8, "num_layers": 1, "num_heads": 2}"#)
        #expect(fraction.contains("vocab_size") && fraction.contains("whole number") && fraction.contains("512.5"))
        let huge = message(#"{"vocab_size": 64, "context_length": 1e30, "d_model": 8, "num_layers": 1, "num_heads": 2}"#)
        #expect(huge.contains("context_length") && huge.contains("whole number"))
        let choice = message("{\(base), \"d_model\": 8, \"num_heads\": 2, \"ffn\": \"gelu\"}")
        #expect(choice.contains("ffn") && choice.contains("\"gelu\" is not one of swiglu, silu"))
    }

    @Test("loading a missing file names it")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/model.json")
        #expect(throws: ModelConfigError.self) { _ = try ModelConfig.load(from: url) }
        do { _ = try ModelConfig.load(from: url) } catch {
            #expect("\(error)".contains("/nonexistent/model.json"))
        }
    }
}

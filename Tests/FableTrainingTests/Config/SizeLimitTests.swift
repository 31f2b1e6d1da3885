import FableModel
import Foundation
import Testing
@testable import FableTraining

/// Sizes with no sensible upper bound used to pass validation and `--dry-run`, then abort
/// on an allocation or an overflow; now each is an error naming the key.
@Suite("Size limits")
struct SizeLimitTests {
    /// The key of the error `tinyConfig(set)` throws.
    private func failingKey(_ set: String) -> (key: String, message: String)? {
        do {
            _ = try tinyConfig(set)
            return nil
        } catch let error as TrainingConfigError {
            if case let .invalidValue(key, _, _) = error.underlying { return (key, "\(error)") }
            return ("?", "\(error)")
        } catch {
            return ("?", "\(error)")
        }
    }

    @Test("steps, batch_size and model sizes beyond arithmetic limits name their key",
          arguments: [("steps=4611686018427387904", "steps"), ("batch_size=99999999999", "batch_size"),
                      ("model.d_model=2147483648", "model.d_model"), ("model.d_ff=1073741824", "model.d_ff"),
                      ("model.num_layers=100000000", "model.num_layers"), ("threads=100000", "threads")])
    func arithmeticLimits(_ set: String, _ key: String) throws {
        let failure = try #require(failingKey(set))
        // Values past 2^53 are refused while the tree is decoded (the message names the key
        // as "steps is ..."); smaller ones by the size checks (an invalidValue for the key).
        #expect(failure.key == key || failure.message.contains("\(key) is '"), "\(failure.message)")
    }

    @Test("a model or batch that cannot fit in memory is refused with the bytes needed and available")
    func memoryEstimate() throws {
        // d_model 2^20 passes no arithmetic limit (2^42 parameters); 2^17 fails on memory:
        // 2^36 parameters, 16 bytes each with gradients and AdamW state, 1 TiB.
        #expect(failingKey("model.d_model=1048576")?.key == "model.d_model")
        let model = try #require(failingKey("model.d_model=131072"))
        #expect(model.key == "model")
        #expect(model.message.contains("GiB to train") && model.message.contains("this machine has"))
        let layers = try #require(failingKey("model.num_layers=10000000"))
        #expect(layers.key == "model" || layers.key == "batch_size", "\(layers.message)")
        // The tiny model itself fits.
        #expect(failingKey("steps=12") == nil)
    }

    @Test("ModelConfig alone bounds every size, so accounting never overflows")
    func modelConfigBounds() throws {
        var config = try ModelConfig.preset(named: "tinystories-17m")
        config.dModel = 1 << 31
        config.numHeads = 16
        #expect(throws: ModelConfigError.invalidValue(key: "d_model", value: "\(1 << 31)", expected: "at most \(1 << 24)")) {
            try config.validate()
        }
        config.dModel = 1 << 22
        config.numLayers = 1 << 20
        #expect(throws: ModelConfigError.self) { try config.validate() }
    }
}

/// Settings that used to be accepted silently or named the wrong option.
@Suite("Silent settings")
struct SilentSettingTests {
    @Test("sweep folder names never collide: tokenizer=/a/b and tokenizer=_a_b get different folders")
    func sweepNames() throws {
        let grid = try SweepGrid(parsing: ["tokenizer=/a/b,_a_b,a b"])
        let names = grid.points.map(\.name)
        #expect(Set(names).count == 3, "\(names)")
        #expect(names[1] == "tokenizer=_a_b")
        #expect(names[0].hasPrefix("tokenizer=_a_b-"))
    }

    @Test("a --grid error names --grid, not --set")
    func gridErrorNamesGrid() throws {
        do {
            _ = try SweepGrid(parsing: ["optimizer.lr"])
            Issue.record("accepted a --grid without '='")
        } catch {
            #expect("\(error)".hasPrefix("--grid optimizer.lr"), "\(error)")
            #expect(!"\(error)".contains("--set"), "\(error)")
        }
    }

    @Test("a muon_exclude pattern that matches no parameter is refused, naming the key")
    func muonExcludeTypo() throws {
        let config = try tinyConfig("optimizer.kind=muon", #"optimizer.muon_exclude=["token_embedings.weight"]"#)
        #expect(throws: TrainingConfigError.self) {
            _ = try Trainer(config: config, train: patternDataset("muon-typo.npy"), val: nil)
        }
        do {
            _ = try Trainer(config: config, train: patternDataset("muon-typo.npy"), val: nil)
        } catch {
            #expect("\(error)".contains("optimizer.muon_exclude"), "\(error)")
        }
        // The defaults may match nothing: tied embeddings have no lm_head.weight.
        let tied = try tinyConfig("optimizer.kind=muon", "model.tie_embeddings=true")
        _ = try Trainer(config: tied, train: patternDataset("muon-tied.npy"), val: nil)
    }
}

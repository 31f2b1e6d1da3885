import FableModel
import FableTensor
import Foundation
import Testing
@testable import FableTraining

/// Opening a model for generation from a checkpoint or a weights-only file.
@Suite("ModelFile")
struct ModelFileTests {
    static let config = ModelConfig(vocabSize: 40, contextLength: 12, dModel: 16, numLayers: 1, numHeads: 2, dFF: 32)

    static func source() throws -> TransformerLM { try TransformerLM(config: config, seed: 4) }

    static func sameWeights(_ a: TransformerLM, _ b: TransformerLM) -> Bool {
        Array(a.parameters.values) == Array(b.parameters.values)
    }

    @Test("a checkpoint's run config may be the model config or hold it under 'model'")
    func checkpointConfigs() throws {
        let model = try Self.source()
        let modelJSON = String(decoding: Self.config.jsonData(), as: UTF8.self)
        for (i, runConfig) in [modelJSON, "{\"model\": \(modelJSON), \"lr\": 0.001, \"steps\": 10}"].enumerated() {
            let url = temporaryFile("model-file-\(i).safetensors")
            try Checkpoint.save(to: url, store: model.parameters, optimizer: nil,
                                state: .init(step: 5, rng: RandomGenerator(seed: 1), config: runConfig, tokenizer: "tok"))
            let loaded = try ModelFile.load(from: url)
            #expect(loaded.model.config == Self.config)
            #expect(Self.sameWeights(loaded.model, model))
            #expect(loaded.tokenizerReference == "tok")
            #expect(loaded.runState?.step == 5)
        }
    }

    @Test("a weights file uses its stored config, or the one given")
    func weightsFiles() throws {
        let model = try Self.source()
        let withConfig = temporaryFile("model-file-weights.safetensors")
        try model.saveWeights(to: withConfig)
        let loaded = try ModelFile.load(from: withConfig)
        #expect(loaded.model.config == Self.config && loaded.runState == nil)
        #expect(Self.sameWeights(loaded.model, model))

        let bare = temporaryFile("model-file-bare.safetensors")
        try ModelWeights.save(model.parameters, to: bare)
        #expect(throws: ModelFileError.noConfig(path: bare.path)) { try ModelFile.load(from: bare) }
        #expect(Self.sameWeights(try ModelFile.load(from: bare, config: Self.config).model, model))
    }

    @Test("missing files and mismatched configs are named errors")
    func errors() throws {
        let missing = temporaryFile("model-file-missing.safetensors")
        #expect(throws: ModelFileError.missing(path: missing.path)) { try ModelFile.load(from: missing) }
        let url = temporaryFile("model-file-other.safetensors")
        try Self.source().saveWeights(to: url)
        var wider = Self.config
        wider.dModel = 32
        #expect(throws: ModelWeightsError.self) { try ModelFile.load(from: url, config: wider) }
        #expect(throws: ModelConfigError.self) {
            try ModelFile.modelConfig(fromRunConfig: Data("{\"model\": 3}".utf8), source: "run")
        }
        #expect(throws: ModelConfigError.self) {
            try ModelFile.modelConfig(fromRunConfig: Data("{\"model\": \"no-such-preset\"}".utf8), source: "run")
        }
        let preset = try ModelFile.modelConfig(fromRunConfig: Data("{\"model\": \"tiny\", \"steps\": 5}".utf8), source: "run")
        #expect(preset == (try ModelConfig.preset(named: "tiny")))
    }

    @Test("the tokenizer a checkpoint names: as given first, then beside the checkpoint; only folders count")
    func tokenizerFolder() throws {
        let root = temporaryFile("model-file-tokenizer-\(UUID().uuidString)")
        let run = root.appendingPathComponent("run")
        let checkpoints = run.appendingPathComponent("checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        let name = "tokenizer-\(UUID().uuidString)"  // unique, so no folder of that name is in the working directory's parent
        try FileManager.default.createDirectory(at: run.appendingPathComponent(name), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = checkpoints.appendingPathComponent("step_000010.safetensors")

        // Relative to the checkpoint's folder: the run folder keeps ../tokenizer.
        #expect(ModelFile.tokenizerFolder(reference: "../\(name)", checkpoint: checkpoint)?.standardizedFileURL.path
                == run.appendingPathComponent(name).path)
        // An absolute reference is taken as given.
        let elsewhere = root.appendingPathComponent("tok")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        #expect(ModelFile.tokenizerFolder(reference: elsewhere.path, checkpoint: checkpoint)?.path == elsewhere.path)
        // A file of that name is not a tokenizer folder; a missing one gives nil.
        try Data().write(to: checkpoints.appendingPathComponent("vocab"))
        #expect(ModelFile.tokenizerFolder(reference: "vocab", checkpoint: checkpoint) == nil)
        #expect(ModelFile.tokenizerFolder(reference: "no-such-folder-\(UUID().uuidString)", checkpoint: checkpoint) == nil)
    }

    @Test("a run config's model object goes through the strict JSON reader")
    func runConfigModelObject() throws {
        let modelJSON = String(decoding: Self.config.jsonData(), as: UTF8.self)
        let nested = try ModelFile.modelConfig(fromRunConfig: Data("{\"model\": \(modelJSON), \"lr\": 1e-3}".utf8), source: "run")
        #expect(nested == Self.config)
        #expect(throws: ModelConfigError.self) {
            try ModelFile.modelConfig(fromRunConfig: Data("{\"model\": {}, ".utf8), source: "run")
        }
        #expect(throws: ModelConfigError.self) {
            try ModelFile.modelConfig(fromRunConfig: Data("[1, 2]".utf8), source: "run")
        }
    }
}

import FableFormats
import FableInterchange
import FableModel
import FableTestSupport
import FableTraining
import Foundation
import Testing

/// `fable train --init-from` on an imported model: the run adopts the file's model and
/// weights, keeps a fresh optimizer, and trains.
@Suite struct InitFromTests {
    func tokens(_ count: Int, vocab: Int) throws -> TokenDataset {
        let url = try temporaryFolder("init").appendingPathComponent("tokens.npy")
        let ids = (0..<count).map { UInt16(($0 * 7 + $0 / 3) % vocab) }
        var bytes = NPYHeader.encode(descr: "<u2", shape: [ids.count])
        ids.withUnsafeBytes { bytes.append(contentsOf: $0) }
        try Data(bytes).write(to: url)
        return try TokenDataset(url: url)
    }

    @Test("an imported checkpoint initialises a new run: same weights, fresh optimizer, then it trains")
    func initFromImported() throws {
        let out = try temporaryFolder().appendingPathComponent("imported")
        let imported = try HuggingFaceImport.read(from: TestData.fixture("interchange/hf-tiny"))
        try HuggingFaceImport.write(imported, to: out)
        let checkpoint = out.appendingPathComponent(HuggingFaceImport.checkpointFile)

        let initial = try Trainer.initialWeights(at: checkpoint)
        #expect(initial.config == imported.model.config)
        #expect(initial.tokenizer == out.appendingPathComponent("tokenizer").path)

        var config = TrainingConfig(model: try #require(initial.config), batchSize: 2, steps: 3, evalInterval: 0, checkpointInterval: 0)
        config.schedule.warmupSteps = 1
        let trainer = try Trainer(config: config, train: try tokens(400, vocab: 300), val: nil)
        #expect(Array(trainer.model.parameters.values) != Array(imported.model.parameters.values))
        try trainer.initializeWeights(from: checkpoint)
        #expect(Array(trainer.model.parameters.values) == Array(imported.model.parameters.values))
        #expect(trainer.optimizer.stepCount == 0)
        let step = try trainer.trainStep()
        #expect(step.loss.isFinite)
        #expect(throws: TrainerInitializationError.alreadyStarted(step: 1)) { try trainer.initializeWeights(from: checkpoint) }
    }

    @Test("a file whose model differs from the run's is refused, naming the differing keys")
    func mismatch() throws {
        let out = try temporaryFolder().appendingPathComponent("imported")
        try HuggingFaceImport.write(try HuggingFaceImport.read(from: TestData.fixture("interchange/hf-tiny")), to: out)
        var model = try HuggingFaceImport.modelConfig(from: TestData.fixture("interchange/hf-tiny/config.json"))
        model.numLayers = 1
        let trainer = try Trainer(config: TrainingConfig(model: model, batchSize: 2, steps: 1), train: try tokens(400, vocab: 300), val: nil)
        #expect { try trainer.initializeWeights(from: out.appendingPathComponent("model.safetensors")) } throws: {
            "\($0)".contains("num_layers 2 in the file vs 1 in the run")
        }
    }
}

import FableFormats
import FableModel
import Foundation
import Testing
@testable import FableTraining

/// The inner error of a resolution failure, for matching.
private func configError(_ body: () throws -> Void) -> TrainingConfigError? {
    do { try body() } catch let error as TrainingConfigError { return error.underlying } catch { return nil }
    return nil
}

private func sets(_ arguments: String...) throws -> [ConfigOverride] {
    try arguments.map { try ConfigOverride(parsing: $0) }
}

private func load(_ json: String, _ overrides: [ConfigOverride] = []) throws -> TrainingConfig {
    try TrainingConfig.resolve(JSONValue.parse(json), source: "test.json", overrides: overrides)
}

@Suite("Training config")
struct TrainingConfigTests {
    @Test("tinystories-17m preset: the CS336 model and a run of 32 x 5000 x 256 tokens")
    func tinyStoriesPreset() throws {
        let config = try TrainingConfig.preset(named: "tinystories-17m")
        #expect(config.model == ModelConfig(vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4,
                                            numHeads: 16, dFF: 1344, ropeTheta: 10_000))
        #expect(config.totalSteps * config.tokensPerStep == 40_960_000)
        #expect(config.optimizer.kind == .adamw)
        let schedule = try #require(try config.makeSchedule() as? CosineSchedule)
        #expect(schedule.cosineSteps == 5000 && schedule.warmupSteps == 200)
        #expect(abs(schedule.minRate - config.optimizer.lr * 0.1) < 1e-15)
        for preset in TrainingConfig.presets { try preset.config.validate() }
    }

    @Test("a file may name a model preset; config.json round-trips with every key")
    func fileRoundTrip() throws {
        let config = try load(#"{"model": "tiny", "batch_size": 8, "optimizer": {"lr": 0.002}, "max_tokens": 100000}"#)
        #expect(config.model == (try ModelConfig.preset(named: "tiny")))
        #expect(config.batchSize == 8 && config.optimizer.lr == 0.002)
        #expect(config.steps == nil && config.maxTokens == 100_000)
        #expect(config.totalSteps == (100_000 + 8 * 128 - 1) / (8 * 128))  // rounded up
        let tree = try JSONValue.parse(config.jsonData())
        let keys = Set(tree.objectValue!.keys)
        #expect(keys.isSuperset(of: ["model", "optimizer", "schedule", "batch_size", "steps", "max_tokens", "eval_interval",
                                     "eval_batches", "full_eval", "checkpoint_interval", "log_interval", "grad_clip",
                                     "seed", "threads", "tokenizer"]))
        #expect(try TrainingConfig.resolve(tree, source: "config.json") == config)
    }

    @Test("--set changes nested values by dotted key, with the value's type")
    func overrides() throws {
        let config = try TrainingConfig.preset(named: "cpu-small", overrides: sets(
            "optimizer.lr=3e-4", "batch_size=16", "model.num_layers=2", "full_eval=true",
            "optimizer.betas=0.9,0.99", "schedule.min_lr=1e-5", "tokenizer=tok/", "model.norm=post"))
        #expect(config.optimizer.lr == 3e-4)
        #expect(config.batchSize == 16)
        #expect(config.model.numLayers == 2)
        #expect(config.fullEval)
        #expect(config.optimizer.betas == [0.9, 0.99])
        #expect(config.schedule.minLR == 1e-5)
        #expect(config.tokenizer == "tok/")
        #expect(config.model.norm == .post)
        // A model preset by name, then a key inside it; steps and max_tokens replace each other.
        let switched = try TrainingConfig.preset(named: "cpu-small", overrides: sets(
            "model=tinystories-17m", "model.vocab_size=500", "max_tokens=1e6"))
        #expect(switched.model.dModel == 512 && switched.model.vocabSize == 500)
        #expect(switched.steps == nil && switched.maxTokens == 1_000_000)
        let back = try switched.applying(sets("steps=700"))
        #expect(back.steps == 700 && back.maxTokens == nil)
    }

    @Test("--set errors name the key and what was expected")
    func overrideErrors() throws {
        func failure(_ argument: String) -> TrainingConfigError? {
            configError { _ = try TrainingConfig.preset(named: "cpu-small", overrides: sets(argument)) }
        }
        #expect(failure("batch_size=abc") == .typeMismatch(key: "batch_size", expected: "a whole number", found: "'abc'"))
        guard case .typeMismatch(key: "batch_size", let expected, _)? = failure("batch_size=3.5") else {
            Issue.record("3.5 accepted as a batch size"); return
        }
        #expect(expected == "a whole number")
        #expect(failure("full_eval=yes") == .typeMismatch(key: "full_eval", expected: "true or false", found: "'yes'"))
        #expect(failure("optimizer.kind=adam")
                == .invalidValue(key: "optimizer.kind", value: "\"adam\"", expected: "one of sgd, adamw, muon"))
        guard case .unknownKey(key: "optimizer.lrr", _, suggestion: "optimizer.lr")? = failure("optimizer.lrr=1") else {
            Issue.record("no suggestion for a misspelt key"); return
        }
        guard case .unknownKey(key: "batchsize", _, suggestion: "batch_size")? = failure("batchsize=8") else {
            Issue.record("no suggestion for batchsize"); return
        }
        #expect(failure("optimizer.lr=-1") == .invalidValue(key: "optimizer.lr", value: "-1.0", expected: "a finite number >= 0"))
        #expect(failure("model.num_heads=3") != nil)
        #expect(failure("batch_size=0") == .invalidValue(key: "batch_size", value: "0", expected: "a positive integer"))
        #expect(failure("model=gpt5") != nil)
        #expect(throws: TrainingConfigError.self) { try ConfigOverride(parsing: "optimizer.lr") }
        #expect(throws: TrainingConfigError.self) { try ConfigOverride(parsing: "=3") }
        // The message names the source and the key.
        do {
            _ = try TrainingConfig.preset(named: "cpu-small", overrides: sets("log_interval=0"))
            Issue.record("log_interval 0 accepted")
        } catch {
            #expect("\(error)".contains("log_interval") && "\(error)".contains("--set"))
        }
    }

    @Test("files: unknown keys, wrong kinds and conflicting lengths are rejected")
    func fileErrors() throws {
        guard case .unknownKey(key: "optimizer.learning_rat", _, _)? = configError({
            _ = try load(#"{"model": "tiny", "optimizer": {"learning_rat": 1}}"#)
        }) else { Issue.record("unknown nested key accepted"); return }
        guard case .unknownKey(key: "model.layers", _, _)? = configError({
            _ = try load(#"{"model": {"vocab_size": 10, "context_length": 8, "d_model": 8, "num_layers": 1, "num_heads": 2, "layers": 3}}"#)
        }) else { Issue.record("unknown model key accepted"); return }
        #expect(configError { _ = try load(#"{"model": "tiny", "batch_size": "8"}"#) }
                == .typeMismatch(key: "batch_size", expected: "a whole number", found: "a string \"8\""))
        #expect(configError { _ = try load(#"{"model": "tiny", "steps": 10, "max_tokens": 1000}"#) }
                == .invalidValue(key: "max_tokens", value: "1000", expected: "null when steps is given (give steps or max_tokens, not both)"))
        #expect(configError { _ = try load(#"{"batch_size": 8}"#) }
                == .invalidValue(key: "model", value: "missing", expected: "a value (this key is required)"))
        #expect(configError { _ = try load(#"{"model": "tiny", "schedule": {"warmup_steps": 5000}, "steps": 100}"#) } != nil)
        #expect(throws: TrainingConfigError.self) { try TrainingConfig.preset(named: "nope") }
    }

    @Test("the data decides: vocabulary below the largest id, or a context longer than the split, is rejected")
    func dataChecks() throws {
        let tokens: [UInt16] = (0..<100).map { UInt16($0 % 50) }
        let train = try TokenDataset(url: writeNpy(tokens, "config-data.npy"))
        #expect(train.maxTokenID() == 49)
        var config = try TrainingConfig.preset(named: "cpu-small", overrides: sets("model.vocab_size=40", "model.context_length=16"))
        #expect(configError { try config.validate(train: train, val: nil) }.map {
            if case .invalidValue(key: "model.vocab_size", _, let expected) = $0 { return expected.contains("id 49") }
            return false
        } == true)
        config.model.vocabSize = 50
        try config.validate(train: train, val: nil)
        config.model.contextLength = 100  // needs 101 tokens
        guard case .invalidValue(key: "model.context_length", _, _)? = configError({ try config.validate(train: train, val: nil) }) else {
            Issue.record("context longer than the data accepted"); return
        }
    }

    @Test("sweep grid: every combination, named by its settings")
    func sweepGrid() throws {
        let grid = try SweepGrid(parsing: ["optimizer.lr=1e-4,3e-4", "batch_size=16,32", "optimizer.betas=[0.9,0.95],[0.9,0.99]"])
        let points = grid.points
        #expect(points.count == 8)
        #expect(points[0].name == "lr=1e-4,batch_size=16,betas=[0.9,0.95]")
        #expect(points[7].overrides == [ConfigOverride(key: "optimizer.lr", value: "3e-4"),
                                        ConfigOverride(key: "batch_size", value: "32"),
                                        ConfigOverride(key: "optimizer.betas", value: "[0.9,0.99]")])
        let base = try TrainingConfig.preset(named: "cpu-small")
        #expect(try base.applying(points[7].overrides).optimizer.betas == [0.9, 0.99])
        #expect(SweepGrid.labels(for: ["optimizer.lr", "schedule.lr"]) == ["optimizer.lr", "schedule.lr"])
        #expect(throws: TrainingConfigError.self) { try SweepGrid(parsing: ["optimizer.lr="]) }
        #expect(throws: TrainingConfigError.self) { try SweepGrid(parsing: ["batch_size=8,8"]) }
    }
}

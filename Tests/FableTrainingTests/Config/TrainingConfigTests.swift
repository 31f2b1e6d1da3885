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
        #expect(points[7].overrides == [ConfigOverride(key: "optimizer.lr", value: "3e-4", option: "--grid"),
                                        ConfigOverride(key: "batch_size", value: "32", option: "--grid"),
                                        ConfigOverride(key: "optimizer.betas", value: "[0.9,0.99]", option: "--grid")])
        let base = try TrainingConfig.preset(named: "cpu-small")
        #expect(try base.applying(points[7].overrides).optimizer.betas == [0.9, 0.99])
        #expect(SweepGrid.labels(for: ["optimizer.lr", "schedule.lr"]) == ["optimizer.lr", "schedule.lr"])
        #expect(throws: TrainingConfigError.self) { try SweepGrid(parsing: ["optimizer.lr="]) }
        #expect(throws: TrainingConfigError.self) { try SweepGrid(parsing: ["batch_size=8,8"]) }
        // Errors name the option they came from.
        #expect(throws: TrainingConfigError.malformedOverride(
            option: "--grid", argument: "batch_size", reason: "expected key=value, e.g. optimizer.lr=3e-4")) {
            try SweepGrid(parsing: ["batch_size"])
        }
        do {
            _ = try base.applying(SweepGrid(parsing: ["optimizer.lr=1e-3,abc"]).points[1].overrides)
            Issue.record("optimizer.lr=abc accepted")
        } catch {
            #expect("\(error)" == "--grid optimizer.lr=abc: optimizer.lr is 'abc'; expected a number")
        }
    }

    @Test("numbers an integer key cannot hold exactly name the key")
    func wholeNumbers() throws {
        func failure(_ argument: String) -> TrainingConfigError? {
            configError { _ = try TrainingConfig.preset(named: "cpu-small", overrides: sets(argument)) }
        }
        let limit = "a whole number from -2^53 to 2^53"
        // 2^53 + 1 rounds to 2^53 as a double; it must not pass as 2^53.
        #expect(failure("steps=9007199254740993") == .typeMismatch(key: "steps", expected: limit, found: "'9007199254740993'"))
        #expect(failure("seed=-9007199254740993") == .typeMismatch(key: "seed", expected: limit, found: "'-9007199254740993'"))
        #expect(failure("max_tokens=1e30") == .typeMismatch(key: "max_tokens", expected: limit + " or null", found: "'1e30'"))
        #expect(failure("model.vocab_size=512.5")
                == .typeMismatch(key: "model.vocab_size", expected: "a whole number", found: "'512.5'"))
        #expect(try TrainingConfig.preset(named: "cpu-small", overrides: sets("seed=9007199254740992")).seed == 1 << 53)
        #expect(try TrainingConfig.preset(named: "cpu-small", overrides: sets("steps=1_000")).steps == 1000)
        // Files keep integers exact, so 2^53 + 1 in a file is caught too.
        #expect(configError { _ = try load(#"{"model": "tiny", "steps": 9007199254740993}"#) }
                == .typeMismatch(key: "steps", expected: limit, found: "a number 9007199254740993"))
        // In a file, the message names the file and the dotted key.
        let json = #"{"model": {"vocab_size": 512.5, "context_length": 8, "d_model": 8, "num_layers": 1, "num_heads": 2}}"#
        do {
            _ = try load(json)
            Issue.record("vocab_size 512.5 accepted")
        } catch {
            #expect("\(error)" == "test.json: model.vocab_size is a number 512.5; expected a whole number")
        }
    }

    @Test("--set reads bare words by what the key holds, and errors name the argument")
    func overrideReading() throws {
        let config = try TrainingConfig.preset(named: "cpu-small", overrides: sets(
            "tokenizer=2024", "optimizer.muon_exclude=lm_head.weight", "optimizer.kind=muon", "full_eval=TRUE",
            "schedule.cosine_steps=", "optimizer.muon_weight_decay=0.01"))
        #expect(config.tokenizer == "2024")
        #expect(config.optimizer.muonExclude == ["lm_head.weight"])
        #expect(config.optimizer.kind == .muon && config.fullEval && config.schedule.cosineSteps == nil)
        #expect(config.optimizer.muonWeightDecay == 0.01)
        func message(_ arguments: String...) -> String {
            do {
                _ = try TrainingConfig.preset(named: "cpu-small", overrides: arguments.map { try ConfigOverride(parsing: $0) })
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("batch_size=8", "optimizer.betas=0.9,x")
                == "--set optimizer.betas=0.9,x: optimizer.betas is '0.9,x'; expected a list of numbers, e.g. [0.9,0.95]")
        #expect(message("threads=many") == "--set threads=many: threads is 'many'; expected a whole number or null")
        #expect(message("schedule.kind=linear")
                == "--set schedule.kind=linear: schedule.kind is \"linear\"; expected one of constant, cosine")
        #expect(message("schedule.min_lrr=1").hasPrefix("--set schedule.min_lrr=1: unknown key schedule.min_lrr (did you mean schedule.min_lr?)"))
        #expect(message("optimizer=adamw") == "--set optimizer=adamw: optimizer is 'adamw'; expected an object")
        // Every key the config encodes can be set: the keys come from Codable, not a list.
        let keys = TrainingConfig.keyTree.flattened.keys
        #expect(keys.contains("optimizer.muon_weight_decay") && keys.contains("schedule.min_lr") && keys.contains("model.ffn"))
    }

    @Test("file errors name the file, and --set errors the argument that caused them")
    func errorSources() throws {
        do {
            _ = try load(#"{"model": "tiny", "eval_batches": true}"#, sets("batch_size=4"))
            Issue.record("eval_batches true accepted")
        } catch {
            #expect("\(error)" == "test.json: eval_batches is a boolean true; expected a whole number")
        }
        do {
            _ = try load(#"{"model": "tiny"}"#, sets("model.num_heads=3"))
            Issue.record("3 heads for d_model 64 accepted")
        } catch {
            #expect("\(error)".hasPrefix("--set model.num_heads=3: model.num_heads is 3"))
        }
    }
}

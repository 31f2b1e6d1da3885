import ArgumentParser
import FableFormats
import FableModel
import FableTensor
import FableTraining
import FableWorkbench
import Foundation

/// `fable bench train-step`: tokens per second of whole training steps (sampling, forward,
/// backward, clipping, AdamW) and where the time of a step goes.
struct BenchTrainStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "Time whole training steps (sample, forward, backward, clip, AdamW) of a model preset.",
        discussion: """
            Trains on random tokens with AdamW (lr 1e-3, betas 0.9/0.95, weight decay 0.1) and \
            gradient clipping at 1.0, exactly as `fable train` steps. Each batch size runs \
            --warmup untimed steps, then --steps timed ones; the figure is the median step. \
            --breakdown also times the parts of a step separately. \
            Scripts/bench/train_step_bench.py runs the PyTorch reference model beside it.
            """
    )

    @OptionGroup var model: ModelSelection

    @Option(name: .customLong("batch-sizes"), help: ArgumentHelp("Comma-separated batch sizes.", valueName: "list"))
    var batchSizes: String = "8,32"

    @Option(help: "Timed steps per batch size.")
    var steps: Int = 5

    @Option(help: "Untimed warm-up steps per batch size.")
    var warmup: Int = 1

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Option(help: ArgumentHelp(
        "The matrix products' precision: fp32, or bf16 (bf16 inputs, fp32 accumulation; needs AVX512_BF16).",
        valueName: "fp32|bf16"))
    var precision: String = "fp32"

    @Flag(help: "Also time sampling, forward, backward, clipping and the optimizer separately.")
    var breakdown = false

    @Flag(help: "Print one JSON object per batch size instead of a table.")
    var json = false

    @Flag(help: ArgumentHelp(
        "Also time one evaluation, one checkpoint and one metrics line, and give their share of a run at the "
            + "training preset's intervals (the preset named like the model, else tinystories-17m)."))
    var overhead = false

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        guard let chosen = MatmulPrecision(rawValue: precision) else {
            throw ValidationError("--precision: expected fp32 or bf16, got '\(precision)'")
        }
        if let reason = chosen.unavailableReason { throw ValidationError("--precision bf16: \(reason)") }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--batch-sizes: expected positive integers separated by commas, got '\(batchSizes)'")
        }
    }

    var matmulPrecision: MatmulPrecision { MatmulPrecision(rawValue: precision) ?? .fp32 }

    var sizes: [Int] { batchSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        try threading.apply()
        let selection = model.isEmpty ? ("tinystories-17m", try ModelConfig.preset(named: "tinystories-17m")) : try model.resolve()
        let modelConfig = selection.1
        let data = try Self.randomTokens(vocab: modelConfig.vocabSize, count: max(100_000, 4 * modelConfig.contextLength))
        if !json {
            print("fable bench train-step: \(selection.0) (d_model \(modelConfig.dModel), \(modelConfig.numLayers) layers, "
                + "context \(modelConfig.contextLength), vocab \(modelConfig.vocabSize)); \(threads) threads; GEMM "
                + (matmulPrecision == .bf16 ? BF16GEMM().name : GEMM.backend.name))
            print("batch   tokens/s   step ms" + (breakdown ? "   sample  forward  backward  clip  adamw (ms)" : ""))
        }
        for batchSize in sizes {
            var optimizer = OptimizerConfig()
            optimizer.lr = 1e-3
            optimizer.betas = [0.9, 0.95]
            optimizer.weightDecay = 0.1
            var schedule = ScheduleConfig()
            schedule.kind = .constant
            let config = TrainingConfig(model: modelConfig, optimizer: optimizer, schedule: schedule, batchSize: batchSize,
                                        steps: warmup + steps + 1_000, gradClip: 1.0, threads: threads,
                                        precision: matmulPrecision)
            let trainer = try Trainer(config: config, train: data, val: nil)
            for _ in 0..<warmup { try trainer.trainStep() }
            var seconds: [Double] = []
            for _ in 0..<steps { seconds.append(try trainer.trainStep().seconds) }
            let median = Self.median(seconds)
            let tokensPerSecond = Double(batchSize * modelConfig.contextLength) / median
            let parts = breakdown ? try Self.timeParts(trainer, repeats: steps) : nil
            if json {
                var object = "{\"batch\":\(batchSize),\"tokens_per_second\":\(tokensPerSecond),\"step_ms\":\(median * 1e3)"
                if let parts {
                    for (name, value) in parts { object += ",\"\(name)_ms\":\(value * 1e3)" }
                }
                print(object + "}")
            } else {
                var line = String(format: "%5d  %9.0f  %8.1f", batchSize, tokensPerSecond, median * 1e3)
                if let parts {
                    line += "   " + parts.map { String(format: "%7.1f", $0.1 * 1e3) }.joined(separator: " ")
                }
                print(line)
            }
            fflush(nil)
        }
        if overhead { try measureOverhead(modelConfig, name: selection.0, data: data) }
    }

    /// Times the periodic work of a run (evaluation, checkpoint, metrics line) and prints
    /// its share of a run at the training preset's intervals.
    func measureOverhead(_ modelConfig: ModelConfig, name: String, data: TokenDataset) throws {
        let presetName = TrainingConfig.presets.contains { $0.name == name } ? name : "tinystories-17m"
        var config = try TrainingConfig.preset(named: presetName)
        config.model = modelConfig
        config.threads = threads
        config.steps = 1_000_000
        let trainer = try Trainer(config: config, train: data, val: data)
        for _ in 0..<warmup { try trainer.trainStep() }
        var stepSeconds: [Double] = []
        for _ in 0..<steps { stepSeconds.append(try trainer.trainStep().seconds) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fable-bench-overhead-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func seconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
            var samples: [Double] = []
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            return Self.median(samples)
        }
        let step = Self.median(stepSeconds)
        let evaluation = try seconds(2) { _ = try trainer.evaluate() }
        let checkpoint = try seconds(2) {
            try trainer.saveCheckpoint(to: folder.appendingPathComponent("step.safetensors"), wallSeconds: 1)
        }
        let writer = try MetricsLogWriter(url: folder.appendingPathComponent("metrics.jsonl"))
        let progress = ProgressDisplay(total: 1000, label: "train", style: .plain, clock: { 0 }, sink: { _ in })
        let log = try seconds(20) {
            try writer.append(MetricsRecord(step: 10, tokens: 1, wallSeconds: 1, lr: 1e-3, trainLoss: 3, gradNorm: 1,
                                            tokensPerSecond: 1))
            progress.update(completed: 10, fields: ["loss": "3.000"])
        }
        let perStep = (config.evalInterval > 0 ? evaluation / Double(config.evalInterval) : 0)
            + (config.checkpointInterval > 0 ? checkpoint / Double(config.checkpointInterval) : 0)
            + log / Double(config.logInterval)
        let evalShare = config.evalInterval > 0 ? evaluation / Double(config.evalInterval) / step : 0
        let checkpointShare = config.checkpointInterval > 0 ? checkpoint / Double(config.checkpointInterval) / step : 0
        let logShare = log / Double(config.logInterval) / step
        if json {
            print("{\"overhead_preset\":\"\(presetName)\",\"batch\":\(config.batchSize),\"step_ms\":\(step * 1e3),"
                + "\"eval_ms\":\(evaluation * 1e3),\"checkpoint_ms\":\(checkpoint * 1e3),\"log_ms\":\(log * 1e3),"
                + "\"overhead_fraction\":\(perStep / step)}")
        } else {
            print("")
            print("overhead at \(presetName)'s intervals (batch \(config.batchSize); eval \(config.evalBatches) batches every "
                + "\(config.evalInterval) steps, checkpoint every \(config.checkpointInterval), metrics line every \(config.logInterval)):")
            print(String(format: "  step %.1f ms; evaluation %.1f ms (%.3f%%), checkpoint %.1f ms (%.3f%%), metrics line %.3f ms (%.4f%%)",
                         step * 1e3, evaluation * 1e3, evalShare * 100, checkpoint * 1e3, checkpointShare * 100,
                         log * 1e3, logShare * 100))
            print(String(format: "  total overhead: %.2f%% of a run", perStep / step * 100))
        }
    }

    /// Median seconds of each part of a step, timed one part at a time.
    static func timeParts(_ trainer: Trainer, repeats: Int) throws -> [(String, Double)] {
        let model = trainer.model, store = model.parameters
        let b = trainer.config.batchSize, t = trainer.config.model.contextLength
        var batch = TokenBatch(batchSize: b, contextLength: t)
        var rng = RandomGenerator(seed: 1)
        var samples: [String: [Double]] = [:]
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        for _ in 0..<repeats {
            try time("sample") { try sampleBatch(trainer.trainData, into: &batch, rng: &rng) }
            store.zeroGradients()
            var loss: Tensor?
            let precision = trainer.config.precision
            try time("forward") {
                loss = try precision.withProducts { try model.loss(tokens: batch.inputs, targets: batch.targets, shape: [b, t]) }
            }
            time("backward") { precision.withProducts { loss!.backward() } }
            time("clip") { GradientClipping.clip(store, maxNorm: 1.0) }
            time("adamw") { trainer.optimizer.step(learningRate: 1e-3) }
        }
        return ["sample", "forward", "backward", "clip", "adamw"].map { ($0, median(samples[$0] ?? [0])) }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// A temporary .npy of uniform random token ids.
    static func randomTokens(vocab: Int, count: Int) throws -> TokenDataset {
        var rng = RandomGenerator(seed: 7)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fable-bench-tokens-\(getpid()).npy")
        let element: TokenDataset.Element = vocab <= 65_536 ? .uint16 : .uint32
        var bytes = NPYHeader.encode(descr: element.npyDescr, shape: [count])
        bytes.reserveCapacity(bytes.count + count * element.byteSize)
        for _ in 0..<count {
            let id = UInt32(rng.nextInt(below: vocab))
            if element == .uint16 {
                withUnsafeBytes(of: UInt16(id).littleEndian) { bytes.append(contentsOf: $0) }
            } else {
                withUnsafeBytes(of: id.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        // The mapping keeps the data readable after the name is removed.
        return try TokenDataset(url: url)
    }
}

import ArgumentParser
import FableFormats
import FableModel
import FableTensor
import FableTraining
import Foundation

/// `fable bench model`: tokens per second of the Transformer's forward and backward pass.
struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time a Transformer LM's forward and backward pass (tokens per second).",
        discussion: """
            Each timed step computes the logits and the mean cross-entropy of random tokens, \
            zeroes the gradients and back-propagates into every parameter, as a training step \
            does before the optimizer update. The figure is the median over the timed steps \
            after the warm-up steps. Scripts/bench/model_bench.py runs PyTorch eager on the \
            same model beside this. A second figure times a whole AdamW step (the same plus \
            the optimizer update), the unit of the CS336 speed bar. Without --preset or \
            --config the model is tinystories-17m.
            """
    )

    @OptionGroup var model: ModelSelection

    @Option(help: "Sequences per step.")
    var batchSize: Int = 8

    @Option(help: "Tokens per sequence (default: the config's context_length).")
    var contextLength: Int?

    @Option(help: "Timed steps.")
    var steps: Int = 5

    @Option(help: "Untimed warm-up steps before the timed ones.")
    var warmup: Int = 1

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Option(help: "wall: elapsed time; cpu: this process's CPU time divided by --threads (steadier on a busy machine; counts spinning threads as busy).")
    var clock: BenchClock = .wall

    @Flag(help: "Also time the forward pass alone (no gradient recording).")
    var forwardOnly = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if let t = contextLength, t < 1 { throw ValidationError("--context-length must be at least 1, got \(t)") }
    }

    func run() throws {
        try threading.apply()
        let (name, config) = try model.resolve(defaultPreset: "tinystories-17m")
        let t = contextLength ?? config.contextLength
        guard t <= config.contextLength else {
            throw ValidationError("--context-length \(t) exceeds the model's context_length \(config.contextLength)")
        }
        let lm = try TransformerLM(config: config, seed: 0)
        var generator = RandomGenerator(seed: 1)
        let shape = [batchSize, t]
        let tokens = (0..<(batchSize * t)).map { _ in Int32(generator.nextInt(below: config.vocabSize)) }
        let targets = (0..<(batchSize * t)).map { _ in Int32(generator.nextInt(below: config.vocabSize)) }

        let clock = self.clock, threads = self.threads
        func now() -> Double { clock.now(threads: threads) }
        var lastLoss: Float = 0
        let optimizer = AdamW(store: lm.parameters)
        func step(update: Bool) throws -> Double {
            let start = now()
            let loss = try lm.loss(tokens: tokens, targets: targets, shape: shape)
            lm.parameters.zeroGradients()
            loss.backward()
            if update { optimizer.step(learningRate: 1e-4) }
            lastLoss = loss.item()
            return now() - start
        }
        func timed(update: Bool) throws -> [Double] {
            for _ in 0..<warmup { _ = try step(update: update) }
            return try (0..<steps).map { _ in try step(update: update) }
        }
        let times = try timed(update: false)
        let median = times.sorted()[times.count / 2]
        let stepTimes = try timed(update: true)
        let stepMedian = stepTimes.sorted()[stepTimes.count / 2]
        let tokensPerStep = Double(batchSize * t)

        var forwardMedian: Double? = nil
        if forwardOnly {
            var forwardTimes: [Double] = []
            for i in 0..<(steps + warmup) {
                let start = now()
                _ = try withNoGrad { try lm.forward(tokens: tokens, shape: shape) }
                if i >= warmup { forwardTimes.append(now() - start) }
            }
            forwardMedian = forwardTimes.sorted()[forwardTimes.count / 2]
        }

        if json {
            var object: JSONObject = [
                "model": .string(name), "batch_size": .number(.integer(Int64(batchSize))),
                "context_length": .number(.integer(Int64(t))), "threads": .number(.integer(Int64(threads))),
                "gemm": .string(GEMM.backend.name), "steps": .number(.integer(Int64(steps))), "clock": .string(clock.rawValue),
                "parameters": .number(.integer(Int64(lm.parameters.count))),
                "step_seconds_median": .number(.double(median)), "step_seconds": .array(times.map { .number(.double($0)) }),
                "tokens_per_second": .number(.double(tokensPerStep / median)), "loss": .number(.double(Double(lastLoss))),
                "adamw_step_seconds_median": .number(.double(stepMedian)),
                "adamw_step_tokens_per_second": .number(.double(tokensPerStep / stepMedian)),
            ]
            if let forwardMedian {
                _ = object.appendIfAbsent("forward_seconds_median", .number(.double(forwardMedian)))
                _ = object.appendIfAbsent("forward_tokens_per_second", .number(.double(tokensPerStep / forwardMedian)))
            }
            var writer = JSONWriter()
            try writer.value(.object(object))
            print(writer.text)
        } else {
            print("\(name): \(Figures.grouped(lm.parameters.count)) parameters, batch \(batchSize) × \(t) tokens, "
                + "\(threads) thread\(threads == 1 ? "" : "s"), \(clock.rawValue) clock, gemm \(GEMM.backend.name)")
            print(String(format: "forward + backward: %.3f s per step (median of %d), %.0f tokens/s, loss %.3f",
                         median, steps, tokensPerStep / median, lastLoss))
            print(String(format: "whole AdamW step:   %.3f s per step, %.0f tokens/s", stepMedian, tokensPerStep / stepMedian))
            if let forwardMedian {
                print(String(format: "forward only:       %.3f s per step, %.0f tokens/s", forwardMedian, tokensPerStep / forwardMedian))
            }
        }
    }
}

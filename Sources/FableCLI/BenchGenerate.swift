import ArgumentParser
import FableModel
import FableTensor
import Foundation

/// `fable bench generate`: generation throughput with and without the KV cache.
struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Time text generation (tokens/s) at several batch sizes, with and without the KV cache.",
        discussion: """
            Builds the model with random weights (the speed does not depend on them), draws a \
            random prompt, and times TextGenerator end to end: the prefill plus every sampled \
            token (temperature 1, no truncation, no early stop). The figure is batch x new \
            tokens / time (wall or CPU clock), the median over the repeats after one warm-up. Without the \
            cache every step recomputes the whole prefix. Scripts/bench/generate_bench.py runs \
            the PyTorch reference beside it.
            """
    )

    @OptionGroup(title: "Model shape (default: --preset tinystories-17m)")
    var model: ModelSelection

    @Option(help: ArgumentHelp("Comma-separated batch sizes (samples generated together).", valueName: "list"))
    var batches: String = "1,8"

    @Option(name: .customLong("prompt-tokens"), help: ArgumentHelp("Prompt length in tokens.", valueName: "n"))
    var promptTokens: Int = 32

    @Option(name: .customLong("new-tokens"), help: ArgumentHelp("Tokens generated per sample.", valueName: "n"))
    var newTokens: Int = 128

    @Option(help: ArgumentHelp("Which paths to time: cache, no-cache or both.", valueName: "mode"))
    var mode: String = "both"

    @Option(name: .customLong("repeat"), help: ArgumentHelp("Timed runs per case, after one warm-up.", valueName: "n"))
    var repeats: Int = 3

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Option(help: "wall: elapsed time; cpu: this process's CPU time divided by --threads (steadier on a busy machine; counts spinning threads as busy).")
    var clock: BenchClock = .wall

    @Option(name: .customLong("matvec-rows"),
            help: ArgumentHelp("Tuning: projections of up to this many rows use the streaming SIMD kernel instead of GEMM (default: 12 with BLAS, 32 without).", valueName: "n"))
    var matrixVectorRows: Int?

    @Flag(help: "Print one JSON object per case instead of a table.")
    var json = false

    var batchSizes: [Int] { batches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1, got \(repeats)") }
        guard promptTokens >= 1 else { throw ValidationError("--prompt-tokens must be at least 1, got \(promptTokens)") }
        guard newTokens >= 1 else { throw ValidationError("--new-tokens must be at least 1, got \(newTokens)") }
        let sizes = batchSizes
        guard !sizes.isEmpty, sizes.count == batches.split(separator: ",").count, sizes.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--batches must be positive integers separated by commas, got '\(batches)'")
        }
        guard ["cache", "no-cache", "both"].contains(mode) else {
            throw ValidationError("--mode must be cache, no-cache or both, got '\(mode)'")
        }
    }

    func run() throws {
        try threading.apply()
        try TransformerLM.withMatrixVectorRowLimit(matrixVectorRows) { try measure() }
    }

    private func measure() throws {
        let (name, config) = model.isEmpty
            ? ("tinystories-17m", try ModelConfig.preset(named: "tinystories-17m")) : try model.resolve()
        guard promptTokens + newTokens <= config.contextLength else {
            throw ValidationError("--prompt-tokens + --new-tokens (\(promptTokens + newTokens)) must fit the context length \(config.contextLength)")
        }
        let lm = try TransformerLM(config: config, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let prompt = (0..<promptTokens).map { _ in rng.nextInt(below: config.vocabSize) }
        let generator = TextGenerator(model: lm)
        if !json {
            print("fable bench generate: \(name), prompt \(promptTokens) tokens, \(newTokens) new tokens per sample; \(threads) threads, \(clock.rawValue) clock; GEMM \(GEMM.backend.name)")
            print("batch  cache     tokens/s   ms/step")
        }
        let modes = mode == "both" ? [true, false] : [mode == "cache"]
        for batch in batchSizes {
            for useCache in modes {
                let options = GenerationOptions(maxNewTokens: newTokens, sampling: SamplingOptions(temperature: 1),
                                                seed: 3, useCache: useCache)
                let seconds = try median {
                    let out = try generator.generate(prompt: prompt, samples: batch, options: options)
                    precondition(out.allSatisfy { $0.tokens.count == newTokens })
                }
                let rate = Double(batch * newTokens) / seconds
                let msPerStep = seconds * 1000 / Double(newTokens)
                if json {
                    print("{\"batch\":\(batch),\"cache\":\(useCache),\"threads\":\(threads),\"clock\":\"\(clock.rawValue)\",\"prompt_tokens\":\(promptTokens),"
                          + "\"new_tokens\":\(newTokens),\"tokens_per_second\":\(rate),\"ms_per_step\":\(msPerStep)}")
                } else {
                    print(String(batch).padding(toLength: 7, withPad: " ", startingAt: 0)
                          + (useCache ? "on " : "off") + String(format: "  %11.1f  %8.2f", rate, msPerStep))
                }
            }
        }
    }

    /// The median time of `repeats` runs after one warm-up, in seconds, on `clock`.
    func median(_ body: () throws -> Void) throws -> Double {
        let clock = self.clock, threads = self.threads
        func now() -> Double { clock.now(threads: threads) }
        try body()
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = now()
            try body()
            samples.append(now() - start)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}

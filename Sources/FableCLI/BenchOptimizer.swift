import ArgumentParser
import FableFormats
import FableTensor
import FableTraining
import Foundation

/// `fable bench optimizer`: optimizer steps, gradient clipping and batch sampling at the
/// 17M TinyStories model's parameter shapes.
struct BenchOptimizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimizer",
        abstract: "Time AdamW, Muon+AdamW, SGD, gradient clipping and batch sampling at model shapes.",
        discussion: """
            Builds a ParameterStore with the TransformerLM layout (token_embeddings, per layer \
            q/k/v/output projections, ln1, SwiGLU w1/w2/w3, ln2, then ln_final and lm_head) \
            filled with random values and gradients, and times one optimizer step (median \
            over the repeats after one warm-up). AdamW's figure in GB/s counts the bytes one \
            fused pass must move: p, g, m, v read and p, m, v written (28 bytes per \
            parameter). Batch sampling draws batches from a memory-mapped uint16 .npy file. \
            Scripts/bench/optimizer_bench.py runs PyTorch beside it.
            """
    )

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Option(name: .customLong("repeat"), help: "Timed runs per case, after one warm-up.")
    var repeats: Int = 20

    @Option(help: "Vocabulary size (rows of token_embeddings and lm_head).")
    var vocab: Int = 10_000

    @Option(help: "Model width d_model.")
    var dModel: Int = 512

    @Option(help: "Transformer layers.")
    var layers: Int = 4

    @Option(help: "Feed-forward width d_ff.")
    var dFF: Int = 1344

    @Option(help: "Comma-separated cases: adamw, muon, sgd, clip, batch, or all.")
    var cases: String = "all"

    @Option(help: "Batch sizes for the batch-sampling case (comma-separated).")
    var batchSizes: String = "8,32"

    @Option(help: "Context length for the batch-sampling case.")
    var context: Int = 256

    @Option(help: "Tokens in the temporary dataset the batch case samples from.")
    var datasetTokens: Int = 50_000_000

    @Flag(help: "Print one JSON object per case instead of a table.")
    var json = false

    static let allCases = ["adamw", "muon", "sgd", "clip", "batch"]

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1, got \(repeats)") }
        for (name, value) in [("--vocab", vocab), ("--d-model", dModel), ("--layers", layers), ("--d-ff", dFF),
                              ("--context", context)] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
        for name in selectedCases where !Self.allCases.contains(name) {
            throw ValidationError("--cases: unknown case '\(name)'; expected one of \(Self.allCases.joined(separator: ", ")) or all")
        }
        guard !parsedBatchSizes.isEmpty, parsedBatchSizes.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--batch-sizes must be positive integers separated by commas, got '\(batchSizes)'")
        }
        guard datasetTokens > context + 1 else {
            throw ValidationError("--dataset-tokens must exceed --context + 1 (\(context + 1)), got \(datasetTokens)")
        }
    }

    var selectedCases: [String] {
        cases == "all" ? Self.allCases : cases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    var parsedBatchSizes: [Int] {
        batchSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The TransformerLM parameter names and shapes (CS336 state-dict names).
    var layout: [(name: String, shape: [Int])] {
        var result: [(name: String, shape: [Int])] = [("token_embeddings.weight", [vocab, dModel])]
        for i in 0..<layers {
            for proj in ["q", "k", "v", "output"] { result.append(("layers.\(i).attn.\(proj)_proj.weight", [dModel, dModel])) }
            result.append(("layers.\(i).ln1.weight", [dModel]))
            result.append(("layers.\(i).ffn.w1.weight", [dFF, dModel]))
            result.append(("layers.\(i).ffn.w2.weight", [dModel, dFF]))
            result.append(("layers.\(i).ffn.w3.weight", [dFF, dModel]))
            result.append(("layers.\(i).ln2.weight", [dModel]))
        }
        result.append(("ln_final.weight", [dModel]))
        result.append(("lm_head.weight", [vocab, dModel]))
        return result
    }

    func run() throws {
        try threading.apply()
        let store = ParameterStore(layout: layout)
        var rng = RandomGenerator(seed: 0)
        for i in 0..<store.count {
            store.values[i] = rng.nextUnitFloat() - 0.5
            store.gradients[i] = (rng.nextUnitFloat() - 0.5) * 1e-2
        }
        let parameters = store.count
        if !json {
            print("fable bench optimizer: \(parameters) parameters (vocab \(vocab), d_model \(dModel), \(layers) layers, d_ff \(dFF)); \(threads) threads; GEMM \(GEMM.backend.name)")
            print("case                    ms/step     GB/s")
        }
        for name in selectedCases {
            switch name {
            case "adamw":
                let optimizer = AdamW(store: store, hyperparameters: .init(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1))
                let ms = median { optimizer.step(learningRate: 1e-4) }
                report("adamw", ms: ms, bytes: Double(parameters) * 28)
            case "muon":
                var config = OptimizerConfig()
                config.kind = .muon
                let optimizer = try config.makeOptimizer(for: store)
                let ms = median { optimizer.step(learningRate: 1e-4) }
                report("muon+adamw", ms: ms, bytes: nil)
            case "sgd":
                let optimizer = SGD(store: store)
                let ms = median { optimizer.step(learningRate: 1e-6) }
                report("sgd", ms: ms, bytes: Double(parameters) * 12)
            case "clip":
                // max_norm far below the norm, so every call scales (norm pass + scale pass).
                let ms = median { GradientClipping.clip(store, maxNorm: 1e-3) }
                for i in 0..<store.count { store.gradients[i] = (rng.nextUnitFloat() - 0.5) * 1e-2 }
                report("clip_grad_norm", ms: ms, bytes: Double(parameters) * 12)
            default:
                try benchBatches(rng: &rng)
            }
        }
    }

    /// Batch sampling from a temporary memory-mapped uint16 .npy file.
    func benchBatches(rng: inout RandomGenerator) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fable-bench-tokens-\(getpid()).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try AtomicFile.write(to: url) { sink in
            try sink.write(NPYHeader.encode(descr: "<u2", shape: [datasetTokens]))
            var chunk = [UInt16](repeating: 0, count: 1 << 20)
            var written = 0
            while written < datasetTokens {
                let n = min(chunk.count, datasetTokens - written)
                for i in 0..<n { chunk[i] = UInt16(truncatingIfNeeded: rng.next() % UInt64(vocab)) }
                try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<(n * 2)])) }
                written += n
            }
        }
        let openStart = DispatchTime.now().uptimeNanoseconds
        let dataset = try TokenDataset(url: url, vocabSize: vocab)
        let openMs = Double(DispatchTime.now().uptimeNanoseconds - openStart) / 1e6
        report("open+validate \(datasetTokens / 1_000_000)M", ms: openMs, bytes: Double(datasetTokens * 2))
        for b in parsedBatchSizes {
            var samplerRNG = RandomGenerator(seed: 1)
            var result = TokenBatch(batchSize: b, contextLength: context)
            try sampleBatch(dataset, into: &result, rng: &samplerRNG)  // surfaces any error before timing
            // Many batches per timing so the figure is per batch, with the page cache warm.
            let perTiming = 100
            let ms = median {
                for _ in 0..<perTiming { try? sampleBatch(dataset, into: &result, rng: &samplerRNG) }
            } / Double(perTiming)
            report("batch B=\(b) T=\(context)", ms: ms, bytes: nil)
        }
    }

    func report(_ name: String, ms: Double, bytes: Double?) {
        let gbs = bytes.map { $0 / (ms / 1e3) / 1e9 }
        if json {
            let gbsText = gbs.map { String(format: "%.3f", $0) } ?? "null"
            print("{\"case\":\"\(name)\",\"threads\":\(threads),\"ms\":\(ms),\"gb_per_s\":\(gbsText)}")
        } else {
            print(name.padding(toLength: 22, withPad: " ", startingAt: 0)
                  + String(format: " %9.4f", ms) + (gbs.map { String(format: "   %6.2f", $0) } ?? ""))
        }
    }

    /// The median wall time of `repeats` runs after one warm-up, in milliseconds.
    func median(time body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}

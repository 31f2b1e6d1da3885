import ArgumentParser
import FableModel
import Foundation

/// `fable accounting`: parameters, FLOPs and training memory of a model shape.
struct Accounting: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count a model's parameters, forward FLOPs by matrix multiply and AdamW training memory.",
        discussion: """
            Closed-form accounting as in CS336's resource-accounting problems: 2mnp FLOPs per \
            (m×n)·(n×p) product, the full T×T attention matrix, backward = 2 × forward, Float32 \
            everywhere and two AdamW moments per parameter.
            """
    )

    @OptionGroup var model: ModelSelection

    @Option(help: "Sequence length T for FLOPs and activations (default: the config's context_length).")
    var contextLength: Int?

    @Option(help: "Batch size (sequences) for the training memory and step FLOPs.")
    var batchSize: Int = 1

    @Option(help: "Memory budget in GiB; reports the largest batch whose training memory fits.")
    var memoryGib: Double = 80

    @Option(help: "Training steps for the training-time estimate (e.g. 400000); none: no estimate.")
    var steps: Int?

    @Option(name: .customLong("peak-tflops"), help: "Peak TFLOP/s of the hardware for the estimate (default: A100 float32).")
    var peakTflops: Double = 19.5

    @Option(help: "Model FLOPs utilization assumed for the estimate, between 0 and 1.")
    var mfu: Double = 0.5

    @Flag(help: "Print the figures as JSON instead of tables.")
    var json = false

    func validate() throws {
        if let t = contextLength, !(1...(1 << 24)).contains(t) {
            throw ValidationError("--context-length must be between 1 and \(1 << 24); got \(t)")
        }
        if !(1...(1 << 24)).contains(batchSize) {
            throw ValidationError("--batch-size must be between 1 and \(1 << 24); got \(batchSize)")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1; got \(steps)") }
        if !(peakTflops.isFinite && peakTflops > 0) { throw ValidationError("--peak-tflops must be a positive number; got \(peakTflops)") }
        if !(mfu > 0 && mfu <= 1) { throw ValidationError("--mfu must be in (0, 1]; got \(mfu)") }
        if !(memoryGib.isFinite && memoryGib > 0) {
            throw ValidationError("--memory-gib must be a positive number; got \(memoryGib)")
        }
    }

    func run() throws {
        let (name, config) = try model.resolve()
        let accounting = ModelAccounting(config: config, sequenceLength: contextLength)
        let budget = memoryGib * 1_073_741_824
        if json {
            try printJSON(accounting, name: name, budget: budget)
        } else {
            printTables(accounting, name: name, budget: budget)
        }
    }

    // MARK: - Tables

    private func printTables(_ a: ModelAccounting, name: String, budget: Double) {
        let c = a.config
        print("\(name): vocab \(c.vocabSize), context \(c.contextLength), d_model \(c.dModel), "
            + "layers \(c.numLayers), heads \(c.numHeads), d_ff \(c.dFF), norm \(c.norm.rawValue), "
            + "position \(c.position.rawValue), ffn \(c.ffn.rawValue), tied \(c.tieEmbeddings)")

        let p = a.parameters
        let total = Double(p.total)
        var rows: [[String]] = []
        for (label, count) in [
            ("token embeddings", p.tokenEmbeddings), ("attention (q, k, v, output)", p.attention),
            ("feed-forward", p.feedForward), ("RMSNorm gains", p.norms), ("LM head", p.lmHead),
        ] {
            rows.append([label, Figures.grouped(count), Figures.percent(Double(count) / total)])
        }
        rows.append(["total", Figures.grouped(p.total), Figures.percent(1)])
        rows.append(["non-embedding", Figures.grouped(p.nonEmbedding), Figures.percent(Double(p.nonEmbedding) / total)])
        print("\nParameters")
        print(Figures.table(header: ["component", "parameters", "share"], rows: rows, rightAligned: [1, 2]))
        print("weights in float32: \(Figures.bytes(a.weightBytes)) (\(Figures.decimalBytes(a.weightBytes)))")

        let forward = a.forwardFLOPs()
        rows = a.forwardMatmuls.map {
            [$0.name, $0.shapes, Figures.flops($0.flops), Figures.percent($0.flops / forward)]
        }
        rows.append(["total", "", Figures.flops(forward), Figures.percent(1)])
        print("\nForward FLOPs for one sequence of \(a.sequenceLength) tokens")
        print(Figures.table(header: ["matrix multiply", "product (per layer)", "FLOPs", "share"], rows: rows, rightAligned: [2, 3]))

        let perSequence = a.activationsPerSequence
        let perSequenceBytes = a.trainingBytesPerSequence
        rows = perSequence.map {
            [$0.name, Figures.bytes($0.elements * Double(ModelAccounting.bytesPerElement))]
        }
        rows.append(["activations per sequence", Figures.bytes(perSequenceBytes)])
        print("\nActivations kept for backward, per sequence of \(a.sequenceLength) tokens")
        print(Figures.table(header: ["component", "memory"], rows: rows, rightAligned: [1]))

        let m = a.trainingMemory(batchSize: batchSize)
        rows = [
            ["parameters", Figures.bytes(m.parameters)],
            ["gradients", Figures.bytes(m.gradients)],
            ["AdamW state (2 moments)", Figures.bytes(m.optimizerState)],
            ["activations (batch \(batchSize))", Figures.bytes(m.activations)],
            ["total", Figures.bytes(m.total)],
        ]
        print("\nTraining memory with AdamW at batch size \(batchSize)")
        print(Figures.table(header: ["part", "memory"], rows: rows, rightAligned: [1]))
        print("as a function of batch size B: \(Figures.bytes(perSequenceBytes)) × B + \(Figures.bytes(a.trainingFixedBytes))")
        let fits = a.maxBatchSize(memoryBytes: budget)
        print("largest batch in \(Figures.number(memoryGib)) GiB: \(fits)"
            + (fits == 0 ? " (parameters, gradients and AdamW state alone need more)" : ""))

        let step = a.trainingStepFLOPs(batchSize: batchSize)
        print("\nFLOPs per AdamW step at batch size \(batchSize): \(Figures.flops(step))"
            + " (forward + backward = 3 × \(Figures.flops(a.forwardFLOPs(batchSize: batchSize))),"
            + " plus \(ModelAccounting.adamWFLOPsPerParameter) per parameter for the update)")
        if let steps {
            let seconds = a.trainingSeconds(steps: steps, batchSize: batchSize, peakFLOPS: peakTflops * 1e12, utilization: mfu)
            print("training time for \(Figures.grouped(steps)) steps at batch size \(batchSize), "
                + "\(Figures.percent(mfu)) MFU of \(Figures.number(peakTflops)) TFLOP/s: "
                + "\(String(format: "%.1f", seconds / 86_400)) days (\(Figures.flops(Double(steps) * step)) in all)")
        }
    }

    // MARK: - JSON

    private struct Report: Encodable {
        var model: String
        var config: ModelConfig
        var sequenceLength: Int
        var parameters: ModelAccounting.ParameterCounts
        var totalParameters: Int
        var weightBytes: Double
        var forwardMatmuls: [ModelAccounting.MatmulCost]
        // `Flops`, not `FLOPs`: the snake-case encoder would write `forward_flo_ps`.
        var forwardFlops: Double
        var activationsPerSequence: [ModelAccounting.ActivationCount]
        var batchSize: Int
        var trainingMemory: ModelAccounting.TrainingMemory
        var trainingBytesPerSequence: Double
        var trainingFixedBytes: Double
        var memoryBudgetBytes: Double
        var maxBatchSize: Int
        var trainingStepFlops: Double
        var trainingSteps: Int?
        var peakFlops: Double
        var mfu: Double
        var trainingSeconds: Double?
    }

    private func printJSON(_ a: ModelAccounting, name: String, budget: Double) throws {
        let report = Report(
            model: name, config: a.config, sequenceLength: a.sequenceLength,
            parameters: a.parameters, totalParameters: a.parameters.total, weightBytes: a.weightBytes,
            forwardMatmuls: a.forwardMatmuls, forwardFlops: a.forwardFLOPs(),
            activationsPerSequence: a.activationsPerSequence, batchSize: batchSize,
            trainingMemory: a.trainingMemory(batchSize: batchSize),
            trainingBytesPerSequence: a.trainingBytesPerSequence, trainingFixedBytes: a.trainingFixedBytes,
            memoryBudgetBytes: budget, maxBatchSize: a.maxBatchSize(memoryBytes: budget),
            trainingStepFlops: a.trainingStepFLOPs(batchSize: batchSize),
            trainingSteps: steps, peakFlops: peakTflops * 1e12, mfu: mfu,
            trainingSeconds: steps.map {
                a.trainingSeconds(steps: $0, batchSize: batchSize, peakFLOPS: peakTflops * 1e12, utilization: mfu)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}

import FableModel
import FableTensor
import Foundation

extension TrainingConfig {
    /// The most steps a run may plan (a trillion: years of training at any speed).
    public static let maximumSteps = 1 << 40

    /// The memory training may plan to use: the machine's physical memory.
    /// `FABLE_MEMORY_LIMIT_BYTES` overrides it (tests, or a machine shared with others).
    public static var availableMemoryBytes: Double {
        if let text = ProcessInfo.processInfo.environment["FABLE_MEMORY_LIMIT_BYTES"], let value = Double(text), value > 0 {
            return value
        }
        return Double(ProcessInfo.processInfo.physicalMemory)
    }

    /// Upper bounds that keep every later product inside Int, and a memory estimate
    /// (parameters, gradients, optimizer state and activations, as `fable accounting`
    /// computes them) that must fit the machine: a run that cannot fit fails here, with
    /// the key to change, rather than minutes later in an allocation.
    func checkSizeLimits() throws(TrainingConfigError) {
        let (tokens, tokensOverflow) = batchSize.multipliedReportingOverflow(by: model.contextLength)
        if tokensOverflow || tokens > ModelConfig.maximumParameters {
            throw .invalidValue(key: "batch_size", value: "\(batchSize)",
                                expected: "a batch of at most 2^40 tokens (batch_size x context_length)")
        }
        if let steps, steps > Self.maximumSteps {
            throw .invalidValue(key: "steps", value: "\(steps)", expected: "at most 2^40")
        }
        if let maxTokens, maxTokens > Self.maximumSteps * 1024 {
            throw .invalidValue(key: "max_tokens", value: "\(maxTokens)", expected: "at most 2^50")
        }
        if totalSteps.multipliedReportingOverflow(by: tokens).overflow || evalBatches > Self.maximumSteps {
            throw .invalidValue(key: steps != nil ? "steps" : "max_tokens", value: "\(steps ?? maxTokens ?? 0)",
                                expected: "a run whose token count fits in 64 bits")
        }
        if let threads, threads > Parallel.maximumThreadCount {
            throw .invalidValue(key: "threads", value: "\(threads)", expected: "at most \(Parallel.maximumThreadCount)")
        }

        let memory = ModelAccounting(config: model).trainingMemory(batchSize: batchSize)
        // AdamW keeps two moments per parameter; SGD and Muon keep at most that.
        let available = Self.availableMemoryBytes
        guard memory.total > available else { return }
        func gib(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }
        let needs = "needs about \(gib(memory.total)) to train (parameters, gradients and optimizer state "
            + "\(gib(memory.parameters + memory.gradients + memory.optimizerState)), activations \(gib(memory.activations))); "
            + "this machine has \(gib(available))"
        let fixed = memory.parameters + memory.gradients + memory.optimizerState
        if memory.activations > fixed && fixed < available {
            let fits = ModelAccounting(config: model).maxBatchSize(memoryBytes: available)
            throw .invalidValue(key: "batch_size", value: "\(batchSize)",
                                expected: "a batch that fits in memory: this one \(needs); at most \(fits) fits")
        }
        throw .invalidValue(key: "model", value: "", expected: "a model that fits in memory: vocab_size \(model.vocabSize), "
            + "d_model \(model.dModel), num_layers \(model.numLayers), d_ff \(model.dFF) \(needs)")
    }
}

import FableModel

/// Named training setups (`fable train --preset NAME`): a model and the hyperparameters
/// that train it well. Any value can be changed with `--set key=value`.
extension TrainingConfig {
    /// A named configuration with a one-line description.
    public struct Preset: Sendable {
        /// The name used on the command line.
        public let name: String
        /// What the preset is for.
        public let summary: String
        /// The configuration.
        public let config: TrainingConfig
    }

    /// Every training preset, smallest first.
    public static let presets: [Preset] = [cpuSmall, tinyStories17M]

    /// A 3M-parameter model (the `tiny` model preset: context 128, d_model 128, 4 layers)
    /// trained for 2M tokens: a few minutes on two CPU cores, enough to see TinyStories
    /// turn into words and sentences.
    static let cpuSmall: Preset = {
        var optimizer = OptimizerConfig()
        optimizer.lr = 3e-3
        optimizer.betas = [0.9, 0.95]
        optimizer.weightDecay = 0.1
        var schedule = ScheduleConfig()
        schedule.warmupSteps = 50
        schedule.minLRRatio = 0.1
        let model = (try? ModelConfig.preset(named: "tiny"))
            ?? ModelConfig(vocabSize: 10_000, contextLength: 128, dModel: 128, numLayers: 4, numHeads: 4, dFF: 320)
        return Preset(
            name: "cpu-small",
            summary: "3M parameters, 1,000 steps x 16 x 128 tokens (minutes on 2 cores)",
            config: TrainingConfig(
                model: model, optimizer: optimizer, schedule: schedule, batchSize: 16, steps: 1000,
                evalInterval: 250, evalBatches: 4, checkpointInterval: 500, keepCheckpoints: 2,
                logInterval: 10, gradClip: 1.0, seed: 0))
    }()

    /// The CS336 TinyStories model (vocab 10,000, context 256, d_model 512, 4 layers,
    /// 16 heads, d_ff 1344, RoPE theta 10,000) with the handout's low-resource budget:
    /// batch 32 × 5,000 steps × 256 tokens ≈ 41M tokens, AdamW at 1e-3 with β = (0.9, 0.95),
    /// weight decay 0.1, 200 warmup steps and cosine decay to 1e-4 at the last step.
    static let tinyStories17M: Preset = {
        var optimizer = OptimizerConfig()
        optimizer.lr = 1e-3
        optimizer.betas = [0.9, 0.95]
        optimizer.eps = 1e-8
        optimizer.weightDecay = 0.1
        var schedule = ScheduleConfig()
        schedule.warmupSteps = 200
        schedule.minLRRatio = 0.1
        let model = (try? ModelConfig.preset(named: "tinystories-17m"))
            ?? ModelConfig(vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFF: 1344)
        return Preset(
            name: "tinystories-17m",
            summary: "the CS336 17M model, 5,000 steps x 32 x 256 (41M tokens)",
            config: TrainingConfig(
                model: model, optimizer: optimizer, schedule: schedule, batchSize: 32, steps: 5000,
                evalInterval: 500, evalBatches: 8, checkpointInterval: 1000, keepCheckpoints: 3,
                logInterval: 10, gradClip: 1.0, seed: 0))
    }()
}

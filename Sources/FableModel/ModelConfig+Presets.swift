/// Named model shapes: the CS336 TinyStories model, the GPT-2 family shapes of the
/// handout's accounting questions, and a small model for quick CPU runs.
extension ModelConfig {
    /// A named configuration with a one-line description.
    public struct Preset: Sendable {
        /// The name used on the command line (`--preset NAME`).
        public let name: String
        /// What the preset is for.
        public let summary: String
        /// The configuration.
        public let config: ModelConfig
    }

    /// Every preset, smallest first.
    public static let presets: [Preset] = [
        Preset(
            name: "tiny",
            summary: "a 3M-parameter model for quick CPU runs (minutes on TinyStories)",
            config: ModelConfig(
                vocabSize: 10_000, contextLength: 128, dModel: 128, numLayers: 4, numHeads: 4,
                dFF: 320, ropeTheta: 10_000)),
        Preset(
            name: "tinystories-17m",
            summary: "the CS336 TinyStories model (about 17M non-embedding parameters)",
            config: ModelConfig(
                vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16,
                dFF: 1344, ropeTheta: 10_000)),
        gpt2("gpt2-small", label: "small", dModel: 768, numLayers: 12, numHeads: 12),
        gpt2("gpt2-medium", label: "medium", dModel: 1024, numLayers: 24, numHeads: 16),
        gpt2("gpt2-large", label: "large", dModel: 1280, numLayers: 36, numHeads: 20),
        gpt2("gpt2-xl", label: "XL", dModel: 1600, numLayers: 48, numHeads: 25),
    ]

    /// A GPT-2-shaped CS336 model as in the handout's accounting problems: vocabulary
    /// 50,257, context 1,024 and d_ff = 4 · d_model (GPT-2 XL: d_ff 6,400).
    private static func gpt2(_ name: String, label: String, dModel: Int, numLayers: Int, numHeads: Int) -> Preset {
        Preset(
            name: name,
            summary: "GPT-2 \(label) shape with the CS336 architecture (d_ff = 4 d_model)",
            config: ModelConfig(
                vocabSize: 50_257, contextLength: 1024, dModel: dModel, numLayers: numLayers,
                numHeads: numHeads, dFF: 4 * dModel, ropeTheta: 10_000))
    }

    /// The preset called `name`.
    public static func preset(named name: String) throws(ModelConfigError) -> ModelConfig {
        guard let preset = presets.first(where: { $0.name == name }) else {
            throw .unknownPreset(name, available: presets.map(\.name))
        }
        return preset.config
    }
}

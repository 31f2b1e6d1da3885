import ArgumentParser
import FableModel
import Foundation

/// `--preset NAME | --config FILE`: the model shape a command works on.
struct ModelSelection: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A built-in model shape: \(ModelConfig.presets.map(\.name).joined(separator: ", ")).",
        valueName: "name"))
    var preset: String?

    @Option(help: ArgumentHelp("A model config JSON file (see `fable model-config`).", valueName: "file"))
    var config: String?

    func validate() throws {
        if preset != nil && config != nil {
            throw ValidationError("give either --preset or --config, not both")
        }
    }

    /// True when neither option was given.
    var isEmpty: Bool { preset == nil && config == nil }

    /// The chosen configuration and a name for it; `defaultPreset` stands in when neither
    /// option was given.
    func resolve(defaultPreset: String? = nil) throws -> (name: String, config: ModelConfig) {
        if let path = config {
            return (path, try ModelConfig.load(from: URL(fileURLWithPath: path)))
        }
        guard let name = preset ?? defaultPreset else { throw ValidationError("give --preset NAME or --config FILE") }
        return (name, try ModelConfig.preset(named: name))
    }
}

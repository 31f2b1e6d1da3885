import ArgumentParser
import FableModel

/// `fable model-config`: list the model presets or print one as a JSON config.
struct ModelConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-config",
        abstract: "List the model presets, or print a preset or config file as validated JSON.",
        discussion: """
            With no option, lists the presets. With --preset or --config, prints the complete \
            configuration (defaults filled in) as JSON, ready to edit and pass back with --config.
            """
    )

    @OptionGroup var model: ModelSelection

    func run() throws {
        if model.isEmpty {
            let rows = ModelConfig.presets.map { p -> [String] in
                let params = ModelAccounting(config: p.config).parameters.total
                return [p.name, Figures.grouped(params), p.summary]
            }
            print(Figures.table(header: ["preset", "parameters", "description"], rows: rows, rightAligned: [1]))
            return
        }
        let config = try model.resolve().config
        print(String(decoding: config.jsonData(), as: UTF8.self))
    }
}

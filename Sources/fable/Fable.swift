import ArgumentParser

/// The `fable` command: the root that lists every subcommand.
@main
struct Fable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fable",
        abstract: "A language-model workbench: tokenizers, Transformer training and generation in Swift.",
        version: "0.1.0",
        subcommands: [
            Info.self,
            BenchCommand.self,
            TokenizerCommand.self,
            Accounting.self,
            ModelConfigCommand.self,
            Report.self,
            CorpusCommand.self,
            Train.self,
            Sweep.self,
            Generate.self,
            Score.self,
            Export.self,
            Import.self,
            Demo.self,
        ]
    )
}

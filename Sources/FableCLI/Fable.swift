import ArgumentParser

/// The `fable` command: the root that lists every subcommand, in pipeline order.
///
/// The `fable` executable calls ``main()``; tests run commands in-process with
/// `Fable.parseAsRoot(["train", ...])` and `run()`.
public struct Fable: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "fable",
        abstract: "A language-model workbench: tokenizers, Transformer training and generation in Swift.",
        version: "0.1.0",
        subcommands: [
            // The whole pipeline at once, then its steps in order.
            Demo.self,
            CorpusCommand.self,
            TokenizerCommand.self,
            Train.self,
            Sweep.self,
            Report.self,
            Generate.self,
            Score.self,
            Eval.self,
            Export.self,
            Import.self,
            Serve.self,
            // Tools beside the pipeline.
            ModelConfigCommand.self,
            Accounting.self,
            Info.self,
            BenchCommand.self,
        ]
    )
}

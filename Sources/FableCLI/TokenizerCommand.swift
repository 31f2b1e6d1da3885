import ArgumentParser

/// `fable tokenizer`: the byte-level BPE tokenizer's subcommands.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train a byte-level BPE tokenizer, encode and decode text with it.",
        subcommands: [
            TokenizerTrain.self,
            TokenizerEncode.self,
            TokenizerDecode.self,
            TokenizerStats.self,
        ]
    )
}

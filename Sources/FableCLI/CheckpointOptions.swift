import ArgumentParser
import FableModel
import FableTokenizer
import FableTraining
import FableWorkbench
import Foundation

/// `--checkpoint FILE [--preset NAME | --config FILE] [--tokenizer DIR]`: the trained model
/// a command reads (generate, serve, score, eval, export) and the tokenizer that goes with it.
struct CheckpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A checkpoint from `fable train`, or a weights-only .safetensors file.", valueName: "file"))
    var checkpoint: String

    @OptionGroup(title: "Model shape (for weights files that do not record it)")
    var model: ModelSelection

    @Option(help: ArgumentHelp(
        "The tokenizer folder (vocab.json, merges.txt, special_tokens.txt); default: the one the checkpoint names.",
        valueName: "dir"))
    var tokenizer: String?

    /// The model config from --preset/--config, nil when neither was given.
    func modelConfig() throws -> ModelConfig? {
        model.isEmpty ? nil : try model.resolve().config
    }

    /// The model in --checkpoint (a folder given there is an error naming the option).
    func loadModel() throws -> ModelFile.Loaded {
        try requirePath(checkpoint, option: "--checkpoint")
        return try ModelFile.load(from: URL(fileURLWithPath: checkpoint), config: modelConfig())
    }

    /// The tokenizer from --tokenizer, else the one the checkpoint names.
    func loadTokenizer(for loaded: ModelFile.Loaded) throws -> Tokenizer {
        try CheckpointTokenizer.load(explicit: tokenizer, reference: loaded.tokenizerReference, checkpoint: checkpoint)
    }
}

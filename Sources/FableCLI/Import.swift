import ArgumentParser
import FableInterchange
import Foundation

/// `fable import`: a Hugging Face Llama folder as a Fable checkpoint and tokenizer folder.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a Hugging Face Llama model (safetensors + byte-level BPE tokenizer.json) as a Fable checkpoint.",
        discussion: """
            Reads config.json, model.safetensors (or model.safetensors.index.json and its \
            shards) and tokenizer.json, and writes OUT/model.safetensors (a checkpoint that \
            names its tokenizer) and OUT/tokenizer/. Use them with \
            `fable generate --checkpoint OUT/model.safetensors` and \
            `fable train --init-from OUT/model.safetensors`. Settings Fable cannot reproduce \
            exactly (grouped-query attention, biases, RoPE scaling, rms_norm_eps other than \
            1e-5, a tokenizer that is not GPT-2 style byte-level BPE) are refused, naming the key.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case hf }

    @Option(help: ArgumentHelp("The format of the input: hf.", valueName: "format"))
    var format: Format

    @Argument(help: ArgumentHelp("The folder to import.", valueName: "dir"))
    var input: String

    @Option(help: ArgumentHelp("The folder to write.", valueName: "dir"))
    var out: String

    @Flag(help: "Replace the output folder when it exists.")
    var overwrite = false

    func run() throws {
        let imported = try HuggingFaceImport.read(from: URL(fileURLWithPath: input))
        try HuggingFaceImport.write(imported, to: URL(fileURLWithPath: out), overwrite: overwrite)
        let config = imported.model.config
        let checkpoint = URL(fileURLWithPath: out).appendingPathComponent(HuggingFaceImport.checkpointFile).path
        print("imported \(config.numLayers) layers, d_model \(config.dModel), \(config.numHeads) heads, d_ff \(config.dFF), "
            + "vocab \(config.vocabSize), context \(config.contextLength), \(imported.model.parameters.count) parameters, "
            + "tokenizer of \(imported.vocabulary.count) tokens -> \(out)")
        print("next: fable generate --checkpoint \(checkpoint) --prompt \"Once upon a time\"")
    }
}

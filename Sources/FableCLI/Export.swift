import ArgumentParser
import FableInterchange
import FableWorkbench
import Foundation

/// `fable export`: a trained model as a Hugging Face transformers folder or a llama.cpp GGUF file.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model to Hugging Face transformers (a folder) or llama.cpp (one GGUF file).",
        discussion: """
            --format hf writes config.json (LlamaForCausalLM), model.safetensors, tokenizer.json, \
            tokenizer_config.json and generation_config.json: AutoModelForCausalLM and \
            AutoTokenizer load the folder with no custom code. --format gguf writes one GGUF v3 \
            file with the tokenizer inside, for llama.cpp. F32 is exact; F16 and BF16 round \
            to nearest even. Outputs appear complete or not at all.

            Models with norm post/none, position none or ffn silu have no Llama equivalent \
            and are refused, naming the setting.

              fable export --checkpoint runs/small/checkpoints/latest.safetensors --format hf --out small-hf
              fable export --checkpoint runs/small/checkpoints/latest.safetensors --format gguf --out small.gguf --dtype f16
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case hf, gguf }

    @OptionGroup var source: CheckpointOptions

    @Option(help: ArgumentHelp("hf (a transformers folder) or gguf (a llama.cpp file).", valueName: "format"))
    var format: Format

    @Option(help: ArgumentHelp("The folder (hf) or file (gguf) to write.", valueName: "path"))
    var out: String

    @Option(help: ArgumentHelp("Weight type: f32, f16 or bf16.", valueName: "type"))
    var dtype: String = ExportDType.f32.rawValue

    @Option(help: ArgumentHelp("general.name in a GGUF file (default: the output's name).", valueName: "name"))
    var name: String?

    @Flag(help: "Replace the output when it exists.")
    var overwrite = false

    func validate() throws {
        if ExportDType(rawValue: dtype) == nil { throw ValidationError("--dtype must be f32, f16 or bf16, got '\(dtype)'") }
    }

    func run() throws {
        let dtype = ExportDType(rawValue: self.dtype) ?? .f32
        try requirePath(source.checkpoint, option: "--checkpoint")
        let exported = try ExportSource.load(
            checkpoint: URL(fileURLWithPath: source.checkpoint), tokenizer: source.tokenizer.map { URL(fileURLWithPath: $0) },
            config: source.modelConfig())
        let outURL = URL(fileURLWithPath: out)
        let started = Date()
        switch format {
        case .hf:
            try HuggingFaceExport.write(exported.model, tokenizer: exported.tokenizer, to: outURL, dtype: dtype, overwrite: overwrite)
        case .gguf:
            let name = self.name ?? outURL.deletingPathExtension().lastPathComponent
            try GGUFExport.write(exported.model, tokenizer: exported.tokenizer, to: outURL, dtype: dtype, name: name, overwrite: overwrite)
        }
        let config = exported.model.config
        print("exported \(config.numLayers) layers, d_model \(config.dModel), vocab \(config.vocabSize), context \(config.contextLength) "
            + "(\(dtype.rawValue)) with tokenizer \(exported.tokenizerURL.path) -> \(out) "
            + "(\(String(format: "%.2f", Date().timeIntervalSince(started))) s)")
    }
}

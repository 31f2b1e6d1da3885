import FableFormats
import FableModel
import FableTensor
import Foundation

/// Opens a model for inference from either kind of file Fable deals in: a training
/// ``Checkpoint`` (weights, optimizer state and run metadata) or a weights-only
/// safetensors file (Fable's `ModelWeights` or a PyTorch state dict).
///
/// The configuration comes from, in order: the `config` argument; a checkpoint's run
/// config (`fable.config`: either the model config object itself or an object whose
/// `model` key holds it or names a preset, as `fable train` writes); the
/// `fable_model_config` metadata `ModelWeights` (and the trainer) write.
public enum ModelFile {
    /// A model ready to run, and what its file said about it.
    public struct Loaded {
        public let model: TransformerLM
        /// The run state when the file is a checkpoint, nil for weights-only files.
        public let runState: Checkpoint.RunState?
        /// Where the file says the tokenizer lives (a checkpoint's `fable.tokenizer`).
        public var tokenizerReference: String? { runState?.tokenizer }
    }

    /// Loads the model in `url`.
    /// - Parameter config: overrides any configuration the file holds; required for files
    ///   that hold none (PyTorch state dicts).
    /// - Throws: ``ModelFileError`` naming the file, or the loaders' own errors.
    public static func load(from url: URL, config: ModelConfig? = nil) throws -> Loaded {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw ModelFileError.missing(path: path) }
        let file = try SafeTensorsFile(contentsOf: url)
        if file.metadata[Checkpoint.Key.format] != nil {
            let state = try Checkpoint.runState(of: file)
            guard let resolved = try config ?? checkpointConfig(file, state: state) else {
                throw ModelFileError.noConfig(path: path)
            }
            let model = try TransformerLM(config: resolved, seed: 0)
            try Checkpoint.load(from: url, into: model.parameters, optimizer: nil)
            return Loaded(model: model, runState: state)
        }
        guard let resolved = try config ?? ModelWeights.config(in: url) else {
            throw ModelFileError.noConfig(path: path)
        }
        let model = try TransformerLM(config: resolved, seed: 0)
        try model.loadWeights(from: url)
        return Loaded(model: model, runState: nil)
    }

    /// The model configuration a checkpoint records, or nil when it records none.
    static func checkpointConfig(_ file: SafeTensorsFile, state: Checkpoint.RunState) throws -> ModelConfig? {
        let source = "\(file.url.path) metadata \(Checkpoint.Key.config)"
        if let text = state.config {
            return try modelConfig(fromRunConfig: Data(text.utf8), source: source)
        }
        if let text = file.metadata[ModelWeights.configMetadataKey] {
            return try ModelConfig.decode(Data(text.utf8), source: "\(file.url.path) metadata \(ModelWeights.configMetadataKey)")
        }
        return nil
    }

    /// The model configuration inside a run config: the object itself when it has the
    /// model's keys, else its `model` member (a config object or a preset's name, as in
    /// `fable train`'s TrainingConfig).
    public static func modelConfig(fromRunConfig data: Data, source: String) throws -> ModelConfig {
        guard let object = (try? JSONParser.parse(data))?.objectValue else {
            throw ModelConfigError.invalidJSON(path: source, reason: "not a JSON object")
        }
        if object["vocab_size"] == nil, let model = object["model"] {
            if let preset = model.stringValue {
                do { return try ModelConfig.preset(named: preset) } catch { throw ModelConfigError.inFile(path: source, error) }
            }
            guard case .object = model else {
                throw ModelConfigError.invalidJSON(path: source, reason: "key model is not an object")
            }
            var writer = JSONWriter()
            try writer.value(model)
            return try ModelConfig.decode(Data(writer.takeBytes()), source: source + " (key model)")
        }
        return try ModelConfig.decode(data, source: source)
    }

    /// The tokenizer folder a checkpoint names (``Loaded/tokenizerReference``): the
    /// reference as given (absolute, or relative to the working directory), else relative
    /// to the checkpoint's folder (a run folder keeps `../tokenizer` beside `checkpoints/`).
    /// Nil when neither is a folder.
    public static func tokenizerFolder(reference: String, checkpoint: URL) -> URL? {
        let candidates = [
            URL(fileURLWithPath: reference),
            checkpoint.deletingLastPathComponent().appendingPathComponent(reference),
        ]
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }
}

/// Why a model file could not be opened.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case noConfig(path: String)

    public var description: String {
        switch self {
        case let .missing(path):
            return "\(path): no such file"
        case let .noConfig(path):
            return "\(path) holds no model config; pass one with --config FILE or --preset NAME"
        }
    }
}

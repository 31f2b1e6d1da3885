import FableFormats
import FableModel
import FableTensor
import Foundation

// `fable train --init-from FILE`: start a new run from the weights of a checkpoint or a
// weights file (fine-tuning, or continuing from an imported model) with a fresh optimizer,
// schedule and step count. The model's architecture comes from the file.

extension Trainer {
    /// What a file offered to ``initializeWeights(from:)`` says about its model, read from
    /// its metadata without loading the weights.
    public struct InitialWeights: Equatable, Sendable {
        /// The model configuration the file records, or nil (a PyTorch state dict).
        public var config: ModelConfig?
        /// The tokenizer folder a checkpoint names, resolved against the file's folder
        /// when it is relative and exists there.
        public var tokenizer: String?
    }

    /// Reads the model configuration and tokenizer reference of a checkpoint or weights file.
    public static func initialWeights(at url: URL) throws -> InitialWeights {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ModelFileError.missing(path: url.path) }
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata[Checkpoint.Key.format] != nil else {
            return InitialWeights(config: try ModelWeights.config(in: url), tokenizer: nil)
        }
        let state = try Checkpoint.runState(of: file)
        var tokenizer = state.tokenizer
        if let reference = tokenizer, !reference.hasPrefix("/") {
            let beside = url.deletingLastPathComponent().appendingPathComponent(reference)
            if FileManager.default.fileExists(atPath: beside.path) { tokenizer = beside.path }
        }
        return InitialWeights(config: try ModelFile.checkpointConfig(file, state: state), tokenizer: tokenizer)
    }

    /// Replaces the freshly initialised weights with those in `url` (a checkpoint, or a
    /// weights file with the CS336 names). The optimizer state stays fresh.
    /// - Throws: ``TrainerInitializationError`` when the run has taken steps or the file's
    ///   model differs from this run's; the loaders' errors for a bad file.
    public func initializeWeights(from url: URL) throws {
        guard step == 0 else { throw TrainerInitializationError.alreadyStarted(step: step) }
        let loaded: ModelFile.Loaded
        do {
            loaded = try ModelFile.load(from: url)
        } catch ModelFileError.noConfig {
            loaded = try ModelFile.load(from: url, config: model.config)
        }
        guard loaded.model.config == model.config else {
            throw TrainerInitializationError.modelMismatch(
                path: url.path, differences: Self.differences(loaded.model.config, model.config))
        }
        _ = model.parameters.values.update(fromContentsOf: loaded.model.parameters.values)
    }

    /// The model config keys whose values differ, as "key file vs run".
    static func differences(_ file: ModelConfig, _ run: ModelConfig) -> [String] {
        func flat(_ config: ModelConfig) -> [String: String] {
            guard let object = (try? JSONParser.parse(config.jsonData()))?.objectValue else { return [:] }
            return object.dictionary.mapValues { $0.stringValue ?? $0.jsonText }
        }
        let (a, b) = (flat(file), flat(run))
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            a[key] == b[key] ? nil : "\(key) \(a[key] ?? "absent") in the file vs \(b[key] ?? "absent") in the run"
        }
    }
}

/// Why a run could not start from a file's weights.
public enum TrainerInitializationError: Error, CustomStringConvertible, Equatable {
    case alreadyStarted(step: Int)
    case modelMismatch(path: String, differences: [String])

    public var description: String {
        switch self {
        case let .alreadyStarted(step):
            return "the run is at step \(step); initial weights can only be loaded before the first step"
        case let .modelMismatch(path, differences):
            return "\(path): the model differs from the run's: \(differences.joined(separator: "; "))"
        }
    }
}

import Foundation
import FableTensor

/// A training checkpoint: one safetensors file holding the model parameters (named as in
/// the ``ParameterStore``, so the file doubles as a PyTorch-loadable state dict), the
/// optimizer state (`optimizer.<kind>.<slot>.<parameter>`), and in its metadata the step,
/// the sampler's RNG state, the run config (JSON), the tokenizer reference and the
/// optimizer's kind and step count.
///
/// Saving is atomic (temporary file, then rename). Loading checks every name and shape
/// before it overwrites anything, so a mismatched checkpoint leaves the store untouched.
public enum Checkpoint {
    /// Metadata keys Fable writes.
    public enum Key {
        public static let format = "fable.format"
        public static let step = "fable.step"
        public static let rng = "fable.rng"
        public static let config = "fable.config"
        public static let tokenizer = "fable.tokenizer"
        public static let optimizer = "fable.optimizer"
        public static let optimizerStep = "fable.optimizer_step"
    }

    /// The value of ``Key/format`` this version writes and reads.
    public static let formatVersion = "fable-checkpoint-1"
    /// Prefix of every optimizer-state tensor.
    public static let optimizerPrefix = "optimizer."

    /// What a checkpoint says about its run, besides the tensors.
    public struct RunState: Equatable {
        /// Training steps completed.
        public var step: Int
        /// The batch sampler's generator, to continue its stream.
        public var rng: RandomGenerator
        /// The run config as JSON text.
        public var config: String?
        /// Where the tokenizer lives (a path or name).
        public var tokenizer: String?
        /// The optimizer kind that wrote the state ("adamw", ...), or nil for weights only.
        public var optimizerKind: String?
        /// Any other metadata entries.
        public var extra: [String: String]

        public init(step: Int, rng: RandomGenerator, config: String? = nil, tokenizer: String? = nil,
                    optimizerKind: String? = nil, extra: [String: String] = [:]) {
            self.step = step
            self.rng = rng
            self.config = config
            self.tokenizer = tokenizer
            self.optimizerKind = optimizerKind
            self.extra = extra
        }
    }

    // MARK: - Saving

    /// Writes `store`'s values, `optimizer`'s state (when given) and `state` to `url` atomically.
    /// Tensors are streamed from the live buffers without copies.
    /// - Throws: ``CheckpointError`` for reserved metadata keys, ``SafeTensorsError`` when the file cannot be written.
    public static func save(
        to url: URL, store: ParameterStore, optimizer: (any Optimizer)?, state: RunState
    ) throws {
        var metadata = state.extra
        for key in metadata.keys where key.hasPrefix("fable.") {
            throw CheckpointError.reservedMetadataKey(key: key)
        }
        metadata[Key.format] = formatVersion
        metadata[Key.step] = String(state.step)
        metadata[Key.rng] = state.rng.stateWords.map { String($0) }.joined(separator: ",")
        if let config = state.config { metadata[Key.config] = config }
        if let tokenizer = state.tokenizer { metadata[Key.tokenizer] = tokenizer }
        var writer = SafeTensorsWriter(metadata: metadata)
        for entry in store.entries {
            try writer.add(entry.name, shape: entry.shape, borrowing: UnsafeBufferPointer(store.values(of: entry)))
        }
        if let optimizer {
            writer.metadata?[Key.optimizer] = optimizer.kind
            writer.metadata?[Key.optimizerStep] = String(optimizer.stepCount)
            for tensor in optimizer.stateTensors {
                try writer.add(tensor.name, shape: tensor.shape, borrowing: UnsafeBufferPointer(tensor.values))
            }
        }
        try writer.write(to: url)
    }

    // MARK: - Loading

    /// Reads the run state of the checkpoint at `url` without touching any parameters.
    public static func runState(of file: SafeTensorsFile) throws -> RunState {
        let path = file.url.path
        let metadata = file.metadata
        guard metadata[Key.format] == formatVersion else {
            throw CheckpointError.notACheckpoint(path: path, found: metadata[Key.format])
        }
        guard let stepText = metadata[Key.step], let step = Int(stepText), step >= 0 else {
            throw CheckpointError.invalidMetadata(path: path, key: Key.step, value: metadata[Key.step] ?? "missing")
        }
        let words = (metadata[Key.rng] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard let rng = RandomGenerator(stateWords: words), words != [0, 0, 0, 0] else {
            throw CheckpointError.invalidMetadata(path: path, key: Key.rng, value: metadata[Key.rng] ?? "missing")
        }
        var extra = metadata
        for key in [Key.format, Key.step, Key.rng, Key.config, Key.tokenizer, Key.optimizer, Key.optimizerStep] {
            extra[key] = nil
        }
        return RunState(step: step, rng: rng, config: metadata[Key.config], tokenizer: metadata[Key.tokenizer],
                        optimizerKind: metadata[Key.optimizer], extra: extra)
    }

    /// Restores `store` (and `optimizer`, when given) from the checkpoint at `url` and
    /// returns its run state. Passing no optimizer loads the weights only.
    ///
    /// Every parameter must be present with its exact shape, every optimizer state tensor
    /// too, and the file may hold nothing else (optimizer state is ignored when no optimizer
    /// is given). All of this is checked before any value is overwritten.
    /// - Throws: ``CheckpointError`` or ``SafeTensorsError``, naming the file and tensor.
    @discardableResult
    public static func load(from url: URL, into store: ParameterStore, optimizer: (any Optimizer)?) throws -> RunState {
        let file = try SafeTensorsFile(contentsOf: url)
        let path = url.path
        let state = try runState(of: file)

        // What must be there, with which shape, and where it goes.
        var targets: [(name: String, shape: [Int], buffer: UnsafeMutableBufferPointer<Float>)] =
            store.entries.map { ($0.name, $0.shape, store.values(of: $0)) }
        var optimizerStep: Int?
        if let optimizer {
            guard state.optimizerKind == optimizer.kind else {
                throw CheckpointError.optimizerMismatch(path: path, saved: state.optimizerKind ?? "none", current: optimizer.kind)
            }
            guard let text = file.metadata[Key.optimizerStep], let value = Int(text), value >= 0 else {
                throw CheckpointError.invalidMetadata(path: path, key: Key.optimizerStep, value: file.metadata[Key.optimizerStep] ?? "missing")
            }
            optimizerStep = value
            targets += optimizer.stateTensors.map { ($0.name, $0.shape, $0.values) }
        }
        let expected = Set(targets.map(\.name))
        for tensor in file.tensors where !expected.contains(tensor.name) {
            if optimizer == nil, tensor.name.hasPrefix(optimizerPrefix) { continue }
            throw CheckpointError.unexpectedTensor(path: path, tensor: tensor.name)
        }
        for target in targets {
            guard file.contains(target.name) else { throw CheckpointError.missingTensor(path: path, tensor: target.name) }
            let info = try file.info(named: target.name)
            guard info.shape == target.shape else {
                throw SafeTensorsError.shapeMismatch(path: path, tensor: target.name, expected: target.shape, actual: info.shape)
            }
            guard info.dtype == .f32 else {
                throw CheckpointError.wrongDType(path: path, tensor: target.name, dtype: info.dtype.rawValue)
            }
        }
        // Everything checks out: copy.
        for target in targets {
            try file.readFloats(named: target.name, expectedShape: target.shape, into: target.buffer)
        }
        if let optimizer, let optimizerStep { optimizer.stepCount = optimizerStep }
        return state
    }
}

/// Why a checkpoint could not be saved or restored. Messages name the file and tensor.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case notACheckpoint(path: String, found: String?)
    case invalidMetadata(path: String, key: String, value: String)
    case missingTensor(path: String, tensor: String)
    case unexpectedTensor(path: String, tensor: String)
    case wrongDType(path: String, tensor: String, dtype: String)
    case optimizerMismatch(path: String, saved: String, current: String)
    case reservedMetadataKey(key: String)

    public var description: String {
        switch self {
        case let .notACheckpoint(path, found):
            return "\(path): not a Fable checkpoint (metadata \(Checkpoint.Key.format) is \(found.map { "'\($0)'" } ?? "missing"), expected '\(Checkpoint.formatVersion)')"
        case let .invalidMetadata(path, key, value):
            return "\(path): checkpoint metadata '\(key)' is '\(value)', which is not valid"
        case let .missingTensor(path, tensor):
            return "\(path): checkpoint has no tensor '\(tensor)' (saved from a different model or optimizer?)"
        case let .unexpectedTensor(path, tensor):
            return "\(path): checkpoint holds tensor '\(tensor)', which this model and optimizer do not have"
        case let .wrongDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' is \(dtype); checkpoints store F32"
        case let .optimizerMismatch(path, saved, current):
            return "\(path): checkpoint holds optimizer state for '\(saved)', but this run uses '\(current)'"
        case let .reservedMetadataKey(key):
            return "metadata key '\(key)' is reserved for Fable's checkpoint fields"
        }
    }
}

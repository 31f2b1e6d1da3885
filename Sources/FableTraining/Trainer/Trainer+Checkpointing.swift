import FableModel
import FableTensor
import Foundation

extension Trainer {
    /// Metadata keys a trainer adds to its checkpoints (besides ``Checkpoint/Key``).
    public enum MetadataKey {
        /// Training tokens consumed.
        public static let tokens = "run.tokens"
        /// Wall-clock seconds of training so far.
        public static let wallSeconds = "run.wall_seconds"
        /// The kernels' thread count (results are bit-identical only with the same count).
        public static let threads = "run.threads"
        /// The training token file's path.
        public static let trainData = "run.train_data"
        /// The validation token file's path.
        public static let valData = "run.val_data"
        /// The number of data-parallel ranks that wrote the checkpoint.
        public static let ranks = "run.ranks"
    }

    // MARK: - Saving

    /// Writes a checkpoint of the whole training state to `url`, atomically: weights,
    /// optimizer state, step, the sampler's generator, the config (JSON), the tokenizer
    /// reference, tokens and wall-clock seconds so far.
    ///
    /// Weights that are not all finite are never written: the call throws
    /// ``TrainerError/diverged(step:reason:)`` instead, so the last good checkpoint stays.
    /// - Parameter wallSeconds: the run's wall-clock seconds so far, all sessions included.
    public func saveCheckpoint(to url: URL, wallSeconds: Double) throws {
        guard parametersAreFinite() else {
            throw TrainerError.diverged(step: step, reason: "the weights hold NaN or infinite values")
        }
        var extra: [String: String] = [
            MetadataKey.tokens: String(tokens),
            MetadataKey.wallSeconds: String(wallSeconds),
            MetadataKey.threads: String(Parallel.threadCount),
            MetadataKey.trainData: trainData.url.path,
            MetadataKey.ranks: String(communicator.size),
        ]
        if let valData { extra[MetadataKey.valData] = valData.url.path }
        // The model config where ModelWeights looks for it too, so any tool that reads
        // weights files can build the model from a checkpoint alone (see ModelFile).
        extra[ModelWeights.configMetadataKey] = String(decoding: config.model.jsonData(), as: UTF8.self)
        let state = Checkpoint.RunState(step: step, rng: sampler, config: config.jsonText,
                                        tokenizer: config.tokenizer, extra: extra)
        try Checkpoint.save(to: url, store: model.parameters, optimizer: shards == nil ? optimizer : try gatheredOptimizer(),
                            state: state)
    }

    // MARK: - Restoring

    /// Restores the whole training state from a checkpoint written by ``saveCheckpoint(to:wallSeconds:)``
    /// for this configuration's model and optimizer, so training continues exactly.
    /// - Returns: the checkpoint's run state.
    /// - Throws: ``TrainerError/checkpointMismatch(path:reason:)`` when the checkpoint
    ///   belongs to another model or optimizer; ``CheckpointError`` for a damaged file.
    @discardableResult
    public func restore(from url: URL) throws -> Checkpoint.RunState {
        let file = try SafeTensorsFile(contentsOf: url)
        let saved = try Checkpoint.runState(of: file)
        if let text = saved.config,
           let savedConfig = try? JSONDecoder().decode(TrainingConfig.self, from: Data(text.utf8)) {
            if savedConfig.model != config.model {
                throw TrainerError.checkpointMismatch(path: url.path, reason: "the checkpoint holds a different model (model.* keys differ from this run's config)")
            }
            if savedConfig.optimizer.kind != config.optimizer.kind {
                throw TrainerError.checkpointMismatch(
                    path: url.path,
                    reason: "the checkpoint holds \(savedConfig.optimizer.kind.rawValue) state but this run uses \(config.optimizer.kind.rawValue)")
            }
        }
        // Checkpoints hold the whole optimizer state; a sharded rank keeps its share of it.
        let whole = shards == nil ? optimizer : try config.optimizer.makeOptimizer(for: model.parameters)
        let state = try Checkpoint.load(from: url, into: model.parameters, optimizer: whole)
        if shards != nil { keepOwnShare(of: whole) }
        step = state.step
        sampler = state.rng
        tokens = state.extra[MetadataKey.tokens].flatMap(Int.init) ?? state.step * config.tokensPerStep(ranks: communicator.size)
        previousWallSeconds = state.extra[MetadataKey.wallSeconds].flatMap(Double.init) ?? 0
        return state
    }

    /// The number of ranks that wrote a checkpoint, when it says.
    public static func rankCount(of state: Checkpoint.RunState) -> Int? {
        state.extra[MetadataKey.ranks].flatMap(Int.init)
    }

    /// The thread count a checkpoint was written with, when it says.
    public static func threadCount(of state: Checkpoint.RunState) -> Int? {
        state.extra[MetadataKey.threads].flatMap(Int.init)
    }
}

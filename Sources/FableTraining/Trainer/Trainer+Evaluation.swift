import FableModel
import FableTensor
import Foundation

extension Trainer {
    /// The result of one validation pass.
    public struct Evaluation: Equatable, Sendable {
        /// Mean cross-entropy per token over every evaluated window.
        public var loss: Double
        /// Tokens evaluated.
        public var tokens: Int
        /// Batches evaluated.
        public var batches: Int
        /// True when the pass covered the whole validation split.
        public var isFullSplit: Bool

        /// exp(loss).
        public var perplexity: Double { exp(loss) }
    }

    /// The validation loss on the fixed batches (`eval_batches` of them), or on the whole
    /// split when `fullSplit` is true. Deterministic: the same weights give the same bits.
    /// - Returns: nil when the trainer has no validation data.
    /// - Throws: ``TokenDatasetError`` for an unreadable window.
    public func evaluate(fullSplit: Bool = false) throws -> Evaluation? {
        guard let valData else { return nil }
        let batches = fullSplit
            ? try ValidationBatches(valData, batchSize: config.batchSize, contextLength: config.model.contextLength)
            : validationBatches!
        return try evaluate(batches, isFullSplit: fullSplit || batches.count * batches.batchSize >= batches.windowCount)
    }

    /// The mean loss over `batches`, each batch weighted by its number of tokens. With
    /// several ranks, rank r evaluates batches r, r + ranks, ... and the sums are reduced.
    public func evaluate(_ batches: ValidationBatches, isFullSplit: Bool = false) throws -> Evaluation {
        var weighted = 0.0
        var tokens = 0
        try withNoGrad {
            for index in stride(from: communicator.rank, to: batches.count, by: communicator.size) {
                let batch = try batches.batch(at: index)
                // Evaluated at the training precision, as the model is trained.
                let loss = try config.precision.withProducts {
                    try model.loss(tokens: batch.inputs, targets: batch.targets,
                                   shape: [batch.batchSize, batch.contextLength])
                }
                weighted += Double(loss.item()) * Double(batch.inputs.count)
                tokens += batch.inputs.count
            }
        }
        if communicator.isDistributed {
            let sums = try communicator.allreduce([weighted, Double(tokens)])
            weighted = sums[0]
            tokens = Int(sums[1])
        }
        return Evaluation(loss: tokens > 0 ? weighted / Double(tokens) : .nan, tokens: tokens,
                          batches: batches.count, isFullSplit: isFullSplit)
    }
}

import FableTensor

/// A lookup table of `num_embeddings` rows of width `embedding_dim` (CS336 `Embedding`).
public struct Embedding {
    /// The table, (num_embeddings, embedding_dim); a view into the model's parameter store.
    public let weight: Tensor

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding weight must be (num_embeddings, dim), got \(weight.shape)")
        self.weight = weight
    }

    public var numEmbeddings: Int { weight.shape[0] }
    public var embeddingDim: Int { weight.shape[1] }

    /// The rows for `ids` (already checked to be in range), shaped `shape + [dim]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        Tensor.embedding(weight, indices: ids, shape: shape)
    }

    /// The CS336 initialisation: truncated normal, mean 0, std 1, cut at ±3.
    public static func initialize(_ weight: Tensor, generator: inout RandomGenerator) {
        let sample = Tensor.truncatedNormal(weight.shape, std: 1, generator: &generator)
        weight.withUnsafeMutableBufferPointer { w in sample.withUnsafeBufferPointer { _ = w.update(fromContentsOf: $0) } }
    }
}

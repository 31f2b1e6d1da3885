import FableTensor

/// A bias-free linear map `y = x Wᵀ` with `weight` shaped (out_features, in_features),
/// as in PyTorch and CS336.
public struct Linear {
    /// The weight, (out_features, in_features); a view into the model's parameter store.
    public let weight: Tensor

    /// A layer over an existing weight tensor.
    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Linear weight must be (out, in), got \(weight.shape)")
        self.weight = weight
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Applies the map over the last axis of `x` (any leading dimensions).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight)
    }

    /// The CS336 initialisation: truncated normal, mean 0, std sqrt(2 / (in + out)), cut at ±3 std.
    public static func initialize(_ weight: Tensor, generator: inout RandomGenerator) {
        precondition(weight.rank == 2, "Linear weight must be (out, in), got \(weight.shape)")
        let std = Float((2.0 / Double(weight.shape[0] + weight.shape[1])).squareRoot())
        let sample = Tensor.truncatedNormal(weight.shape, std: std, generator: &generator)
        weight.withUnsafeMutableBufferPointer { w in sample.withUnsafeBufferPointer { _ = w.update(fromContentsOf: $0) } }
    }
}

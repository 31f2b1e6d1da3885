import FableTensor

/// Root-mean-square layer normalisation: `x / sqrt(mean(x²) + eps) · g` over the last axis,
/// computed in Float32 (CS336 `RMSNorm`, eps 1e-5).
public struct RMSNorm {
    /// The gain g, (d_model); a view into the model's parameter store, initialised to 1.
    public let weight: Tensor
    /// Added to the mean square before the square root.
    public let eps: Float

    public init(weight: Tensor, eps: Float = 1e-5) {
        precondition(weight.rank == 1, "RMSNorm weight must be (d_model), got \(weight.shape)")
        self.weight = weight
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.rmsNorm(x, gain: weight, eps: eps)
    }

    /// The CS336 initialisation: every gain 1.
    public static func initialize(_ weight: Tensor) {
        weight.withUnsafeMutableBufferPointer { $0.update(repeating: 1) }
    }
}

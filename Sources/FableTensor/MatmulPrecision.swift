/// The precision of the matrix products' inputs: the mixed-precision switch of training.
///
/// With `bf16` every product run inside ``withProducts(_:)`` (the model's linear layers,
/// attention, the language-model head, forward and both backward products) rounds its
/// inputs to bfloat16 and accumulates in fp32 (``BF16GEMM``); everything else, weights,
/// gradients, optimizer state, norms, softmax and the loss, stays fp32. This is what PyTorch's
/// CPU autocast to bfloat16 does for matmuls.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    /// fp32 inputs and accumulation (the active ``GEMM/backend``).
    case fp32
    /// bf16 inputs, fp32 accumulation and output (``BF16GEMM``; needs AVX512_BF16).
    case bf16

    /// Why this CPU cannot run products at this precision, naming the missing feature; nil
    /// when it can.
    public var unavailableReason: String? {
        switch self {
        case .fp32: return nil
        case .bf16: return BF16GEMM.unsupportedReason
        }
    }

    /// Runs `body` with its matrix products (on this task and on the worker threads its
    /// kernels start) at this precision. With `fp32` it just runs `body`.
    /// - Precondition: the CPU supports the precision (``unavailableReason`` is nil).
    public func withProducts<R>(_ body: () throws -> R) rethrows -> R {
        switch self {
        case .fp32: return try body()
        case .bf16: return try GEMM.withBackend(BF16GEMM(), body)
        }
    }
}

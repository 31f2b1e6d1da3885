import Foundation
import FableTensor

/// AdamW with PyTorch's semantics (`torch.optim.AdamW`), which CS336 follows:
///
/// ```
/// p ← p · (1 − lr·λ)                       decoupled weight decay, applied first
/// m ← m + (1 − β1)(g − m)                  first moment (PyTorch's lerp)
/// v ← β2·v + (1 − β2)·g·g                  second moment
/// p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
/// ```
///
/// with t the 1-based step. (The handout writes the decay after the update and folds
/// √(1 − β2^t) into the rate; PyTorch's order and ε placement are used so trajectories
/// match `torch.optim.AdamW` to rounding.) The state is two flat buffers, m and v, laid out
/// like the parameters; one step is a single parallel SIMD pass over p, g, m and v.
public final class AdamW: Optimizer {
    /// The hyperparameters besides the learning rate (Double, like PyTorch's Python floats;
    /// each derived scalar is rounded to Float once).
    public struct Hyperparameters: Equatable, Sendable {
        public var beta1: Double
        public var beta2: Double
        public var eps: Double
        public var weightDecay: Double

        public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0.01) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
        }
    }

    public let store: ParameterStore
    public let subset: ParameterSubset
    public let hyperparameters: Hyperparameters
    /// First moments, laid out like ``subset``.
    public let m: OptimizerState
    /// Second moments, laid out like ``subset``.
    public let v: OptimizerState
    public var stepCount = 0
    public var kind: String { "adamw" }

    /// An AdamW over `entries` of `store` (all of them when nil).
    public init(store: ParameterStore, entries: [ParameterStore.Entry]? = nil, hyperparameters: Hyperparameters = .init()) {
        self.store = store
        subset = ParameterSubset(entries ?? store.entries)
        self.hyperparameters = hyperparameters
        m = OptimizerState(subset: subset)
        v = OptimizerState(subset: subset)
    }

    public var stateTensors: [OptimizerStateTensor] {
        m.tensors(prefix: "optimizer.adamw.m.") + v.tensors(prefix: "optimizer.adamw.v.")
    }

    public func step(learningRate: Double) {
        stepCount += 1
        let h = hyperparameters
        let t = Double(stepCount)
        // Scalars in Double, rounded once to Float, as PyTorch forms them from Python floats.
        let lr = learningRate
        let scalars = AdamWKernel.Scalars(
            decay: Float(1 - lr * h.weightDecay),
            beta1: 1 - Float(1 - h.beta1),
            oneMinusBeta1: Float(1 - h.beta1),
            beta2: Float(h.beta2),
            oneMinusBeta2: Float(1 - h.beta2),
            negativeStepSize: Float(-(lr / (1 - pow(h.beta1, t)))),
            biasCorrection2Sqrt: Float((1 - pow(h.beta2, t)).squareRoot()),
            eps: Float(h.eps))
        let p = store.values.baseAddress!, g = store.gradients.baseAddress!
        let mm = m.values.baseAddress!, vv = v.values.baseAddress!
        let subset = self.subset
        Parallel.forEachChunk(subset.count, minimumChunk: 1 << 15) { range in
            subset.forEachPiece(in: range) { storeOffset, stateOffset, count in
                AdamWKernel.update(
                    p: p + storeOffset, g: g + storeOffset, m: mm + stateOffset, v: vv + stateOffset,
                    count: count, scalars)
            }
        }
    }
}

/// The fused AdamW update on one contiguous stretch.
enum AdamWKernel {
    struct Scalars {
        var decay: Float
        var beta1: Float
        var oneMinusBeta1: Float
        var beta2: Float
        var oneMinusBeta2: Float
        var negativeStepSize: Float
        var biasCorrection2Sqrt: Float
        var eps: Float
    }

    /// One pass: reads p, g, m, v once and writes p, m, v once. Operation order follows
    /// PyTorch's kernels (mul, lerp, mul + addcmul, sqrt / bc2 + eps, addcdiv) so results
    /// agree to rounding.
    @inline(__always)
    static func update(
        p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, count: Int, _ s: Scalars
    ) {
        // A plain counted loop per lerp form, which LLVM's loop vectorizer turns into packed
        // mul/add/sqrt/div. On Linux `squareRoot()` is a libm call (it may set errno) that
        // blocks vectorisation; on `.magnitude` (v is never negative, so the value is the
        // same) LLVM knows the argument is non-negative and emits packed square roots.
        let (decay, w1, b1, b2, w2) = (s.decay, s.oneMinusBeta1, s.beta1, s.beta2, s.oneMinusBeta2)
        let (step, bc2, eps) = (s.negativeStepSize, s.biasCorrection2Sqrt, s.eps)
        if w1 < 0.5 {
            for i in 0..<count {
                let gi = g[i]
                let mi = m[i] + w1 * (gi - m[i])
                let vi = v[i] * b2 + w2 * gi * gi
                p[i] = p[i] * decay + step * mi / (vi.magnitude.squareRoot() / bc2 + eps)
                m[i] = mi
                v[i] = vi
            }
        } else {
            for i in 0..<count {
                let gi = g[i]
                let mi = gi - (gi - m[i]) * b1
                let vi = v[i] * b2 + w2 * gi * gi
                p[i] = p[i] * decay + step * mi / (vi.magnitude.squareRoot() / bc2 + eps)
                m[i] = mi
                v[i] = vi
            }
        }
    }
}

import FableModel
import Foundation
import FableTensor

/// Stochastic gradient descent: `p -= rate * g`, optionally with the rate decayed as
/// `lr / sqrt(t + 1)` (the CS336 handout's example optimizer, t counting from 0).
public final class SGD: Optimizer {
    /// How the rate changes with the step count.
    public enum Decay: String, ConfigChoice, Sendable {
        /// The rate given to ``step(learningRate:)`` as is.
        case none
        /// `lr / sqrt(t + 1)`, t = steps taken before this one.
        case inverseSquareRoot = "inverse_sqrt"
    }

    public let store: ParameterStore
    public let decay: Decay
    public var stepCount = 0
    public var kind: String { "sgd" }
    /// SGD keeps no state beyond the step count.
    public var stateTensors: [OptimizerStateTensor] { [] }

    public init(store: ParameterStore, decay: Decay = .none) {
        self.store = store
        self.decay = decay
    }

    public func step(learningRate: Double) {
        // The scalar is formed in Double and rounded once, as PyTorch does with a Python float.
        let rate = Float(decay == .none ? learningRate : learningRate / (Double(stepCount) + 1).squareRoot())
        let p = store.values.baseAddress!, g = store.gradients.baseAddress!
        Parallel.forEachChunk(store.count, minimumChunk: 1 << 16) { range in
            // p + (-rate)·g is bitwise p - rate·g; axpy does it eight lanes at a time.
            Vector.axpy(-rate, g + range.lowerBound, p + range.lowerBound, count: range.count)
        }
        stepCount += 1
    }
}

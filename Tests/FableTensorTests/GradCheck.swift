import Testing
@testable import FableTensor

/// Finite-difference gradient checking for tests.
///
/// The loss is `sum(f(inputs) * w)` with a fixed random `w`, so every output element
/// contributes; its exact gradient comes from `backward()` and is compared with central
/// differences of the same loss, summed in Double to keep rounding noise small.
enum GradCheck {
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, std: scale, generator: &rng, requiresGrad: true)
    }

    /// Checks the analytic gradients of every input against central differences.
    /// - Returns: the largest error relative to max(1, |numerical|), for reporting.
    @discardableResult
    static func check(
        _ inputs: [Tensor], eps: Float = 1e-2, tolerance: Double = 2e-2,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ f: ([Tensor]) -> Tensor
    ) -> Double {
        for t in inputs { t.zeroGrad() }
        let probe = withNoGrad { f(inputs) }
        var rng = RandomGenerator(seed: 99)
        let w = Tensor.normal(probe.shape, generator: &rng)
        (f(inputs) * w).sum().backward()

        func loss() -> Double {
            let out = withNoGrad { f(inputs) }
            var s = 0.0
            for i in 0..<out.count { s += Double(out.data[i]) * Double(w.data[i]) }
            return s
        }
        var worst = 0.0
        for t in inputs where t.requiresGrad {
            let analytic = t.grad?.toArray() ?? [Float](repeating: 0, count: t.count)
            for i in 0..<t.count {
                let saved = t.data[i]
                t.data[i] = saved + eps
                let plus = loss()
                t.data[i] = saved - eps
                let minus = loss()
                t.data[i] = saved
                let numeric = (plus - minus) / (2 * Double(eps))
                let err = abs(numeric - Double(analytic[i])) / Swift.max(1, abs(numeric))
                worst = Swift.max(worst, err)
                #expect(err < tolerance, "grad[\(i)] analytic \(analytic[i]) numeric \(numeric)", sourceLocation: sourceLocation)
            }
        }
        return worst
    }
}

import Foundation
import Testing
@testable import FableTensor

@Suite("SIMD math")
struct VectorTests {
    @Test("vector exp is within 2.5e-7 relative of libm over the float range, and 0 below it")
    func expAccuracy() {
        var worst = 0.0
        var x: Float = -87
        while x < 88.36 {
            var v = Vector.V()
            for i in 0..<8 { v[i] = x + Float(i) * 0.0007 }
            let y = Vector.exp(v)
            for i in 0..<8 {
                let want = Foundation.exp(Double(v[i]))
                worst = Swift.max(worst, abs(Double(y[i]) - want) / want)
            }
            x += 0.0173
        }
        #expect(worst < 2.5e-7)
        // Above 88.37 the input is clamped (2^128 would overflow to inf and give NaN, which
        // Swift.max above would silently skip): large, finite, never NaN.
        for big: Float in [88.4, 88.6, 88.7, 100, .infinity] {
            #expect(Vector.exp(big).isFinite && Vector.exp(big) > 2e38, "exp(\(big))")
        }
        #expect(Vector.exp(-Float.infinity) == 0 && Vector.exp(-100) == 0 && Vector.exp(0) == 1)
    }

    @Test func reductions() {
        let values: [Float] = (0..<37).map { Float($0 % 11) - 4.5 }
        values.withUnsafeBufferPointer { p in
            #expect(Vector.sum(p.baseAddress!, count: 37) == values.reduce(0, +))
            #expect(Vector.max(p.baseAddress!, count: 37) == values.max())
            #expect(Vector.dot(p.baseAddress!, p.baseAddress!, count: 37) == values.map { $0 * $0 }.reduce(0, +))
        }
    }
}

import Foundation
import Testing
@testable import FableTensor

// The elementwise kernels of every instruction set this CPU runs, against Double libm.
// Tolerance: 4e-6 relative (about 32 ulp of float, a margin over the polynomial's ~1.5 ulp
// plus the rounding of the sigmoid division and products), checked over a range that
// spans the clamps.

@Suite("Elementwise kernels per instruction set")
struct VectorISATests {
    /// Inputs from -90 to 90 plus the edges, at a length that leaves a ragged tail.
    static let inputs: [Float] = {
        var values = (0..<1003).map { Float(-90.0 + 180.0 * Double($0) / 1002.0) }
        values += [0, -0.0, 1e-8, -1e-8, 88.37, 88.5, 88.7, -87.3, -87.2, 0.5, -0.5]
        return values
    }()

    static func relativeError(_ actual: Float, _ expected: Double) -> Double {
        let scale = max(abs(expected), Double(Float.leastNormalMagnitude))
        return abs(Double(actual) - expected) / scale
    }

    @Test("exp matches libm, and clamps instead of returning NaN near the top", arguments: KernelISA.supported)
    func exp(_ isa: KernelISA) {
        let x = Self.inputs
        var y = [Float](repeating: .nan, count: x.count)
        Vector.exp(x, into: &y, count: x.count, isa: isa)
        for (input, output) in zip(x, y) {
            if input < -87.3 { #expect(output == 0, "\(isa) exp(\(input))"); continue }
            let expected = Foundation.exp(Double(min(input, 88.37)))  // clamped: 2^n must stay finite
            #expect(Self.relativeError(output, expected) < 4e-6, "\(isa) exp(\(input)) = \(output)")
        }
    }

    @Test("SiLU and the SwiGLU gate match Double, with sigmoid saved", arguments: KernelISA.supported)
    func siluAndSwiGLU(_ isa: KernelISA) {
        let x = Self.inputs.map { $0 / 4 }
        let up = x.indices.map { Float(sin(Double($0))) }
        var silu = [Float](repeating: .nan, count: x.count)
        var gate = silu, saved = silu
        Vector.silu(x, into: &silu, count: x.count, isa: isa)
        Vector.swiGLU(gate: x, up: up, into: &gate, sigmoid: &saved, count: x.count, isa: isa)
        for i in x.indices {
            let s = 1 / (1 + Foundation.exp(-Double(x[i])))
            let expectedSilu = Double(x[i]) * s
            #expect(abs(Double(silu[i]) - expectedSilu) <= 4e-6 * max(abs(expectedSilu), 1e-30) + 1e-37, "\(isa) silu(\(x[i]))")
            #expect(Self.relativeError(saved[i], s) < 4e-6, "\(isa) sigmoid(\(x[i]))")
            let expectedGate = expectedSilu * Double(up[i])
            #expect(abs(Double(gate[i]) - expectedGate) <= 4e-6 * abs(expectedGate) + 1e-37, "\(isa) swiGLU at \(i)")
        }
    }

    @Test("softmax pieces: max, exp(x - shift) and their sum", arguments: KernelISA.supported)
    func softmaxPieces(_ isa: KernelISA) {
        for count in [1, 7, 8, 15, 16, 17, 100, 1003] {
            let x = (0..<count).map { Float(sin(Double($0) * 0.7) * 10) }
            let largest = Vector.max(x, count: count, isa: isa)
            #expect(largest == x.max()!, "\(isa) max of \(count)")
            var y = [Float](repeating: .nan, count: count)
            let sum = Vector.expShifted(x, shift: largest, into: &y, count: count, isa: isa)
            let onlySum = Vector.sumExpShifted(x, shift: largest, count: count, isa: isa)
            var expectedSum = 0.0
            for i in 0..<count {
                let e = Foundation.exp(Double(x[i] - largest))
                expectedSum += e
                #expect(Self.relativeError(y[i], e) < 4e-6, "\(isa) exp(x - max) at \(i) of \(count)")
            }
            #expect(abs(Double(sum) - expectedSum) / expectedSum < 1e-5, "\(isa) sum of \(count)")
            #expect(onlySum == sum, "\(isa) sum without storing, \(count)")
        }
    }

    @Test("RoPE rotation of runs of vectors: every d_k tail, both directions, into and onto the output",
          arguments: KernelISA.supported)
    func rope(_ isa: KernelISA) {
        for dK in [2, 6, 16, 18, 30, 32, 34, 64] {
            let half = dK / 2, count = 3
            let angles = (0..<half).map { 0.37 * Double($0 + 1) }
            let cosines = angles.map { Float(Foundation.cos($0)) }, sines = angles.map { Float(Foundation.sin($0)) }
            let x = (0..<(count * dK)).map { Float(Foundation.sin(Double($0) * 1.3) * 3) }
            let start = (0..<(count * dK)).map { Float(Foundation.cos(Double($0))) }
            for inverse in [false, true] {
                for accumulate in [false, true] {
                    var y = accumulate ? start : [Float](repeating: .nan, count: x.count)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            RoPE.rotate(xp.baseAddress!, into: yp.baseAddress!, count: count, dK: dK,
                                        cosines: cosines, sines: sines, inverse: inverse, accumulate: accumulate, isa: isa)
                        }
                    }
                    for v in 0..<count {
                        for k in 0..<half {
                            let x0 = Double(x[v * dK + 2 * k]), x1 = Double(x[v * dK + 2 * k + 1])
                            let c = Double(cosines[k]), sn = (inverse ? -1 : 1) * Double(sines[k])
                            for (lane, rotated) in [(2 * k, x0 * c - x1 * sn), (2 * k + 1, x0 * sn + x1 * c)] {
                                let i = v * dK + lane
                                let expected = rotated + (accumulate ? Double(start[i]) : 0)
                                #expect(abs(Double(y[i]) - expected) <= 1e-6 * 8,
                                        "\(isa) dK \(dK) inverse \(inverse) accumulate \(accumulate) element \(i): \(y[i]) vs \(expected)")
                            }
                        }
                    }
                }
            }
        }
    }
}

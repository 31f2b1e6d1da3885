import FableInterchange
import Foundation
import Testing

/// The q/k row reordering between RoPE's interleaved pairs (Fable, llama.cpp) and HF's
/// rotate-half layout, checked as mathematical identities.
@Suite struct RotaryLayoutTests {
    /// Rotates x (one head) by position m with pairs (2k, 2k+1): the CS336 / Fable form.
    func ropeInterleaved(_ x: [Double], position m: Int, theta: Double) -> [Double] {
        let d = x.count
        var out = x
        for k in 0..<(d / 2) {
            let angle = Double(m) * pow(theta, -2.0 * Double(k) / Double(d))
            out[2 * k] = x[2 * k] * cos(angle) - x[2 * k + 1] * sin(angle)
            out[2 * k + 1] = x[2 * k] * sin(angle) + x[2 * k + 1] * cos(angle)
        }
        return out
    }

    /// HF Llama's form: x * cos + rotate_half(x) * sin, with pairs (k, k + d/2).
    func ropeHalves(_ x: [Double], position m: Int, theta: Double) -> [Double] {
        let d = x.count, half = d / 2
        return (0..<d).map { i in
            let k = i % half
            let angle = Double(m) * pow(theta, -2.0 * Double(k) / Double(d))
            let rotated = i < half ? -x[i + half] : x[i - half]
            return x[i] * cos(angle) + rotated * sin(angle)
        }
    }

    func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<(rows * columns)).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    @Test("the two reorderings are inverses, and rows move as HF's permute() moves them", arguments: [(1, 2), (2, 4), (4, 8), (3, 16)])
    func inverse(heads: Int, headDim: Int) {
        let columns = 5
        let w = randomMatrix(rows: heads * headDim, columns: columns, seed: UInt64(heads * 100 + headDim))
        let halves = w.withUnsafeBufferPointer { RotaryLayout.interleavedToHalves($0, numHeads: heads, headDim: headDim) }
        let back = halves.withUnsafeBufferPointer { RotaryLayout.halvesToInterleaved($0, numHeads: heads, headDim: headDim) }
        #expect(back == w)
        // HF's permute: w.view(heads, d/2, 2, cols).transpose(1, 2): new row (h, p, k) = old row (h, k, p).
        for h in 0..<heads {
            for p in 0..<2 {
                for k in 0..<(headDim / 2) {
                    let new = h * headDim + p * headDim / 2 + k, old = h * headDim + 2 * k + p
                    #expect(Array(halves[(new * columns)..<((new + 1) * columns)]) == Array(w[(old * columns)..<((old + 1) * columns)]))
                }
            }
        }
    }

    @Test("attention scores agree: interleaved RoPE on W·x equals rotate-half RoPE on permuted W·x")
    func attentionScoresAgree() {
        let heads = 2, headDim = 8, dModel = 6, theta = 10_000.0
        let wq = randomMatrix(rows: heads * headDim, columns: dModel, seed: 1)
        let wk = randomMatrix(rows: heads * headDim, columns: dModel, seed: 2)
        let pq = wq.withUnsafeBufferPointer { RotaryLayout.interleavedToHalves($0, numHeads: heads, headDim: headDim) }
        let pk = wk.withUnsafeBufferPointer { RotaryLayout.interleavedToHalves($0, numHeads: heads, headDim: headDim) }
        let x = randomMatrix(rows: 1, columns: dModel, seed: 3).map(Double.init)
        let y = randomMatrix(rows: 1, columns: dModel, seed: 4).map(Double.init)
        func project(_ w: [Float], _ v: [Double], head: Int) -> [Double] {
            (0..<headDim).map { r in (0..<dModel).reduce(0.0) { $0 + Double(w[(head * headDim + r) * dModel + $1]) * v[$1] } }
        }
        for head in 0..<heads {
            for (m, n) in [(0, 0), (3, 1), (7, 5), (12, 2)] {
                let fable = zip(ropeInterleaved(project(wq, x, head: head), position: m, theta: theta),
                                ropeInterleaved(project(wk, y, head: head), position: n, theta: theta)).reduce(0) { $0 + $1.0 * $1.1 }
                let hf = zip(ropeHalves(project(pq, x, head: head), position: m, theta: theta),
                             ropeHalves(project(pk, y, head: head), position: n, theta: theta)).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(abs(fable - hf) < 1e-9, "head \(head), positions \(m), \(n)")
            }
        }
    }
}

import FableTestSupport
import Testing
@testable import FableTensor

/// The torch fixture: fp32 bit patterns and the bf16 bits `.to(torch.bfloat16)` gave.
private struct RoundingFixture: Decodable {
    let source: String
    let pairs: [[UInt32]]
}

private func bf16(_ value: Float) -> Float {
    HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: value))
}

@Suite("bf16 rounding")
struct BF16RoundingTests {
    @Test("the Swift helper rounds as torch does (ties to even, carries, overflow, subnormals)")
    func swiftHelperMatchesTorch() throws {
        let fixture = try TestData.jsonFixture("tensor/bf16_rounding.json", as: RoundingFixture.self)
        #expect(fixture.pairs.count > 50)
        for pair in fixture.pairs {
            let value = Float(bitPattern: pair[0])
            #expect(UInt32(HalfPrecision.bfloat16Bits(from: value)) == pair[1], "fp32 bits \(pair[0])")
        }
    }

    @Test("the packing's AVX-512 rounding gives torch's bits, and NaN stays NaN",
          .enabled(if: KernelISA.avx512.isSupported))
    func packingRoundingMatchesTorch() throws {
        let fixture = try TestData.jsonFixture("tensor/bf16_rounding.json", as: RoundingFixture.self)
        // 60 values: one full 32-lane chunk and a masked tail.
        let values = fixture.pairs.map { Float(bitPattern: $0[0]) }
        let bits = BF16GEMM.roundedBits(values)
        for (pair, rounded) in zip(fixture.pairs, bits) {
            #expect(UInt32(rounded) == pair[1], "fp32 bits \(pair[0])")
        }
        let nan = BF16GEMM.roundedBits([.nan, -.nan, Float(bitPattern: 0x7F80_0001)])
        #expect(nan.allSatisfy { HalfPrecision.float(fromBFloat16Bits: $0).isNaN })
    }
}

@Suite("bf16 GEMM", .enabled(if: BF16GEMM.isSupported))
struct BF16GEMMTests {
    /// GEMMCase's shapes plus ones past the bf16 blocks: 96 rows, 512 steps (256 pairs) with
    /// an odd tail, and 2048 columns.
    static var cases: [GEMMCase] {
        var cases = GEMMCase.all
        for (m, n, k) in [(97, 65, 1031), (25, 33, 513), (14, 2050, 2)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                cases.append(GEMMCase(m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: 0.5, beta: 2, padding: 1))
            }
        }
        return cases
    }

    @Test("matches the fp64 product of the bf16-rounded inputs, all transposes, odd shapes, alpha/beta",
          arguments: BF16GEMMTests.cases, BF16GEMM.Kernel.supported)
    func matchesRoundedReference(_ test: GEMMCase, kernel: BF16GEMM.Kernel) {
        // Products of bf16 values are exact in fp32: only the accumulation order differs.
        let result = test.check(BF16GEMM(kernel: kernel), threads: 2, rounding: bf16)
        #expect(result.error < 1e-5, "\(test) \(kernel)")
        #expect(result.paddingIntact, "wrote outside the (m, n) block: \(test)")
    }

    @Test("really rounds: against the unrounded fp32 inputs the error is bf16-sized",
          arguments: BF16GEMM.Kernel.supported)
    func differsFromFP32(kernel: BF16GEMM.Kernel) {
        let test = GEMMCase(m: 30, n: 40, k: 64)
        let error = test.check(BF16GEMM(kernel: kernel), threads: 1).error
        #expect(error > 1e-4 && error < 1e-2, "relative error \(error)")
    }

    @Test("bitwise identical results for any thread count", arguments: BF16GEMM.Kernel.supported)
    func deterministicAcrossThreads(kernel: BF16GEMM.Kernel) {
        // Tall products, where threads share each packed B block and claim row blocks (split
        // into parts of the block's slivers when there are few): two depth slices, then
        // two column blocks; both transposes of each operand, with beta.
        for (m, n, k) in [(150, 70, 601), (100, 2_100, 20)] {
            for (ta, tb) in [(false, true), (true, false)] {
                let results = productsByThreadCount(
                    BF16GEMM(kernel: kernel), m, n, k, transposeA: ta, transposeB: tb, beta: -1.5, seed: 11)
                #expect(bitwiseMismatch(results[0], results[1]) == nil, "\(m)x\(n)x\(k) tA=\(ta) tB=\(tb), 2 threads")
                #expect(bitwiseMismatch(results[0], results[2]) == nil, "\(m)x\(n)x\(k) tA=\(ta) tB=\(tb), 3 threads")
            }
        }
    }

    @Test("MatmulPrecision.bf16 routes tensor products, forward and backward, through the bf16 kernel")
    func precisionRoutesTensorProducts() {
        var rng = RandomGenerator(seed: 5)
        let xValues = (0..<(6 * 40)).map { _ in Float(rng.nextNormal()) }
        let wValues = (0..<(24 * 40)).map { _ in Float(rng.nextNormal()) }
        func run(_ precision: MatmulPrecision) -> (y: [Float], dx: [Float], dw: [Float]) {
            let x = Tensor(shape: [6, 40], data: xValues, requiresGrad: true)
            let w = Tensor(shape: [24, 40], data: wValues, requiresGrad: true)
            return precision.withProducts {
                let y = Tensor.linear(x, w)
                y.sum().backward()
                return (y.toArray(), x.grad!.toArray(), w.grad!.toArray())
            }
        }
        let full = run(.fp32), half = run(.bf16)
        // The forward product equals the reference product of the rounded inputs.
        var expected = [Float](repeating: 0, count: 6 * 24)
        ReferenceGEMM().sgemm(
            transposeA: false, transposeB: true, m: 6, n: 24, k: 40, alpha: 1,
            a: xValues.map(bf16), lda: 40, b: wValues.map(bf16), ldb: 40, beta: 0, c: &expected, ldc: 24, threads: 1)
        for (value, reference) in zip(half.y, expected) { #expect(abs(value - reference) <= 1e-5 * max(1, abs(reference))) }
        // Backward products round too: close to fp32, but not equal.
        #expect(half.dx != full.dx && half.dw != full.dw)
        for (h, f) in zip(half.dx + half.dw, full.dx + full.dw) { #expect(abs(h - f) <= 0.05 * max(1, abs(f))) }
    }
}

import Testing
@testable import FableCLI

@Suite("fable bench gemm")
struct BenchGEMMTests {
    @Test("the time-weighted rate is total FLOPs over total time, not the mean of the rates")
    func timeWeighted() {
        // 1 GFLOP at 1 GFLOP/s (1 s) and 3 GFLOP at 3 GFLOP/s (1 s): 4 GFLOP in 2 s.
        #expect(BenchGEMM.timeWeighted([(1, 1), (3, 3)]) == 2)
        // Equal rates give that rate, whatever the sizes.
        #expect(abs(BenchGEMM.timeWeighted([(0.5, 80), (84, 80), (7, 80)]) - 80) < 1e-9)
        // A slow product drags the whole down by the time it takes: 10 GFLOP at 100 and
        // 1 GFLOP at 1 take 0.1 s + 1 s.
        #expect(abs(BenchGEMM.timeWeighted([(10, 100), (1, 1)]) - 11 / 1.1) < 1e-9)
    }
}

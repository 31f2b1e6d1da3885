import Testing
@testable import FableTensor

@Suite("Parallel chunks")
struct ParallelTests {
    @Test("chunks cover every item exactly once", arguments: [1, 2, 3, 7, 64, 1001])
    func chunksCoverRange(count: Int) {
        for chunks in 1...5 {
            var seen = [Int](repeating: 0, count: count)
            for c in 0..<chunks {
                for i in Parallel.chunkRange(c, of: chunks, count: count) { seen[i] += 1 }
            }
            #expect(seen.allSatisfy { $0 == 1 })
        }
    }

    @Test func forEachChunkVisitsAll() {
        let n = 10_000
        let out = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
        defer { out.deallocate() }
        out.initialize(repeating: 0)
        Parallel.forEachChunk(n, minimumChunk: 100) { range in
            for i in range { out[i] += i }
        }
        #expect(out.enumerated().allSatisfy { $0.offset == $0.element })
    }
}

@Suite("Reference GEMM")
struct ReferenceGEMMTests {
    @Test("all four transpose forms match a hand-computed product")
    func transposes() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[7,8],[9,10],[11,12]] (3x2); A·B = [[58,64],[139,154]]
        let a: [Float] = [1, 2, 3, 4, 5, 6], aT: [Float] = [1, 4, 2, 5, 3, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12], bT: [Float] = [7, 9, 11, 8, 10, 12]
        let expected: [Float] = [58, 64, 139, 154]
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Float](repeating: 1, count: 4)
            let lhs = ta ? aT : a, rhs = tb ? bT : b
            ReferenceGEMM().sgemm(
                transposeA: ta, transposeB: tb, m: 2, n: 2, k: 3, alpha: 1,
                a: lhs, lda: ta ? 2 : 3, b: rhs, ldb: tb ? 3 : 2, beta: 0, c: &c, ldc: 2)
            #expect(c == expected)
        }
    }
}

@Suite("Parameter store")
struct ParameterStoreTests {
    @Test func layoutIsContiguousInOrder() {
        let store = ParameterStore(layout: [("a.weight", [2, 3]), ("b.weight", [4])])
        #expect(store.count == 10)
        #expect(store.entry(named: "b.weight")?.offset == 6)
        #expect(store.entry(named: "missing") == nil)
        store.values(of: store.entries[1]).update(repeating: 2)
        #expect(store.values[5] == 0 && store.values[6] == 2)
        store.gradients[0] = 3
        store.zeroGradients()
        #expect(store.gradients.allSatisfy { $0 == 0 })
    }
}

@Suite("Random generator")
struct RandomGeneratorTests {
    @Test func sameSeedSameStreamAndStateRoundTrip() throws {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        for _ in 0..<10 { #expect(a.next() == b.next()) }
        var c = try #require(RandomGenerator(stateWords: a.stateWords))
        #expect(a.next() == c.next())
        var d = RandomGenerator(seed: 1), e = RandomGenerator(seed: 2)
        #expect(d.next() != e.next())
    }

    @Test("normal samples have mean 0 and variance 1 within sampling error")
    func normalMoments() {
        var rng = RandomGenerator(seed: 7)
        let n = 200_000
        var sum = 0.0, sumSquares = 0.0
        for _ in 0..<n { let x = rng.nextNormal(); sum += x; sumSquares += x * x }
        let mean = sum / Double(n), variance = sumSquares / Double(n) - mean * mean
        #expect(abs(mean) < 0.01)  // standard error 0.0022
        #expect(abs(variance - 1) < 0.02)
    }

    @Test func bounded() {
        var rng = RandomGenerator(seed: 3)
        var seen = Set<Int>()
        for _ in 0..<1000 { let v = rng.nextInt(below: 5); #expect((0..<5).contains(v)); seen.insert(v) }
        #expect(seen.count == 5)
    }
}

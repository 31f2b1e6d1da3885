import Testing
@testable import FableTensor

// MARK: - A checked product against the oracle

/// One product with padded leading dimensions, compared with ``ReferenceGEMM``.
struct GEMMCase: CustomStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var transposeA = false, transposeB = false
    var alpha: Float = 1, beta: Float = 0
    /// Extra elements per stored row beyond the width, so lda/ldb/ldc exceed the widths.
    var padding = 0

    var description: String {
        "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) alpha=\(alpha) beta=\(beta) pad=\(padding)"
    }

    /// The shapes: tiny, odd, around the 6 x 8 tile, past the 72-row, 256-deep and
    /// 2048-column blocks.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (7, 13, 5), (65, 33, 129), (6, 8, 1), (5, 7, 3), (12, 16, 9),
        (150, 9, 4), (13, 17, 300), (2, 2100, 3), (1, 100, 7), (100, 1, 3), (3, 4, 0),
    ]

    /// Every shape in every transpose form, with default and unusual alpha/beta and padding.
    static var all: [GEMMCase] {
        var cases: [GEMMCase] = []
        for (index, (m, n, k)) in shapes.enumerated() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                cases.append(GEMMCase(m: m, n: n, k: k, transposeA: ta, transposeB: tb))
                let (alpha, beta): (Float, Float) = index % 2 == 0 ? (0.5, -1.5) : (2, 1)
                cases.append(GEMMCase(
                    m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                    alpha: alpha, beta: beta, padding: 3))
            }
        }
        return cases
    }

    /// Runs `backend` and the reference on the same seeded inputs; returns the worst error
    /// relative to `|alpha| Σ|a||b| + |beta c|` (the scale rounding errors grow with) and
    /// whether C's padding stayed untouched. The reference and the scale see the inputs
    /// through `rounding` (the bf16 kernel's rounding of its inputs); the backend sees them as they are.
    func check(
        _ backend: any GEMMBackend, threads: Int, rounding: (Float) -> Float = { $0 }
    ) -> (error: Float, paddingIntact: Bool) {
        let (aRows, aColumns) = transposeA ? (k, m) : (m, k)
        let (bRows, bColumns) = transposeB ? (n, k) : (k, n)
        let lda = max(1, aColumns + padding), ldb = max(1, bColumns + padding), ldc = n + padding
        var rng = RandomGenerator(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float(rng.nextNormal()) } }
        let a = random(max(1, aRows * lda)), b = random(max(1, bRows * ldb))
        let sentinel: Float = 12345
        var c0 = random(m * ldc)
        for i in 0..<m { for j in n..<ldc { c0[i * ldc + j] = sentinel } }
        var expected = c0, actual = c0
        let roundedA = a.map(rounding), roundedB = b.map(rounding)
        ReferenceGEMM().sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: roundedA, lda: lda, b: roundedB, ldb: ldb, beta: beta, c: &expected, ldc: ldc, threads: 1)
        backend.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &actual, ldc: ldc, threads: threads)

        var worst: Float = 0, intact = true
        for i in 0..<m {
            for j in 0..<ldc {
                let index = i * ldc + j
                if j >= n { intact = intact && actual[index] == sentinel; continue }
                var scale = abs(beta * c0[index])
                for p in 0..<k {
                    let x = transposeA ? roundedA[p * lda + i] : roundedA[i * lda + p]
                    let y = transposeB ? roundedB[j * ldb + p] : roundedB[p * ldb + j]
                    scale += abs(alpha * x * y)
                }
                let error = abs(actual[index] - expected[index]) / max(scale, 1e-30)
                worst = max(worst, error.isNaN ? .infinity : error)
            }
        }
        return (worst, intact)
    }
}

/// C from `backend` at each of `threadCounts`, on the same seeded inputs, for bitwise
/// comparisons across thread counts. C starts at 0.5 everywhere.
func productsByThreadCount(
    _ backend: any GEMMBackend, _ m: Int, _ n: Int, _ k: Int, transposeA: Bool = false, transposeB: Bool = false,
    alpha: Float = 1, beta: Float = 0, seed: UInt64, threadCounts: [Int] = [1, 2, 3]
) -> [[Float]] {
    var rng = RandomGenerator(seed: seed)
    let a = (0..<(m * k)).map { _ in Float(rng.nextNormal()) }
    let b = (0..<(k * n)).map { _ in Float(rng.nextNormal()) }
    return threadCounts.map { threads in
        var c = [Float](repeating: 0.5, count: m * n)
        backend.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n, beta: beta, c: &c, ldc: n,
            threads: threads)
        return c
    }
}

/// nil when `x` and `y` hold the same bits, else where they first differ and how many
/// elements do. (Comparing large arrays with `==` inside `#expect` makes a failing test
/// compute a diff of the arrays for many minutes.)
func bitwiseMismatch(_ x: [Float], _ y: [Float]) -> String? {
    guard x.count == y.count else { return "\(x.count) elements against \(y.count)" }
    let differing = x.indices.filter { x[$0].bitPattern != y[$0].bitPattern }
    guard let first = differing.first else { return nil }
    return "\(differing.count) of \(x.count) elements differ, first at \(first): \(x[first]) vs \(y[first])"
}

let loadedBLAS: BLASLibrary? = try? BLASLibrary.load().get()

// MARK: - Swift SIMD kernel

@Suite("Swift SIMD GEMM")
struct SIMDGEMMTests {
    @Test("matches the reference on odd shapes, all transposes, alpha/beta and padded strides",
          arguments: GEMMCase.all)
    func matchesReference(_ test: GEMMCase) {
        let result = test.check(SIMDGEMM(), threads: 2)
        #expect(result.error < 1e-5, "\(test)")
        #expect(result.paddingIntact, "wrote outside the (m, n) block: \(test)")
    }

    @Test("bitwise identical results for any thread count")
    func deterministicAcrossThreads() {
        let results = productsByThreadCount(SIMDGEMM(), 150, 70, 300, seed: 9)
        #expect(bitwiseMismatch(results[0], results[1]) == nil, "2 threads")
        #expect(bitwiseMismatch(results[0], results[2]) == nil, "3 threads")
    }

    @Test("beta 0 ignores NaN in C; alpha 0 only scales C")
    func betaZeroAndAlphaZero() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: .nan, count: 4)
        SIMDGEMM().sgemm(
            transposeA: false, transposeB: false, m: 2, n: 2, k: 2, alpha: 1,
            a: a, lda: 2, b: b, ldb: 2, beta: 0, c: &c, ldc: 2, threads: 1)
        #expect(c == [19, 22, 43, 50])
        SIMDGEMM().sgemm(
            transposeA: false, transposeB: false, m: 2, n: 2, k: 2, alpha: 0,
            a: a, lda: 2, b: b, ldb: 2, beta: 2, c: &c, ldc: 2, threads: 1)
        #expect(c == [38, 44, 86, 100])
    }
}

// MARK: - BLAS

@Suite("BLAS GEMM", .enabled(if: loadedBLAS != nil, "no BLAS library loads here (set FABLE_BLAS or install OpenBLAS)"))
struct BLASGEMMTests {
    @Test("matches the reference on odd shapes, all transposes, alpha/beta and padded strides",
          arguments: GEMMCase.all)
    func matchesReference(_ test: GEMMCase) throws {
        let backend = BLASBackend(library: try #require(loadedBLAS))
        let result = test.check(backend, threads: 2)
        #expect(result.error < 1e-5, "\(test)")
        #expect(result.paddingIntact, "wrote outside the (m, n) block: \(test)")
    }

    @Test("names its library and the file it came from")
    func describesLibrary() throws {
        let library = try #require(loadedBLAS)
        #expect(BLASBackend(library: library).name.contains(library.resolvedPath))
        #expect(!library.resolvedPath.isEmpty)
    }

    @Test("two names for one library file give one object")
    func sameFileSameObject() throws {
        let library = try #require(loadedBLAS)
        let again = try BLASLibrary.load(path: library.resolvedPath).get()
        #expect(again === library)
    }

    @Test("threads: 1 products from workers inside GEMM.forEachChunk are correct")
    func pinnedRegion() throws {
        let backend = BLASBackend(library: try #require(loadedBLAS))
        let test = GEMMCase(m: 33, n: 20, k: 17, alpha: 1, beta: 0)
        GEMM.withBackend(backend) {
            let items = 8
            let results = UnsafeMutableBufferPointer<Float>.allocate(capacity: items)
            defer { results.deallocate() }
            // Pinning is process-wide and other suites (attention) pin concurrently, so
            // only the state inside this region is checked.
            var pinnedInside = false
            GEMM.forEachChunk(items) { range in
                if range.lowerBound == 0 { pinnedInside = backend.library.isPinnedToSingleThread }
                for item in range {
                    results[item] = test.check(GEMM.backend, threads: 1).error
                }
            }
            #expect(results.allSatisfy { $0 < 1e-5 })
            #expect(pinnedInside)
        }
    }
}

// MARK: - Choosing a backend

@Suite("GEMM backend selection")
struct GEMMSelectionTests {
    @Test func explicitChoices() {
        #expect(GEMM.select(environment: ["FABLE_GEMM": "swift"]).backend is SIMDGEMM)
        #expect(GEMM.select(environment: ["FABLE_GEMM": "reference"]).backend is ReferenceGEMM)
        let unknown = GEMM.select(environment: ["FABLE_GEMM": "fastest"])
        #expect(unknown.warnings.count == 1 && unknown.warnings[0].contains("FABLE_GEMM=fastest"))
    }

    @Test("a BLAS that does not load falls back to Swift with one warning")
    func missingLibraryFallsBack() {
        let selection = GEMM.select(environment: ["FABLE_GEMM": "blas", "FABLE_BLAS": "/nonexistent/libnothing.so"])
        #expect(selection.backend is SIMDGEMM)
        #expect(selection.warnings.count == 1)
        #expect(selection.warnings.first?.contains("/nonexistent/libnothing.so") ?? false)
    }

    @Test("a library without cblas_sgemm is refused")
    func libraryWithoutSgemm() {
        #if os(Linux)
        let result = BLASLibrary.load(path: "libm.so.6")
        #expect(throws: BLASLoadError.missingSymbol(path: "libm.so.6", symbol: "cblas_sgemm")) {
            try result.get()
        }
        #endif
    }

    @Test("auto picks BLAS exactly when a library loads and no OPENBLAS_CORETYPE pins it")
    func automatic() {
        let loads = (try? BLASLibrary.load(environment: [:]).get()) != nil
        #expect((GEMM.select(environment: [:]).backend is BLASBackend) == loads)
    }
}

// MARK: - Entry points

@Suite("GEMM entry points")
struct GEMMEntryPointTests {
    /// The backends worth running the entry points on: Swift, and BLAS where it loads.
    static var backends: [any GEMMBackend] {
        [SIMDGEMM()] + (loadedBLAS.map { [BLASBackend(library: $0)] } ?? [])
    }

    @Test("GEMM.sgemm with threads: 1 and nil, through withBackend")
    func singleThreaded() {
        for backend in Self.backends {
            GEMM.withBackend(backend) {
                #expect(GEMM.backend.name == backend.name)
                let test = GEMMCase(m: 20, n: 30, k: 40, transposeB: true, alpha: 1.5, beta: 0.5, padding: 2)
                #expect(test.check(GEMMEntryAdapter(threads: 1), threads: 1).error < 1e-5, "\(backend.name)")
                #expect(test.check(GEMMEntryAdapter(threads: nil), threads: 1).error < 1e-5, "\(backend.name)")
            }
        }
    }

    @Test("batched products match one product per item", arguments: [2, 9])
    func batched(count: Int) {
        let m = 9, n = 11, k = 7
        var rng = RandomGenerator(seed: UInt64(count))
        let a = (0..<(count * m * k)).map { _ in Float(rng.nextNormal()) }
        let b = (0..<(k * n)).map { _ in Float(rng.nextNormal()) }  // shared: stride 0
        var expected = [Float](repeating: 0, count: count * m * n)
        for item in 0..<count {
            a.withUnsafeBufferPointer { a in
                expected.withUnsafeMutableBufferPointer { c in
                    ReferenceGEMM().sgemm(
                        transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1,
                        a: a.baseAddress! + item * m * k, lda: k, b: b, ldb: n,
                        beta: 0, c: c.baseAddress! + item * m * n, ldc: n, threads: 1)
                }
            }
        }
        for backend in Self.backends {
            var c = [Float](repeating: .nan, count: count * m * n)
            GEMM.withBackend(backend) {
                GEMM.sgemmBatched(
                    count: count, m: m, n: n, k: k, a: a, lda: k, strideA: m * k,
                    b: b, ldb: n, strideB: 0, c: &c, ldc: n, strideC: m * n)
            }
            let worst = zip(c, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "\(backend.name)")
        }
    }
}

/// Routes a backend call through `GEMM.sgemm` with a fixed `threads` argument.
struct GEMMEntryAdapter: GEMMBackend {
    let threads: Int?
    var name: String { "GEMM.sgemm(threads: \(threads.map(String.init) ?? "nil"))" }

    func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads _: Int
    ) {
        GEMM.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
            threads: threads)
    }
}

// MARK: - BLAS thread-count bookkeeping

@Suite("BLAS thread count")
struct BLASThreadCountTests {
    /// A library whose sgemm does nothing and whose thread setter records its calls.
    final class Recorder: @unchecked Sendable {
        var calls: [Int] = []
        lazy var library = BLASLibrary(
            requestedPath: "stand-in", resolvedPath: "stand-in", vendor: .openBLAS, details: nil,
            sgemm: { _, _, _, _, _, _, _, _, _, _, _, _, _, _ in },
            setThreads: { [unowned self] in self.calls.append($0) })
    }

    @Test("set only when the count changes; pinned to one inside withSingleThread, nesting")
    func bookkeeping() {
        let recorder = Recorder()
        let library = recorder.library
        library.applyThreadCount(2)
        library.applyThreadCount(2)
        #expect(recorder.calls == [2])
        library.applyThreadCount(3)
        #expect(recorder.calls == [2, 3])
        #expect(!library.isPinnedToSingleThread)
        library.withSingleThread {
            #expect(library.isPinnedToSingleThread)
            library.applyThreadCount(3)  // a product during the region stays single-threaded
            library.withSingleThread { #expect(library.isPinnedToSingleThread) }
            #expect(library.isPinnedToSingleThread)
        }
        #expect(!library.isPinnedToSingleThread)
        #expect(recorder.calls == [2, 3, 1])
        library.applyThreadCount(3)  // the next product after the region restores the count
        #expect(recorder.calls == [2, 3, 1, 3])
    }

    @Test("a threads: 1 product outside a pinned region never touches the library's count",
          .enabled(if: Parallel.threadCount > 1, "with one thread configured, such products go to the library"))
    func singleThreadedCallsLeaveCountAlone() {
        let recorder = Recorder()
        let backend = BLASBackend(library: recorder.library)
        let test = GEMMCase(m: 9, n: 10, k: 11, alpha: 1, beta: 0)
        #expect(test.check(backend, threads: 1).error < 1e-5)  // computed by the Swift fallback
        #expect(recorder.calls.isEmpty)
    }
}

extension GEMM {
    // MARK: - Parallel regions that multiply

    /// ``Parallel/forEachChunk(_:minimumChunk:_:)`` for bodies that call
    /// `GEMM.sgemm(..., threads: 1)`.
    ///
    /// With the BLAS backend the library is limited to one thread for the duration, so each
    /// worker's `threads: 1` products run in the BLAS library itself rather than in the
    /// (slower) Swift kernel. With other backends this is exactly `Parallel.forEachChunk`.
    /// Call it from the orchestrating thread; products elsewhere in the process during the
    /// region run single-threaded.
    ///
    /// - Parameters:
    ///   - count: the number of work items.
    ///   - minimumChunk: the fewest items worth a thread of their own.
    ///   - body: receives a half-open range of item indices; chunks never overlap.
    public static func forEachChunk(
        _ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        if let blas = backend as? BLASBackend {
            blas.library.withSingleThread {
                Parallel.forEachChunk(count, minimumChunk: minimumChunk, body)
            }
        } else {
            Parallel.forEachChunk(count, minimumChunk: minimumChunk, body)
        }
    }

    // MARK: - Batched products

    /// `count` independent products of the same shape, item `i` reading `a + i * strideA`,
    /// `b + i * strideB` and writing `c + i * strideC` (strides in elements; a stride of 0
    /// shares one matrix across the batch, as for a weight).
    ///
    /// Small products are spread over the threads one whole product per worker (each on
    /// one thread, see ``forEachChunk(_:minimumChunk:_:)``); large ones run one after
    /// another, each using every thread. The choice depends only on the shapes and the
    /// thread count, so results are deterministic. The items' C blocks must not overlap.
    /// Call from the orchestrating thread.
    public static func sgemmBatched(
        count: Int,
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        precondition(count >= 0, "GEMM.sgemmBatched: negative count")
        let threads = Parallel.threadCount
        // One product per worker pays off when there are enough products to share out
        // and each is too small to split well (under ~16 MFLOP).
        let perWorker = threads > 1 && count >= threads && 2 * m * n * k < (1 << 24)
        if perWorker {
            forEachChunk(count) { range in
                for item in range {
                    sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: alpha, a: a + item * strideA, lda: lda,
                        b: b + item * strideB, ldb: ldb,
                        beta: beta, c: c + item * strideC, ldc: ldc, threads: 1)
                }
            }
        } else {
            for item in 0..<count {
                sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                    alpha: alpha, a: a + item * strideA, lda: lda,
                    b: b + item * strideB, ldb: ldb,
                    beta: beta, c: c + item * strideC, ldc: ldc)
            }
        }
    }
}

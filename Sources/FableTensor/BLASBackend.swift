/// Matrix products through a CBLAS library loaded at run time (``BLASLibrary``).
///
/// Multi-threaded calls set the library's thread count to the requested count (by default
/// ``Parallel/threadCount``) when it differs from the last one set, so changing
/// `Parallel.threadCount` takes effect on the next product. Because that count is
/// process-wide, a `threads: 1` call (which may come from a worker thread) does not touch
/// it: it runs the pure-Swift kernel on the calling thread instead, unless the library is
/// pinned to one thread by ``GEMM/forEachChunk(_:minimumChunk:_:)``, or
/// `Parallel.threadCount` is 1 (then there are no workers, and the library is set to one
/// thread); in those cases it calls the library.
public struct BLASBackend: GEMMBackend {
    /// The library products go to.
    public let library: BLASLibrary
    /// Computes `threads: 1` products outside a pinned region, and any product whose
    /// sizes do not fit CBLAS's 32-bit integers.
    public let fallback = SIMDGEMM()

    /// Wraps a loaded library.
    public init(library: BLASLibrary) {
        self.library = library
    }

    /// The default library (``BLASLibrary/load(environment:)``), or nil when none loads.
    public init?() {
        guard case .success(let library) = BLASLibrary.load() else { return nil }
        self.library = library
    }

    public var name: String { library.summary }

    public func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int
    ) {
        GEMM.checkArguments(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            lda: lda, ldb: ldb, ldc: ldc)
        guard m > 0 && n > 0 else { return }
        let limit = Int(Int32.max)
        let fits = max(m, n, k, lda, ldb, ldc) <= limit
        // With Parallel.threadCount == 1 there are no worker threads, so a one-thread call
        // comes from the orchestrating thread and may set the library to one thread itself.
        let direct = threads > 1 ? fits : fits && (library.isPinnedToSingleThread || Parallel.threadCount == 1)
        guard direct else {
            fallback.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                threads: threads)
            return
        }
        if k == 0 {
            GEMM.scale(c, m: m, n: n, ldc: ldc, beta: beta)
            return
        }
        if threads > 1 || Parallel.threadCount == 1 { library.applyThreadCount(threads) }
        library.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// Single-precision general matrix multiply on row-major matrices:
/// `C = alpha * op(A) * op(B) + beta * C`, where `op(X)` is `X` or its transpose.
///
/// `op(A)` is (m, k), `op(B)` is (k, n) and `C` is (m, n). Leading dimensions are
/// the row strides of the matrices as stored (before the transpose), as in CBLAS.
/// When `beta` is 0, `C` is only written, never read (NaNs in it do not propagate).
///
/// Conforming types: ``ReferenceGEMM`` (the oracle), ``SIMDGEMM`` (pure Swift) and
/// ``BLASBackend`` (a CBLAS loaded at run time).
public protocol GEMMBackend: Sendable {
    /// A short name for logs and benchmarks, such as "openblas" or "swift-simd".
    var name: String { get }

    /// Computes the product with at most `threads` threads.
    ///
    /// - Parameter threads: 1 means "on the calling thread only": the call then starts no
    ///   threads and touches no process-wide state, so it is safe to make from many worker
    ///   threads at once. Larger values allow that many threads; such calls belong on the
    ///   thread that orchestrates the work, not inside a parallel region.
    func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int
    )
}

extension GEMMBackend {
    /// Computes the product with ``Parallel/threadCount`` threads.
    public func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
            threads: Parallel.threadCount)
    }
}

// MARK: - Reference

/// The straightforward triple loop, accumulated in Double: slow, but the oracle the
/// fast backends are tested against. Always runs on the calling thread.
public struct ReferenceGEMM: GEMMBackend {
    public init() {}
    public var name: String { "reference" }

    public func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                let previous = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(sum) + previous
            }
        }
    }
}

// MARK: - Entry point

/// The process-wide matrix-multiply entry point every kernel calls.
///
/// The backend is chosen once, at first use (see ``GEMM/backend``): a CBLAS library when
/// one loads, else the pure-Swift ``SIMDGEMM``; `FABLE_GEMM=blas|swift|reference` overrides.
public enum GEMM {
    /// `C = alpha * op(A) * op(B) + beta * C` on row-major matrices with the active backend.
    ///
    /// - Parameters:
    ///   - threads: `nil` (the default) uses ``Parallel/threadCount`` threads: call it so
    ///     from the orchestrating thread. Pass `1` from inside a parallel region (for
    ///     example attention over batch × heads, where each worker multiplies its own
    ///     small matrices): the product then runs entirely on the calling thread and is
    ///     safe to run from many workers at once. With the BLAS backend a `threads: 1` call
    ///     uses the pure-Swift kernel, because a BLAS library's thread count is process-wide,
    ///     except inside ``GEMM/forEachChunk(_:minimumChunk:_:)``, which pins the library to
    ///     one thread so its workers can call it directly, and when `Parallel.threadCount`
    ///     is 1 (no workers exist, so the library is simply set to one thread). For many
    ///     equal-shaped products prefer ``GEMM/sgemmBatched(count:transposeA:transposeB:m:n:k:alpha:a:lda:strideA:b:ldb:strideB:beta:c:ldc:strideC:)``.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        precondition(threads.map { $0 >= 1 } ?? true, "GEMM.sgemm: threads must be at least 1")
        backend.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
            threads: threads ?? Parallel.threadCount)
    }
}

// MARK: - Argument checks shared by the fast backends

extension GEMM {
    /// Checks the leading dimensions (internal invariants: callers compute them from shapes).
    @inline(__always)
    static func checkArguments(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        precondition(lda >= max(1, transposeA ? m : k), "GEMM: lda too small")
        precondition(ldb >= max(1, transposeB ? k : n), "GEMM: ldb too small")
        precondition(ldc >= max(1, n), "GEMM: ldc too small")
    }

    /// `C = beta * C` over an (m, n) block; beta 0 writes zeros without reading C.
    static func scale(
        _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int, beta: Float
    ) {
        guard beta != 1 else { return }
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}

/// Single-precision general matrix multiply on row-major matrices:
/// `C = alpha * op(A) * op(B) + beta * C`, where `op(X)` is `X` or its transpose.
///
/// `op(A)` is (m, k), `op(B)` is (k, n) and `C` is (m, n). Leading dimensions are
/// the row strides of the matrices as stored (before the transpose), as in CBLAS.
public protocol GEMMBackend: Sendable {
    /// A short name for logs and benchmarks, such as "openblas" or "swift-simd".
    var name: String { get }

    func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    )
}

/// The straightforward triple loop, accumulated in Double: slow, but the oracle the
/// fast backends are tested against.
public struct ReferenceGEMM: GEMMBackend {
    public init() {}
    public var name: String { "reference" }

    public func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
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

/// The process-wide matrix-multiply entry point every kernel calls.
public enum GEMM {
    /// The backend in use; chosen once at first use.
    public static var backend: any GEMMBackend { selectedBackend }

    nonisolated(unsafe) private static var selectedBackend: any GEMMBackend = ReferenceGEMM()

    /// `C = alpha * op(A) * op(B) + beta * C` on row-major matrices with the active backend.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        backend.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

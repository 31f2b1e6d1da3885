import FableTensor

/// Muon's orthogonalisation: five iterations of a quintic Newton–Schulz map that pushes
/// every singular value of a matrix towards 1, so `G = U S Vᵀ` becomes roughly `U Vᵀ`.
///
/// ```
/// X ← G / (‖G‖_F + 1e-7)
/// repeat: A ← X Xᵀ;  B ← b·A + c·A·A;  X ← a·X + B·X      (a, b, c) = (3.4445, −4.7750, 2.0315)
/// ```
///
/// The reference transposes tall matrices so the Gram matrix A is the small one. Here a
/// tall X uses the mirrored form `A ← XᵀX; X ← a·X + X·B`, which is the same map without
/// moving any data. Matrix products go through ``GEMM/sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
public enum NewtonSchulz {
    /// The quintic's coefficients (a, b, c) from Keller Jordan's Muon.
    public static let coefficients: (a: Float, b: Float, c: Float) = (3.4445, -4.7750, 2.0315)
    /// Added to the Frobenius norm before dividing.
    public static let normEpsilon: Float = 1e-7

    /// Scratch memory for one matrix shape; reuse it across steps to avoid allocation.
    public final class Workspace {
        public let rows: Int
        public let cols: Int
        let x: UnsafeMutablePointer<Float>
        let y: UnsafeMutablePointer<Float>
        let a: UnsafeMutablePointer<Float>
        let b: UnsafeMutablePointer<Float>

        /// Room for matrices of up to `capacity` elements whose smaller side is at most `side`.
        public init(rows: Int, cols: Int) {
            self.rows = rows
            self.cols = cols
            let side = min(rows, cols)
            x = .allocate(capacity: max(1, rows * cols))
            y = .allocate(capacity: max(1, rows * cols))
            a = .allocate(capacity: max(1, side * side))
            b = .allocate(capacity: max(1, side * side))
        }

        deinit {
            x.deallocate()
            y.deallocate()
            a.deallocate()
            b.deallocate()
        }
    }

    /// Orthogonalises the (rows × cols) row-major matrix `g` into `output` (may alias `g`).
    /// - Parameters:
    ///   - steps: Newton–Schulz iterations (Muon uses 5).
    ///   - workspace: scratch sized for (rows, cols); allocated here when nil.
    public static func orthogonalize(
        _ g: UnsafePointer<Float>, rows: Int, cols: Int, steps: Int = 5,
        into output: UnsafeMutablePointer<Float>, workspace: Workspace? = nil
    ) {
        let count = rows * cols
        guard count > 0 else { return }
        let work = workspace ?? Workspace(rows: rows, cols: cols)
        precondition(work.rows == rows && work.cols == cols, "Newton-Schulz workspace has the wrong shape")
        let (ca, cb, cc) = coefficients

        // X = G / (‖G‖ + eps); the norm is summed in Double, then rounded as PyTorch's is.
        var sumOfSquares = 0.0
        for i in 0..<count { sumOfSquares += Double(g[i]) * Double(g[i]) }
        let divisor = Float(sumOfSquares.squareRoot()) + normEpsilon
        var x = work.x, y = work.y
        for i in 0..<count { x[i] = g[i] / divisor }

        let wide = rows <= cols
        let side = wide ? rows : cols
        let a = work.a, b = work.b
        for _ in 0..<steps {
            if wide {
                // A = X Xᵀ (rows × rows)
                GEMM.sgemm(transposeA: false, transposeB: true, m: side, n: side, k: cols,
                           a: x, lda: cols, b: x, ldb: cols, c: a, ldc: side)
            } else {
                // A = Xᵀ X (cols × cols)
                GEMM.sgemm(transposeA: true, transposeB: false, m: side, n: side, k: rows,
                           a: x, lda: cols, b: x, ldb: cols, c: a, ldc: side)
            }
            // B = b·A + c·A·A
            b.update(from: a, count: side * side)
            GEMM.sgemm(m: side, n: side, k: side, alpha: cc, a: a, lda: side, b: a, ldb: side,
                       beta: cb, c: b, ldc: side)
            // Y = a·X + B·X (wide) or a·X + X·B (tall)
            y.update(from: x, count: count)
            if wide {
                GEMM.sgemm(m: rows, n: cols, k: rows, alpha: 1, a: b, lda: side, b: x, ldb: cols,
                           beta: ca, c: y, ldc: cols)
            } else {
                GEMM.sgemm(m: rows, n: cols, k: cols, alpha: 1, a: x, lda: cols, b: b, ldb: side,
                           beta: ca, c: y, ldc: cols)
            }
            swap(&x, &y)
        }
        output.update(from: x, count: count)
    }
}

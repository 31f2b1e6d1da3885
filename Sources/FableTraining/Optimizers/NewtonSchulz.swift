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

    /// Scratch memory for matrices up to a given size; reuse it across steps to avoid allocation.
    public final class Workspace {
        /// The most elements a matrix may have.
        public let capacity: Int
        /// The largest smaller side a matrix may have.
        public let sideCapacity: Int
        let x: UnsafeMutablePointer<Float>
        let y: UnsafeMutablePointer<Float>
        let a: UnsafeMutablePointer<Float>
        let b: UnsafeMutablePointer<Float>

        /// Room for one (rows × cols) matrix.
        public convenience init(rows: Int, cols: Int) {
            self.init(capacity: rows * cols, sideCapacity: min(rows, cols))
        }

        /// Room for any matrix of at most `capacity` elements whose smaller side is at most `sideCapacity`.
        public init(capacity: Int, sideCapacity: Int) {
            self.capacity = capacity
            self.sideCapacity = sideCapacity
            x = .allocate(capacity: max(1, capacity))
            y = .allocate(capacity: max(1, capacity))
            a = .allocate(capacity: max(1, sideCapacity * sideCapacity))
            b = .allocate(capacity: max(1, sideCapacity * sideCapacity))
        }

        deinit {
            x.deallocate()
            y.deallocate()
            a.deallocate()
            b.deallocate()
        }

        /// True when a (rows × cols) matrix fits.
        public func fits(rows: Int, cols: Int) -> Bool {
            rows * cols <= capacity && min(rows, cols) <= sideCapacity
        }
    }

    /// Orthogonalises the (rows × cols) row-major matrix `g` into `output` (may alias `g`).
    /// - Parameters:
    ///   - steps: Newton–Schulz iterations (Muon uses 5).
    ///   - workspace: scratch that fits (rows, cols); allocated here when nil.
    ///   - threads: passed to every product (see ``GEMM/sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:threads:)``):
    ///     nil for all threads from the orchestrating thread, 1 inside a ``GEMM/forEachChunk(_:minimumChunk:_:)`` worker.
    public static func orthogonalize(
        _ g: UnsafePointer<Float>, rows: Int, cols: Int, steps: Int = 5,
        into output: UnsafeMutablePointer<Float>, workspace: Workspace? = nil, threads: Int? = nil
    ) {
        let count = rows * cols
        guard count > 0 else { return }
        let work = workspace ?? Workspace(rows: rows, cols: cols)
        precondition(work.fits(rows: rows, cols: cols), "Newton-Schulz workspace too small")
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
                           a: x, lda: cols, b: x, ldb: cols, c: a, ldc: side, threads: threads)
            } else {
                // A = Xᵀ X (cols × cols)
                GEMM.sgemm(transposeA: true, transposeB: false, m: side, n: side, k: rows,
                           a: x, lda: cols, b: x, ldb: cols, c: a, ldc: side, threads: threads)
            }
            // B = b·A + c·A·A
            b.update(from: a, count: side * side)
            GEMM.sgemm(m: side, n: side, k: side, alpha: cc, a: a, lda: side, b: a, ldb: side,
                       beta: cb, c: b, ldc: side, threads: threads)
            // Y = a·X + B·X (wide) or a·X + X·B (tall)
            y.update(from: x, count: count)
            if wide {
                GEMM.sgemm(m: rows, n: cols, k: rows, alpha: 1, a: b, lda: side, b: x, ldb: cols,
                           beta: ca, c: y, ldc: cols, threads: threads)
            } else {
                GEMM.sgemm(m: rows, n: cols, k: cols, alpha: 1, a: x, lda: cols, b: b, ldb: side,
                           beta: ca, c: y, ldc: cols, threads: threads)
            }
            swap(&x, &y)
        }
        output.update(from: x, count: count)
    }
}

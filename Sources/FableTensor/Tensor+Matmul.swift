// Matrix products with batch dimensions, all through GEMM.sgemm.

/// The geometry of a (batched) matrix product `op(A) · op(B)`.
struct MatmulPlan {
    let m: Int, n: Int, k: Int
    let batches: Int
    let aStride: Int, bStride: Int  // elements between batch matrices; 0 when shared
    let lda: Int, ldb: Int
    let outShape: [Int]

    init(_ a: [Int], _ b: [Int], transposeA: Bool, transposeB: Bool) {
        precondition(a.count >= 2 && b.count >= 2, "matmul needs rank >= 2 operands, got \(a) and \(b)")
        let (ar, ac) = (a[a.count - 2], a[a.count - 1])
        let (br, bc) = (b[b.count - 2], b[b.count - 1])
        let m = transposeA ? ac : ar, ka = transposeA ? ar : ac
        let kb = transposeB ? bc : br, n = transposeB ? br : bc
        precondition(ka == kb, "matmul: inner dimensions differ for \(a)\(transposeA ? "ᵀ" : "") · \(b)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        precondition(batchA.isEmpty || batchB.isEmpty || batchA == batchB,
                     "matmul: batch dimensions \(batchA) and \(batchB) must match (or one operand be a matrix)")
        let batch = batchA.isEmpty ? batchB : batchA
        let batchCount = batch.reduce(1, *)
        lda = ac
        ldb = bc
        outShape = batch + [m, n]
        if batchB.isEmpty && !transposeA {
            // A stack of row-major matrices times one matrix is one tall product.
            self.m = m * batchCount
            batches = 1
        } else {
            self.m = m
            batches = batchCount
        }
        self.n = n
        self.k = ka
        aStride = batchA.isEmpty ? 0 : ar * ac
        bStride = batchB.isEmpty ? 0 : br * bc
    }
}

extension Tensor {
    /// The matrix product `op(a) · op(b)` over the last two axes, where `op` transposes
    /// when asked. Leading (batch) axes must match, or one operand may be a plain matrix
    /// shared by every batch entry.
    ///
    /// - Parameters:
    ///   - transposeA: use aᵀ (swap a's last two axes) without copying.
    ///   - transposeB: use bᵀ without copying; `linear` uses this for (out, in) weights.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let plan = MatmulPlan(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
        let out = Tensor(uninitialized: plan.outShape)
        let cStride = plan.m * plan.n
        for batch in 0..<plan.batches {
            GEMM.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: plan.m, n: plan.n, k: plan.k,
                a: a.data + batch * plan.aStride, lda: plan.lda,
                b: b.data + batch * plan.bStride, ldb: plan.ldb,
                c: out.data + batch * cStride, ldc: plan.n)
        }
        return record(out, "matmul", [a, b]) { _, grad in
            let (m, n, k) = (plan.m, plan.n, plan.k)
            a.accumulateGrad { ga, acc in
                for batch in 0..<plan.batches {
                    let beta: Float = acc || (plan.aStride == 0 && batch > 0) ? 1 : 0
                    let dC = grad + batch * cStride, bPtr = b.data + batch * plan.bStride
                    let dA = ga + batch * plan.aStride
                    if !transposeA {
                        // dA (m,k) = dC (m,n) · op(B)ᵀ
                        GEMM.sgemm(transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                                   a: dC, lda: n, b: bPtr, ldb: plan.ldb, beta: beta, c: dA, ldc: k)
                    } else {
                        // A is stored (k,m): dA = op(B) · dCᵀ
                        GEMM.sgemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                                   a: bPtr, lda: plan.ldb, b: dC, ldb: n, beta: beta, c: dA, ldc: m)
                    }
                }
            }
            b.accumulateGrad { gb, acc in
                for batch in 0..<plan.batches {
                    let beta: Float = acc || (plan.bStride == 0 && batch > 0) ? 1 : 0
                    let dC = grad + batch * cStride, aPtr = a.data + batch * plan.aStride
                    let dB = gb + batch * plan.bStride
                    if !transposeB {
                        // dB (k,n) = op(A)ᵀ · dC
                        GEMM.sgemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                                   a: aPtr, lda: plan.lda, b: dC, ldb: n, beta: beta, c: dB, ldc: n)
                    } else {
                        // B is stored (n,k): dB = dCᵀ · op(A)
                        GEMM.sgemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                                   a: dC, lda: n, b: aPtr, ldb: plan.lda, beta: beta, c: dB, ldc: k)
                    }
                }
            }
        }
    }

    /// `self · other` (see ``matmul(_:_:transposeA:transposeB:)``).
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeA: transposeA, transposeB: transposeB)
    }

    /// A bias-free linear layer: `x · Wᵀ` with `weight` shaped (out_features, in_features)
    /// as in PyTorch, over any leading dimensions of `x`.
    public static func linear(_ x: Tensor, _ weight: Tensor) -> Tensor {
        precondition(weight.rank == 2 && x.rank >= 2, "linear: needs x of rank >= 2 and weight (out, in), got \(x.shape) and \(weight.shape)")
        return matmul(x, weight, transposeB: true)
    }
}

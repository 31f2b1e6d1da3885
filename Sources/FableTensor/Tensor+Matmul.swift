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
        let (m, n, k) = (plan.m, plan.n, plan.k)
        GEMM.sgemmBatched(
            count: plan.batches, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            a: a.data, lda: plan.lda, strideA: plan.aStride, b: b.data, ldb: plan.ldb, strideB: plan.bStride,
            c: out.data, ldc: n, strideC: cStride)
        return record(out, "matmul", [a, b]) { _, grad in
            if let (ga, acc) = a.gradBuffer() {
                // One operand shared by every batch entry sums its gradient over the batch:
                // those products run one after another with beta = 1.
                let shared = plan.aStride == 0 && plan.batches > 1
                for batch in 0..<(shared ? plan.batches : 1) {
                    let beta: Float = acc || batch > 0 ? 1 : 0
                    let count = shared ? 1 : plan.batches
                    let dC = grad + batch * cStride, bPtr = b.data + batch * plan.bStride
                    if !transposeA {
                        // dA (m,k) = dC (m,n) · op(B)ᵀ
                        GEMM.sgemmBatched(
                            count: count, transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                            a: dC, lda: n, strideA: cStride, b: bPtr, ldb: plan.ldb, strideB: plan.bStride,
                            beta: beta, c: ga, ldc: k, strideC: plan.aStride)
                    } else {
                        // A is stored (k,m): dA = op(B) · dCᵀ
                        GEMM.sgemmBatched(
                            count: count, transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                            a: bPtr, lda: plan.ldb, strideA: plan.bStride, b: dC, ldb: n, strideB: cStride,
                            beta: beta, c: ga, ldc: m, strideC: plan.aStride)
                    }
                }
            }
            if let (gb, acc) = b.gradBuffer() {
                let shared = plan.bStride == 0 && plan.batches > 1
                for batch in 0..<(shared ? plan.batches : 1) {
                    let beta: Float = acc || batch > 0 ? 1 : 0
                    let count = shared ? 1 : plan.batches
                    let dC = grad + batch * cStride, aPtr = a.data + batch * plan.aStride
                    if !transposeB {
                        // dB (k,n) = op(A)ᵀ · dC
                        GEMM.sgemmBatched(
                            count: count, transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                            a: aPtr, lda: plan.lda, strideA: plan.aStride, b: dC, ldb: n, strideB: cStride,
                            beta: beta, c: gb, ldc: n, strideC: plan.bStride)
                    } else {
                        // B is stored (n,k): dB = dCᵀ · op(A)
                        GEMM.sgemmBatched(
                            count: count, transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                            a: dC, lda: n, strideA: cStride, b: aPtr, ldb: plan.lda, strideB: plan.aStride,
                            beta: beta, c: gb, ldc: k, strideC: plan.bStride)
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

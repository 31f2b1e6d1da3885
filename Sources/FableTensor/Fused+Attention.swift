// Fused scaled dot-product attention: per (batch, head) item, scores are computed,
// normalised and used in one worker's scratch buffer; only the output and one log-sum-exp
// per query row are kept for the backward pass, which recomputes the probabilities.

/// Where the head axis sits in attention inputs.
public enum AttentionLayout: Sendable {
    /// (..., heads, T, d): the CS336 layout, any number of leading axes.
    case headsFirst
    /// (batch, T, heads, d): the layout a linear projection reshaped to (B, T, H, d) has
    /// already, so no transpose copy is needed before or after attention.
    case sequenceFirst
}

/// The geometry of one attention call: item count, sizes, and where each item's rows sit.
struct AttentionGeometry {
    let items: Int, tq: Int, tk: Int, d: Int, dv: Int
    let heads: Int
    let layout: AttentionLayout
    let outShape: [Int]
    // Row strides of q, k, v and the output.
    let qStride: Int, kStride: Int, vStride: Int, oStride: Int

    init(_ q: [Int], _ k: [Int], _ v: [Int], layout: AttentionLayout) {
        self.layout = layout
        switch layout {
        case .headsFirst:
            precondition(q.count >= 2 && k.count == q.count && v.count == q.count,
                         "attention: q \(q), k \(k), v \(v) must have equal rank >= 2")
            precondition(q.dropLast(2) == k.dropLast(2) && k.dropLast(2) == v.dropLast(2),
                         "attention: leading axes of q \(q), k \(k), v \(v) differ")
            tq = q[q.count - 2]; d = q[q.count - 1]
            tk = k[k.count - 2]; dv = v[v.count - 1]
            precondition(k.last == d && v[v.count - 2] == tk, "attention: k \(k) or v \(v) does not fit q \(q)")
            items = q.dropLast(2).reduce(1, *)
            heads = 1
            outShape = Array(q.dropLast()) + [dv]
            (qStride, kStride, vStride, oStride) = (d, d, dv, dv)
        case .sequenceFirst:
            precondition(q.count == 4 && k.count == 4 && v.count == 4,
                         "attention: sequenceFirst inputs are (batch, T, heads, d); got \(q), \(k), \(v)")
            precondition(q[0] == k[0] && k[0] == v[0] && q[2] == k[2] && k[2] == v[2] && k[1] == v[1] && q[3] == k[3],
                         "attention: q \(q), k \(k), v \(v) do not fit together")
            tq = q[1]; tk = k[1]; heads = q[2]; d = q[3]; dv = v[3]
            items = q[0] * heads
            outShape = [q[0], tq, heads, dv]
            (qStride, kStride, vStride, oStride) = (heads * d, heads * d, heads * dv, heads * dv)
        }
    }

    /// Element offset of item `item`'s first row in a tensor with `t` rows of width `w`.
    @inline(__always)
    func offset(_ item: Int, rows t: Int, width w: Int) -> Int {
        switch layout {
        case .headsFirst: return item * t * w
        case .sequenceFirst: return (item / heads) * t * heads * w + (item % heads) * w
        }
    }
}

extension Tensor {
    /// Softmax(q kᵀ / sqrt(d) + mask) v for every (batch, head) item, in parallel over items.
    ///
    /// - Parameters:
    ///   - query: (..., heads, Tq, d), or (batch, Tq, heads, d) with `.sequenceFirst`.
    ///   - key: like `query` with Tk rows.
    ///   - value: like `key` with width dv.
    ///   - causal: query `i` sees keys `0...i + (Tk - Tq)` (the bottom-right alignment a
    ///     KV cache needs; the usual lower triangle when Tq == Tk).
    ///   - mask: optional, true where a query may attend to a key (CS336 and PyTorch
    ///     convention), combined with `causal`: either Tq·Tk values shared by every item or
    ///     items·Tq·Tk values, row-major over (items, Tq, Tk). A query row with no allowed
    ///     key outputs zeros.
    ///   - layout: where the head axis sits.
    /// - Returns: (..., heads, Tq, dv), or (batch, Tq, heads, dv) with `.sequenceFirst`.
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, causal: Bool = true, mask: [Bool]? = nil,
        layout: AttentionLayout = .headsFirst
    ) -> Tensor {
        let g = AttentionGeometry(query.shape, key.shape, value.shape, layout: layout)
        if let mask {
            precondition(mask.count == g.tq * g.tk || mask.count == g.items * g.tq * g.tk,
                         "attention: mask of \(mask.count) values fits neither Tq·Tk = \(g.tq * g.tk) nor items·Tq·Tk")
        }
        let needs = [query, key, value].filter(\.requiresGrad)
        precondition(Set(needs.map(ObjectIdentifier.init)).count == needs.count,
                     "attention: pass distinct tensors for query, key and value when they require grad")
        let scale = 1 / Float(g.d).squareRoot()
        let out = Tensor(uninitialized: g.outShape)
        let lse = TensorStorage(uninitializedCount: g.items * g.tq)
        let maskFloats: [Float]? = mask.map { $0.map { $0 ? 1 : 0 } }
        let kernel = AttentionKernel(
            g: g, scale: scale, causal: causal, q: query.data, k: key.data, v: value.data, o: out.data, lse: lse.base,
            sharedMask: (mask?.count ?? 0) == g.tq * g.tk)
        withOptionalBuffer(maskFloats) { maskP in
            GEMM.forEachChunk(g.items) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: g.tq * g.tk)
                defer { scratch.deallocate() }
                for item in range { kernel.forward(item, mask: maskP, scores: scratch) }
            }
        }
        return record(out, "attention", [query, key, value]) { out, grad in
            // The kernel holds raw pointers: keep the log-sum-exp buffer alive until here.
            withExtendedLifetime(lse) {}
            let dq = query.gradBuffer(), dk = key.gradBuffer(), dv = value.gradBuffer()
            withOptionalBuffer(maskFloats) { maskP in
                GEMM.forEachChunk(g.items) { range in
                    let p = UnsafeMutablePointer<Float>.allocate(capacity: 2 * g.tq * g.tk)
                    defer { p.deallocate() }
                    for item in range {
                        kernel.backward(item, mask: maskP, dO: grad, dQ: dq, dK: dk, dV: dv, p: p, dP: p + g.tq * g.tk)
                    }
                }
            }
        }
    }

    fileprivate static func withOptionalBuffer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// The per-item attention work; raw pointers so worker threads share it freely.
private struct AttentionKernel {
    let g: AttentionGeometry
    let scale: Float
    let causal: Bool
    let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let o: UnsafeMutablePointer<Float>
    let lse: UnsafeMutablePointer<Float>
    /// True when one (Tq, Tk) mask serves every item.
    let sharedMask: Bool

    /// Causal rows are processed in blocks so keys no row of the block can see are skipped.
    var blockRows: Int { causal ? 64 : Swift.max(g.tq, 1) }

    /// The number of leading keys row `i` may see because of causality.
    @inline(__always) func limit(_ i: Int) -> Int {
        causal ? Swift.max(0, Swift.min(g.tk, i + g.tk - g.tq + 1)) : g.tk
    }

    /// Single-threaded product for use inside a parallel region.
    @inline(__always)
    func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ kk: Int, _ alpha: Float,
              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        GEMM.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: kk, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: 1)
    }

    /// Masks row `i` of the scores in place (disallowed -> -inf) over its first `n` keys.
    @inline(__always)
    func applyMask(_ row: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int, _ item: Int, _ mask: UnsafePointer<Float>?) {
        guard let mask else { return }
        let base = mask + (sharedMask ? 0 : item * g.tq * g.tk) + i * g.tk
        for j in 0..<n where base[j] == 0 { row[j] = -.infinity }
    }

    // MARK: Forward

    func forward(_ item: Int, mask: UnsafePointer<Float>?, scores: UnsafeMutablePointer<Float>) {
        let (tq, tk) = (g.tq, g.tk)
        let qi = q + g.offset(item, rows: tq, width: g.d)
        let ki = k + g.offset(item, rows: tk, width: g.d)
        let vi = v + g.offset(item, rows: tk, width: g.dv)
        let oi = o + g.offset(item, rows: tq, width: g.dv)
        var i0 = 0
        while i0 < tq {
            let i1 = Swift.min(tq, i0 + blockRows)
            let keys = limit(i1 - 1)
            if keys > 0 {
                // S[i0..<i1, 0..<keys] = scale · Q Kᵀ
                gemm(false, true, i1 - i0, keys, g.d, scale, qi + i0 * g.qStride, g.qStride, ki, g.kStride,
                     0, scores + i0 * tk, tk)
            }
            for i in i0..<i1 {
                let row = scores + i * tk
                let n = limit(i)
                applyMask(row, i, n, item, mask)
                let m = n > 0 ? Vector.max(row, count: n) : -.infinity
                if m == -.infinity {
                    // No visible key: zero probabilities, zero output, +inf log-sum-exp.
                    row.update(repeating: 0, count: Swift.max(keys, 0))
                    lse[item * tq + i] = .infinity
                    continue
                }
                let s = Vector.expShifted(row, shift: m, into: row, count: n)
                Vector.scale(1 / s, row, into: row, count: n, accumulate: false)
                if keys > n { (row + n).update(repeating: 0, count: keys - n) }
                lse[item * tq + i] = m + libmLog(s)
            }
            if keys > 0 {
                // O[i0..<i1] = P V
                gemm(false, false, i1 - i0, g.dv, keys, 1, scores + i0 * tk, tk, vi, g.vStride,
                     0, oi + i0 * g.oStride, g.oStride)
            } else {
                for i in i0..<i1 { (oi + i * g.oStride).update(repeating: 0, count: g.dv) }
            }
            i0 = i1
        }
    }

    // MARK: Backward

    func backward(
        _ item: Int, mask: UnsafePointer<Float>?, dO: UnsafePointer<Float>,
        dQ: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
        dK: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
        dV: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
        p: UnsafeMutablePointer<Float>, dP: UnsafeMutablePointer<Float>
    ) {
        let (tq, tk, d, dv) = (g.tq, g.tk, g.d, g.dv)
        let qOff = g.offset(item, rows: tq, width: d), kOff = g.offset(item, rows: tk, width: d)
        let vOff = g.offset(item, rows: tk, width: dv), oOff = g.offset(item, rows: tq, width: dv)
        let qi = q + qOff, ki = k + kOff, vi = v + vOff, oi = o + oOff, dOi = dO + oOff
        // dK and dV sum over row blocks: start them at zero when their buffers are fresh.
        func zeroRows(_ buffer: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?, _ off: Int, _ rows: Int, _ width: Int, _ stride: Int) {
            guard let buffer, !buffer.accumulate else { return }
            for r in 0..<rows { (buffer.pointer + off + r * stride).update(repeating: 0, count: width) }
        }
        zeroRows(dK, kOff, tk, d, g.kStride)
        zeroRows(dV, vOff, tk, dv, g.vStride)
        var i0 = 0
        while i0 < tq {
            let i1 = Swift.min(tq, i0 + blockRows), rows = i1 - i0
            let keys = limit(i1 - 1)
            if keys <= 0 {
                zeroRows(dQ, qOff + i0 * g.qStride, rows, d, g.qStride)
                i0 = i1
                continue
            }
            // Recompute P[i0..<i1, 0..<keys] = exp(scale · Q Kᵀ - lse).
            gemm(false, true, rows, keys, d, scale, qi + i0 * g.qStride, g.qStride, ki, g.kStride, 0, p + i0 * tk, tk)
            for i in i0..<i1 {
                let row = p + i * tk
                let n = limit(i)
                applyMask(row, i, n, item, mask)
                let l = lse[item * tq + i]
                if l == .infinity {
                    row.update(repeating: 0, count: keys)
                } else {
                    _ = Vector.expShifted(row, shift: l, into: row, count: n)
                    if keys > n { (row + n).update(repeating: 0, count: keys - n) }
                }
            }
            if let dV {
                // dV[0..<keys] += Pᵀ dO
                gemm(true, false, keys, dv, rows, 1, p + i0 * tk, tk, dOi + i0 * g.oStride, g.oStride,
                     1, dV.pointer + vOff, g.vStride)
            }
            if dQ != nil || dK != nil {
                // dP = dO Vᵀ, then dS = P (dP - rowsum(dO ∘ O)) · scale, in place in dP.
                gemm(false, true, rows, keys, dv, 1, dOi + i0 * g.oStride, g.oStride, vi, g.vStride, 0, dP + i0 * tk, tk)
                for i in i0..<i1 {
                    let delta = Vector.dot(dOi + i * g.oStride, oi + i * g.oStride, count: dv)
                    let pr = p + i * tk, dr = dP + i * tk
                    let dl = Vector.V(repeating: delta), sc = Vector.V(repeating: scale)
                    var j = 0
                    while j + 8 <= keys {
                        Vector.store(Vector.load(pr + j) * (Vector.load(dr + j) - dl) * sc, dr + j)
                        j += 8
                    }
                    while j < keys { dr[j] = pr[j] * (dr[j] - delta) * scale; j += 1 }
                }
                if let dQ {
                    gemm(false, false, rows, d, keys, 1, dP + i0 * tk, tk, ki, g.kStride,
                         dQ.accumulate ? 1 : 0, dQ.pointer + qOff + i0 * g.qStride, g.qStride)
                }
                if let dK {
                    gemm(true, false, keys, d, rows, 1, dP + i0 * tk, tk, qi + i0 * g.qStride, g.qStride,
                         1, dK.pointer + kOff, g.kStride)
                }
            }
            i0 = i1
        }
    }
}

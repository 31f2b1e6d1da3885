import FableTensor

/// The raw-pointer kernels of the inference pass (no autograd, no allocation per call):
/// projections, RMSNorm, the feed-forward gate and attention over a ``KVCache``.
///
/// They compute the same formulas, in the same order, as FableTensor's fused training
/// ops, so cached and uncached logits agree to rounding.
enum InferenceKernels {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    // MARK: - Projections

    /// `y[i, j] = Σ_p x[i, p] · w[j, p]`: a bias-free linear layer over `m` rows.
    /// - Parameters:
    ///   - x: (m, k) row-major.
    ///   - w: (n, k), the PyTorch Linear layout.
    ///   - y: (m, n) with row stride `ldy` (≥ n).
    static func project(
        _ x: UnsafePointer<Float>, rows m: Int, inFeatures k: Int,
        weight w: UnsafePointer<Float>, outFeatures n: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        guard m > 0 && n > 0 else { return }
        // Above the limit GEMM wins despite packing the weights (TransformerLM.matrixVectorRowLimit).
        if m > TransformerLM.matrixVectorRowLimit {
            GEMM.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: k,
                       a: x, lda: k, b: w, ldb: k, c: y, ldc: ldy)
            return
        }
        // Enough weight rows per chunk that a thread's share outweighs its start-up.
        let minimumChunk = max(4, 65_536 / max(k * m, 1))
        if m <= streamingRowLimit {
            Parallel.forEachChunk(n, minimumChunk: minimumChunk) { range in
                streamRows(x, rows: m, k: k, weight: w, columns: range, into: y, ldy: ldy)
            }
            return
        }
        Parallel.forEachChunk(n, minimumChunk: minimumChunk) { range in
            var j = range.lowerBound
            while j + 4 <= range.upperBound {
                let w0 = w + j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
                for i in 0..<m {
                    let xi = x + i * k
                    var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                    var p = 0
                    while p + 8 <= k {
                        let xv = load(xi + p)
                        a0 += load(w0 + p) * xv
                        a1 += load(w1 + p) * xv
                        a2 += load(w2 + p) * xv
                        a3 += load(w3 + p) * xv
                        p += 8
                    }
                    var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                    while p < k {
                        let xv = xi[p]
                        s0 += w0[p] * xv; s1 += w1[p] * xv; s2 += w2[p] * xv; s3 += w3[p] * xv
                        p += 1
                    }
                    let out = y + i * ldy + j
                    out[0] = s0; out[1] = s1; out[2] = s2; out[3] = s3
                }
                j += 4
            }
            while j < range.upperBound {
                for i in 0..<m { y[i * ldy + j] = dot(x + i * k, w + j * k, count: k) }
                j += 1
            }
        }
    }

    /// Up to this many input rows, ``project`` reads the weights as one sequential stream
    /// (one weight row at a time, kept in L1 for every input row); above it, four weight
    /// rows at once so each input load serves four products. Measured on this project's
    /// 2-core Zen 5 VM (tinystories-17m decoding, BENCHMARKS.md): the sequential stream is
    /// 1.4x faster at batch 1, 1.5x at 2, about level at 4; the four-row kernel wins at 6-8.
    static let streamingRowLimit = 4

    /// `y[i, j] = w[j] · x[i]` for `j` in `columns`: each weight row read once, front to
    /// back, with four independent accumulators.
    @inline(__always)
    static func streamRows(
        _ x: UnsafePointer<Float>, rows m: Int, k: Int, weight w: UnsafePointer<Float>,
        columns: Range<Int>, into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        for j in columns {
            let row = w + j * k
            for i in 0..<m {
                let xi = x + i * k
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                var p = 0
                while p + 32 <= k {
                    a0 += load(row + p) * load(xi + p)
                    a1 += load(row + p + 8) * load(xi + p + 8)
                    a2 += load(row + p + 16) * load(xi + p + 16)
                    a3 += load(row + p + 24) * load(xi + p + 24)
                    p += 32
                }
                while p + 8 <= k { a0 += load(row + p) * load(xi + p); p += 8 }
                var s = ((a0 + a1) + (a2 + a3)).sum()
                while p < k { s += row[p] * xi[p]; p += 1 }
                y[i * ldy + j] = s
            }
        }
    }

    /// The dot product of two vectors, eight lanes at a time.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V(), p = 0
        while p + 8 <= count { acc += load(a + p) * load(b + p); p += 8 }
        var s = acc.sum()
        while p < count { s += a[p] * b[p]; p += 1 }
        return s
    }

    // MARK: - Elementwise

    /// RMSNorm of `rows` rows of width `d` (`y` may be `x`): `x · r · g` with
    /// `r = 1 / sqrt(mean(x²) + eps)`, as ``Tensor/rmsNorm(_:gain:eps:)``.
    static func rmsNorm(
        _ x: UnsafePointer<Float>, rows: Int, width d: Int, gain g: UnsafePointer<Float>, eps: Float,
        into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 16_384 / max(d, 1))) { range in
            for row in range {
                let src = x + row * d, dst = y + row * d
                let r = 1 / (Vector.dot(src, src, count: d) / Float(d) + eps).squareRoot()
                let rv = V(repeating: r)
                var i = 0
                while i + 8 <= d { store(load(src + i) * rv * load(g + i), dst + i); i += 8 }
                while i < d { dst[i] = src[i] * r * g[i]; i += 1 }
            }
        }
    }

    /// `a = silu(a) · b` (SwiGLU's gate), or `a = silu(a)` when `b` is nil, over `count` values.
    static func gate(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>?, count: Int) {
        Parallel.forEachChunk(count, minimumChunk: 16_384) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let x = load(a + i)
                var v = x / (1 + Vector.exp(-x))
                if let b { v = v * load(b + i) }
                store(v, a + i)
                i += 8
            }
            while i < range.upperBound {
                let x = a[i]
                var v = x / (1 + Vector.exp(-x))
                if let b { v = v * b[i] }
                a[i] = v
                i += 1
            }
        }
    }

    // MARK: - Attention over the cache

    /// Causal attention of `t` new positions per row against every cached position.
    ///
    /// - Parameters:
    ///   - qkv: (batch · t, 3 · d_model) rows holding each position's rotated query, key and
    ///     value heads; only the queries are read (keys and values are already in the cache).
    ///   - keys, values: one layer's cache buffers.
    ///   - start: the position of the first new token; query `i` of a row sees keys
    ///     `0...start + i`.
    ///   - out: (batch · t, d_model), heads side by side.
    static func attention(
        qkv: UnsafePointer<Float>, batch: Int, newPositions t: Int, start: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cache: KVCache,
        out: UnsafeMutablePointer<Float>
    ) {
        let heads = cache.numHeads, dh = cache.headDim, d = heads * dh
        let total = start + t
        let scale = 1 / Float(dh).squareRoot()
        let items = batch * heads
        let headStride = cache.headStride, rowStride = cache.rowStride
        if t == 1 {
            // One query per item: dot products and weighted sums, no GEMM.
            Parallel.forEachChunk(items, minimumChunk: max(1, 4_096 / max(total * dh, 1))) { range in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: total)
                defer { scores.deallocate() }
                for item in range {
                    let b = item / heads, h = item % heads
                    let q = qkv + b * 3 * d + h * dh
                    let k = keys + b * rowStride + h * headStride
                    let v = values + b * rowStride + h * headStride
                    for j in 0..<total { scores[j] = scale * dot(q, k + j * dh, count: dh) }
                    let m = Vector.max(scores, count: total)
                    let s = Vector.expShifted(scores, shift: m, into: scores, count: total)
                    Vector.scale(1 / s, scores, into: scores, count: total, accumulate: false)
                    weightedSum(scores, rows: v, count: total, width: dh, into: out + b * d + h * dh)
                }
            }
            return
        }
        GEMM.forEachChunk(items) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: t * total)
            defer { scores.deallocate() }
            for item in range {
                let b = item / heads, h = item % heads
                let q = qkv + b * t * 3 * d + h * dh
                let k = keys + b * rowStride + h * headStride
                let v = values + b * rowStride + h * headStride
                // S = scale · Q Kᵀ, (t, total)
                GEMM.sgemm(transposeA: false, transposeB: true, m: t, n: total, k: dh, alpha: scale,
                           a: q, lda: 3 * d, b: k, ldb: dh, beta: 0, c: scores, ldc: total, threads: 1)
                for i in 0..<t {
                    let row = scores + i * total
                    let visible = start + i + 1
                    let m = Vector.max(row, count: visible)
                    let s = Vector.expShifted(row, shift: m, into: row, count: visible)
                    Vector.scale(1 / s, row, into: row, count: visible, accumulate: false)
                    if total > visible { (row + visible).update(repeating: 0, count: total - visible) }
                }
                // O = P V, (t, d_head) into the heads' columns
                GEMM.sgemm(transposeA: false, transposeB: false, m: t, n: dh, k: total, alpha: 1,
                           a: scores, lda: total, b: v, ldb: dh, beta: 0, c: out + b * t * d + h * dh, ldc: d,
                           threads: 1)
            }
        }
    }

    /// `out = Σ_j weights[j] · rows[j]` over `count` rows of `width`.
    @inline(__always)
    static func weightedSum(
        _ weights: UnsafePointer<Float>, rows: UnsafePointer<Float>, count: Int, width: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        out.update(repeating: 0, count: width)
        for j in 0..<count {
            let wv = V(repeating: weights[j]), w = weights[j], row = rows + j * width
            var i = 0
            while i + 8 <= width { store(load(out + i) + wv * load(row + i), out + i); i += 8 }
            while i < width { out[i] += w * row[i]; i += 1 }
        }
    }
}

// MARK: - Weights from tensors

extension InferenceKernels {
    /// ``project(_:rows:inFeatures:weight:outFeatures:into:ldy:)`` reading the weight
    /// tensor's elements for the length of the call.
    static func project(
        _ x: UnsafePointer<Float>, rows m: Int, inFeatures k: Int, weight: Tensor, outFeatures n: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        weight.withUnsafeBufferPointer { w in
            project(x, rows: m, inFeatures: k, weight: w.baseAddress!, outFeatures: n, into: y, ldy: ldy)
        }
    }

    /// ``rmsNorm(_:rows:width:gain:eps:into:)`` reading the gain tensor's elements for the
    /// length of the call.
    static func rmsNorm(
        _ x: UnsafePointer<Float>, rows: Int, width d: Int, gain: Tensor, eps: Float, into y: UnsafeMutablePointer<Float>
    ) {
        gain.withUnsafeBufferPointer { g in rmsNorm(x, rows: rows, width: d, gain: g.baseAddress!, eps: eps, into: y) }
    }
}

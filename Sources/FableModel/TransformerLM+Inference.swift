import FableTensor

// Inference with a KV cache: the same model as `forward(tokens:shape:positions:)`, computed
// straight on the parameter buffers (no autograd, no tensors), a few positions at a time.

extension TransformerLM {
    // MARK: - Tuning

    /// In the cached inference pass, projections of up to this many rows (tokens × batch)
    /// read each weight row once and reuse it for every row with SIMD dot products; larger
    /// ones use GEMM. By default it picks by backend: 12 rows with a BLAS library, whose
    /// AVX kernels win from about 14 rows on despite packing every weight matrix, and 32
    /// with the pure-Swift GEMM (measured on tinystories-17m decoding, BENCHMARKS.md).
    /// `withMatrixVectorRowLimit(_:_:)` (package access) changes it for one task; there is
    /// no process-wide setting to race on.
    public static var matrixVectorRowLimit: Int {
        taskMatrixVectorRowLimit ?? (GEMM.backend is BLASBackend ? 12 : 32)
    }

    @TaskLocal private static var taskMatrixVectorRowLimit: Int?

    /// Runs `body` with ``matrixVectorRowLimit`` set to `limit` for the calling task and its
    /// child tasks only; nil keeps the backend's default. Package access: a tuning hook for
    /// `fable bench generate --matvec-rows` and the tests.
    package static func withMatrixVectorRowLimit<R>(_ limit: Int?, _ body: () throws -> R) rethrows -> R {
        try $taskMatrixVectorRowLimit.withValue(limit ?? taskMatrixVectorRowLimit, operation: body)
    }

    // MARK: - Cached forward

    /// Runs `tokens` through the model after the positions already in `cache`, stores their
    /// keys and values in it, and returns logits.
    ///
    /// A prompt goes in whole (prefill: T positions at once); after that, one token per row
    /// per call. Each row's new tokens take the absolute positions `cache.length ..<
    /// cache.length + T`, so RoPE rotates them exactly as a full recomputation would.
    ///
    /// - Parameters:
    ///   - tokens: `batch · T` ids, row-major (row b's T tokens, then row b+1's).
    ///   - batch: the rows; must equal `cache.batch`.
    ///   - cache: the keys and values so far; advanced by T.
    ///   - allPositions: return logits for every new position, (batch, T, vocab), instead of
    ///     only each row's last one, (batch, vocab).
    /// - Returns: row-major Float32 logits.
    /// - Throws: ``ModelError`` for an id outside the vocabulary, a batch that does not
    ///   match the cache or a cache that would overflow.
    public func forward(
        appending tokens: [Int], batch: Int, cache: KVCache, allPositions: Bool = false
    ) throws(ModelError) -> [Float] {
        guard batch == cache.batch, batch > 0, tokens.count % batch == 0, tokens.count > 0 else {
            throw .shapeMismatch(
                expected: "a positive multiple of the cache's batch \(cache.batch) token ids, batch \(cache.batch)",
                actual: "\(tokens.count) ids for batch \(batch)")
        }
        guard cache.numLayers == config.numLayers, cache.numHeads == config.numHeads,
              cache.headDim == config.headDim else {
            throw .shapeMismatch(
                expected: "a KV cache for \(config.numLayers) layers of \(config.numHeads) heads of \(config.headDim)",
                actual: "\(cache.numLayers) layers of \(cache.numHeads) heads of \(cache.headDim)")
        }
        let t = tokens.count / batch
        if cache.length + t > cache.maxLength {
            throw .sequenceTooLong(length: cache.length + t, contextLength: cache.maxLength)
        }
        for (i, token) in tokens.enumerated() where token < 0 || token >= config.vocabSize {
            throw .tokenOutOfRange(index: i, token: token, vocabSize: config.vocabSize)
        }
        let outRows = allPositions ? batch * t : batch
        return [Float](unsafeUninitializedCapacity: outRows * config.vocabSize) { buffer, count in
            run(tokens, batch: batch, newPositions: t, cache: cache, allPositions: allPositions,
                logits: buffer.baseAddress!)
            count = outRows * config.vocabSize
        }
    }

    // MARK: - The pass

    /// The cached forward pass on validated input; writes the logits.
    private func run(
        _ tokens: [Int], batch: Int, newPositions t: Int, cache: KVCache, allPositions: Bool,
        logits: UnsafeMutablePointer<Float>
    ) {
        let d = config.dModel, ff = config.dFF, heads = config.numHeads, dh = config.headDim
        let rows = batch * t, start = cache.length
        let ws = cache.workspace
        let x = ws.buffer(0, count: rows * d)          // the residual stream (rows, d)
        let h = ws.buffer(1, count: rows * d)          // normalised input / sublayer output
        let qkv = ws.buffer(2, count: rows * 3 * d)    // (rows, 3d)
        let attended = ws.buffer(3, count: rows * d)   // (rows, d)
        let hidden = ws.buffer(4, count: rows * ff)    // (rows, d_ff)
        let gateIn = ws.buffer(5, count: config.ffn == .swiglu ? rows * ff : 1)

        // Embedding: (rows) ids -> (rows, d)
        tokenEmbeddings.weight.withUnsafeBufferPointer { table in
            for (r, token) in tokens.enumerated() { (x + r * d).update(from: table.baseAddress! + token * d, count: d) }
        }

        for (l, layer) in layers.enumerated() {
            let attn = layer.attn
            // Attention sublayer.
            let attnIn: UnsafeMutablePointer<Float>
            if config.norm == .pre, let ln1 = layer.ln1 {
                InferenceKernels.rmsNorm(x, rows: rows, width: d, gain: ln1.weight, eps: ln1.eps, into: h)
                attnIn = h
            } else {
                attnIn = x
            }
            projectQKV(attn, attnIn, rows: rows, into: qkv)
            // RoPE at absolute positions, then the new keys and values into the cache.
            let keys = cache.keys[l], values = cache.values[l]
            let headStride = cache.headStride, rowStride = cache.rowStride
            let rope = self.rope
            Parallel.forEachChunk(rows, minimumChunk: max(1, 8_192 / max(d, 1))) { range in
                for r in range {
                    let b = r / t, position = start + r % t
                    let row = qkv + r * 3 * d
                    if let rope {
                        rope.table.rotateInPlace(row, count: heads, position: position)
                        rope.table.rotateInPlace(row + d, count: heads, position: position)
                    }
                    for head in 0..<heads {
                        let slot = b * rowStride + head * headStride + position * dh
                        (keys + slot).update(from: row + d + head * dh, count: dh)
                        (values + slot).update(from: row + 2 * d + head * dh, count: dh)
                    }
                }
            }
            InferenceKernels.attention(
                qkv: qkv, batch: batch, newPositions: t, start: start,
                keys: keys, values: values, cache: cache, out: attended)
            InferenceKernels.project(attended, rows: rows, inFeatures: d, weight: attn.outputProj.weight,
                                     outFeatures: d, into: h, ldy: d)
            residual(x, h, rows: rows, norm: config.norm == .post ? layer.ln1 : nil)

            // Feed-forward sublayer.
            let ffnIn: UnsafeMutablePointer<Float>
            if config.norm == .pre, let ln2 = layer.ln2 {
                InferenceKernels.rmsNorm(x, rows: rows, width: d, gain: ln2.weight, eps: ln2.eps, into: h)
                ffnIn = h
            } else {
                ffnIn = x
            }
            let ffn = layer.ffn
            InferenceKernels.project(ffnIn, rows: rows, inFeatures: d, weight: ffn.w1.weight,
                                     outFeatures: ff, into: hidden, ldy: ff)
            if let w3 = ffn.w3 {
                InferenceKernels.project(ffnIn, rows: rows, inFeatures: d, weight: w3.weight,
                                         outFeatures: ff, into: gateIn, ldy: ff)
                InferenceKernels.gate(hidden, gateIn, count: rows * ff)
            } else {
                InferenceKernels.gate(hidden, nil, count: rows * ff)
            }
            InferenceKernels.project(hidden, rows: rows, inFeatures: ff, weight: ffn.w2.weight,
                                     outFeatures: d, into: h, ldy: d)
            residual(x, h, rows: rows, norm: config.norm == .post ? layer.ln2 : nil)
        }
        cache.length += t

        // The rows that need logits: every position, or each row's last.
        let outRows = allPositions ? rows : batch
        var final = x
        if !allPositions && t > 1 {
            for b in 0..<batch { (h + b * d).update(from: x + (b * t + t - 1) * d, count: d) }
            final = h
        }
        if let lnFinal {
            InferenceKernels.rmsNorm(final, rows: outRows, width: d, gain: lnFinal.weight, eps: lnFinal.eps, into: final)
        }
        InferenceKernels.project(final, rows: outRows, inFeatures: d, weight: lmHead.weight,
                                 outFeatures: config.vocabSize, into: logits, ldy: config.vocabSize)
    }

    /// q, k and v projections into (rows, 3d); one product when the three weights lie
    /// back to back in the parameter store (they do in state-dict order).
    private func projectQKV(
        _ attn: CausalSelfAttention, _ input: UnsafePointer<Float>, rows: Int, into qkv: UnsafeMutablePointer<Float>
    ) {
        let d = config.dModel
        let q = attn.qProj.weight, k = attn.kProj.weight, v = attn.vProj.weight
        if k.storage === q.storage && v.storage === q.storage && k.offset == q.offset + d * d && v.offset == k.offset + d * d {
            // One (3d, d) weight starting at q's first element.
            q.storage.withUnsafeBufferPointer { all in
                InferenceKernels.project(input, rows: rows, inFeatures: d, weight: all.baseAddress! + q.offset,
                                         outFeatures: 3 * d, into: qkv, ldy: 3 * d)
            }
        } else {
            for (i, w) in [q, k, v].enumerated() {
                InferenceKernels.project(input, rows: rows, inFeatures: d, weight: w, outFeatures: d, into: qkv + i * d, ldy: 3 * d)
            }
        }
    }

    /// `x += h`, then for post-norm `x = RMSNorm(x)`.
    private func residual(_ x: UnsafeMutablePointer<Float>, _ h: UnsafePointer<Float>, rows: Int, norm: RMSNorm?) {
        let d = config.dModel
        Vector.add(x, h, into: x, count: rows * d)
        if let norm {
            InferenceKernels.rmsNorm(x, rows: rows, width: d, gain: norm.weight, eps: norm.eps, into: x)
        }
    }
}

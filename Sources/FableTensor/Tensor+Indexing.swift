// Gathering rows (embedding lookup) and masked fill.

// MARK: - Embedding

extension Tensor {
    /// Rows of `weight` (num_embeddings, dim) picked by `indices`: the output has shape
    /// `shape + [dim]`. The backward pass scatter-adds into the picked rows.
    ///
    /// - Parameters:
    ///   - indices: row numbers in row-major order; each must be in `0..<num_embeddings`
    ///     (callers validate token ids from files before this point).
    ///   - shape: the shape of `indices`, e.g. (batch, sequence).
    public static func embedding(_ weight: Tensor, indices: [Int], shape: [Int]) -> Tensor {
        precondition(weight.rank == 2, "embedding: weight must be (num_embeddings, dim), got \(weight.shape)")
        precondition(shape.reduce(1, *) == indices.count, "embedding: \(indices.count) indices do not fill shape \(shape)")
        let (rows, dim) = (weight.shape[0], weight.shape[1])
        for index in indices {
            precondition(index >= 0 && index < rows, "embedding: index \(index) outside 0..<\(rows)")
        }
        let out = Tensor(uninitialized: shape + [dim])
        let w = weight.data, y = out.data
        indices.withUnsafeBufferPointer { ids in
            Parallel.forEachChunk(ids.count, minimumChunk: Swift.max(1, 16_384 / Swift.max(dim, 1))) { r in
                for i in r { (y + i * dim).update(from: w + ids[i] * dim, count: dim) }
            }
        }
        return record(out, "embedding", [weight]) { _, grad in
            weight.accumulateGrad { g, acc in
                if !acc { g.update(repeating: 0, count: weight.count) }
                // Serial in index order: repeated ids add in a fixed order.
                for (i, index) in indices.enumerated() {
                    let row = g + index * dim
                    Vector.add(row, grad + i * dim, into: row, count: dim)
                }
            }
        }
    }
}

// MARK: - Masked fill

extension Tensor {
    /// This tensor with `value` wherever `mask` is true. `mask` (shape `maskShape`) must
    /// broadcast to this tensor's shape. No gradient flows through filled positions.
    public func maskedFill(_ mask: [Bool], maskShape: [Int], value: Float) -> Tensor {
        precondition(maskShape.reduce(1, *) == mask.count, "maskedFill: \(mask.count) mask values do not fill \(maskShape)")
        let plan = BroadcastPlan(shape, maskShape, op: "maskedFill")
        precondition(plan.outShape == shape, "maskedFill: mask \(maskShape) does not broadcast to \(shape)")
        // Keep = 1 where the value passes through.
        let keep = mask.map { $0 ? Float(0) : 1 }
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        keep.withUnsafeBufferPointer { k in
            let kp = k.baseAddress!
            Parallel.forEachChunk(plan.rows, minimumChunk: plan.minimumRowsPerChunk) { r in
                plan.forEachRow(r) { row, aOff, bOff in
                    for j in 0..<plan.inner {
                        y[row * plan.inner + j] = kp[bOff + j * plan.bInnerStride] != 0 ? x[aOff + j] : value
                    }
                }
            }
        }
        return Tensor.record(out, "maskedFill", [self]) { [self] _, grad in
            keep.withUnsafeBufferPointer { k in
                let kp = k.baseAddress!
                accumulateGrad { g, acc in
                    Parallel.forEachChunk(plan.rows, minimumChunk: plan.minimumRowsPerChunk) { r in
                        plan.forEachRow(r) { row, aOff, bOff in
                            for j in 0..<plan.inner {
                                let d = kp[bOff + j * plan.bInnerStride] * grad[row * plan.inner + j]
                                g[aOff + j] = acc ? g[aOff + j] + d : d
                            }
                        }
                    }
                }
            }
        }
    }

    /// The causal mask for `length` positions, true above the diagonal (key after query),
    /// shaped (length, length): pass it to ``maskedFill(_:maskShape:value:)`` with -∞.
    public static func causalMask(_ length: Int) -> [Bool] {
        var mask = [Bool](repeating: false, count: length * length)
        for i in 0..<length { for j in (i + 1)..<Swift.max(i + 1, length) { mask[i * length + j] = true } }
        return mask
    }
}

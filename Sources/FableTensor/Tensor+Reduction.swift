// Reductions: sum, mean and max over one axis or over everything.

/// A tensor seen as (outer, axis, inner) around the reduced axis.
struct AxisSplit {
    let outer: Int, size: Int, inner: Int
    let keptShape: [Int], droppedShape: [Int]

    init(_ t: Tensor, axis: Int, op: String) {
        let a = t.normalizedAxis(axis, op: op)
        outer = t.shape[..<a].reduce(1, *)
        size = t.shape[a]
        inner = t.shape[(a + 1)...].reduce(1, *)
        var kept = t.shape
        kept[a] = 1
        keptShape = kept
        droppedShape = Array(t.shape[..<a] + t.shape[(a + 1)...])
    }
}

// MARK: - Sum and mean

extension Tensor {
    /// The sum over `axis`; the axis is kept with size 1 when `keepDims`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        reduceSum(axis: axis, keepDims: keepDims, scale: 1, name: "sum")
    }

    /// The mean over `axis`; the axis is kept with size 1 when `keepDims`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let split = AxisSplit(self, axis: axis, op: "mean")
        return reduceSum(axis: axis, keepDims: keepDims, scale: 1 / Float(Swift.max(split.size, 1)), name: "mean")
    }

    private func reduceSum(axis: Int, keepDims: Bool, scale: Float, name: String) -> Tensor {
        let split = AxisSplit(self, axis: axis, op: name)
        let out = Tensor(uninitialized: keepDims ? split.keptShape : split.droppedShape)
        let x = data, y = out.data
        let (size, inner) = (split.size, split.inner)
        if inner == 1 {
            Parallel.forEachChunk(split.outer, minimumChunk: Swift.max(1, 16_384 / Swift.max(size, 1))) { r in
                for o in r { y[o] = scale * Vector.sum(x + o * size, count: size) }
            }
        } else {
            Parallel.forEachChunk(split.outer * inner, minimumChunk: 4096) { r in
                // Each chunk owns a range of output elements; sum the axis in order.
                var o = r.lowerBound / inner, i = r.lowerBound % inner
                var done = r.lowerBound
                while done < r.upperBound {
                    let n = Swift.min(inner - i, r.upperBound - done)
                    let dst = y + o * inner + i
                    let src = x + o * size * inner + i
                    dst.update(repeating: 0, count: n)
                    for k in 0..<size { Vector.add(dst, src + k * inner, into: dst, count: n) }
                    if scale != 1 { Vector.scale(scale, dst, into: dst, count: n, accumulate: false) }
                    done += n; o += 1; i = 0
                }
            }
        }
        return Tensor.record(out, name, [self]) { [self] _, grad in
            accumulateGrad { g, acc in
                Parallel.forEachChunk(split.outer, minimumChunk: Swift.max(1, 16_384 / Swift.max(size * inner, 1))) { r in
                    for o in r {
                        for k in 0..<size {
                            let dst = g + (o * size + k) * inner
                            Vector.scale(scale, grad + o * inner, into: dst, count: inner, accumulate: acc)
                        }
                    }
                }
            }
        }
    }

    /// The sum of every element, as a scalar tensor.
    public func sum() -> Tensor { reduceAll(scale: 1, name: "sum") }

    /// The mean of every element, as a scalar tensor.
    public func mean() -> Tensor { reduceAll(scale: 1 / Float(Swift.max(count, 1)), name: "mean") }

    private func reduceAll(scale: Float, name: String) -> Tensor {
        let chunks = Parallel.chunkCount(for: count, minimumChunk: 32_768)
        var partials = [Float](repeating: 0, count: chunks)
        let x = data
        partials.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEachChunk(chunks) { r in
                for c in r {
                    let range = Parallel.chunkRange(c, of: chunks, count: count)
                    base[c] = Vector.sum(x + range.lowerBound, count: range.count)
                }
            }
        }
        let out = Tensor(scale * partials.reduce(0, +))
        return Tensor.record(out, name, [self]) { [self] _, grad in
            let value = scale * grad[0]
            accumulateGrad { g, acc in
                Parallel.forEachChunk(count, minimumChunk: 32_768) { r in
                    if acc {
                        for i in r { g[i] += value }
                    } else {
                        (g + r.lowerBound).update(repeating: value, count: r.count)
                    }
                }
            }
        }
    }
}

// MARK: - Max

extension Tensor {
    /// The largest value along `axis`. The gradient flows to the first position holding
    /// the maximum, as in PyTorch's `Swift.max(dim)`.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let split = AxisSplit(self, axis: axis, op: "max")
        precondition(split.size > 0, "Swift.max(axis:) over an empty axis of shape \(shape)")
        let out = Tensor(uninitialized: keepDims ? split.keptShape : split.droppedShape)
        let indices = argmaxIndices(split)
        let x = data
        for (j, k) in indices.enumerated() {
            let o = j / split.inner, i = j % split.inner
            out.data[j] = x[(o * split.size + k) * split.inner + i]
        }
        return Tensor.record(out, "max", [self]) { [self] _, grad in
            accumulateGrad { g, acc in
                if !acc { g.update(repeating: 0, count: count) }
                for (j, k) in indices.enumerated() {
                    let o = j / split.inner, i = j % split.inner
                    g[(o * split.size + k) * split.inner + i] += grad[j]
                }
            }
        }
    }

    /// The index of the largest value along `axis` for every other position (first one
    /// on ties), in row-major order of the remaining axes.
    public func argmax(axis: Int) -> [Int] {
        argmaxIndices(AxisSplit(self, axis: axis, op: "argmax"))
    }

    private func argmaxIndices(_ split: AxisSplit) -> [Int] {
        var result = [Int](repeating: 0, count: split.outer * split.inner)
        let x = data
        for o in 0..<split.outer {
            for i in 0..<split.inner {
                var best = x[o * split.size * split.inner + i], bestK = 0
                for k in 1..<Swift.max(split.size, 1) {
                    let v = x[(o * split.size + k) * split.inner + i]
                    if v > best { best = v; bestK = k }
                }
                result[o * split.inner + i] = bestK
            }
        }
        return result
    }
}

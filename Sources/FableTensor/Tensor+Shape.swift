// Shape ops: reshape (a view), permute/transpose (a copy), slicing, concatenation.

// MARK: - Axis helpers

extension Tensor {
    /// `axis` with negative values counted from the end, checked against the rank.
    func normalizedAxis(_ axis: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Row-major strides of `shape`.
    static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = s; s *= shape[i] }
        return strides
    }
}

// MARK: - Reshape

extension Tensor {
    /// The same elements with a new shape (a view: no copy). One dimension may be -1,
    /// inferred from the others.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshaped(\(newShape)): cannot infer -1 for \(count) elements")
            target[hole] = count / known
        }
        precondition(target.reduce(1, *) == count, "reshaped(\(newShape)) does not fit shape \(shape)")
        let out = Tensor(shape: target, storage: storage, offset: offset)
        return Tensor.record(out, "reshape", [self]) { [self] out, grad in
            // Same elements, same order: take over the output's gradient buffer when this
            // tensor has none yet (no copy), else add it in.
            if !adoptGrad(from: out) { accumulateGrad(adding: grad) }
        }
    }

    /// All elements as a rank-1 tensor (a view).
    public func flattened() -> Tensor { reshaped([count]) }
}

// MARK: - Permute and transpose

extension Tensor {
    /// The axes reordered: output axis `i` is input axis `axes[i]` (a contiguous copy).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes.map { normalizedAxis($0, op: "permuted") }).count == rank,
                     "permuted(\(axes)) is not a permutation of the axes of shape \(shape)")
        let perm = axes.map { normalizedAxis($0, op: "permuted") }
        let outShape = perm.map { shape[$0] }
        let out = Tensor(uninitialized: outShape)
        Tensor.permuteCopy(from: data, shape: shape, permutation: perm, into: out.data, accumulate: false)
        return Tensor.record(out, "permute", [self]) { [self] out, grad in
            // The inverse permutation maps the gradient back to the input layout.
            var inverse = [Int](repeating: 0, count: perm.count)
            for (i, p) in perm.enumerated() { inverse[p] = i }
            accumulateGrad { g, acc in
                Tensor.permuteCopy(from: grad, shape: out.shape, permutation: inverse, into: g, accumulate: acc)
            }
        }
    }

    /// Axes `a` and `b` swapped (a contiguous copy).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(normalizedAxis(a, op: "transposed"), normalizedAxis(b, op: "transposed"))
        return permuted(axes)
    }

    /// Writes the permutation of a contiguous array; parallel over output rows.
    static func permuteCopy(
        from source: UnsafePointer<Float>, shape: [Int], permutation perm: [Int],
        into dest: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let rank = shape.count
        if rank == 0 || perm == Array(0..<rank) {
            if accumulate { Vector.add(dest, source, into: dest, count: count) } else { dest.update(from: source, count: count) }
            return
        }
        let srcStrides = strides(of: shape)
        let outShape = perm.map { shape[$0] }
        let inner = outShape[rank - 1]
        let innerStride = srcStrides[perm[rank - 1]]
        let rows = count / inner
        let rowShape = Array(outShape.dropLast())
        let rowSrcStrides = perm.dropLast().map { srcStrides[$0] }
        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 4096 / Swift.max(inner, 1))) { range in
            // Decompose the first row index, then step an odometer.
            var index = [Int](repeating: 0, count: rank - 1)
            var rem = range.lowerBound
            for d in stride(from: rank - 2, through: 0, by: -1) { index[d] = rem % rowShape[d]; rem /= rowShape[d] }
            var srcOffset = 0
            for d in 0..<(rank - 1) { srcOffset += index[d] * rowSrcStrides[d] }
            for row in range {
                let out = dest + row * inner
                let src = source + srcOffset
                if innerStride == 1 {
                    if accumulate { Vector.add(out, src, into: out, count: inner) } else { out.update(from: src, count: inner) }
                } else if accumulate {
                    for j in 0..<inner { out[j] += src[j * innerStride] }
                } else {
                    for j in 0..<inner { out[j] = src[j * innerStride] }
                }
                // Advance the odometer.
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    srcOffset += rowSrcStrides[d]
                    if index[d] < rowShape[d] { break }
                    srcOffset -= index[d] * rowSrcStrides[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }
}

// MARK: - Slicing

extension Tensor {
    /// The elements whose index along `axis` lies in `range`. Along the first axis this is
    /// a view; along other axes a copy.
    public func slice(axis: Int = 0, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxis(axis, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice(axis: \(axis), \(range)) out of range for shape \(shape)")
        var outShape = shape
        outShape[a] = range.count
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        if outer == 1 {
            let view = Tensor(shape: outShape, storage: storage, offset: offset + range.lowerBound * inner)
            return Tensor.record(view, "slice", [self]) { [self] _, grad in
                sliceBackward(grad, outer: 1, inner: inner, axisSize: shape[a], range: range)
            }
        }
        let out = Tensor(uninitialized: outShape)
        let block = range.count * inner
        for o in 0..<outer {
            (out.data + o * block).update(from: data + o * shape[a] * inner + range.lowerBound * inner, count: block)
        }
        return Tensor.record(out, "slice", [self]) { [self] _, grad in
            sliceBackward(grad, outer: outer, inner: inner, axisSize: shape[a], range: range)
        }
    }

    private func sliceBackward(_ grad: UnsafePointer<Float>, outer: Int, inner: Int, axisSize: Int, range: Range<Int>) {
        accumulateGrad { g, acc in
            if !acc { g.update(repeating: 0, count: count) }
            let block = range.count * inner
            for o in 0..<outer {
                let dst = g + o * axisSize * inner + range.lowerBound * inner
                Vector.add(dst, grad + o * block, into: dst, count: block)
            }
        }
    }

    /// Joins tensors along `axis`; all other dimensions must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let a = first.normalizedAxis(axis, op: "concatenate")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concatenate: shape \(t.shape) does not match \(first.shape) outside axis \(axis)")
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let out = Tensor(uninitialized: outShape)
        let outBlock = outShape[a] * inner
        var start = 0
        var starts: [Int] = []
        for t in tensors {
            starts.append(start)
            let block = t.shape[a] * inner
            for o in 0..<outer { (out.data + o * outBlock + start).update(from: t.data + o * block, count: block) }
            start += block
        }
        return record(out, "concatenate", tensors) { _, grad in
            for (t, start) in zip(tensors, starts) {
                let block = t.shape[a] * inner
                t.accumulateGrad { g, acc in
                    for o in 0..<outer {
                        let src = grad + o * outBlock + start
                        if acc { Vector.add(g + o * block, src, into: g + o * block, count: block) } else { (g + o * block).update(from: src, count: block) }
                    }
                }
            }
        }
    }
}

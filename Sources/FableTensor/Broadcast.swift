/// How two shapes broadcast together (NumPy rules), reduced to rows of a contiguous inner
/// dimension so kernels run a tight loop per row.
///
/// Each operand's inner stride is 1 (it varies along the inner dimension) or 0 (it is
/// broadcast along it). Row offsets come from an odometer over the coalesced outer axes.
struct BroadcastPlan {
    let outShape: [Int]
    let count: Int
    /// Length of the contiguous inner run and the number of runs.
    let inner: Int
    let rows: Int
    let aInnerStride: Int
    let bInnerStride: Int
    /// Coalesced outer dimensions and each operand's stride along them.
    let rowShape: [Int]
    let aRowStrides: [Int]
    let bRowStrides: [Int]

    /// The broadcast shape of `a` and `b`, or nil when they do not broadcast.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    init(_ a: [Int], _ b: [Int], op: String) {
        guard let out = BroadcastPlan.shape(a, b) else {
            preconditionFailure("\(op): shapes \(a) and \(b) do not broadcast")
        }
        outShape = out
        count = out.reduce(1, *)
        let rank = out.count
        func alignedStrides(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            let contiguous = Tensor.strides(of: padded)
            return (0..<rank).map { padded[$0] == 1 && out[$0] != 1 ? 0 : contiguous[$0] }
        }
        var sa = alignedStrides(a), sb = alignedStrides(b)
        // Drop size-1 output axes, then merge neighbours that are contiguous for both operands.
        var dims: [(size: Int, a: Int, b: Int)] = []
        for i in 0..<rank where out[i] != 1 { dims.append((out[i], sa[i], sb[i])) }
        var merged: [(size: Int, a: Int, b: Int)] = []
        for d in dims {
            if let last = merged.last, last.a == d.a * d.size, last.b == d.b * d.size {
                merged[merged.count - 1] = (last.size * d.size, d.a, d.b)
            } else {
                merged.append(d)
            }
        }
        if merged.isEmpty { merged = [(1, 1, 1)] }
        let innermost = merged.removeLast()
        inner = innermost.size
        aInnerStride = innermost.a
        bInnerStride = innermost.b
        rowShape = merged.map(\.size)
        sa = merged.map(\.a)
        sb = merged.map(\.b)
        aRowStrides = sa
        bRowStrides = sb
        rows = rowShape.reduce(1, *)
    }

    /// Calls `body(row, aOffset, bOffset)` for each row in `range`, in order.
    @inline(__always)
    func forEachRow(_ range: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let n = rowShape.count
        if n == 0 {
            for row in range { body(row, 0, 0) }
            return
        }
        var index = [Int](repeating: 0, count: n)
        var rem = range.lowerBound
        for d in stride(from: n - 1, through: 0, by: -1) { index[d] = rem % rowShape[d]; rem /= rowShape[d] }
        var aOff = 0, bOff = 0
        for d in 0..<n { aOff += index[d] * aRowStrides[d]; bOff += index[d] * bRowStrides[d] }
        for row in range {
            body(row, aOff, bOff)
            var d = n - 1
            while d >= 0 {
                index[d] += 1
                aOff += aRowStrides[d]
                bOff += bRowStrides[d]
                if index[d] < rowShape[d] { break }
                aOff -= index[d] * aRowStrides[d]
                bOff -= index[d] * bRowStrides[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Rows per parallel chunk so each chunk has a worthwhile number of elements.
    var minimumRowsPerChunk: Int { max(1, 32_768 / max(inner, 1)) }
}

// MARK: - Reducing a broadcast gradient

extension BroadcastPlan {
    /// Adds `source` (laid out in `outShape`) into `dest` (laid out like operand a, or b
    /// when `operandB`), summing over the axes that operand was broadcast along.
    ///
    /// Rows are split into fixed chunks that each sum into a private buffer; the buffers
    /// are then added in chunk order, so the result is deterministic for a thread count.
    func reduce(
        _ source: UnsafePointer<Float>, into dest: UnsafeMutablePointer<Float>,
        operandCount: Int, operandB: Bool, accumulate: Bool
    ) {
        let innerStride = operandB ? bInnerStride : aInnerStride
        let chunks = Parallel.chunkCount(for: rows, minimumChunk: minimumRowsPerChunk)
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks * operandCount)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: chunks * operandCount)
        Parallel.forEachChunk(chunks) { chunkRange in
            for chunk in chunkRange {
                let partial = partials + chunk * operandCount
                let rowRange = Parallel.chunkRange(chunk, of: chunks, count: rows)
                forEachRow(rowRange) { row, aOff, bOff in
                    let off = operandB ? bOff : aOff
                    let src = source + row * inner
                    if innerStride == 0 {
                        partial[off] += Vector.sum(src, count: inner)
                    } else {
                        Vector.add(partial + off, src, into: partial + off, count: inner)
                    }
                }
            }
        }
        if !accumulate { dest.update(repeating: 0, count: operandCount) }
        for chunk in 0..<chunks {
            Vector.add(dest, partials + chunk * operandCount, into: dest, count: operandCount)
        }
    }
}

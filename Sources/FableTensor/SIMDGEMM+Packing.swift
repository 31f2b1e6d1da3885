import FableKernels

// Packing copies a block of op(A) or op(B) into the order the microkernel reads it, so the
// kernel's loads are sequential whatever the transposes and leading dimensions are. Edges
// are padded with zeros, so the kernel always computes whole tiles.

extension SIMDGEMM {
    // MARK: - A

    /// Packs rows `row0..<row0+rows` and depth `p0..<p0+depth` of op(A) into panels of
    /// `tileRows` rows: panel q holds, for each step p, rows q*mr..<q*mr+mr of column p, each
    /// value repeated `broadcastWidth` times. Needs `panels * depth * mr * broadcastWidth`
    /// floats.
    static func packA(
        _ a: UnsafePointer<Float>, lda: Int, transposed: Bool, tileRows mr: Int, broadcastWidth width: Int,
        row0: Int, rows: Int, p0: Int, depth: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        if transposed && width == 1 {
            // op(A)[i][p] = A[p][i]: each step's rows lie side by side in A's row p.
            fable_pack_columns(a + p0 * lda + row0, lda, depth, rows, mr, packed)
            return
        }
        let step = mr * width
        var panelStart = 0
        var out = packed
        while panelStart < rows {
            let valid = min(mr, rows - panelStart)
            if transposed {
                // op(A)[i][p] = A[p][i], each value repeated.
                for p in 0..<depth {
                    let source = a + (p0 + p) * lda + row0 + panelStart
                    let target = out + p * step
                    for r in 0..<valid { storeBroadcast(source[r], target + r * width) }
                    for r in valid..<mr { storeBroadcast(0, target + r * width) }
                }
            } else if width == 1 {
                // op(A)[i][p] = A[i][p]: the panel's rows become columns (4 x 4 transposes in
                // FableKernels), padding rows zeroed.
                fable_pack_transpose(a + (row0 + panelStart) * lda + p0, lda, valid, mr, depth, out, mr)
            } else {
                // op(A)[i][p] = A[i][p], each value repeated: each row is read along its length.
                for r in 0..<mr {
                    let target = out + r * width
                    if r < valid {
                        let source = a + (row0 + panelStart + r) * lda + p0
                        for p in 0..<depth { storeBroadcast(source[p], target + p * step) }
                    } else {
                        for p in 0..<depth { storeBroadcast(0, target + p * step) }
                    }
                }
            }
            out += depth * step
            panelStart += mr
        }
    }

    @inline(__always)
    private static func storeBroadcast(_ value: Float, _ target: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(target).storeBytes(of: Float4(repeating: value), as: Float4.self)
    }

    // MARK: - B

    /// Packs depth `p0..<p0+depth` and columns `col0..<col0+columns` of op(B) into slivers
    /// of `tileColumns` columns: sliver s holds, for each step p, columns s*nr..<s*nr+nr of
    /// row p. Needs `slivers * depth * nr` floats.
    static func packB(
        _ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, tileColumns nr: Int,
        p0: Int, depth: Int, col0: Int, columns: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        if !transposed {
            // op(B)[p][j] = B[p][j]: each step's columns lie side by side in B's row p.
            fable_pack_columns(b + p0 * ldb + col0, ldb, depth, columns, nr, packed)
            return
        }
        var sliverStart = 0
        var out = packed
        while sliverStart < columns {
            let valid = min(nr, columns - sliverStart)
            // op(B)[p][j] = B[j][p]: the sliver's rows of B become columns (4 x 4
            // transposes in FableKernels), padding columns zeroed.
            fable_pack_transpose(b + (col0 + sliverStart) * ldb + p0, ldb, valid, nr, depth, out, nr)
            out += depth * nr
            sliverStart += nr
        }
    }
}

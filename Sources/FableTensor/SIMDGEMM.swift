import Dispatch

/// A portable matrix multiply in pure Swift: the fallback when no BLAS library loads.
///
/// The classic blocked algorithm (Goto; BLIS): C is computed in column blocks of
/// ``blockColumns``; for each slice of ``blockDepth`` steps of the shared dimension the
/// block of op(B) is packed into 8-column slivers, then row blocks of ``blockRows`` of
/// op(A) are packed into 6-row panels, and the 6 x 8 register-tile microkernel
/// (`SIMDGEMM+Kernel.swift`) multiplies each panel by each sliver. Packed A stays in the
/// L2 cache and one sliver of B in L1 while the kernel runs.
///
/// Threads split C into contiguous bands of rows (or of columns when C is short and wide)
/// by a rule that depends only on the shape and thread count. Every element of C is
/// computed by the same sequence of operations whatever the split, so results are
/// bitwise identical for any thread count.
public struct SIMDGEMM: GEMMBackend {
    public init() {}
    public var name: String { "swift-simd" }

    /// Rows of op(A) packed at a time (a multiple of 6): 72 x 256 x 4 floats = 288 KiB.
    static let blockRows = 72
    /// Steps of the shared dimension per packed block.
    static let blockDepth = 256
    /// Columns of op(B) packed at a time (a multiple of 8): 256 x 2048 floats = 2 MiB.
    static let blockColumns = 2048
    /// The least work, in multiply-adds, worth a thread of its own.
    static let minimumWorkPerThread = 1 << 20

    public func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int
    ) {
        GEMM.checkArguments(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            lda: lda, ldb: ldb, ldc: ldc)
        guard m > 0 && n > 0 else { return }
        if k == 0 || alpha == 0 {
            GEMM.scale(c, m: m, n: n, ldc: ldc, beta: beta)
            return
        }
        let problem = Problem(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)

        // Split the longer side (in tiles) into bands; each band is a multiple of a tile.
        let rowTiles = (m + Self.tileRows - 1) / Self.tileRows
        let columnTiles = (n + Self.tileColumns - 1) / Self.tileColumns
        let splitRows = rowTiles >= columnTiles || rowTiles >= 8 * max(1, threads)
        let units = splitRows ? rowTiles : columnTiles
        let workPerUnit = splitRows ? Self.tileRows * n * k : Self.tileColumns * m * k
        let minimumUnits = max(1, Self.minimumWorkPerThread / max(1, workPerUnit))
        let chunks = max(1, min(threads, units / minimumUnits))

        let band = { (range: Range<Int>) in
            if splitRows {
                let start = range.lowerBound * Self.tileRows
                let end = min(m, range.upperBound * Self.tileRows)
                problem.compute(rows: start..<end, columns: 0..<n)
            } else {
                let start = range.lowerBound * Self.tileColumns
                let end = min(n, range.upperBound * Self.tileColumns)
                problem.compute(rows: 0..<m, columns: start..<end)
            }
        }
        if chunks == 1 {
            band(0..<units)
        } else if chunks == Parallel.chunkCount(for: units, minimumChunk: minimumUnits) {
            Parallel.forEachChunk(units, minimumChunk: minimumUnits, band)
        } else {
            Parallel.concurrentPerform(iterations: chunks) { chunk in
                band(Parallel.chunkRange(chunk, of: chunks, count: units))
            }
        }
    }
}

// MARK: - One band of C

extension SIMDGEMM {
    /// The arguments of one call, shared by the threads working on it.
    struct Problem {
        let transposeA: Bool, transposeB: Bool
        let m: Int, n: Int, k: Int
        let alpha: Float
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int
        let beta: Float
        let c: UnsafeMutablePointer<Float>, ldc: Int

        /// Computes `C[rows, columns]` on the calling thread with its own packing buffers.
        func compute(rows: Range<Int>, columns: Range<Int>) {
            let mr = SIMDGEMM.tileRows, nr = SIMDGEMM.tileColumns
            let blockRows = min(SIMDGEMM.blockRows, roundUp(rows.count, mr))
            let blockDepth = min(SIMDGEMM.blockDepth, k)
            let blockColumns = min(SIMDGEMM.blockColumns, roundUp(columns.count, nr))

            let floatsA = blockRows * blockDepth * SIMDGEMM.broadcastWidth
            let floatsB = blockDepth * blockColumns
            let scratchFloats = mr * nr
            let buffer = UnsafeMutableRawPointer.allocate(
                byteCount: (floatsA + floatsB + scratchFloats) * MemoryLayout<Float>.stride,
                alignment: 64)
            defer { buffer.deallocate() }
            let packedA = buffer.bindMemory(to: Float.self, capacity: floatsA + floatsB + scratchFloats)
            let packedB = packedA + floatsA
            let scratch = packedB + floatsB

            var column0 = columns.lowerBound
            while column0 < columns.upperBound {
                let width = min(blockColumns, columns.upperBound - column0)
                var p0 = 0
                while p0 < k {
                    let depth = min(blockDepth, k - p0)
                    // The first slice applies beta; later slices add to what it wrote.
                    let sliceBeta: Float = p0 == 0 ? beta : 1
                    SIMDGEMM.packB(
                        b, ldb: ldb, transposed: transposeB,
                        p0: p0, depth: depth, col0: column0, columns: width, into: packedB)
                    var row0 = rows.lowerBound
                    while row0 < rows.upperBound {
                        let height = min(blockRows, rows.upperBound - row0)
                        SIMDGEMM.packA(
                            a, lda: lda, transposed: transposeA,
                            row0: row0, rows: height, p0: p0, depth: depth, into: packedA)
                        multiplyBlock(
                            packedA: packedA, packedB: packedB, scratch: scratch,
                            row0: row0, height: height, column0: column0, width: width,
                            depth: depth, beta: sliceBeta)
                        row0 += height
                    }
                    p0 += depth
                }
                column0 += width
            }
        }

        /// Runs the microkernel over every tile of one packed block.
        private func multiplyBlock(
            packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>,
            scratch: UnsafeMutablePointer<Float>,
            row0: Int, height: Int, column0: Int, width: Int, depth: Int, beta: Float
        ) {
            let mr = SIMDGEMM.tileRows, nr = SIMDGEMM.tileColumns
            let panelFloats = depth * mr * SIMDGEMM.broadcastWidth
            var j = 0
            while j < width {
                let columns = min(nr, width - j)
                let sliver = packedB + (j / nr) * depth * nr
                var i = 0
                while i < height {
                    let rows = min(mr, height - i)
                    let panel = packedA + (i / mr) * panelFloats
                    let tile = c + (row0 + i) * ldc + column0 + j
                    if rows == mr && columns == nr {
                        SIMDGEMM.kernel6x8(
                            depth: depth, a: panel, b: sliver, c: tile, ldc: ldc,
                            alpha: alpha, beta: beta)
                    } else {
                        SIMDGEMM.edgeTile(
                            depth: depth, a: panel, b: sliver, c: tile, ldc: ldc,
                            rows: rows, columns: columns, alpha: alpha, beta: beta,
                            scratch: scratch)
                    }
                    i += mr
                }
                j += nr
            }
        }
    }
}

@inline(__always)
private func roundUp(_ value: Int, _ multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}

import Synchronization

// How the own kernels spread one product over threads.
//
// A tall C (the training products) is computed block by block of B: the threads pack each
// block of op(B) together, then claim blocks of A's rows one at a time from a shared
// counter and multiply them by it. B is packed once rather than once per thread, and a
// thread that the machine slows down (a busy neighbour, a vCPU taken away) takes fewer
// blocks instead of holding the other at the end: with two fixed bands, one thread sat
// idle for 13-18% of the products' time on the 2-core VM. A short, wide C (decoding
// batches, attention's small products) is split into fixed bands of columns, each packed
// by its own thread: fewer synchronisations, where a product takes microseconds.

extension SIMDGEMM {
    /// How a product is split: along rows or columns, into how many chunks.
    struct BandPlan {
        let m: Int, n: Int
        let tileRows: Int, tileColumns: Int
        /// Whether C is split into bands of rows (else of columns).
        let splitRows: Bool
        /// Tiles along the split side, and the chunk count.
        let units: Int, chunks: Int

        /// The longer side (in tiles) is split, unless C is tall enough for every thread to
        /// get several row tiles; a chunk gets at least ``minimumWorkPerThread``
        /// multiply-adds. The rule depends only on the shape and the thread count.
        init(m: Int, n: Int, k: Int, tileRows: Int, tileColumns: Int, threads: Int) {
            (self.m, self.n, self.tileRows, self.tileColumns) = (m, n, tileRows, tileColumns)
            let rowTiles = (m + tileRows - 1) / tileRows
            let columnTiles = (n + tileColumns - 1) / tileColumns
            splitRows = rowTiles >= columnTiles || rowTiles >= 8 * max(1, threads)
            units = splitRows ? rowTiles : columnTiles
            let workPerUnit = splitRows ? tileRows * n * k : tileColumns * m * k
            let minimumUnits = max(1, SIMDGEMM.minimumWorkPerThread / max(1, workPerUnit))
            chunks = max(1, min(threads, units / minimumUnits))
        }

        /// Whether the threads should share packed B blocks (a tall C worth several threads)
        /// rather than take one band each.
        var sharesB: Bool { chunks > 1 && splitRows }
    }

    /// Splits C into the bands of `plan` and calls `body(rows, columns)` for each, on the
    /// calling thread when one band suffices (shared by the fp32 and bf16 kernels, whose
    /// results therefore do not depend on how the bands fall).
    static func forEachBand(_ plan: BandPlan, _ body: (_ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        func band(_ range: Range<Int>) {
            if plan.splitRows {
                let start = range.lowerBound * plan.tileRows
                body(start..<min(plan.m, range.upperBound * plan.tileRows), 0..<plan.n)
            } else {
                let start = range.lowerBound * plan.tileColumns
                body(0..<plan.m, start..<min(plan.n, range.upperBound * plan.tileColumns))
            }
        }
        if plan.chunks == 1 {
            band(0..<plan.units)
        } else {
            forEachParticipant(plan.chunks) { chunk in
                band(Parallel.chunkRange(chunk, of: plan.chunks, count: plan.units))
            }
        }
    }

    /// Calls `body(i)` for each i in `0..<count`, in parallel: on the worker pool when the
    /// process-wide thread count gives exactly `count` chunks, else on Dispatch's threads.
    static func forEachParticipant(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 {
            body(0)
        } else if Parallel.chunkCount(for: count) == count {
            Parallel.forEachChunk(count) { range in for index in range { body(index) } }
        } else {
            Parallel.concurrentPerform(iterations: count, body)
        }
    }
}

extension SIMDGEMM {
    /// One piece of a shared block: the columns of C it covers, the slivers of the packed
    /// B block they are, and the slice of the shared dimension.
    struct SharedPiece {
        /// The first column of C, and how many columns (the last sliver may be partial).
        let column0: Int, width: Int
        /// The slivers of the packed B block, counted from the block's first.
        let slivers: Range<Int>
        /// The slice of the shared dimension: steps p0..<p0+depth.
        let p0: Int, depth: Int
    }

    /// The loop of a tall product whose threads share each packed block of op(B): for every
    /// block of `blockColumns` columns and every slice of `blockDepth` steps (in order, so each
    /// tile of C sees the slices as one thread would), `packB` runs on up to `threads` threads
    /// for parts of the block's slivers, then the threads claim (row block, column part)
    /// units from a counter and call `multiply(thread, rows, piece, newRows)`; `newRows` is
    /// false when the thread's previous unit of this slice had the same rows, whose packed A
    /// it may reuse. Used by the fp32 (``SIMDGEMM``) and bf16 (``BF16GEMM``) kernels.
    static func forEachSharedBlock(
        m: Int, n: Int, k: Int, tileColumns nr: Int, blockRows: Int, blockColumns: Int, blockDepth: Int,
        threads: Int,
        packB: (SharedPiece) -> Void,
        multiply: (_ thread: Int, _ rows: Range<Int>, SharedPiece, _ newRows: Bool) -> Void
    ) {
        let rowBlocks = (m + blockRows - 1) / blockRows
        func piece(_ column0: Int, _ width: Int, _ slivers: Range<Int>, _ p0: Int, _ depth: Int) -> SharedPiece {
            let start = slivers.lowerBound * nr
            return SharedPiece(
                column0: column0 + start, width: min(slivers.count * nr, width - start), slivers: slivers,
                p0: p0, depth: depth)
        }
        var column0 = 0
        while column0 < n {
            let width = min(blockColumns, n - column0)
            let sliverCount = (width + nr - 1) / nr
            // Enough units for the threads to even out (about four each): when A has few
            // row blocks, each is also split into parts of the B block's slivers.
            let parts = min(sliverCount, max(1, (4 * threads + rowBlocks - 1) / rowBlocks))
            let units = rowBlocks * parts
            var p0 = 0
            while p0 < k {
                let depth = min(blockDepth, k - p0)
                let packers = min(threads, sliverCount)
                forEachParticipant(packers) { index in
                    packB(piece(column0, width, Parallel.chunkRange(index, of: packers, count: sliverCount), p0, depth))
                }
                let next = Atomic<Int>(0)
                forEachParticipant(threads) { thread in
                    var previousRowBlock = -1
                    while true {
                        let unit = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard unit < units else { break }
                        let rowBlock = unit / parts
                        let row0 = rowBlock * blockRows
                        let slivers = Parallel.chunkRange(unit % parts, of: parts, count: sliverCount)
                        multiply(thread, row0..<min(m, row0 + blockRows), piece(column0, width, slivers, p0, depth),
                                 rowBlock != previousRowBlock)
                        previousRowBlock = rowBlock
                    }
                }
                p0 += depth
            }
            column0 += width
        }
    }
}

extension SIMDGEMM.Problem {
    /// Computes all of C with `threads` threads that share each packed block of op(B)
    /// (``SIMDGEMM/forEachSharedBlock(m:n:k:tileColumns:blockRows:blockColumns:blockDepth:threads:packB:multiply:)``);
    /// the bits are those of ``compute(rows:columns:)`` on one thread.
    func computeSharingB(threads: Int) {
        let mr = layout.tileRows, nr = layout.tileColumns
        // Rows of A a thread claims at a time. With the A panel kept in L1 and the B block in
        // L2 (AVX-512), a claim of two panels costs nothing in reuse and keeps the wait at
        // the end of each block short (tens of µs, where a 96-row claim left the other
        // thread idle ~0.15 ms a block: 5% of a batch-8 step). The sliver-outer layouts
        // reuse each B sliver across a whole A block, so they claim whole blocks.
        let blockRows = min(layout.panelOuter ? 2 * mr : layout.blockRows, roundUp(m, mr))
        let blockDepth = min(layout.blockDepth, k)
        let blockColumns = min(layout.blockColumns, roundUp(n, nr))

        // One shared B block, then each thread's A block and edge-tile scratch, 64-byte aligned.
        let floatsB = blockDepth * blockColumns
        let floatsA = blockRows * blockDepth * layout.broadcastWidth
        let floatsPerThread = roundUp(floatsA + mr * nr, 16)
        let totalFloats = floatsB + threads * floatsPerThread
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: totalFloats * MemoryLayout<Float>.stride, alignment: 64)
        defer { buffer.deallocate() }
        let packedB = buffer.bindMemory(to: Float.self, capacity: totalFloats)

        SIMDGEMM.forEachSharedBlock(
            m: m, n: n, k: k, tileColumns: nr, blockRows: blockRows, blockColumns: blockColumns,
            blockDepth: blockDepth, threads: threads
        ) { piece in
            SIMDGEMM.packB(
                b, ldb: ldb, transposed: transposeB, tileColumns: nr, p0: piece.p0, depth: piece.depth,
                col0: piece.column0, columns: piece.width, into: packedB + piece.slivers.lowerBound * piece.depth * nr)
        } multiply: { thread, rows, piece, newRows in
            let packedA = packedB + floatsB + thread * floatsPerThread
            if newRows {
                SIMDGEMM.packA(
                    a, lda: lda, transposed: transposeA, tileRows: mr, broadcastWidth: layout.broadcastWidth,
                    row0: rows.lowerBound, rows: rows.count, p0: piece.p0, depth: piece.depth, into: packedA)
            }
            let sliceStep = piece.depth * nr
            multiplyBlock(
                packedA: packedA,
                slivers: Slivers(start: packedB + piece.slivers.lowerBound * sliceStep, step: sliceStep, stride: nr),
                scratch: packedA + floatsA, row0: rows.lowerBound, height: rows.count,
                column0: piece.column0, width: piece.width, depth: piece.depth, beta: piece.p0 == 0 ? beta : 1)
        }
    }
}

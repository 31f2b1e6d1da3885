import Dispatch
import FableKernels

/// Fable's own matrix multiply: the fallback when no BLAS library loads, and the default
/// where it is faster than the library (``GEMM/select(environment:)``).
///
/// The classic blocked algorithm (Goto; BLIS): C is computed in column blocks; for each
/// slice of the shared dimension the block of op(B) is packed into slivers a tile wide,
/// then row blocks of op(A) are packed into panels a tile high, and the register-tile
/// microkernel multiplies each panel by each sliver. Whichever of a panel and a sliver fits
/// L1 stays there while the other operand's block streams from L2 (`Layout.panelOuter`):
/// with AVX-512 an A panel in L1 and the B block in L2, as BLIS does. The
/// microkernel depends on the instruction set (``KernelISA``): 12 x 32 with AVX-512 and
/// 6 x 16 with AVX2+FMA (C intrinsics in `FableKernels`), 6 x 8 in portable Swift SIMD
/// otherwise (`SIMDGEMM+Kernel.swift`); blocking and threads are shared Swift code, and so is
/// packing apart from its two copies (`fable_pack_transpose` and `fable_pack_columns`, C,
/// any ISA).
///
/// Threads share each packed block of B and claim blocks of A's rows from a common
/// counter (`SIMDGEMM+Threads.swift`); short, wide products split C into bands of columns
/// instead. Every element of C is computed by the same sequence of operations whatever the
/// split, so results are bitwise identical for any thread count (for a given instruction set).
public struct SIMDGEMM: GEMMBackend {
    /// The instruction set of the microkernel.
    public let isa: KernelISA
    /// The tile and block sizes for ``isa``.
    let layout: Layout

    /// A kernel for `isa` (default: ``KernelISA/active``, the widest the CPU supports unless
    /// `FABLE_ISA` says otherwise). The CPU must support `isa`.
    public init(isa: KernelISA = .active) {
        precondition(isa.isSupported, "SIMDGEMM: this CPU does not support \(isa.rawValue)")
        self.isa = isa
        self.layout = Layout(isa)
    }

    /// "fable-avx512", "fable-avx2" or "swift-simd".
    public var name: String { isa == .swift ? "swift-simd" : "fable-\(isa.rawValue)" }

    /// The least work, in multiply-adds, worth a thread of its own.
    static let minimumWorkPerThread = 1 << 20

    /// Tile and block sizes of one microkernel.
    struct Layout: Sendable {
        /// Rows and columns of C per microkernel call.
        let tileRows: Int, tileColumns: Int
        /// Floats stored per packed A value (the Swift kernel reads A pre-broadcast).
        let broadcastWidth: Int
        /// Rows of op(A) packed at a time (a multiple of tileRows), steps of the shared
        /// dimension per packed block, and columns of op(B) packed at a time.
        let blockRows: Int, blockDepth: Int, blockColumns: Int
        /// Whether the kernel walks a packed block panel by panel (each A panel stays in L1
        /// while every B sliver of the block streams past it from L2) rather than sliver by
        /// sliver (each B sliver in L1, the A panels streaming from L2).
        let panelOuter: Bool

        init(_ isa: KernelISA) {
            switch isa {
            case .avx512:
                // 512 steps a block: at the 17M model's shapes (k = 512 or 1,344) C is
                // written once or three times rather than twice or six (~5% faster than
                // 256). A 12 x 512 panel (24 KiB) fits L1 where a 512 x 32 sliver (64 KiB)
                // does not, so the A panel is the operand kept in L1, and the B block,
                // 512 x 768 floats = 1.5 MiB, is sized to stay in L2 while the panels of A
                // pass over it (3-8% faster than a 2,048-column block walked sliver by
                // sliver, whose slivers came from L3).
                (tileRows, tileColumns, broadcastWidth) = (12, 32, 1)
                (blockRows, blockDepth, blockColumns, panelOuter) = (96, 512, 768, true)
            case .avx2:
                // A 256 x 16 sliver (16 KiB) fits L1; A panels 6 x 256 stream from L2.
                (tileRows, tileColumns, broadcastWidth) = (6, 16, 1)
                (blockRows, blockDepth, blockColumns, panelOuter) = (96, 256, 2048, false)
            case .swift:
                // A block 72 x 256 x 4 floats = 288 KiB; B 256 x 2048 floats = 2 MiB.
                (tileRows, tileColumns, broadcastWidth) = (6, 8, 4)
                (blockRows, blockDepth, blockColumns, panelOuter) = (72, 256, 2048, false)
            }
        }
    }

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
            isa: isa, layout: layout, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)

        let plan = BandPlan(m: m, n: n, k: k, tileRows: layout.tileRows, tileColumns: layout.tileColumns,
                            threads: threads)
        if plan.sharesB && !problem.readsBInPlace(columns: 0..<n) {
            problem.computeSharingB(threads: plan.chunks)
        } else {
            SIMDGEMM.forEachBand(plan) { rows, columns in problem.compute(rows: rows, columns: columns) }
        }
    }

    /// Merges the valid `rows` x `columns` corner of a whole tile computed into `scratch`
    /// (rows `scratchStride` apart, alpha applied, beta 0) into C, with the same rounding as
    /// the kernels' own beta update.
    @inline(__always)
    static func mergeEdgeTile(
        _ scratch: UnsafePointer<Float>, scratchStride: Int, into tile: UnsafeMutablePointer<Float>, ldc: Int,
        rows: Int, columns: Int, beta: Float
    ) {
        for r in 0..<rows {
            let source = scratch + r * scratchStride, target = tile + r * ldc
            if beta == 0 {
                for j in 0..<columns { target[j] = source[j] }
            } else {
                for j in 0..<columns { target[j] = source[j] + beta * target[j] }
            }
        }
    }
}

// MARK: - One band of C

extension SIMDGEMM {
    /// The arguments of one call, shared by the threads working on it.
    struct Problem {
        let isa: KernelISA
        let layout: Layout
        let transposeA: Bool, transposeB: Bool
        let m: Int, n: Int, k: Int
        let alpha: Float
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int
        let beta: Float
        let c: UnsafeMutablePointer<Float>, ldc: Int

        /// Computes `C[rows, columns]` on the calling thread with its own packing buffers.
        func compute(rows: Range<Int>, columns: Range<Int>) {
            let mr = layout.tileRows, nr = layout.tileColumns
            let blockRows = min(layout.blockRows, roundUp(rows.count, mr))
            let blockDepth = min(layout.blockDepth, k)
            let blockColumns = min(layout.blockColumns, roundUp(columns.count, nr))

            let inPlace = readsBInPlace(columns: columns)
            let floatsA = blockRows * blockDepth * layout.broadcastWidth
            let floatsB = inPlace ? 0 : blockDepth * blockColumns
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
                    let slivers: Slivers
                    if inPlace {
                        slivers = Slivers(start: b + p0 * ldb + column0, step: nr, stride: ldb)
                    } else {
                        SIMDGEMM.packB(
                            b, ldb: ldb, transposed: transposeB, tileColumns: nr,
                            p0: p0, depth: depth, col0: column0, columns: width, into: packedB)
                        slivers = Slivers(start: packedB, step: depth * nr, stride: nr)
                    }
                    var row0 = rows.lowerBound
                    while row0 < rows.upperBound {
                        let height = min(blockRows, rows.upperBound - row0)
                        SIMDGEMM.packA(
                            a, lda: lda, transposed: transposeA,
                            tileRows: mr, broadcastWidth: layout.broadcastWidth,
                            row0: row0, rows: height, p0: p0, depth: depth, into: packedA)
                        multiplyBlock(
                            packedA: packedA, slivers: slivers, scratch: scratch,
                            row0: row0, height: height, column0: column0, width: width,
                            depth: depth, beta: sliceBeta)
                        row0 += height
                    }
                    p0 += depth
                }
                column0 += width
            }
        }

        /// Whether this band reads op(B) where it lies instead of packing it: with the AVX-512
        /// kernel (which takes B's row stride), when B is not transposed, the band is whole
        /// slivers wide (no padding needed) and the block is small enough (at most 128 KiB)
        /// to stay in L2 whatever its row stride. That is attention's per-head products
        /// (P V and dS K, 32 columns), where packing the keys' values again for every
        /// 64-row block cost about as much as multiplying them.
        func readsBInPlace(columns: Range<Int>) -> Bool {
            isa == .avx512 && !transposeB && columns.count % layout.tileColumns == 0
                && k * columns.count <= 32 * 1024
        }

        /// Where the B slivers of one block are: sliver s starts at `start + s * step`, and
        /// its steps of the shared dimension are `stride` floats apart.
        struct Slivers {
            let start: UnsafePointer<Float>, step: Int, stride: Int
        }

        /// Runs the microkernel over every tile of one block.
        func multiplyBlock(
            packedA: UnsafePointer<Float>, slivers: Slivers,
            scratch: UnsafeMutablePointer<Float>,
            row0: Int, height: Int, column0: Int, width: Int, depth: Int, beta: Float
        ) {
            let mr = layout.tileRows, nr = layout.tileColumns
            let panelFloats = depth * mr * layout.broadcastWidth
            func tile(_ i: Int, _ j: Int) {
                let rows = min(mr, height - i), columns = min(nr, width - j)
                let panel = packedA + (i / mr) * panelFloats
                let sliver = slivers.start + (j / nr) * slivers.step
                let tile = c + (row0 + i) * ldc + column0 + j
                if rows == mr && columns == nr {
                    kernel(depth: depth, a: panel, b: sliver, ldb: slivers.stride, c: tile, ldc: ldc,
                           alpha: alpha, beta: beta)
                } else {
                    // A partial tile: the whole tile goes to scratch (the packing padded
                    // with zeros), then the valid part is merged into C with the same
                    // rounding as the kernel's own beta update.
                    kernel(depth: depth, a: panel, b: sliver, ldb: slivers.stride, c: scratch, ldc: nr,
                           alpha: alpha, beta: 0)
                    SIMDGEMM.mergeEdgeTile(
                        scratch, scratchStride: nr, into: tile, ldc: ldc, rows: rows, columns: columns, beta: beta)
                }
            }
            // Each tile is computed the same way in either order, so the order changes
            // speed only, never the result.
            if layout.panelOuter {
                for i in stride(from: 0, to: height, by: mr) {
                    for j in stride(from: 0, to: width, by: nr) { tile(i, j) }
                }
            } else {
                for j in stride(from: 0, to: width, by: nr) {
                    for i in stride(from: 0, to: height, by: mr) { tile(i, j) }
                }
            }
        }
    }
}

extension SIMDGEMM.Problem {
    /// One full tile with the microkernel of ``isa``; the steps of B are `ldb` floats apart
    /// (the tile width when packed; only the AVX-512 kernel reads B in place).
    @inline(__always)
    func kernel(
        depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        assert(isa == .avx512 || ldb == layout.tileColumns, "only the AVX-512 kernel reads B in place")
        switch isa {
        case .avx512: fable_sgemm_avx512_12x32(depth, a, b, ldb, c, ldc, alpha, beta)
        case .avx2: fable_sgemm_avx2_6x16(depth, a, b, c, ldc, alpha, beta)
        case .swift: SIMDGEMM.kernel6x8(depth: depth, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }
}

/// `value` rounded up to a multiple of `multiple` (block and buffer sizes of the GEMM kernels).
@inline(__always)
func roundUp(_ value: Int, _ multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}

import FableKernels

/// Matrix products with bf16 inputs and fp32 accumulation and output: op(A) and op(B) are
/// rounded to bfloat16 (to nearest, ties to even) as they are packed, then multiplied into
/// fp32 accumulators by AMX tiles (tdpbf16ps, ``Kernel/amx``) where the CPU and OS allow, else
/// by the AVX512_BF16 instruction vdpbf16ps (``Kernel/avx512bf16``). The mixed-precision
/// training option (``MatmulPrecision/bf16``) routes every product through it.
///
/// On the Sapphire Rapids Xeon of BENCHMARKS.md vdpbf16ps runs at half the fp32 FMA rate in
/// flops (one instruction per two cycles), so only AMX is faster than fp32 there.
///
/// The blocking is ``SIMDGEMM``'s (Goto/BLIS: pack a block of op(B) into slivers, blocks of
/// op(A) into panels, a 12 x 32 register-tile microkernel over them) and so is the split
/// for threads (``SIMDGEMM/BandPlan``: tall products share each packed B block and claim
/// blocks of A's rows, others split C into bands), so results are bitwise identical for any
/// thread count (for one kernel). Packed values are
/// pairs of bf16 in 32-bit words (`FableKernels.h`), half the bytes of fp32, so a block spans
/// twice the depth.
///
/// Products of two bf16 values are exact in fp32, so the result differs from the exact
/// product of the rounded inputs only by fp32 accumulation rounding. Subnormal bf16 inputs
/// count as zero in both kernels (their fixed DAZ behaviour).
public struct BF16GEMM: GEMMBackend {
    /// The instructions that multiply.
    public enum Kernel: String, Sendable, CaseIterable {
        /// AMX-BF16 tiles: a 32 x 32 block of C per step of 16 pairs (sbgemm_amx.c).
        case amx
        /// AVX512_BF16 vdpbf16ps on zmm registers: a 12 x 32 tile (sbgemm_avx512.c).
        case avx512bf16 = "avx512-bf16"

        /// Whether this CPU and OS run it (AMX also needs the OS's permission, asked once).
        public var isSupported: Bool {
            guard KernelISA.hasBF16, KernelISA.active == .avx512 else { return false }
            switch self {
            case .avx512bf16: return true
            case .amx: return BF16GEMM.amxEnabled
            }
        }

        /// Every kernel this machine runs, fastest first.
        public static var supported: [Kernel] { allCases.filter(\.isSupported) }
    }

    /// AMX-BF16 in the CPU and the tile state granted by the OS (asked once per process).
    static let amxEnabled: Bool = KernelISA.cpuFeatures & UInt32(FABLE_CPU_AMX_BF16) != 0 && fable_amx_enable() != 0

    /// Whether this CPU (and OS) runs a kernel: AVX512_BF16 (AMX-BF16 CPUs have it too), with
    /// AVX-512 state enabled, and `FABLE_ISA` not capping the kernels below AVX-512.
    public static var isSupported: Bool { !Kernel.supported.isEmpty }

    /// Why ``isSupported`` is false, in words naming the missing CPU feature; nil when supported.
    public static var unsupportedReason: String? {
        if !KernelISA.hasBF16 {
            return "this CPU lacks AVX512_BF16 (vdpbf16ps; found: \(KernelISA.featureSummary))"
        }
        if KernelISA.active != .avx512 {
            return "the kernels are capped below AVX-512 (\(KernelISA.activeReason))"
        }
        return nil
    }

    /// The instructions this instance multiplies with.
    public let kernel: Kernel

    /// A product with `kernel` (default: the fastest this machine runs, AMX where allowed);
    /// the machine must support it.
    public init(kernel: Kernel? = nil) {
        precondition(Self.isSupported, "BF16GEMM: \(Self.unsupportedReason ?? "")")
        let chosen = kernel ?? Kernel.supported[0]
        precondition(chosen.isSupported, "BF16GEMM: this machine cannot run the \(chosen.rawValue) kernel")
        self.kernel = chosen
        self.layout = Layout(chosen)
    }

    /// "fable-amx-bf16" or "fable-avx512-bf16".
    public var name: String { kernel == .amx ? "fable-amx-bf16" : "fable-avx512-bf16" }

    /// Tile and block sizes of one kernel.
    struct Layout: Sendable {
        /// Rows and columns of C per kernel step; pair counts are a multiple of `pairQuantum`.
        let tileRows: Int, tileColumns: Int, pairQuantum: Int
        /// Rows of op(A) packed at a time, pairs of steps per packed block (512 steps), and
        /// columns of op(B) packed at a time. AVX512_BF16: a B sliver of 256 pairs x 32 words
        /// = 32 KiB for L1, an A block 96 x 256 words = 96 KiB for L2. AMX: the same sliver,
        /// an A block of 192 rows = 192 KiB.
        let blockRows: Int, blockPairs: Int, blockColumns: Int

        init(_ kernel: Kernel) {
            switch kernel {
            case .avx512bf16:
                (tileRows, tileColumns, pairQuantum) = (12, 32, 1)
                (blockRows, blockPairs, blockColumns) = (96, 256, 2048)
            case .amx:
                (tileRows, tileColumns, pairQuantum) = (32, 32, 16)
                (blockRows, blockPairs, blockColumns) = (192, 256, 2048)
            }
        }
    }

    let layout: Layout

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
            kernel: kernel, layout: layout, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        let plan = SIMDGEMM.BandPlan(
            m: m, n: n, k: k, tileRows: layout.tileRows, tileColumns: layout.tileColumns, threads: threads)
        if plan.sharesB {
            problem.computeSharingB(threads: plan.chunks)
        } else {
            SIMDGEMM.forEachBand(plan) { rows, columns in problem.compute(rows: rows, columns: columns) }
        }
    }
}

// MARK: - One band of C

extension BF16GEMM {
    /// The arguments of one call, shared by the threads working on it.
    struct Problem {
        let kernel: Kernel
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
            let blockPairs = min(layout.blockPairs, pairs(k))
            let blockColumns = min(layout.blockColumns, roundUp(columns.count, nr))

            let wordsA = blockRows * blockPairs, wordsB = blockPairs * blockColumns
            let scratchFloats = mr * nr
            let buffer = UnsafeMutableRawPointer.allocate(
                byteCount: (wordsA + wordsB + scratchFloats) * 4, alignment: 64)
            defer { buffer.deallocate() }
            let packedA = buffer.bindMemory(to: UInt32.self, capacity: wordsA + wordsB)
            let packedB = packedA + wordsA
            let scratch = (buffer + (wordsA + wordsB) * 4).bindMemory(to: Float.self, capacity: scratchFloats)

            var column0 = columns.lowerBound
            while column0 < columns.upperBound {
                let width = min(blockColumns, columns.upperBound - column0)
                var p0 = 0
                while p0 < k {
                    let depth = min(2 * blockPairs, k - p0)
                    let pairs = pairs(depth)
                    packB(p0: p0, depth: depth, pairs: pairs, column0: column0, width: width, into: packedB)
                    var row0 = rows.lowerBound
                    while row0 < rows.upperBound {
                        let height = min(blockRows, rows.upperBound - row0)
                        packA(rows: row0..<row0 + height, p0: p0, depth: depth, pairs: pairs, into: packedA)
                        multiply(
                            rows: row0..<row0 + height, p0: p0, pairs: pairs, packedA: packedA,
                            packedB: packedB, column0: column0, width: width, scratch: scratch)
                        row0 += height
                    }
                    p0 += depth
                }
                column0 += width
            }
        }

        /// Computes all of C with `threads` threads that share each packed block of op(B)
        /// (``SIMDGEMM/forEachSharedBlock(m:n:k:tileColumns:blockRows:blockColumns:blockDepth:threads:packB:multiply:)``);
        /// the bits are those of ``compute(rows:columns:)`` on one thread.
        func computeSharingB(threads: Int) {
            let mr = layout.tileRows, nr = layout.tileColumns
            let blockRows = min(layout.blockRows, roundUp(m, mr))
            let blockPairs = min(layout.blockPairs, pairs(k))
            let blockColumns = min(layout.blockColumns, roundUp(n, nr))

            let wordsB = blockPairs * blockColumns, wordsA = blockRows * blockPairs
            let wordsPerThread = roundUp(wordsA + mr * nr, 16)
            let totalWords = wordsB + threads * wordsPerThread
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: totalWords * 4, alignment: 64)
            defer { buffer.deallocate() }
            let packedB = buffer.bindMemory(to: UInt32.self, capacity: totalWords)

            SIMDGEMM.forEachSharedBlock(
                m: m, n: n, k: k, tileColumns: nr, blockRows: blockRows, blockColumns: blockColumns,
                blockDepth: 2 * blockPairs, threads: threads
            ) { piece in
                let pairs = pairs(piece.depth)
                packB(p0: piece.p0, depth: piece.depth, pairs: pairs, column0: piece.column0, width: piece.width,
                      into: packedB + piece.slivers.lowerBound * nr * pairs)
            } multiply: { thread, rows, piece, newRows in
                let pairs = pairs(piece.depth)
                let packedA = packedB + wordsB + thread * wordsPerThread
                let scratch = UnsafeMutableRawPointer(packedA + wordsA).bindMemory(to: Float.self, capacity: mr * nr)
                // The thread's previous unit of this slice had the same rows: its packed A is still here.
                if newRows { packA(rows: rows, p0: piece.p0, depth: piece.depth, pairs: pairs, into: packedA) }
                multiply(
                    rows: rows, p0: piece.p0, pairs: pairs, packedA: packedA,
                    packedB: packedB + piece.slivers.lowerBound * nr * pairs,
                    column0: piece.column0, width: piece.width, scratch: scratch)
            }
        }

        /// Packs steps `p0..<p0+depth` and columns `column0..<column0+width` of op(B) into
        /// slivers of `pairs` pairs.
        private func packB(
            p0: Int, depth: Int, pairs: Int, column0: Int, width: Int, into packed: UnsafeMutablePointer<UInt32>
        ) {
            let source = transposeB ? b + column0 * ldb + p0 : b + p0 * ldb + column0
            let tB: Int32 = transposeB ? 1 : 0
            switch kernel {
            case .avx512bf16: fable_bf16_pack_b32(source, ldb, tB, depth, width, packed)
            case .amx: fable_amx_pack_b32(source, ldb, tB, depth, width, pairs, packed)
            }
        }

        /// The packed pairs of a slice of `depth` steps (the kernel's quantum of pairs).
        private func pairs(_ depth: Int) -> Int { roundUp((depth + 1) / 2, layout.pairQuantum) }

        /// Packs `rows` of op(A) at steps `p0..<p0+depth` into the kernel's panels.
        private func packA(rows: Range<Int>, p0: Int, depth: Int, pairs: Int, into packed: UnsafeMutablePointer<UInt32>) {
            let row0 = rows.lowerBound
            let source = transposeA ? a + p0 * lda + row0 : a + row0 * lda + p0
            let tA: Int32 = transposeA ? 1 : 0
            switch kernel {
            case .avx512bf16: fable_bf16_pack_a12(source, lda, tA, rows.count, depth, packed)
            case .amx: fable_amx_pack_a32(source, lda, tA, rows.count, depth, pairs, packed)
            }
        }

        /// Multiplies the packed `rows` of op(A) of the slice starting at step `p0` by the
        /// packed B block of `width` columns starting at `column0`; the first slice applies
        /// beta, later slices add to what it wrote.
        private func multiply(
            rows: Range<Int>, p0: Int, pairs: Int,
            packedA: UnsafePointer<UInt32>, packedB: UnsafePointer<UInt32>,
            column0: Int, width: Int, scratch: UnsafeMutablePointer<Float>
        ) {
            let row0 = rows.lowerBound, height = rows.count
            let sliceBeta: Float = p0 == 0 ? beta : 1
            switch kernel {
            case .avx512bf16:
                multiplyBlock(
                    packedA: packedA, packedB: packedB, scratch: scratch, row0: row0, height: height,
                    column0: column0, width: width, pairs: pairs, beta: sliceBeta)
            case .amx:
                fable_sbgemm_amx_block(
                    pairs, packedA, height, packedB, width, c + row0 * ldc + column0, ldc, alpha, sliceBeta)
            }
        }

        /// Runs the AVX512_BF16 microkernel over every tile of one packed block.
        private func multiplyBlock(
            packedA: UnsafePointer<UInt32>, packedB: UnsafePointer<UInt32>,
            scratch: UnsafeMutablePointer<Float>,
            row0: Int, height: Int, column0: Int, width: Int, pairs: Int, beta: Float
        ) {
            let mr = layout.tileRows, nr = layout.tileColumns
            var j = 0
            while j < width {
                let columns = min(nr, width - j)
                let sliver = packedB + (j / nr) * pairs * nr
                var i = 0
                while i < height {
                    let rows = min(mr, height - i)
                    let panel = packedA + (i / mr) * pairs * mr
                    let tile = c + (row0 + i) * ldc + column0 + j
                    if rows == mr && columns == nr {
                        fable_sbgemm_avx512_12x32(pairs, panel, sliver, tile, ldc, alpha, beta)
                    } else {
                        // A partial tile: computed whole into scratch (the packing padded with
                        // zeros), then its valid part merged into C.
                        fable_sbgemm_avx512_12x32(pairs, panel, sliver, scratch, nr, alpha, 0)
                        SIMDGEMM.mergeEdgeTile(
                            scratch, scratchStride: nr, into: tile, ldc: ldc, rows: rows, columns: columns, beta: beta)
                    }
                    i += mr
                }
                j += nr
            }
        }
    }
}

// MARK: - Rounding

extension BF16GEMM {
    /// `values` rounded to bf16 bit patterns the way the packing rounds them (to nearest, ties
    /// to even; subnormals kept; NaN stays NaN), with the AVX-512 code the packing uses.
    /// Needs AVX-512 (``KernelISA/avx512``).
    public static func roundedBits(_ values: [Float]) -> [UInt16] {
        precondition(KernelISA.avx512.isSupported, "BF16GEMM.roundedBits needs AVX-512")
        var bits = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { x in
            bits.withUnsafeMutableBufferPointer { y in
                fable_bf16_round_avx512(x.baseAddress, y.baseAddress, x.count)
            }
        }
        return bits
    }
}

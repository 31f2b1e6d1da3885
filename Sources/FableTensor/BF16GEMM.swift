import FableKernels

/// Matrix products with bf16 inputs and fp32 accumulation and output: op(A) and op(B) are
/// rounded to bfloat16 (to nearest, ties to even) as they are packed, and the AVX512_BF16
/// instruction vdpbf16ps multiplies pairs of them into fp32 accumulators. The mixed-precision
/// training option (``MatmulPrecision/bf16``) routes every product through it.
///
/// The blocking is ``SIMDGEMM``'s (Goto/BLIS: pack a block of op(B) into slivers, blocks of
/// op(A) into panels, a 12 x 32 register-tile microkernel over them) and so is the split into
/// bands for threads (``SIMDGEMM/forEachBand(m:n:k:tileRows:tileColumns:threads:_:)``), so
/// results are bitwise identical for any thread count. Packed values are pairs of bf16 in
/// 32-bit words (`FableKernels.h`), half the bytes of fp32, so a block spans twice the depth.
///
/// Products of two bf16 values are exact in fp32, so the result differs from the exact
/// product of the rounded inputs only by fp32 accumulation rounding. Subnormal bf16 inputs
/// count as zero in vdpbf16ps (its fixed DAZ behaviour).
public struct BF16GEMM: GEMMBackend {
    /// Whether this CPU (and OS) runs the kernel: AVX512_BF16, with AVX-512 state enabled,
    /// and `FABLE_ISA` not capping the kernels below AVX-512.
    public static var isSupported: Bool { KernelISA.hasBF16 && KernelISA.active == .avx512 }

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

    /// The kernel; the CPU must support it (``isSupported``).
    public init() {
        precondition(Self.isSupported, "BF16GEMM: \(Self.unsupportedReason ?? "")")
    }

    public var name: String { "fable-avx512-bf16" }

    /// Rows and columns of C per microkernel call.
    static let tileRows = 12, tileColumns = 32
    /// Rows of op(A) packed at a time, pairs of steps per packed block (512 steps: a B
    /// sliver of 256 pairs x 32 words = 32 KiB for L1, an A block 96 x 256 words = 96 KiB
    /// for L2), and columns of op(B) packed at a time.
    static let blockRows = 96, blockPairs = 256, blockColumns = 2048

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
            transposeA: transposeA, transposeB: transposeB, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        SIMDGEMM.forEachBand(
            m: m, n: n, k: k, tileRows: Self.tileRows, tileColumns: Self.tileColumns, threads: threads
        ) { rows, columns in
            problem.compute(rows: rows, columns: columns)
        }
    }
}

// MARK: - One band of C

extension BF16GEMM {
    /// The arguments of one call, shared by the threads working on it.
    struct Problem {
        let transposeA: Bool, transposeB: Bool
        let k: Int
        let alpha: Float
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int
        let beta: Float
        let c: UnsafeMutablePointer<Float>, ldc: Int

        /// Computes `C[rows, columns]` on the calling thread with its own packing buffers.
        func compute(rows: Range<Int>, columns: Range<Int>) {
            let mr = BF16GEMM.tileRows, nr = BF16GEMM.tileColumns
            let blockRows = min(BF16GEMM.blockRows, roundUp(rows.count, mr))
            let blockPairs = min(BF16GEMM.blockPairs, (k + 1) / 2)
            let blockColumns = min(BF16GEMM.blockColumns, roundUp(columns.count, nr))

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
                    // The first slice applies beta; later slices add to what it wrote.
                    let sliceBeta: Float = p0 == 0 ? beta : 1
                    let sourceB = transposeB ? b + column0 * ldb + p0 : b + p0 * ldb + column0
                    fable_bf16_pack_b32(sourceB, ldb, transposeB ? 1 : 0, depth, width, packedB)
                    var row0 = rows.lowerBound
                    while row0 < rows.upperBound {
                        let height = min(blockRows, rows.upperBound - row0)
                        let sourceA = transposeA ? a + p0 * lda + row0 : a + row0 * lda + p0
                        fable_bf16_pack_a12(sourceA, lda, transposeA ? 1 : 0, height, depth, packedA)
                        multiplyBlock(
                            packedA: packedA, packedB: packedB, scratch: scratch,
                            row0: row0, height: height, column0: column0, width: width,
                            pairs: (depth + 1) / 2, beta: sliceBeta)
                        row0 += height
                    }
                    p0 += depth
                }
                column0 += width
            }
        }

        /// Runs the microkernel over every tile of one packed block.
        private func multiplyBlock(
            packedA: UnsafePointer<UInt32>, packedB: UnsafePointer<UInt32>,
            scratch: UnsafeMutablePointer<Float>,
            row0: Int, height: Int, column0: Int, width: Int, pairs: Int, beta: Float
        ) {
            let mr = BF16GEMM.tileRows, nr = BF16GEMM.tileColumns
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

@inline(__always)
private func roundUp(_ value: Int, _ multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}

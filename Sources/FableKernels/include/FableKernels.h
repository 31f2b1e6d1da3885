// FableKernels: the few loops that need instructions newer than baseline x86-64 (AVX2+FMA,
// AVX-512), written with intrinsics and compiled per function for their instruction set, so
// the target needs no compiler flags. Swift checks fable_cpu_features() once and calls only
// the kernels the CPU has; everything else (blocking, threads, most packing) stays in Swift.
// On other architectures every feature bit is 0 and the kernels are never called.
#ifndef FABLE_KERNELS_H
#define FABLE_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Feature bits reported by fable_cpu_features().
enum {
    /// AVX2 and FMA3, with the OS saving YMM state.
    FABLE_CPU_AVX2_FMA = 1 << 0,
    /// AVX-512 F, BW, VL and DQ, with the OS saving ZMM state.
    FABLE_CPU_AVX512 = 1 << 1,
    /// AVX512_BF16 (vdpbf16ps).
    FABLE_CPU_AVX512_BF16 = 1 << 2,
    /// AMX-TILE and AMX-BF16 (tdpbf16ps), with the OS supporting tile state (XCR0);
    /// fable_amx_enable() must still succeed before the first use.
    FABLE_CPU_AMX_BF16 = 1 << 3,
};

/// The instruction sets this CPU and OS support (a mask of FABLE_CPU_* bits).
unsigned fable_cpu_features(void);

// MARK: - SGEMM microkernels
//
// C[0..<MR, 0..<NR] = alpha * (A panel x B sliver) + beta * C over `depth` steps, where the
// packed A panel holds MR consecutive floats per step and the packed B sliver NR consecutive
// floats per step. C rows are `ldc` floats apart; C is read only when beta != 0. The result
// is alpha * sum (rounded), then + beta * C (rounded), the same operations as the Swift
// driver's edge-tile merge, so full and edge tiles round alike.

/// The transposing copy of SGEMM packing: packed[p * stride + r] = source[r * ld + p] for
/// r < rows, p < depth (rows of a row-major matrix written as columns), and 0 for
/// rows <= r < padded. Any architecture.
void fable_pack_transpose(const float *source, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t padded,
                          ptrdiff_t depth, float *packed, ptrdiff_t stride);

/// The non-transposing copy of SGEMM packing: cuts `count` columns of `depth` rows of a
/// row-major matrix into tiles `width` columns wide, tile t at packed + t * depth * width
/// holding, for each row p, columns t * width..<t * width + width (zeros past `count`).
/// Any architecture.
void fable_pack_columns(const float *source, ptrdiff_t ld, ptrdiff_t depth, ptrdiff_t count,
                        ptrdiff_t width, float *packed);

/// AVX-512: a 12 x 32 tile (24 zmm accumulators). Step p of B is the 32 floats at
/// b + p * ldb (ldb = 32 for a packed sliver; a row stride to read a row-major B in place).
void fable_sgemm_avx512_12x32(ptrdiff_t depth, const float *a, const float *b, ptrdiff_t ldb,
                              float *c, ptrdiff_t ldc, float alpha, float beta);

/// AVX2+FMA: a 6 x 16 tile (12 ymm accumulators).
void fable_sgemm_avx2_6x16(ptrdiff_t depth, const float *a, const float *b, float *c,
                           ptrdiff_t ldc, float alpha, float beta);

// MARK: - bf16 matrix products (AVX512_BF16; sbgemm_avx512.c)
//
// Packed bf16 operands are 32-bit words, each a pair of bf16 values of two consecutive steps
// of the shared dimension (low half: the even step), as vdpbf16ps reads them; an odd depth
// is padded with a zero step, so a block of `depth` steps holds (depth + 1) / 2 pairs.
// Rounding from fp32 is to nearest, ties to even; subnormals are kept, NaN stays NaN.

/// y[i] = x[i] rounded to bf16 (bit patterns). Needs AVX-512 F/BW only.
void fable_bf16_round_avx512(const float *x, unsigned short *y, ptrdiff_t n);

/// Packs rows 0..<rows and steps 0..<depth of op(A) (a points at op(A)[0][0]; op(A)[i][p] is
/// a[p * lda + i] when transposed, else a[i * lda + p]) into panels of 12 rows: panel r
/// holds, for each pair of steps, 12 words (rows past `rows` are zero).
/// Writes ceil(rows / 12) * 12 * ((depth + 1) / 2) words. Needs AVX-512 F/BW only.
void fable_bf16_pack_a12(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                         unsigned *packed);

/// Packs steps 0..<depth and columns 0..<columns of op(B) (op(B)[p][j] is b[j * ldb + p]
/// when transposed, else b[p * ldb + j]) into slivers of 32 columns: for each pair of steps,
/// 32 words. Writes ceil(columns / 32) * 32 * ((depth + 1) / 2) words.
void fable_bf16_pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth, ptrdiff_t columns,
                         unsigned *packed);

/// C[0..<12, 0..<32] = alpha * (A panel x B sliver) + beta * C over `pairs` packed pairs of
/// steps, with vdpbf16ps (fp32 accumulation; the same alpha/beta rounding as the SGEMM
/// kernels). Needs AVX512_BF16.
void fable_sbgemm_avx512_12x32(ptrdiff_t pairs, const unsigned *a, const unsigned *b, float *c,
                               ptrdiff_t ldc, float alpha, float beta);

// MARK: - bf16 matrix products on AMX tiles (sbgemm_amx.c)

/// Asks the OS for the AMX tile state (Linux: arch_prctl ARCH_REQ_XCOMP_PERM, once per
/// process); returns 1 when AMX may be used.
int fable_amx_enable(void);

/// Packs rows 0..<rows and steps 0..<depth of op(A) (as fable_bf16_pack_a12) row-major in
/// pairs for AMX tiles: row r of panel s (32 rows each) is `pairs` words at
/// packed + (s * 32 + r) * pairs; `pairs` is a multiple of 16 at least (depth + 1) / 2, and
/// padding rows and pairs are zero. Writes ceil(rows / 32) * 32 * pairs words.
void fable_amx_pack_a32(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                        ptrdiff_t pairs, unsigned *packed);

/// fable_bf16_pack_b32 with every sliver holding `pairs` pairs (a multiple of 16, at least
/// (depth + 1) / 2; the extra pairs are zero). Writes ceil(columns / 32) * 32 * pairs words.
void fable_amx_pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth, ptrdiff_t columns,
                        ptrdiff_t pairs, unsigned *packed);

/// C[0..<rows, 0..<columns] = alpha * (packed A x packed B) + beta * C over `pairs` pairs,
/// 32 x 32 blocks at a time with tdpbf16ps. Needs AMX-BF16 and fable_amx_enable().
void fable_sbgemm_amx_block(ptrdiff_t pairs, const unsigned *a, ptrdiff_t rows, const unsigned *b,
                            ptrdiff_t columns, float *c, ptrdiff_t ldc, float alpha, float beta);

// MARK: - Peak throughput

/// Runs `iterations` rounds of independent fused multiply-adds on registers with the widest
/// vectors of `features` (FABLE_CPU_AVX512 or FABLE_CPU_AVX2_FMA) and returns the number of
/// floating-point operations done (2 per lane per FMA); time it to get the FMA peak.
double fable_fma_peak(unsigned features, long iterations);

/// Runs `iterations` rounds of independent vdpbf16ps on zmm registers and returns the
/// floating-point operations done (4 per lane: two products and two sums); time it to get
/// the bf16 dot-product peak. Needs AVX512_BF16.
double fable_bf16_dot_peak(long iterations);

/// Runs `iterations` rounds of four independent tdpbf16ps on tile registers and returns the
/// floating-point operations done (2 per multiply-add, 16 x 16 x 32 per instruction); time it
/// to get the AMX bf16 peak. Needs AMX-BF16 and fable_amx_enable().
double fable_amx_peak(long iterations);

// MARK: - Elementwise kernels (AVX-512 and AVX2; n may be any length)

/// y[i] = exp(x[i]) (0 below -87.3; inputs above 88.37 are clamped there so that the
/// scale 2^n stays finite; y may alias x).
void fable_exp_avx512(const float *x, float *y, ptrdiff_t n);
void fable_exp_avx2(const float *x, float *y, ptrdiff_t n);

/// y[i] = x[i] * sigmoid(x[i]) (SiLU).
void fable_silu_avx512(const float *x, float *y, ptrdiff_t n);
void fable_silu_avx2(const float *x, float *y, ptrdiff_t n);

/// y[i] = silu(gate[i]) * up[i] (the SwiGLU gate); when `sigmoid` is not NULL it receives
/// sigmoid(gate[i]) for the backward pass.
void fable_swiglu_avx512(const float *gate, const float *up, float *y, float *sigmoid, ptrdiff_t n);
void fable_swiglu_avx2(const float *gate, const float *up, float *y, float *sigmoid, ptrdiff_t n);

/// y[i] = exp(x[i] - shift); returns the sum of the y[i] (y may alias x; with y NULL only
/// the sum is computed).
float fable_exp_shifted_avx512(const float *x, float *y, ptrdiff_t n, float shift);
float fable_exp_shifted_avx2(const float *x, float *y, ptrdiff_t n, float shift);

/// The largest of x[0..<n] (n >= 1).
float fable_max_avx512(const float *x, ptrdiff_t n);
float fable_max_avx2(const float *x, ptrdiff_t n);

/// Rotary position embedding of `count` consecutive vectors of `dk` floats (dk even), all at
/// one position whose dk / 2 cosines and sines are given: pair (x[2k], x[2k+1]) turns by
/// sign * angle[k]; dst receives the result, or adds it when `accumulate` (dst may alias src
/// when not accumulating).
void fable_rope_avx512(const float *src, float *dst, ptrdiff_t count, ptrdiff_t dk, const float *cosines,
                       const float *sines, float sign, int accumulate);
void fable_rope_avx2(const float *src, float *dst, ptrdiff_t count, ptrdiff_t dk, const float *cosines,
                     const float *sines, float sign, int accumulate);

#ifdef __cplusplus
}
#endif

#endif

// The bf16 matrix product with fp32 accumulation (AVX512_BF16): packing of fp32 operands
// into bf16 pairs, and the 12 x 32 microkernel built on vdpbf16ps.
//
// vdpbf16ps multiplies pairs: lane j of the accumulator gets a[2j]*b[2j] + a[2j+1]*b[2j+1],
// where a and b hold 32 bf16 values. So the packing stores, for each pair of steps of the
// shared dimension (p = 2q, 2q+1), the two bf16 values of one row of A (or one column of B)
// side by side in a 32-bit word: the low half holds step 2q, the high half step 2q+1. A
// depth that is odd is padded with a zero step.
//
// The rounding from fp32 is round-to-nearest, ties to even, done with integer operations
// (as HalfPrecision.bfloat16Bits in Swift and torch's .to(torch.bfloat16)): subnormal inputs
// keep their value (vcvtne2ps2bf16 would flush them), NaN stays a quiet NaN.
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define FABLE_BF16_PACK __attribute__((target("avx512f,avx512bw,avx512vl")))
#define FABLE_BF16_KERNEL __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// MARK: - Rounding

/// Each lane's fp32 value rounded to bf16, the result in the lane's high 16 bits (the low 16
/// bits are garbage).
FABLE_BF16_PACK static inline __m512i round_to_high_half(__m512 x) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF)));
    // NaN: adding could carry into the sign; keep the payload's top and set the quiet bit.
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(bits, _mm512_set1_epi32(0x400000)));
}

/// 32 consecutive floats (lanes past `count` read as 0) as 32 bf16 values in order: 16
/// words, word t holding the pair (x[2t], x[2t+1]).
FABLE_BF16_PACK static inline __m512i round_32(const float *x, ptrdiff_t count) {
    const __mmask16 low = count >= 16 ? 0xFFFF : (__mmask16)((1u << (count > 0 ? count : 0)) - 1);
    const ptrdiff_t rest = count - 16;
    const __mmask16 high = rest >= 16 ? 0xFFFF : (__mmask16)((1u << (rest > 0 ? rest : 0)) - 1);
    const __m512i v0 = round_to_high_half(_mm512_maskz_loadu_ps(low, x));
    const __m512i v1 = round_to_high_half(_mm512_maskz_loadu_ps(high, x + 16));
    // The high (odd-numbered) 16-bit halves of v0 then v1: word w of the result is word
    // 2w + 1 of the 64-word concatenation.
    const __m512i odd = _mm512_set_epi16(
        63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33,
        31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_permutex2var_epi16(v0, odd, v1);
}

FABLE_BF16_PACK
void fable_bf16_round_avx512(const float *x, unsigned short *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 32) {
        const ptrdiff_t count = n - i < 32 ? n - i : 32;
        const __m512i words = round_32(x + i, count);
        const __mmask32 mask = count == 32 ? 0xFFFFFFFFu : (__mmask32)((1u << count) - 1);
        _mm512_mask_storeu_epi16(y + i, mask, words);
    }
}

// MARK: - Packing

/// The pairs (even[i], odd[i]) as words, odd[i] = even[i + stride] (0 when !hasOdd), for the
/// lanes in `mask` (the others 0).
FABLE_BF16_PACK static inline __m512i pair_words(const float *even, ptrdiff_t stride, int hasOdd, __mmask16 mask) {
    const __m512i low = round_to_high_half(_mm512_maskz_loadu_ps(mask, even));
    const __m512i high = hasOdd ? round_to_high_half(_mm512_maskz_loadu_ps(mask, even + stride)) : _mm512_setzero_si512();
    return _mm512_or_si512(_mm512_and_si512(high, _mm512_set1_epi32((int)0xFFFF0000u)), _mm512_srli_epi32(low, 16));
}

/// Packs tiles `width` lanes wide (panels of 12 rows of A or slivers of 32 columns of B) from
/// `count` lanes that are consecutive in memory, with steps `stepStride` floats apart: tile
/// t, at out + t * tileWords, holds for each pair q of steps `width` words at q * width
/// (lanes from `count` on are zero). A band of steps is read along its whole length, into
/// every tile, before the next: tile by tile, each walk down the steps read a line or two
/// per step, a row stride apart, and the next tile fetched the same lines again (as
/// fable_pack_columns in pack.c does for fp32).
FABLE_BF16_PACK static void pack_across(const float *src, ptrdiff_t stepStride, ptrdiff_t count,
                                        ptrdiff_t width, ptrdiff_t depth, unsigned *out, ptrdiff_t tileWords) {
    enum { bandPairs = 4 };
    const ptrdiff_t pairs = (depth + 1) / 2, tiles = (count + width - 1) / width;
    for (ptrdiff_t q0 = 0; q0 < pairs; q0 += bandPairs) {
        const ptrdiff_t q1 = q0 + bandPairs < pairs ? q0 + bandPairs : pairs;
        for (ptrdiff_t t = 0; t < tiles; t++) {
            const ptrdiff_t valid = count - t * width < width ? count - t * width : width;
            for (ptrdiff_t q = q0; q < q1; q++) {
                const float *even = src + t * width + 2 * q * stepStride;
                const int hasOdd = 2 * q + 1 < depth;
                for (ptrdiff_t lane = 0; lane < width; lane += 16) {
                    const ptrdiff_t inChunk = valid - lane;
                    const __mmask16 load = inChunk >= 16 ? 0xFFFF : (__mmask16)((1u << (inChunk > 0 ? inChunk : 0)) - 1);
                    const __m512i words = pair_words(even + lane, stepStride, hasOdd, load);
                    const ptrdiff_t lanes = width - lane < 16 ? width - lane : 16;
                    _mm512_mask_storeu_epi32(out + t * tileWords + q * width + lane, (__mmask16)((1u << lanes) - 1), words);
                }
            }
        }
    }
}

/// Transposes a 16 x 16 matrix of 32-bit words held in v[0..<16] (row i in v[i]) in place.
FABLE_BF16_PACK static inline void transpose16(__m512i v[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
    }
    // u[4k + j], 128-bit lane L: word 4L + j of rows 4k..<4k+4.
    for (int k = 0; k < 16; k += 4) {
        u[k] = _mm512_unpacklo_epi64(t[k], t[k + 2]);
        u[k + 1] = _mm512_unpackhi_epi64(t[k], t[k + 2]);
        u[k + 2] = _mm512_unpacklo_epi64(t[k + 1], t[k + 3]);
        u[k + 3] = _mm512_unpackhi_epi64(t[k + 1], t[k + 3]);
    }
    for (int j = 0; j < 4; j++) {
        const __m512i evenLow = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88);
        const __m512i oddLow = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xDD);
        const __m512i evenHigh = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88);
        const __m512i oddHigh = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xDD);
        v[j] = _mm512_shuffle_i32x4(evenLow, evenHigh, 0x88);
        v[8 + j] = _mm512_shuffle_i32x4(evenLow, evenHigh, 0xDD);
        v[4 + j] = _mm512_shuffle_i32x4(oddLow, oddHigh, 0x88);
        v[12 + j] = _mm512_shuffle_i32x4(oddLow, oddHigh, 0xDD);
    }
}

/// Packs a tile `width` lanes wide whose steps are consecutive in memory and whose lanes are
/// `laneStride` floats apart (the same output layout as pack_across): 16 lanes x 16 pairs
/// at a time, rounded along the lanes' rows and transposed in registers.
FABLE_BF16_PACK static void pack_along(const float *src, ptrdiff_t laneStride, ptrdiff_t valid,
                                       ptrdiff_t width, ptrdiff_t depth, unsigned *out) {
    for (ptrdiff_t lane0 = 0; lane0 < width; lane0 += 16) {
        const ptrdiff_t lanes = width - lane0 < 16 ? width - lane0 : 16;
        const ptrdiff_t filled = valid - lane0 < 0 ? 0 : (valid - lane0 < 16 ? valid - lane0 : 16);
        const __mmask16 store = (__mmask16)((1u << lanes) - 1);
        for (ptrdiff_t p = 0; p < depth; p += 32) {
            const ptrdiff_t count = depth - p < 32 ? depth - p : 32;
            __m512i v[16];
            for (int l = 0; l < 16; l++) {
                v[l] = l < filled ? round_32(src + (lane0 + l) * laneStride + p, count) : _mm512_setzero_si512();
            }
            transpose16(v);
            for (ptrdiff_t t = 0; t < (count + 1) / 2; t++) {
                _mm512_mask_storeu_epi32(out + (p / 2 + t) * width + lane0, store, v[t]);
            }
        }
    }
}

FABLE_BF16_PACK
void fable_bf16_pack_a12(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                         unsigned *packed) {
    const ptrdiff_t panelWords = (depth + 1) / 2 * 12;
    if (transposed) {
        pack_across(a, lda, rows, 12, depth, packed, panelWords);  // op(A)[i][p] = A[p][i]
        return;
    }
    for (ptrdiff_t start = 0; start < rows; start += 12) {
        const ptrdiff_t valid = rows - start < 12 ? rows - start : 12;
        pack_along(a + start * lda, lda, valid, 12, depth, packed + (start / 12) * panelWords);  // op(A)[i][p] = A[i][p]
    }
}

/// Packs op(B) into slivers of 32 columns, `pairStride` pairs apart (at least the
/// (depth + 1) / 2 written; the pairs between are zeroed).
FABLE_BF16_PACK static void pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth,
                                     ptrdiff_t columns, ptrdiff_t pairStride, unsigned *packed) {
    const ptrdiff_t pairs = (depth + 1) / 2;
    if (!transposed) pack_across(b, ldb, columns, 32, depth, packed, pairStride * 32);  // op(B)[p][j] = B[p][j]
    for (ptrdiff_t start = 0; start < columns; start += 32) {
        const ptrdiff_t valid = columns - start < 32 ? columns - start : 32;
        unsigned *out = packed + (start / 32) * pairStride * 32;
        if (transposed) pack_along(b + start * ldb, ldb, valid, 32, depth, out);  // op(B)[p][j] = B[j][p]
        for (ptrdiff_t q = pairs; q < pairStride; q++) {
            _mm512_storeu_si512(out + q * 32, _mm512_setzero_si512());
            _mm512_storeu_si512(out + q * 32 + 16, _mm512_setzero_si512());
        }
    }
}

FABLE_BF16_PACK
void fable_bf16_pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth, ptrdiff_t columns,
                         unsigned *packed) {
    pack_b32(b, ldb, transposed, depth, columns, (depth + 1) / 2, packed);
}

FABLE_BF16_PACK
void fable_amx_pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth, ptrdiff_t columns,
                        ptrdiff_t pairs, unsigned *packed) {
    pack_b32(b, ldb, transposed, depth, columns, pairs, packed);
}

FABLE_BF16_PACK
void fable_amx_pack_a32(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                        ptrdiff_t pairs, unsigned *packed) {
    const ptrdiff_t panels = (rows + 31) / 32;
    // Padding rows and pairs are zero.
    for (ptrdiff_t i = 0; i < panels * 32 * pairs; i += 16) _mm512_storeu_si512(packed + i, _mm512_setzero_si512());
    if (!transposed) {
        // op(A)[i][p] = A[i][p]: each row is 32 steps at a time, in order.
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *row = a + r * lda;
            unsigned *out = packed + r * pairs;
            for (ptrdiff_t p = 0; p < depth; p += 32) {
                const ptrdiff_t count = depth - p < 32 ? depth - p : 32;
                const __m512i words = round_32(row + p, count);
                _mm512_mask_storeu_epi32(out + p / 2, (__mmask16)((1u << ((count + 1) / 2)) - 1), words);
            }
        }
        return;
    }
    // op(A)[i][p] = A[p][i]: two stored rows give one pair for 16 consecutive rows of op(A);
    // 16 pairs of 16 rows are transposed in registers into 16 row pieces. The 32 stored rows
    // of a block of pairs are read along their length (every group of 16) before the next.
    const ptrdiff_t filledPairs = (depth + 1) / 2;
    for (ptrdiff_t q0 = 0; q0 < filledPairs; q0 += 16) {
        const ptrdiff_t count = filledPairs - q0 < 16 ? filledPairs - q0 : 16;
        for (ptrdiff_t lane0 = 0; lane0 < rows; lane0 += 16) {
            const ptrdiff_t lanes = rows - lane0 < 16 ? rows - lane0 : 16;
            const __mmask16 load = (__mmask16)((1u << lanes) - 1);
            __m512i v[16];
            for (int j = 0; j < 16; j++) {
                v[j] = j < count ? pair_words(a + 2 * (q0 + j) * lda + lane0, lda, 2 * (q0 + j) + 1 < depth, load)
                                 : _mm512_setzero_si512();
            }
            transpose16(v);
            for (ptrdiff_t l = 0; l < lanes; l++) {
                _mm512_mask_storeu_epi32(packed + (lane0 + l) * pairs + q0, (__mmask16)((1u << count) - 1), v[l]);
            }
        }
    }
}

// MARK: - Microkernel

#define ROW_DOT(r)                                                               \
    {                                                                            \
        const __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r]);              \
        c##r##0 = _mm512_dpbf16_ps(c##r##0, av, b0);                             \
        c##r##1 = _mm512_dpbf16_ps(c##r##1, av, b1);                             \
    }

#define ROW_STORE(r)                                                                \
    {                                                                               \
        float *row = c + (r) * ldc;                                                 \
        __m512 v0 = _mm512_mul_ps(c##r##0, scale);                                  \
        __m512 v1 = _mm512_mul_ps(c##r##1, scale);                                  \
        if (beta != 0.0f) {                                                         \
            v0 = _mm512_add_ps(v0, _mm512_mul_ps(_mm512_loadu_ps(row), keep));      \
            v1 = _mm512_add_ps(v1, _mm512_mul_ps(_mm512_loadu_ps(row + 16), keep)); \
        }                                                                           \
        _mm512_storeu_ps(row, v0);                                                  \
        _mm512_storeu_ps(row + 16, v1);                                             \
    }

#define ZERO_ROW(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();

FABLE_BF16_KERNEL
void fable_sbgemm_avx512_12x32(ptrdiff_t pairs, const unsigned *restrict a, const unsigned *restrict b,
                               float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    ZERO_ROW(0) ZERO_ROW(1) ZERO_ROW(2) ZERO_ROW(3) ZERO_ROW(4) ZERO_ROW(5)
    ZERO_ROW(6) ZERO_ROW(7) ZERO_ROW(8) ZERO_ROW(9) ZERO_ROW(10) ZERO_ROW(11)
    for (ptrdiff_t q = 0; q < pairs; q++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
        _mm_prefetch((const char *)(b + 8 * 32), _MM_HINT_T0);
        ROW_DOT(0) ROW_DOT(1) ROW_DOT(2) ROW_DOT(3) ROW_DOT(4) ROW_DOT(5)
        ROW_DOT(6) ROW_DOT(7) ROW_DOT(8) ROW_DOT(9) ROW_DOT(10) ROW_DOT(11)
        a += 12;
        b += 32;
    }
    const __m512 scale = _mm512_set1_ps(alpha), keep = _mm512_set1_ps(beta);
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
    ROW_STORE(6) ROW_STORE(7) ROW_STORE(8) ROW_STORE(9) ROW_STORE(10) ROW_STORE(11)
}

#else

void fable_bf16_round_avx512(const float *x, unsigned short *y, ptrdiff_t n) { __builtin_trap(); }
void fable_bf16_pack_a12(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                         unsigned *packed) { __builtin_trap(); }
void fable_bf16_pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth, ptrdiff_t columns,
                         unsigned *packed) { __builtin_trap(); }
void fable_amx_pack_b32(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t depth, ptrdiff_t columns,
                        ptrdiff_t pairs, unsigned *packed) { __builtin_trap(); }
void fable_amx_pack_a32(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                        ptrdiff_t pairs, unsigned *packed) { __builtin_trap(); }
void fable_sbgemm_avx512_12x32(ptrdiff_t pairs, const unsigned *a, const unsigned *b, float *c,
                               ptrdiff_t ldc, float alpha, float beta) { __builtin_trap(); }

#endif

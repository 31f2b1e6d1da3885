// Elementwise kernels 16 (AVX-512) and 8 (AVX2) lanes wide. exp is the same Cody-Waite
// reduction and degree-5 polynomial as Vector.exp in Swift (about 1.5 ulp), with the
// multiply-adds fused. Tails run on the same vector code through masked (AVX-512) or
// staged (AVX2) loads, so every element gets the same arithmetic.
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define FABLE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))
#define FABLE_AVX2 __attribute__((target("avx2,fma")))

// MARK: - AVX-512

FABLE_AVX512 static inline __m512 exp_clamped16(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.37f)), _mm512_set1_ps(-87.3f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(1.4426950408889634f), magic);
    const __m512 n = _mm512_sub_ps(shifted, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62E4p-1f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7F7D1Cp-20f), r);
    const __m512 r2 = _mm512_mul_ps(r, r);
    const __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0x1.0E4020p-7f), r, _mm512_set1_ps(0x1.573E2Ep-5f));
    __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(0x1.555E66p-3f), r, _mm512_set1_ps(0x1.FFFDB6p-2f));
    q = _mm512_fmadd_ps(p, r2, q);
    const __m512 poly = _mm512_fmadd_ps(q, r2, _mm512_mul_ps(r, _mm512_set1_ps(0x1.FFFFECp-1f)));
    __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000));
    const __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(127)), 23));
    return _mm512_fmadd_ps(poly, scale, scale);
}

FABLE_AVX512 static inline __m512 exp16(__m512 x) {
    const __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(under, exp_clamped16(x), _mm512_setzero_ps());
}

FABLE_AVX512 static inline __m512 sigmoid16(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, exp_clamped16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

FABLE_AVX512 static inline __mmask16 tail16(ptrdiff_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

FABLE_AVX512 void fable_exp_avx512(const float *x, float *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(y + i, m, exp16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

FABLE_AVX512 void fable_silu_avx512(const float *x, float *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, sigmoid16(v)));
    }
}

FABLE_AVX512 void fable_swiglu_avx512(const float *gate, const float *up, float *y, float *sigmoid, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
        const __m512 s = sigmoid16(g);
        if (sigmoid) _mm512_mask_storeu_ps(sigmoid + i, m, s);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(g, s), u));
    }
}

FABLE_AVX512 float fable_exp_shifted_avx512(const float *x, float *y, ptrdiff_t n, float shift) {
    const __m512 s = _mm512_set1_ps(shift);
    __m512 total = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s));
        if (y) _mm512_mask_storeu_ps(y + i, m, e);
        total = _mm512_add_ps(total, _mm512_maskz_mov_ps(m, e));
    }
    return _mm512_reduce_add_ps(total);
}

FABLE_AVX512 float fable_max_avx512(const float *x, ptrdiff_t n) {
    __m512 best = _mm512_set1_ps(-__builtin_inff());
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        best = _mm512_mask_max_ps(best, m, best, _mm512_maskz_loadu_ps(m, x + i));
    }
    return _mm512_reduce_max_ps(best);
}

// MARK: - AVX2

FABLE_AVX2 static inline __m256 exp_clamped8(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.37f)), _mm256_set1_ps(-87.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.4426950408889634f), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62E4p-1f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7F7D1Cp-20f), r);
    const __m256 r2 = _mm256_mul_ps(r, r);
    const __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0E4020p-7f), r, _mm256_set1_ps(0x1.573E2Ep-5f));
    __m256 q = _mm256_fmadd_ps(_mm256_set1_ps(0x1.555E66p-3f), r, _mm256_set1_ps(0x1.FFFDB6p-2f));
    q = _mm256_fmadd_ps(p, r2, q);
    const __m256 poly = _mm256_fmadd_ps(q, r2, _mm256_mul_ps(r, _mm256_set1_ps(0x1.FFFFECp-1f)));
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127)), 23));
    return _mm256_fmadd_ps(poly, scale, scale);
}

FABLE_AVX2 static inline __m256 exp8(__m256 x) {
    const __m256 under = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
    return _mm256_andnot_ps(under, exp_clamped8(x));
}

FABLE_AVX2 static inline __m256 sigmoid8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_clamped8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/// Lanes 0..<left set (all when left >= 8), for masked loads and stores.
FABLE_AVX2 static inline __m256i tail8(ptrdiff_t left) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left >= 8 ? 8 : (int)left), lanes);
}

FABLE_AVX2 void fable_exp_avx2(const float *x, float *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        _mm256_maskstore_ps(y + i, m, exp8(_mm256_maskload_ps(x + i, m)));
    }
}

FABLE_AVX2 void fable_silu_avx2(const float *x, float *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 v = _mm256_maskload_ps(x + i, m);
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(v, sigmoid8(v)));
    }
}

FABLE_AVX2 void fable_swiglu_avx2(const float *gate, const float *up, float *y, float *sigmoid, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 g = _mm256_maskload_ps(gate + i, m), u = _mm256_maskload_ps(up + i, m);
        const __m256 s = sigmoid8(g);
        if (sigmoid) _mm256_maskstore_ps(sigmoid + i, m, s);
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(_mm256_mul_ps(g, s), u));
    }
}

FABLE_AVX2 static inline float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

FABLE_AVX2 float fable_exp_shifted_avx2(const float *x, float *y, ptrdiff_t n, float shift) {
    const __m256 s = _mm256_set1_ps(shift);
    __m256 total = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s)), _mm256_castsi256_ps(m));
        if (y) _mm256_maskstore_ps(y + i, m, e);
        total = _mm256_add_ps(total, e);
    }
    return sum8(total);
}

FABLE_AVX2 float fable_max_avx2(const float *x, ptrdiff_t n) {
    const __m256 lowest = _mm256_set1_ps(-__builtin_inff());
    __m256 best = lowest;
    for (ptrdiff_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 v = _mm256_blendv_ps(lowest, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m));
        best = _mm256_max_ps(best, v);
    }
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(best), _mm256_extractf128_ps(best, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

#else

void fable_exp_avx512(const float *x, float *y, ptrdiff_t n) { __builtin_trap(); }
void fable_exp_avx2(const float *x, float *y, ptrdiff_t n) { __builtin_trap(); }
void fable_silu_avx512(const float *x, float *y, ptrdiff_t n) { __builtin_trap(); }
void fable_silu_avx2(const float *x, float *y, ptrdiff_t n) { __builtin_trap(); }
void fable_swiglu_avx512(const float *g, const float *u, float *y, float *s, ptrdiff_t n) { __builtin_trap(); }
void fable_swiglu_avx2(const float *g, const float *u, float *y, float *s, ptrdiff_t n) { __builtin_trap(); }
float fable_exp_shifted_avx512(const float *x, float *y, ptrdiff_t n, float shift) { __builtin_trap(); }
float fable_exp_shifted_avx2(const float *x, float *y, ptrdiff_t n, float shift) { __builtin_trap(); }
float fable_max_avx512(const float *x, ptrdiff_t n) { __builtin_trap(); }
float fable_max_avx2(const float *x, ptrdiff_t n) { __builtin_trap(); }

#endif

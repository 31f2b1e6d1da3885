// Rotary position embedding 16 (AVX-512) and 8 (AVX2) lanes wide. A vector's pairs
// (x[2k], x[2k+1]) turn by the angle whose cosine and sine are c[k], s[k]:
//     y[2k] = x[2k] c[k] - x[2k+1] s[k],   y[2k+1] = x[2k] s[k] + x[2k+1] c[k],
// computed for a whole register as x * (c0 c0 c1 c1 ...) + swap_pairs(x) * (-s0 s0 -s1 s1 ...),
// one multiply and one fused multiply-add per element. The duplicated tables are built
// once per register of pairs and reused for every vector at the same position (the heads
// of one token). Tails run on the same code through masked (AVX-512) or staged (AVX2) loads.
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define FABLE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))
#define FABLE_AVX2 __attribute__((target("avx2,fma")))

FABLE_AVX512 void fable_rope_avx512(const float *src, float *dst, ptrdiff_t count, ptrdiff_t dk,
                                    const float *cosines, const float *sines, float sign, int accumulate) {
    const __m512i duplicate = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    // -sign on the even lanes, +sign on the odd ones.
    const __m512 signs = _mm512_set_ps(sign, -sign, sign, -sign, sign, -sign, sign, -sign,
                                       sign, -sign, sign, -sign, sign, -sign, sign, -sign);
    for (ptrdiff_t i = 0; i < dk; i += 16) {
        const ptrdiff_t left = dk - i;
        const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        const __mmask8 halfMask = left >= 16 ? (__mmask8)0xFF : (__mmask8)((1u << (left / 2)) - 1);
        const __m512 c = _mm512_permutexvar_ps(duplicate, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(halfMask, cosines + i / 2)));
        const __m512 s = _mm512_mul_ps(signs, _mm512_permutexvar_ps(duplicate, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(halfMask, sines + i / 2))));
        for (ptrdiff_t v = 0; v < count; v++) {
            const __m512 x = _mm512_maskz_loadu_ps(m, src + v * dk + i);
            __m512 y = _mm512_fmadd_ps(x, c, _mm512_mul_ps(_mm512_permute_ps(x, 0xB1), s));
            if (accumulate) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, dst + v * dk + i));
            _mm512_mask_storeu_ps(dst + v * dk + i, m, y);
        }
    }
}

FABLE_AVX2 static inline __m256 rope8(__m256 x, __m256 c, __m256 s) {
    return _mm256_fmadd_ps(x, c, _mm256_mul_ps(_mm256_permute_ps(x, 0xB1), s));
}

FABLE_AVX2 void fable_rope_avx2(const float *src, float *dst, ptrdiff_t count, ptrdiff_t dk,
                                const float *cosines, const float *sines, float sign, int accumulate) {
    const __m256i duplicate = _mm256_set_epi32(3, 3, 2, 2, 1, 1, 0, 0);
    const __m256 signs = _mm256_set_ps(sign, -sign, sign, -sign, sign, -sign, sign, -sign);
    for (ptrdiff_t i = 0; i < dk; i += 8) {
        const ptrdiff_t left = dk - i < 8 ? dk - i : 8;
        float cs[4] = {0, 0, 0, 0}, ss[4] = {0, 0, 0, 0};
        memcpy(cs, cosines + i / 2, (size_t)(left / 2) * sizeof(float));
        memcpy(ss, sines + i / 2, (size_t)(left / 2) * sizeof(float));
        const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(cs)), duplicate);
        const __m256 s = _mm256_mul_ps(signs, _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(ss)), duplicate));
        for (ptrdiff_t v = 0; v < count; v++) {
            const float *x = src + v * dk + i;
            float *y = dst + v * dk + i;
            if (left == 8) {
                __m256 r = rope8(_mm256_loadu_ps(x), c, s);
                if (accumulate) r = _mm256_add_ps(r, _mm256_loadu_ps(y));
                _mm256_storeu_ps(y, r);
            } else {
                float staged[8] = {0, 0, 0, 0, 0, 0, 0, 0}, previous[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                memcpy(staged, x, (size_t)left * sizeof(float));
                __m256 r = rope8(_mm256_loadu_ps(staged), c, s);
                if (accumulate) {
                    memcpy(previous, y, (size_t)left * sizeof(float));
                    r = _mm256_add_ps(r, _mm256_loadu_ps(previous));
                }
                _mm256_storeu_ps(staged, r);
                memcpy(y, staged, (size_t)left * sizeof(float));
            }
        }
    }
}

#else

void fable_rope_avx512(const float *src, float *dst, ptrdiff_t count, ptrdiff_t dk, const float *cosines,
                       const float *sines, float sign, int accumulate) { __builtin_trap(); }
void fable_rope_avx2(const float *src, float *dst, ptrdiff_t count, ptrdiff_t dk, const float *cosines,
                     const float *sines, float sign, int accumulate) { __builtin_trap(); }

#endif

// The AVX2+FMA SGEMM microkernel: a 6 x 16 tile of C in 12 ymm accumulators, plus two for
// the B row and one for the broadcast A value (15 of the 16 registers).
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define FABLE_AVX2 __attribute__((target("avx2,fma")))

#define ROW_FMA(r)                                                  \
    {                                                               \
        const __m256 av = _mm256_broadcast_ss(a + (r));             \
        c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);                 \
        c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);                 \
    }

#define ROW_STORE(r)                                                          \
    {                                                                         \
        float *row = c + (r) * ldc;                                           \
        __m256 v0 = _mm256_mul_ps(c##r##0, scale);                            \
        __m256 v1 = _mm256_mul_ps(c##r##1, scale);                            \
        if (beta != 0.0f) {                                                   \
            v0 = _mm256_add_ps(v0, _mm256_mul_ps(_mm256_loadu_ps(row), keep));     \
            v1 = _mm256_add_ps(v1, _mm256_mul_ps(_mm256_loadu_ps(row + 8), keep)); \
        }                                                                     \
        _mm256_storeu_ps(row, v0);                                            \
        _mm256_storeu_ps(row + 8, v1);                                        \
    }

#define ZERO_ROW(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();

FABLE_AVX2
void fable_sgemm_avx2_6x16(ptrdiff_t depth, const float *restrict a, const float *restrict b,
                           float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    ZERO_ROW(0) ZERO_ROW(1) ZERO_ROW(2) ZERO_ROW(3) ZERO_ROW(4) ZERO_ROW(5)
    for (ptrdiff_t p = 0; p < depth; p++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
        a += 6;
        b += 16;
    }
    const __m256 scale = _mm256_set1_ps(alpha), keep = _mm256_set1_ps(beta);
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
}

#else

void fable_sgemm_avx2_6x16(ptrdiff_t depth, const float *a, const float *b, float *c,
                           ptrdiff_t ldc, float alpha, float beta) {
    __builtin_trap();
}

#endif

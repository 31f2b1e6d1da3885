// The AVX-512 SGEMM microkernel: a 12 x 32 tile of C in 24 zmm accumulators. Each step of
// the shared dimension loads two vectors of the B sliver and broadcasts 12 values of the A
// panel, for 24 fused multiply-adds (the CPU's two FMA pipes, fed by its two load ports).
// Both packed operands are prefetched a few steps ahead (with 512 steps per call the B sliver
// is 64 KiB and streams from L2; the driver keeps the 24 KiB A panel in L1 while every
// sliver of the B block passes over it), and the C tile is prefetched for writing
// when the call starts, so its cache misses overlap the multiply-adds instead of stalling
// the stores at the end (measured: about 10% at the 17M model's training shapes).
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define FABLE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2,prfchw")))

#define ROW_FMA(r)                                                  \
    {                                                               \
        const __m512 av = _mm512_set1_ps(a[r]);                     \
        c##r##0 = _mm512_fmadd_ps(av, b0, c##r##0);                 \
        c##r##1 = _mm512_fmadd_ps(av, b1, c##r##1);                 \
    }

#define ROW_STORE(r)                                                          \
    {                                                                         \
        float *row = c + (r) * ldc;                                           \
        __m512 v0 = _mm512_mul_ps(c##r##0, scale);                            \
        __m512 v1 = _mm512_mul_ps(c##r##1, scale);                            \
        if (beta != 0.0f) {                                                   \
            v0 = _mm512_add_ps(v0, _mm512_mul_ps(_mm512_loadu_ps(row), keep));      \
            v1 = _mm512_add_ps(v1, _mm512_mul_ps(_mm512_loadu_ps(row + 16), keep)); \
        }                                                                     \
        _mm512_storeu_ps(row, v0);                                            \
        _mm512_storeu_ps(row + 16, v1);                                       \
    }

#define PREFETCH_ROW_FOR_WRITE(r)                                   \
    __builtin_prefetch(c + (r) * ldc, 1, 3);                        \
    __builtin_prefetch(c + (r) * ldc + 16, 1, 3);

#define ZERO_ROW(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();

FABLE_AVX512
void fable_sgemm_avx512_12x32(ptrdiff_t depth, const float *restrict a, const float *restrict b,
                              ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    ZERO_ROW(0) ZERO_ROW(1) ZERO_ROW(2) ZERO_ROW(3) ZERO_ROW(4) ZERO_ROW(5)
    ZERO_ROW(6) ZERO_ROW(7) ZERO_ROW(8) ZERO_ROW(9) ZERO_ROW(10) ZERO_ROW(11)
    PREFETCH_ROW_FOR_WRITE(0) PREFETCH_ROW_FOR_WRITE(1) PREFETCH_ROW_FOR_WRITE(2)
    PREFETCH_ROW_FOR_WRITE(3) PREFETCH_ROW_FOR_WRITE(4) PREFETCH_ROW_FOR_WRITE(5)
    PREFETCH_ROW_FOR_WRITE(6) PREFETCH_ROW_FOR_WRITE(7) PREFETCH_ROW_FOR_WRITE(8)
    PREFETCH_ROW_FOR_WRITE(9) PREFETCH_ROW_FOR_WRITE(10) PREFETCH_ROW_FOR_WRITE(11)
    for (ptrdiff_t p = 0; p < depth; p++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        // A 8 steps ahead (for its first pass, from L2); B 32 steps (4 KiB) ahead, far
        // enough to hide L2's latency (and L3's where a caller's B block outgrows L2).
        _mm_prefetch((const char *)(a + 8 * 12), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 32 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 32 * ldb + 16), _MM_HINT_T0);
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
        ROW_FMA(6) ROW_FMA(7) ROW_FMA(8) ROW_FMA(9) ROW_FMA(10) ROW_FMA(11)
        a += 12;
        b += ldb;
    }
    const __m512 scale = _mm512_set1_ps(alpha), keep = _mm512_set1_ps(beta);
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
    ROW_STORE(6) ROW_STORE(7) ROW_STORE(8) ROW_STORE(9) ROW_STORE(10) ROW_STORE(11)
}

#else

void fable_sgemm_avx512_12x32(ptrdiff_t depth, const float *a, const float *b, ptrdiff_t ldb,
                              float *c, ptrdiff_t ldc, float alpha, float beta) {
    __builtin_trap();
}

#endif

// The FMA peak: independent multiply-add chains on registers, enough of them (12) to cover
// the FMA latency (4 cycles) on two pipes, with no loads or stores in the loop. The bf16
// peak does the same with vdpbf16ps (two multiply-adds per fp32 lane).
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx512f,fma"))) static double peak_avx512(long iterations) {
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
#define INIT(i) __m512 acc##i = _mm512_set1_ps((float)(i));
    CHAINS(INIT)
#undef INIT
    for (long it = 0; it < iterations; it++) {
#define STEP(i) acc##i = _mm512_fmadd_ps(acc##i, x, y);
        CHAINS(STEP)
#undef STEP
        __asm__ volatile("" ::: "memory");
    }
    __m512 total = _mm512_setzero_ps();
#define SUM(i) total = _mm512_add_ps(total, acc##i);
    CHAINS(SUM)
#undef SUM
    volatile float sink = _mm512_reduce_add_ps(total);
    (void)sink;
    return (double)iterations * 12 * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double peak_avx2(long iterations) {
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
#define INIT(i) __m256 acc##i = _mm256_set1_ps((float)(i));
    CHAINS(INIT)
#undef INIT
    for (long it = 0; it < iterations; it++) {
#define STEP(i) acc##i = _mm256_fmadd_ps(acc##i, x, y);
        CHAINS(STEP)
#undef STEP
        __asm__ volatile("" ::: "memory");
    }
    __m256 total = _mm256_setzero_ps();
#define SUM(i) total = _mm256_add_ps(total, acc##i);
    CHAINS(SUM)
#undef SUM
    float lanes[8];
    _mm256_storeu_ps(lanes, total);
    volatile float sink = lanes[0];
    (void)sink;
    return (double)iterations * 12 * 8 * 2;
}

__attribute__((target("avx512f,avx512bf16"))) double fable_bf16_dot_peak(long iterations) {
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3F803F80), y = (__m512bh)_mm512_set1_epi32(0x33D633D6);
#define INIT(i) __m512 acc##i = _mm512_set1_ps((float)(i));
    CHAINS(INIT)
#undef INIT
    for (long it = 0; it < iterations; it++) {
#define STEP(i) acc##i = _mm512_dpbf16_ps(acc##i, x, y);
        CHAINS(STEP)
#undef STEP
        __asm__ volatile("" ::: "memory");
    }
    __m512 total = _mm512_setzero_ps();
#define SUM(i) total = _mm512_add_ps(total, acc##i);
    CHAINS(SUM)
#undef SUM
    volatile float sink = _mm512_reduce_add_ps(total);
    (void)sink;
    return (double)iterations * 12 * 16 * 4;
}

double fable_fma_peak(unsigned features, long iterations) {
    if (features & FABLE_CPU_AVX512) return peak_avx512(iterations);
    if (features & FABLE_CPU_AVX2_FMA) return peak_avx2(iterations);
    return 0;
}

#else

double fable_fma_peak(unsigned features, long iterations) { return 0; }
double fable_bf16_dot_peak(long iterations) { return 0; }

#endif

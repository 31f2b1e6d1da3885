// FableKernels: the few loops that need instructions newer than baseline x86-64 (AVX2+FMA,
// AVX-512), written with intrinsics and compiled per function for their instruction set, so
// the target needs no compiler flags. Swift checks fable_cpu_features() once and calls only
// the kernels the CPU has; everything else (packing, blocking, threads) stays in Swift.
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

/// AVX-512: a 12 x 32 tile (24 zmm accumulators).
void fable_sgemm_avx512_12x32(ptrdiff_t depth, const float *a, const float *b, float *c,
                              ptrdiff_t ldc, float alpha, float beta);

/// AVX2+FMA: a 6 x 16 tile (12 ymm accumulators).
void fable_sgemm_avx2_6x16(ptrdiff_t depth, const float *a, const float *b, float *c,
                           ptrdiff_t ldc, float alpha, float beta);

// MARK: - Peak throughput

/// Runs `iterations` rounds of independent fused multiply-adds on registers with the widest
/// vectors of `features` (FABLE_CPU_AVX512 or FABLE_CPU_AVX2_FMA) and returns the number of
/// floating-point operations done (2 per lane per FMA); time it to get the FMA peak.
double fable_fma_peak(unsigned features, long iterations);

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

#ifdef __cplusplus
}
#endif

#endif

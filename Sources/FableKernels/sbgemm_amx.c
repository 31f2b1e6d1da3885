// The bf16 matrix product on AMX tiles (AMX-BF16 tdpbf16ps, fp32 accumulation).
//
// Eight tile registers of 16 rows x 64 bytes: four hold a 32 x 32 block of C in fp32 (2 x 2
// tiles), two hold A (16 rows x 16 pairs of bf16 each) and two B (16 pairs x 16 columns, the
// pair layout of vdpbf16ps, which AMX calls VNNI). Each step of 16 pairs loads the four
// operand tiles and issues four tdpbf16ps (16 x 16 x 32 multiply-adds each). A is packed
// row-major in pairs (fable_amx_pack_a32), B in the slivers of the AVX512_BF16 kernel with
// the pair count padded to a multiple of 16 (fable_amx_pack_b32), both in sbgemm_avx512.c.
//
// Linux hands out the large tile state only on request: fable_amx_enable() asks once per
// process (arch_prctl ARCH_REQ_XCOMP_PERM); the tile configuration is per thread and is
// loaded at the start of every block.
#include "FableKernels.h"

#if defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FABLE_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl")))

enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };

int fable_amx_enable(void) {
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

/// The 64-byte operand of ldtilecfg (palette 1).
struct TileConfig {
    unsigned char palette, startRow, reserved[14];
    unsigned short bytesPerRow[16];
    unsigned char rows[16];
};

/// C[row, 0..<columns] = alpha * block + beta * C, rounded as the SGEMM kernels round.
FABLE_AMX static inline void merge_row(const float *block, float *row, ptrdiff_t columns, float alpha, float beta) {
    const __m512 scale = _mm512_set1_ps(alpha), keep = _mm512_set1_ps(beta);
    for (ptrdiff_t j = 0; j < columns; j += 16) {
        const ptrdiff_t count = columns - j;
        const __mmask16 mask = count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(block + j), scale);
        if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + j), keep));
        _mm512_mask_storeu_ps(row + j, mask, v);
    }
}

FABLE_AMX
void fable_sbgemm_amx_block(ptrdiff_t pairs, const unsigned *a, ptrdiff_t rows, const unsigned *b,
                            ptrdiff_t columns, float *c, ptrdiff_t ldc, float alpha, float beta) {
    struct TileConfig config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) {
        config.rows[t] = 16;
        config.bytesPerRow[t] = 64;
    }
    _tile_loadconfig(&config);
    float block[32 * 32] __attribute__((aligned(64)));
    const ptrdiff_t strideA = pairs * 4;
    for (ptrdiff_t j = 0; j < columns; j += 32) {
        const unsigned *sliver = b + (j / 32) * pairs * 32;
        const ptrdiff_t width = columns - j < 32 ? columns - j : 32;
        for (ptrdiff_t i = 0; i < rows; i += 32) {
            const unsigned *panel = a + (i / 32) * 32 * pairs;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (ptrdiff_t q = 0; q < pairs; q += 16) {
                _tile_loadd(4, panel + q, strideA);
                _tile_loadd(5, panel + 16 * pairs + q, strideA);
                _tile_loadd(6, sliver + q * 32, 128);
                _tile_loadd(7, sliver + q * 32 + 16, 128);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(0, block, 128);
            _tile_stored(1, block + 16, 128);
            _tile_stored(2, block + 16 * 32, 128);
            _tile_stored(3, block + 16 * 32 + 16, 128);
            const ptrdiff_t height = rows - i < 32 ? rows - i : 32;
            for (ptrdiff_t r = 0; r < height; r++) merge_row(block + r * 32, c + (i + r) * ldc + j, width, alpha, beta);
        }
    }
    _tile_release();
}

FABLE_AMX
double fable_amx_peak(long iterations) {
    struct TileConfig config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) {
        config.rows[t] = 16;
        config.bytesPerRow[t] = 64;
    }
    _tile_loadconfig(&config);
    unsigned operand[256] __attribute__((aligned(64)));
    for (int i = 0; i < 256; i++) operand[i] = 0x3F803F80u;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, operand, 64);
    _tile_loadd(5, operand, 64);
    _tile_loadd(6, operand, 64);
    _tile_loadd(7, operand, 64);
    for (long it = 0; it < iterations; it++) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    float sink[256] __attribute__((aligned(64)));
    _tile_stored(0, sink, 64);
    _tile_release();
    volatile float keep = sink[0];
    (void)keep;
    return (double)iterations * 4 * 16 * 16 * 32 * 2;
}

#else

int fable_amx_enable(void) { return 0; }
double fable_amx_peak(long iterations) { return 0; }
void fable_sbgemm_amx_block(ptrdiff_t pairs, const unsigned *a, ptrdiff_t rows, const unsigned *b,
                            ptrdiff_t columns, float *c, ptrdiff_t ldc, float alpha, float beta) {
    __builtin_trap();
}

#endif

// The transposing copy behind SGEMM packing: a packed A panel wants, for each step of the
// shared dimension, the panel's rows side by side, and a packed B sliver from a transposed
// B the same of its columns; both read a few rows of a row-major matrix along their length
// and write them as columns. Done a value at a time this was a fifth of a training step's
// time in packing (the attention's small products pack as much as they multiply); 4 x 4
// SSE transposes move four values per load and store instead. SSE is baseline x86-64, so
// this needs no target attribute or dispatch; other architectures use the scalar loop. Rows
// past the source's (a partial panel or sliver) are written as zeros, the packing's padding.
#include "FableKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

void fable_pack_transpose(const float *restrict source, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t padded,
                          ptrdiff_t depth, float *restrict packed, ptrdiff_t stride) {
    ptrdiff_t r = 0;
#if defined(__x86_64__)
    for (; r + 4 <= rows; r += 4) {
        const float *s0 = source + r * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
        float *out = packed + r;
        ptrdiff_t p = 0;
        for (; p + 4 <= depth; p += 4) {
            __m128 v0 = _mm_loadu_ps(s0 + p), v1 = _mm_loadu_ps(s1 + p);
            __m128 v2 = _mm_loadu_ps(s2 + p), v3 = _mm_loadu_ps(s3 + p);
            _MM_TRANSPOSE4_PS(v0, v1, v2, v3);
            _mm_storeu_ps(out + p * stride, v0);
            _mm_storeu_ps(out + (p + 1) * stride, v1);
            _mm_storeu_ps(out + (p + 2) * stride, v2);
            _mm_storeu_ps(out + (p + 3) * stride, v3);
        }
        for (; p < depth; p++) {
            float *o = out + p * stride;
            o[0] = s0[p]; o[1] = s1[p]; o[2] = s2[p]; o[3] = s3[p];
        }
    }
#endif
    for (; r < rows; r++) {
        const float *s = source + r * ld;
        for (ptrdiff_t p = 0; p < depth; p++) packed[p * stride + r] = s[p];
    }
    if (rows < padded) {
        for (ptrdiff_t p = 0; p < depth; p++) {
            for (ptrdiff_t z = rows; z < padded; z++) packed[p * stride + z] = 0;
        }
    }
}

// Rows of a row-major matrix cut into column tiles (an A panel from a transposed A, a B
// sliver from an untransposed B). Tile by tile, each tile's walk down the rows reads one or
// two cache lines per row at a stride of the leading dimension (2 KiB at the 17M model's
// widths, every row on a new page, the lines aliasing in a few L1 sets), and the next tile
// fetched the same lines again. Here a band of rows is read along its whole length once,
// while it is in L1, and written to every tile.
#define PACK_BAND 8

static inline void copy_tile_row(const float *restrict s, float *restrict o, ptrdiff_t valid, ptrdiff_t width) {
    ptrdiff_t j = 0;
    for (; j < valid; j++) o[j] = s[j];
    for (; j < width; j++) o[j] = 0;
}

void fable_pack_columns(const float *restrict source, ptrdiff_t ld, ptrdiff_t depth, ptrdiff_t count,
                        ptrdiff_t width, float *restrict packed) {
    const ptrdiff_t tiles = (count + width - 1) / width;
    for (ptrdiff_t p0 = 0; p0 < depth; p0 += PACK_BAND) {
        const ptrdiff_t p1 = p0 + PACK_BAND < depth ? p0 + PACK_BAND : depth;
        for (ptrdiff_t t = 0; t < tiles; t++) {
            const ptrdiff_t column = t * width;
            const ptrdiff_t valid = count - column < width ? count - column : width;
            float *tile = packed + t * depth * width;
            for (ptrdiff_t p = p0; p < p1; p++) {
                const float *s = source + p * ld + column;
                float *o = tile + p * width;
                // Constant widths let the compiler unroll the copy into whole vectors.
                if (valid == 32 && width == 32) copy_tile_row(s, o, 32, 32);
                else if (valid == 12 && width == 12) copy_tile_row(s, o, 12, 12);
                else copy_tile_row(s, o, valid, width);
            }
        }
    }
}

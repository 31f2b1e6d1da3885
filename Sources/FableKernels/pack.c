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

// Run-time detection of the instruction sets the kernels use: cpuid for what the CPU has,
// xgetbv for what the OS saves on a context switch (both are needed before using YMM/ZMM).
#include "FableKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

unsigned fable_cpu_features(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!osxsave || !avx) return 0;
    const unsigned long long xcr0 = read_xcr0();
    const int ymmSaved = (xcr0 & 0x6) == 0x6;         // SSE and AVX state
    const int zmmSaved = (xcr0 & 0xE6) == 0xE6;       // plus opmask and both ZMM halves
    if (!ymmSaved) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const int avx2 = (ebx >> 5) & 1;
    const int avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1;
    const int avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
    const int amxBF16 = (edx >> 22) & 1, amxTile = (edx >> 24) & 1;
    unsigned features = 0;
    if (avx2 && fma) features |= FABLE_CPU_AVX2_FMA;
    if ((features & FABLE_CPU_AVX2_FMA) && zmmSaved && avx512f && avx512dq && avx512bw && avx512vl) {
        features |= FABLE_CPU_AVX512;
        __cpuid_count(7, 1, eax, ebx, ecx, edx);
        if ((eax >> 5) & 1) features |= FABLE_CPU_AVX512_BF16;
        // The OS must manage the tile configuration and data state (XCR0 bits 17 and 18).
        if (amxBF16 && amxTile && (xcr0 & 0x60000) == 0x60000) features |= FABLE_CPU_AMX_BF16;
    }
    return features;
}

#else

unsigned fable_cpu_features(void) { return 0; }

#endif

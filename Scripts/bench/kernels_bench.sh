#!/usr/bin/env bash
# Re-runnable measurements for the own kernels (issue 16): FMA peak and GEMM per backend,
# then the whole training step against PyTorch, on a fresh-machine setup (FABLE_GEMM=fable:
# what `auto` picks when no BLAS library is installed) and with OpenBLAS under `auto`
# (unpinned: auto picks OpenBLAS; pinned to Haswell by OPENBLAS_CORETYPE: auto picks the
# own AVX-512 kernel, and FABLE_GEMM=blas shows what the pinned library would have done).
# Usage, from the repository root after `swift build -c release`:
#   Scripts/bench/kernels_bench.sh [batch-sizes, default 8,32] [steps, default 5]
set -u
BIN=.build/release/fable
SIZES=${1:-8,32}
STEPS=${2:-5}
echo "== $(date -u) load: $(cat /proc/loadavg)"
$BIN info
echo "== GEMM, 1 thread, CPU clock (steady under load)"
env -u OPENBLAS_CORETYPE $BIN bench gemm --threads 1 --clock cpu --repeat 3 --backend fable
env -u OPENBLAS_CORETYPE $BIN bench gemm --threads 1 --clock cpu --repeat 3 --backend blas
echo "== bf16 GEMM (AMX and vdpbf16ps), 1 thread, CPU clock"
$BIN bench gemm --threads 1 --clock cpu --repeat 3 --backend bf16
echo "== GEMM, 2 threads, wall clock"
env -u OPENBLAS_CORETYPE $BIN bench gemm --threads 2 --repeat 3 --backend blas
echo "== load: $(cat /proc/loadavg)"
echo "== training step: fresh machine (own kernels), then OpenBLAS unpinned, then pinned to Haswell"
env -u OPENBLAS_CORETYPE FABLE_GEMM=fable python3 Scripts/bench/train_step_bench.py --batch-sizes "$SIZES" --steps "$STEPS" --fable-precisions fp32,bf16 --peers sdpa,bf16,reference
env -u OPENBLAS_CORETYPE -u FABLE_GEMM python3 Scripts/bench/train_step_bench.py --batch-sizes "$SIZES" --steps "$STEPS" --peers sdpa
OPENBLAS_CORETYPE=Haswell FABLE_GEMM=auto python3 Scripts/bench/train_step_bench.py --batch-sizes "$SIZES" --steps "$STEPS" --peers sdpa
OPENBLAS_CORETYPE=Haswell FABLE_GEMM=blas python3 Scripts/bench/train_step_bench.py --batch-sizes "$SIZES" --steps "$STEPS" --peers sdpa
echo "== done $(date -u) load: $(cat /proc/loadavg)"

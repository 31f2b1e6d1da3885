#!/usr/bin/env python3
"""GEMM throughput: Fable (`fable bench gemm`) beside PyTorch's torch.matmul, same shapes.

The shapes are the training products of the 17M TinyStories model (8192 rows = batch 32 x
context 256; Linear weights stored out x in as in PyTorch): forward Y = X W^T, input
gradient dX = dY W and weight gradient dW = dY^T X for the 512x512, 512->1344, 1344->512
and 512->10000 layers. Both sides write into a preallocated output and report the median
GFLOP/s of --repeat runs after one warm-up. Because other work may share the machine, the
two sides alternate shape by shape for --rounds rounds and each keeps its best median.

Usage (after `swift build -c release`):
    python3 Scripts/bench/gemm_bench.py                  # Fable BLAS + Swift vs PyTorch
    python3 Scripts/bench/gemm_bench.py --torch-only     # PyTorch alone
    python3 Scripts/bench/gemm_bench.py --numpy          # also numpy's BLAS, for context
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROWS = 8192
LAYERS = [(512, 512), (512, 1344), (1344, 512), (512, 10000)]  # (in, out)


def shapes(rows):
    """(label, transpose_a, transpose_b, m, n, k) in the order `fable bench gemm` prints."""
    out = []
    for inputs, outputs in LAYERS:
        out.append((f"fwd  {rows}x{inputs} @ ({outputs}x{inputs})^T", False, True, rows, outputs, inputs))
        out.append((f"dX   {rows}x{outputs} @ {outputs}x{inputs}", False, False, rows, inputs, outputs))
        out.append((f"dW   ({rows}x{outputs})^T @ {rows}x{inputs}", True, False, outputs, inputs, rows))
    return out


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def operands(torch, ta, tb, m, n, k):
    """A and B stored as the transposes say, returned as the views op(A), op(B)."""
    gen = torch.Generator().manual_seed(1)
    a = torch.randn((k, m) if ta else (m, k), generator=gen)
    b = torch.randn((n, k) if tb else (k, n), generator=gen)
    return (a.t() if ta else a), (b.t() if tb else b)


def time_call(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def bench_torch(shape, threads, repeats):
    import torch
    torch.set_num_threads(threads)
    label, ta, tb, m, n, k = shape
    a, b = operands(torch, ta, tb, m, n, k)
    c = torch.empty((m, n))
    seconds = time_call(lambda: torch.matmul(a, b, out=c), repeats)
    return {label: 2 * m * n * k / seconds / 1e9}


def bench_numpy(shape, threads, repeats):
    # numpy's BLAS reads its thread count when it loads; main() sets the variables first.
    import numpy as np
    import torch
    label, ta, tb, m, n, k = shape
    a, b = operands(torch, ta, tb, m, n, k)
    a, b = a.numpy(), b.numpy()
    c = np.empty((m, n), dtype=np.float32)
    seconds = time_call(lambda: np.matmul(a, b, out=c), repeats)
    return {label: 2 * m * n * k / seconds / 1e9}


def bench_fable(binary, backend, rows, index, threads, repeats):
    command = [binary, "bench", "gemm", "--json", "--backend", backend, "--shape", str(index),
               "--threads", str(threads), "--repeat", str(repeats), "--rows", str(rows)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    results = {}
    for line in output.splitlines():
        record = json.loads(line)
        results[(record["backend"], record["product"])] = record["gflops"]
    return results


def best(into, new):
    for key, value in new.items():
        into[key] = max(into.get(key, 0.0), value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fable", default=".build/release/fable", help="the fable binary (default: %(default)s)")
    parser.add_argument("--backend", default="all", choices=["blas", "swift", "all"],
                        help="Fable backends to time (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads on both sides (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per shape (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best median kept (default: %(default)s)")
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of X (default: %(default)s)")
    parser.add_argument("--numpy", action="store_true", help="also time numpy.matmul (its own OpenBLAS)")
    parser.add_argument("--torch-only", action="store_true", help="time PyTorch alone")
    args = parser.parse_args()

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    run_fable = not args.torch_only
    if run_fable and not os.access(args.fable, os.X_OK):
        sys.exit(f"error: {args.fable} not found; run `swift build -c release` first or pass --fable")

    torch_results, numpy_results, fable_results = {}, {}, {}
    # The sides alternate shape by shape, so a burst of other work on the machine
    # affects both about equally.
    for round_index in range(args.rounds):
        print(f"round {round_index + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
        for index, shape in enumerate(shapes(args.rows), start=1):
            best(torch_results, bench_torch(shape, args.threads, args.repeat))
            if args.numpy:
                best(numpy_results, bench_numpy(shape, args.threads, args.repeat))
            if run_fable:
                best(fable_results, bench_fable(
                    args.fable, args.backend, args.rows, index, args.threads, args.repeat))

    backends = sorted({backend for backend, _ in fable_results}, key=lambda b: b != "blas")
    header = f"{'product (GFLOP/s)':<38}{'torch':>9}"
    if args.numpy:
        header += f"{'numpy':>9}"
    for backend in backends:
        header += f"{'fable-' + backend:>13}{'ratio':>7}"
    print(f"threads {args.threads}, median of {args.repeat} runs, best of {args.rounds} rounds")
    print(header)
    totals = {"torch": 0.0}
    for label, _, _, m, n, k in shapes(args.rows):
        flops = 2 * m * n * k
        line = f"{label:<38}{torch_results[label]:>9.1f}"
        totals["torch"] += flops / torch_results[label]
        if args.numpy:
            line += f"{numpy_results[label]:>9.1f}"
            totals["numpy"] = totals.get("numpy", 0.0) + flops / numpy_results[label]
        for backend in backends:
            value = fable_results[(backend, label)]
            totals[backend] = totals.get(backend, 0.0) + flops / value
            line += f"{value:>13.1f}{value / torch_results[label]:>7.2f}"
        print(line)
    # Whole training step: total FLOPs over total time, as a training run would see.
    all_flops = sum(2 * m * n * k for _, _, _, m, n, k in shapes(args.rows))
    # totals hold seconds x 1e9 (FLOPs over GFLOP/s), so FLOPs over them is GFLOP/s.
    line = f"{'all 12 products (time-weighted)':<38}{all_flops / totals['torch']:>9.1f}"
    if args.numpy:
        line += f"{all_flops / totals['numpy']:>9.1f}"
    for backend in backends:
        value = all_flops / totals[backend]
        line += f"{value:>13.1f}{value / (all_flops / totals['torch']):>7.2f}"
    print(line)


if __name__ == "__main__":
    main()

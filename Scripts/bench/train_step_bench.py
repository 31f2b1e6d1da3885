#!/usr/bin/env python3
"""Whole training steps, Fable vs PyTorch, side by side on the same machine.

One step is what `fable train` does: sample a batch of random windows, forward the CS336
Transformer LM, mean cross-entropy, backward, clip the gradient to norm 1.0 and an AdamW
update (lr 1e-3, betas (0.9, 0.95), weight decay 0.1). The main peer is PyTorch as nanoGPT
writes it (Scripts/bench/torch_peer.py: F.scaled_dot_product_attention, fused AdamW,
default OpenMP settings) with torch.set_num_threads(N); --peers adds torch.compile
(`compile`), CPU autocast bf16 (`bf16`) and the old hand-written reference model
(`reference`, a secondary row). The Fable side is `fable bench train-step --json` from the
release build, at each of --fable-precisions (fp32, and bf16: bf16-input products with fp32
accumulation, the peer of autocast bf16). Every side times --steps steps after --warmup untimed ones and reports the
median step as tokens/s; the sides alternate per batch size, and with --rounds N the best
of N rounds is kept. The load average is printed beside the figures.

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/train_step_bench.py --threads 2 --batch-sizes 8,32 --peers sdpa,reference
    python3 Scripts/bench/train_step_bench.py --fable-precisions fp32,bf16 --peers sdpa,bf16
Environment for the Fable side is passed through (FABLE_GEMM, FABLE_ISA, FABLE_BLAS,
OPENBLAS_CORETYPE), so the same script measures a fresh machine (FABLE_GEMM=fable) and
one with OpenBLAS (FABLE_GEMM=blas).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from model_reference import PRESETS  # noqa: E402
import torch_peer  # noqa: E402


def torch_step_seconds(config, style: str, batch: int, steps: int, warmup: int, seed: int = 0):
    step, description = torch_peer.make_step(config, style, seed)
    rng = np.random.default_rng(seed)
    data = rng.integers(0, config.vocab_size, size=100_000, dtype=np.int64)
    t = config.context_length

    def one():
        starts = rng.integers(0, len(data) - t, size=batch)
        x = torch.from_numpy(np.stack([data[s:s + t] for s in starts]))
        y = torch.from_numpy(np.stack([data[s + 1:s + t + 1] for s in starts]))
        return step(x, y)

    for _ in range(warmup):
        one()
    samples = []
    for _ in range(steps):
        start = time.perf_counter()
        one()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), description


def fable_step_times(binary: str, preset: str, sizes: str, steps: int, warmup: int, threads: int,
                     precision: str = "fp32"):
    command = [binary, "bench", "train-step", "--preset", preset, "--batch-sizes", sizes,
               "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads), "--json", "--breakdown"]
    if precision != "fp32":
        command += ["--precision", precision]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return {row["batch"]: row for row in (json.loads(line) for line in output.splitlines() if line.startswith("{"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="tinystories-17m", help="model preset (default: %(default)s)")
    parser.add_argument("--batch-sizes", default="8,32", help="comma-separated (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per batch size (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads for both (default: %(default)s)")
    parser.add_argument("--fable", default=".build/release/fable", help="fable binary (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the best is kept (default: %(default)s)")
    parser.add_argument("--peers", default="sdpa",
                        help="PyTorch peers: sdpa (main), compile, bf16, reference (old peer) (default: %(default)s)")
    parser.add_argument("--fable-precisions", default="fp32",
                        help="Fable sides: fp32 and/or bf16 (needs AVX512_BF16) (default: %(default)s)")
    parser.add_argument("--overhead", action="store_true",
                        help="also measure evaluation/checkpoint/logging cost at the preset's intervals (Fable)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    config = PRESETS[args.preset]
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    peers = [p for p in args.peers.split(",") if p]
    precisions = [p for p in args.fable_precisions.split(",") if p]
    env = {k: os.environ[k] for k in ("FABLE_GEMM", "FABLE_ISA", "FABLE_BLAS", "OPENBLAS_CORETYPE", "OMP_WAIT_POLICY") if k in os.environ}
    print(f"whole training step, {args.preset}, {args.threads} threads (median of {args.steps} steps after "
          f"{args.warmup} warm-up, best of {args.rounds} round(s)); torch {torch.__version__}; environment {env or 'default'}")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for batch in sizes:
        # Interleaved, best of --rounds: on a shared machine the load changes by the minute.
        rows, peer_rates, descriptions = {p: [] for p in precisions}, {p: [] for p in peers}, {}
        for _ in range(args.rounds):
            for precision in precisions:
                rows[precision].append(fable_step_times(args.fable, args.preset, str(batch), args.steps, args.warmup,
                                                        args.threads, precision)[batch])
            for peer in peers:
                try:
                    seconds, descriptions[peer] = torch_step_seconds(config, peer, batch, args.steps, args.warmup)
                    peer_rates[peer].append(batch * config.context_length / seconds)
                except Exception as error:  # torch.compile needs a compiler toolchain
                    descriptions[peer] = f"{peer}: did not run ({type(error).__name__}: {str(error).splitlines()[0][:80]})"
        fable_rates = {}
        for precision in precisions:
            row = max(rows[precision], key=lambda r: r["tokens_per_second"])
            fable_rates[precision] = row["tokens_per_second"]
            parts = " / ".join(f"{row[k + '_ms']:.0f}" for k in ["sample", "forward", "backward", "clip", "adamw"])
            print(f"batch {batch}: Fable {precision} {fable_rates[precision]:,.0f} tok/s "
                  f"(sample / forward / backward / clip / adamw ms: {parts})")
        if "fp32" in fable_rates and "bf16" in fable_rates:
            print(f"    Fable bf16 / Fable fp32: {fable_rates['bf16'] / fable_rates['fp32']:.2f}x")
        for peer in peers:
            if peer_rates[peer]:
                rate = max(peer_rates[peer])
                # bf16 peers are compared with Fable bf16 when it ran, the others with Fable fp32.
                side = "bf16" if peer == "bf16" and "bf16" in fable_rates else precisions[0]
                print(f"    vs {descriptions[peer]}: {rate:,.0f} tok/s -> Fable {side} {fable_rates[side] / rate:.2f}x")
            else:
                print(f"    vs {descriptions[peer]}")
        print(f"    load average now: {os.getloadavg()[0]:.1f}")
    if args.overhead:
        command = [args.fable, "bench", "train-step", "--preset", args.preset, "--batch-sizes", "1", "--steps",
                   str(args.steps), "--warmup", str(args.warmup), "--threads", str(args.threads), "--overhead"]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print(output[output.find("overhead at"):].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Whole training steps, Fable vs PyTorch eager, side by side on the same machine.

One step is what `fable train` does: sample a batch of random windows, forward the CS336
Transformer LM, mean cross-entropy, backward, clip the gradient to norm 1.0 and an AdamW
update (lr 1e-3, betas (0.9, 0.95), weight decay 0.1). The PyTorch side runs the reference
model of Scripts/reference/model_reference.py in eager mode with torch.set_num_threads(N);
the Fable side is `fable bench train-step --json` from the release build. Both time
--steps steps after --warmup untimed ones and report the median step as tokens/s.

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/train_step_bench.py --threads 2 --batch-sizes 8,32
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# OpenMP's busy-waiting makes PyTorch crawl on a shared machine; --omp-active restores it.
if "--omp-active" not in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from model_reference import ModelConfig, PRESETS, TransformerLM, cross_entropy  # noqa: E402


def torch_step_times(config: ModelConfig, batch: int, steps: int, warmup: int, seed: int = 0):
    torch.manual_seed(seed)
    model = TransformerLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    rng = np.random.default_rng(seed)
    data = rng.integers(0, config.vocab_size, size=100_000, dtype=np.int64)
    t = config.context_length

    def step():
        starts = rng.integers(0, len(data) - t, size=batch)
        x = torch.from_numpy(np.stack([data[s:s + t] for s in starts]))
        y = torch.from_numpy(np.stack([data[s + 1:s + t + 1] for s in starts]))
        optimizer.zero_grad(set_to_none=True)
        loss = cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    for _ in range(warmup):
        step()
    samples = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def fable_step_times(binary: str, preset: str, sizes: str, steps: int, warmup: int, threads: int):
    command = [binary, "bench", "train-step", "--preset", preset, "--batch-sizes", sizes,
               "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads), "--json", "--breakdown"]
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
    parser.add_argument("--omp-active", action="store_true", help="keep OpenMP's default busy-waiting for PyTorch")
    parser.add_argument("--overhead", action="store_true",
                        help="also measure evaluation/checkpoint/logging cost at the preset's intervals (Fable)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    config = PRESETS[args.preset]
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    fable = fable_step_times(args.fable, args.preset, args.batch_sizes, args.steps, args.warmup, args.threads)
    print(f"whole training step, {args.preset}, {args.threads} threads (median of {args.steps} steps after "
          f"{args.warmup} warm-up); OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}")
    print(f"{'batch':>5}  {'PyTorch tok/s':>13}  {'Fable tok/s':>11}  {'ratio':>6}   Fable step: sample / forward / backward / clip / adamw ms")
    for batch in sizes:
        seconds = torch_step_times(config, batch, args.steps, args.warmup)
        torch_rate = batch * config.context_length / seconds
        row = fable[batch]
        parts = " / ".join(f"{row[k + '_ms']:.0f}" for k in ["sample", "forward", "backward", "clip", "adamw"])
        print(f"{batch:>5}  {torch_rate:>13,.0f}  {row['tokens_per_second']:>11,.0f}  {row['tokens_per_second'] / torch_rate:>5.2f}x   {parts}")
    if args.overhead:
        command = [args.fable, "bench", "train-step", "--preset", args.preset, "--batch-sizes", "1", "--steps",
                   str(args.steps), "--warmup", str(args.warmup), "--threads", str(args.threads), "--overhead"]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print(output[output.find("overhead at"):].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())

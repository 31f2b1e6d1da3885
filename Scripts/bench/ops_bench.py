#!/usr/bin/env python3
"""Fused tensor ops, Fable vs PyTorch eager, side by side on the same machine.

Runs `fable bench ops --json` (release build) and the same PyTorch eager sequences at
the 17M TinyStories model's shapes (batch 8, context 256, d_model 512, 16 heads,
d_ff 1344, vocab 10,000), forward and forward+backward, median of the repeats after one
warm-up, and prints both figures and the ratio (PyTorch time / Fable time: above 1 means
Fable is faster).

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/ops_bench.py --threads 2
"""
import argparse
import json
import math
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F


def median_ms(fn, repeats, clock):
    timer = time.perf_counter if clock == "wall" else time.thread_time
    fn()
    samples = []
    for _ in range(repeats):
        start = timer()
        fn()
        samples.append((timer() - start) * 1e3)
    return statistics.median(samples)


def torch_cases(a):
    b, t, d, h, ff, v = a.batch, a.context, a.d_model, a.heads, a.d_ff, a.vocab
    g = torch.Generator().manual_seed(0)

    def inp(*shape, std=1.0):
        return (torch.randn(*shape, generator=g) * std).requires_grad_(True)

    def rmsnorm():
        x, w = inp(b, t, d), inp(d)
        return [x, w], lambda: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def swiglu_gate():
        x1, x3 = inp(b, t, ff), inp(b, t, ff)
        return [x1, x3], lambda: F.silu(x1) * x3

    def swiglu_ffn():
        std = math.sqrt(2 / (d + ff))
        x, w1, w2, w3 = inp(b, t, d), inp(ff, d, std=std), inp(d, ff, std=std), inp(ff, d, std=std)
        return [x, w1, w2, w3], lambda: (F.silu(x @ w1.T) * (x @ w3.T)) @ w2.T

    def attention():
        dh = d // h
        q, k, vv = inp(b, h, t, dh), inp(b, h, t, dh), inp(b, h, t, dh)
        mask = torch.ones(t, t, dtype=torch.bool).tril()

        def run():
            s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            s = s.masked_fill(~mask, float("-inf"))
            return torch.softmax(s, dim=-1) @ vv
        return [q, k, vv], run

    def rope():
        # The reference model's interleaved-pair rotation on (batch, T, heads, d_k).
        dh = d // h
        x = inp(b, t, h, dh)
        k = torch.arange(0, dh // 2, dtype=torch.float64)
        angles = torch.arange(t, dtype=torch.float64)[:, None] * (10000.0 ** (-2.0 * k / dh))[None, :]
        cos, sin = torch.cos(angles).float()[:, None, :], torch.sin(angles).float()[:, None, :]

        def run():
            even, odd = x[..., 0::2], x[..., 1::2]
            return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)
        return [x], run

    def cross_entropy():
        logits = inp(b, t, v)
        targets = torch.randint(0, v, (b * t,), generator=g)
        return [logits], lambda: F.cross_entropy(logits.reshape(-1, v), targets)

    return {"rmsnorm": rmsnorm, "swiglu_gate": swiglu_gate, "swiglu_ffn": swiglu_ffn, "rope": rope,
            "attention": attention, "cross_entropy": cross_entropy}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    p.add_argument("--repeat", type=int, default=10, help="timed runs per op (default 10)")
    p.add_argument("--fable", default=".build/release/fable", help="fable binary (default .build/release/fable)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--d-model", type=int, default=512)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--d-ff", type=int, default=1344)
    p.add_argument("--vocab", type=int, default=10000)
    p.add_argument("--ops", default="all", help="comma-separated ops (default all)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall time, or the calling thread's CPU time (with --threads 1; steadier on a busy machine)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    cases = torch_cases(a)
    names = list(cases) if a.ops == "all" else a.ops.split(",")

    cmd = [a.fable, "bench", "ops", "--json", "--threads", str(a.threads), "--repeat", str(a.repeat),
           "--batch", str(a.batch), "--context", str(a.context), "--d-model", str(a.d_model),
           "--heads", str(a.heads), "--d-ff", str(a.d_ff), "--vocab", str(a.vocab), "--ops", ",".join(names), "--clock", a.clock]
    fable = {}
    for line in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines():
        row = json.loads(line)
        fable[row["op"]] = row

    print(f"threads {a.threads}; batch {a.batch}, context {a.context}, d_model {a.d_model}, "
          f"heads {a.heads}, d_ff {a.d_ff}, vocab {a.vocab}; {a.clock} clock; torch {torch.__version__}")
    print(f"{'op':<14} {'fable fwd':>10} {'torch fwd':>10} {'ratio':>6}   "
          f"{'fable f+b':>10} {'torch f+b':>10} {'ratio':>6}   (ms; ratio = torch / fable)")
    for name in names:
        inputs, fn = cases[name]()
        out = fn()
        seed = torch.randn(out.shape)

        def forward():
            with torch.no_grad():
                fn()

        def both():
            for t in inputs:
                t.grad = None
            fn().backward(seed)

        tf, tb = median_ms(forward, a.repeat, a.clock), median_ms(both, a.repeat, a.clock)
        ff, fb = fable[name]["forward_ms"], fable[name]["forward_backward_ms"]
        print(f"{name:<14} {ff:>10.3f} {tf:>10.3f} {tf / ff:>6.2f}   {fb:>10.3f} {tb:>10.3f} {tb / fb:>6.2f}")


if __name__ == "__main__":
    main()

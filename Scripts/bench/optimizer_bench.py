#!/usr/bin/env python3
"""Optimizer step, gradient clipping and batch sampling: Fable vs PyTorch, side by side.

Runs `fable bench optimizer --json` (release build) and the PyTorch equivalents on the same
parameter layout (the 17M TinyStories TransformerLM: vocab 10,000, d_model 512, 4 layers,
d_ff 1344, untied embeddings: 22.7M parameters), median of the repeats after one warm-up:

  adamw          torch.optim.AdamW(foreach=True), and the single-tensor loop (foreach=False)
  muon+adamw     Muon (Keller Jordan's reference rule, float32, 5 Newton-Schulz steps) on the
                 2-D hidden matrices + AdamW(foreach=True) on embeddings, LM head and gains
  sgd            torch.optim.SGD(foreach=True), plain
  clip_grad_norm torch.nn.utils.clip_grad_norm_(foreach=True) with clipping active
  batch          the CS336-style get_batch: np.random.randint starts, stacked windows from an
                 np.memmap'd uint16 array, torch.from_numpy (int64), per batch

AdamW's GB/s counts 28 bytes per parameter (p, g, m, v read; p, m, v written), the least
any implementation must move; PyTorch's foreach path makes several passes, so it moves more.
Ratios are PyTorch time / Fable time: above 1 means Fable is faster.

PyTorch's OpenMP threads busy-wait at every barrier by default; on a shared, oversubscribed
machine that makes each op many times slower (AdamW(foreach=True) took 2-8 s per step at
2 threads under load, 0.37 s with passive waiting). The script therefore sets
OMP_WAIT_POLICY=PASSIVE unless it is already set; pass --omp-active to keep PyTorch's default.

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/optimizer_bench.py --threads 2
"""
import argparse
import json
import os
import sys

if "--omp-active" not in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import statistics
import subprocess
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from optimizer_fixtures import muon_update  # noqa: E402  (the reference Muon the fixtures use)


def median_ms(fn, repeats):
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def layout(vocab, d, layers, dff):
    shapes = [("token_embeddings.weight", (vocab, d))]
    for i in range(layers):
        for proj in ["q", "k", "v", "output"]:
            shapes.append((f"layers.{i}.attn.{proj}_proj.weight", (d, d)))
        shapes.append((f"layers.{i}.ln1.weight", (d,)))
        shapes.append((f"layers.{i}.ffn.w1.weight", (dff, d)))
        shapes.append((f"layers.{i}.ffn.w2.weight", (d, dff)))
        shapes.append((f"layers.{i}.ffn.w3.weight", (dff, d)))
        shapes.append((f"layers.{i}.ln2.weight", (d,)))
    shapes.append(("ln_final.weight", (d,)))
    shapes.append(("lm_head.weight", (vocab, d)))
    return shapes


def make_params(shapes):
    g = torch.Generator().manual_seed(0)
    params = {}
    for name, shape in shapes:
        p = torch.nn.Parameter(torch.rand(*shape, generator=g) - 0.5)
        p.grad = (torch.rand(*shape, generator=g) - 0.5) * 1e-2
        params[name] = p
    return params


def torch_cases(a, params):
    n = sum(p.numel() for p in params.values())
    out = {}
    plist = list(params.values())
    opt = torch.optim.AdamW(plist, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, foreach=True)
    out["adamw"] = (median_ms(opt.step, a.repeat), n * 28)
    opt = torch.optim.AdamW(plist, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, foreach=False)
    out["adamw (foreach=False)"] = (median_ms(opt.step, a.repeat), n * 28)

    excluded = {"token_embeddings.weight", "lm_head.weight"}
    muon_params = [p for name, p in params.items() if p.ndim == 2 and name not in excluded]
    adam_params = [p for name, p in params.items() if not (p.ndim == 2 and name not in excluded)]
    adam = torch.optim.AdamW(adam_params, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, foreach=True)
    momenta = [torch.zeros_like(p) for p in muon_params]

    @torch.no_grad()
    def muon_step():
        adam.step()
        for p, m in zip(muon_params, momenta):
            u = muon_update(p.grad, m, 0.95)
            p.mul_(1 - 1e-4 * 0.1)
            p.add_(u, alpha=-1e-4)

    out["muon+adamw"] = (median_ms(muon_step, max(3, a.repeat // 4)), None)
    sgd = torch.optim.SGD(plist, lr=1e-6, foreach=True)
    out["sgd"] = (median_ms(sgd.step, a.repeat), n * 12)
    out["clip_grad_norm"] = (median_ms(lambda: torch.nn.utils.clip_grad_norm_(plist, 1e-3, foreach=True), a.repeat), n * 12)
    return out


def torch_batches(a, context, batch_sizes, tokens):
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tokens.npy")
        rng = np.random.default_rng(0)
        np.save(path, rng.integers(0, a.vocab, size=tokens, dtype=np.uint16))
        data = np.load(path, mmap_mode="r")
        for b in batch_sizes:
            def get_batch():
                starts = np.random.randint(0, len(data) - context, size=b)
                x = torch.from_numpy(np.stack([data[s:s + context] for s in starts]).astype(np.int64))
                y = torch.from_numpy(np.stack([data[s + 1:s + 1 + context] for s in starts]).astype(np.int64))
                return x, y

            def hundred():
                for _ in range(100):
                    get_batch()
            out[f"batch B={b} T={context}"] = (median_ms(hundred, a.repeat) / 100, None)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per case (default 20)")
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--d-ff", type=int, default=1344)
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--batch-sizes", default="8,32")
    parser.add_argument("--dataset-tokens", type=int, default=50_000_000)
    parser.add_argument("--fable", default=".build/release/fable", help="path to the fable binary")
    parser.add_argument("--omp-active", action="store_true", help="keep OpenMP's default busy-waiting for PyTorch")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)

    cmd = [a.fable, "bench", "optimizer", "--json", "--threads", str(a.threads), "--repeat", str(a.repeat),
           "--vocab", str(a.vocab), "--d-model", str(a.d_model), "--layers", str(a.layers), "--d-ff", str(a.d_ff),
           "--context", str(a.context), "--batch-sizes", a.batch_sizes, "--dataset-tokens", str(a.dataset_tokens)]
    fable = {}
    for line in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines():
        row = json.loads(line)
        fable[row["case"]] = (row["ms"], row["gb_per_s"])

    params = make_params(layout(a.vocab, a.d_model, a.layers, a.d_ff))
    n = sum(p.numel() for p in params.values())
    peer = torch_cases(a, params)
    peer.update(torch_batches(a, a.context, [int(x) for x in a.batch_sizes.split(",")], a.dataset_tokens))

    print(f"optimizer bench: {n} parameters, {a.threads} threads, torch {torch.__version__}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}")
    print(f"{'case':<24}{'fable ms':>10}{'GB/s':>8}{'torch ms':>11}{'GB/s':>8}{'torch/fable':>13}")
    for case, (tms, tbytes) in peer.items():
        key = case.split(" (")[0]
        fms, fgbs = fable.get(key, (None, None))
        tgbs = f"{tbytes / (tms / 1e3) / 1e9:8.2f}" if tbytes else " " * 8
        if fms is None:
            print(f"{case:<24}{'-':>10}{'':>8}{tms:11.3f}{tgbs}")
            continue
        fg = f"{fgbs:8.2f}" if fgbs is not None else " " * 8
        print(f"{case:<24}{fms:10.4f}{fg}{tms:11.4f}{tgbs}{tms / fms:12.2f}x")
    for k, (ms, gbs) in fable.items():
        if k.startswith("open+validate"):
            print(f"fable {k} tokens: {ms:.1f} ms ({gbs:.1f} GB/s vocabulary scan)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Data-parallel training steps at 2 ranks x 1 thread: Fable under mpirun vs PyTorch DDP (gloo).

Both train tinystories-17m (context 256) on the same random-token file with the same
global batch (--batch per rank x 2 ranks), AdamW (lr 1e-3, betas 0.9/0.95, weight decay
0.1) and gradient clipping to norm 1.0, one kernel thread per rank.
- Fable: `mpirun -np 2 fable train --config ...` (release build); each step's seconds and
  communication wait come from rank 0's metrics.jsonl (log_interval 1), once with
  overlap_communication true (buckets reduced during backward) and once false.
- PyTorch: 2 processes (torch.multiprocessing, gloo over 127.0.0.1), the reference model
  of Scripts/reference/model_reference.py with its attention replaced by
  torch.nn.functional.scaled_dot_product_attention, wrapped in DistributedDataParallel,
  torch.optim.AdamW, clip_grad_norm_, torch.set_num_threads(1), OMP_WAIT_POLICY=PASSIVE.
Median of the steps after --warmup; tokens/s = global batch tokens / step seconds. The
sides alternate --rounds times and the best round of each is kept; the load average is
printed with every round.

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/ddp_step_bench.py --batch 4 --steps 6 --rounds 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MPIRUN_OPTIONS = ["--oversubscribe", "--bind-to", "none", "--mca", "btl_vader_single_copy_mechanism", "none",
                  "--mca", "mpi_yield_when_idle", "1"]


def fable_run(binary, tokens_path, folder, batch, steps, overlap, ranks, tag):
    config = {"model": "tinystories-17m", "batch_size": batch, "steps": steps,
              "optimizer": {"kind": "adamw", "lr": 1e-3, "betas": [0.9, 0.95], "weight_decay": 0.1},
              "schedule": {"kind": "constant"}, "eval_interval": 0, "checkpoint_interval": 0,
              "log_interval": 1, "grad_clip": 1.0, "threads": 1, "overlap_communication": overlap}
    config_path = os.path.join(folder, f"config-{tag}.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    out = os.path.join(folder, f"run-{tag}")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = ["mpirun", "-np", str(ranks)] + MPIRUN_OPTIONS + [
        binary, "train", "--config", config_path, "--train", tokens_path, "--out", out, "--quiet"]
    subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    rows = []
    with open(os.path.join(out, "metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            if "train_loss" in row:
                rows.append(row)
    return rows


def _ddp_worker(rank, ranks, port, tokens_path, batch, steps, warmup, queue):
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    torch.set_num_threads(1)
    sys.path.insert(0, os.path.join(HERE, "..", "reference"))
    import model_reference
    model_reference.scaled_dot_product_attention = (
        lambda q, k, v, mask=None: F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=ranks)
    config = model_reference.PRESETS["tinystories-17m"]
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(model_reference.TransformerLM(config))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    data = np.load(tokens_path).astype(np.int64)
    rng = np.random.default_rng(1000 + rank)
    t = config.context_length
    samples, losses = [], []
    for i in range(warmup + steps):
        start = time.perf_counter()
        starts = rng.integers(0, len(data) - t, size=batch)
        x = torch.from_numpy(np.stack([data[s:s + t] for s in starts]))
        y = torch.from_numpy(np.stack([data[s + 1:s + t + 1] for s in starts]))
        optimizer.zero_grad(set_to_none=True)
        loss = model_reference.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        elapsed = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        if i >= warmup:
            samples.append(elapsed.item())
    if rank == 0:
        queue.put({"seconds": statistics.median(samples), "loss": losses[-1]})
    dist.barrier()
    dist.destroy_process_group()


def ddp_run(tokens_path, batch, steps, warmup, ranks, port):
    import torch.multiprocessing as mp
    context = mp.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_ddp_worker, args=(r, ranks, port, tokens_path, batch, steps, warmup, queue))
                 for r in range(ranks)]
    for p in processes:
        p.start()
    result = queue.get()
    for p in processes:
        p.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=4, help="sequences per rank (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=6, help="steps per run, warm-up included (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fable", default=".build/release/fable")
    parser.add_argument("--port", type=int, default=29617)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="fable-ddp-")
    tokens_path = os.path.join(folder, "tokens.npy")
    np.save(tokens_path, np.random.default_rng(0).integers(0, 10_000, size=2_000_000, dtype=np.uint16))
    global_tokens = args.batch * args.ranks * 256
    best = {}
    for round_index in range(args.rounds):
        load = os.getloadavg()[0]
        figures = {}
        for overlap in (True, False):
            rows = fable_run(args.fable, tokens_path, folder, args.batch, args.steps, overlap, args.ranks,
                             f"{round_index}-{overlap}")[args.warmup:]
            seconds = statistics.median(global_tokens / r["tokens_per_second"] for r in rows)
            wait = statistics.median(r["comm_seconds"] for r in rows)
            figures["fable-overlap" if overlap else "fable-no-overlap"] = (seconds, wait)
        torch_result = ddp_run(tokens_path, args.batch, args.steps - args.warmup, args.warmup, args.ranks,
                               args.port + round_index)
        figures["pytorch-ddp"] = (torch_result["seconds"], None)
        print(f"round {round_index + 1}: load average {load:.1f} -> {os.getloadavg()[0]:.1f}; " + "; ".join(
            f"{name} {s:.2f} s/step ({global_tokens / s:,.0f} tok/s"
            + (f", comm wait {w * 1e3:.0f} ms = {100 * w / s:.1f}%)" if w is not None else ")")
            for name, (s, w) in figures.items()))
        for name, value in figures.items():
            if name not in best or value[0] < best[name][0]:
                best[name] = value
    print(f"\ntinystories-17m, {args.ranks} ranks x 1 thread, global batch {args.batch * args.ranks} x 256, "
          f"median of {args.steps - args.warmup} steps, best of {args.rounds} rounds")
    print("| run | s/step | tokens/s | comm wait per step | share of step | vs PyTorch DDP |")
    print("|---|---:|---:|---:|---:|---:|")
    torch_seconds = best["pytorch-ddp"][0]
    for name in ["fable-overlap", "fable-no-overlap", "pytorch-ddp"]:
        s, w = best[name]
        wait = f"{w * 1e3:.0f} ms | {100 * w / s:.1f}%" if w is not None else "n/a | n/a"
        print(f"| {name} | {s:.2f} | {global_tokens / s:,.0f} | {wait} | {torch_seconds / s:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

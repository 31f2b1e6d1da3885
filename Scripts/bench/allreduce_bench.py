#!/usr/bin/env python3
"""All-reduce time and bandwidth at 2 ranks: Fable (MPI) vs PyTorch torch.distributed (gloo).

The CS336 assignment 2 communication benchmark: float32 buffers of 1, 10 and 100 MB
(10^6 bytes) summed over 2 processes on this machine, median of --iterations after
--warmup untimed ones, the slowest rank's time. Fable runs
`mpirun -np 2 fable bench allreduce --json` (Open MPI, shared-memory transport); PyTorch
spawns 2 processes with the gloo backend over TCP on 127.0.0.1 and times
`dist.all_reduce` the same way. The two sides alternate, --rounds times; the best round of
each is kept, and the load average is printed beside the figures.

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/allreduce_bench.py --rounds 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MPIRUN_OPTIONS = ["--oversubscribe", "--bind-to", "none", "--mca", "btl_vader_single_copy_mechanism", "none",
                  "--mca", "mpi_yield_when_idle", "1"]


def fable_times(binary, sizes, iterations, warmup, ranks):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = ["mpirun", "-np", str(ranks)] + MPIRUN_OPTIONS + [
        binary, "bench", "allreduce", "--sizes", ",".join(str(s) for s in sizes),
        "--iterations", str(iterations), "--warmup", str(warmup), "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {row["megabytes"]: row["median_seconds"] for row in rows}


def _gloo_worker(rank, ranks, port, sizes, iterations, warmup, queue):
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=ranks)
    result = {}
    for mb in sizes:
        count = max(1, int(mb * 1e6) // 4)
        tensor = torch.ones(count, dtype=torch.float32)
        samples = []
        for i in range(warmup + iterations):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
            elapsed = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
            dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
            if i >= warmup:
                samples.append(elapsed.item())
            tensor.fill_(1)
        result[mb] = statistics.median(samples)
    if rank == 0:
        queue.put(result)
    dist.barrier()
    dist.destroy_process_group()


def gloo_times(sizes, iterations, warmup, ranks, port):
    import torch.multiprocessing as mp
    context = mp.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_gloo_worker, args=(r, ranks, port, sizes, iterations, warmup, queue))
                 for r in range(ranks)]
    for p in processes:
        p.start()
    result = queue.get()
    for p in processes:
        p.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100", help="megabytes, comma-separated (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best of each kept")
    parser.add_argument("--fable", default=".build/release/fable")
    parser.add_argument("--port", type=int, default=29517)
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    fable, gloo = {}, {}
    for round_index in range(args.rounds):
        load = os.getloadavg()[0]
        f = fable_times(args.fable, sizes, args.iterations, args.warmup, args.ranks)
        g = gloo_times(sizes, args.iterations, args.warmup, args.ranks, args.port + round_index)
        print(f"round {round_index + 1}: load average {load:.1f} -> {os.getloadavg()[0]:.1f}; "
              + "; ".join(f"{mb:g} MB Fable {f[mb] * 1e3:.2f} ms, gloo {g[mb] * 1e3:.2f} ms" for mb in sizes))
        for mb in sizes:
            fable[mb] = min(fable.get(mb, float("inf")), f[mb])
            gloo[mb] = min(gloo.get(mb, float("inf")), g[mb])
    ranks = args.ranks
    print(f"\nall-reduce, float32 sum, {ranks} ranks, median of {args.iterations}, best of {args.rounds} rounds")
    print("| size | Fable (MPI) ms | Fable GB/s (alg / bus) | gloo ms | gloo GB/s (alg / bus) | gloo / Fable time |")
    print("|---:|---:|---:|---:|---:|---:|")
    for mb in sizes:
        def bw(seconds):
            alg = mb * 1e6 / seconds / 1e9
            return f"{alg:.2f} / {alg * 2 * (ranks - 1) / ranks:.2f}"
        print(f"| {mb:g} MB | {fable[mb] * 1e3:.2f} | {bw(fable[mb])} | {gloo[mb] * 1e3:.2f} | {bw(gloo[mb])} | "
              f"{gloo[mb] / fable[mb]:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

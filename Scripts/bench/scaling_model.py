#!/usr/bin/env python3
"""A scaling model for data-parallel training: predicted tokens/s at N ranks on a network.

Per step and rank: compute takes C = tokens_per_rank / compute_rate (forward about 1/3,
backward 2/3 of it, as measured in BENCHMARKS.md). Gradients (4 bytes per parameter) are
summed with a ring all-reduce, which moves 2 (N - 1) / N x bytes through every rank's link
and pays a latency of 2 (N - 1) x alpha per bucket:

    T_comm = 2 (N - 1) / N x 4 P / bandwidth + buckets x 2 (N - 1) x alpha

Without overlap the step is C + T_comm. With overlap the buckets are reduced while backward
runs, so only what does not fit under backward, plus the last bucket (finished when
backward ends), is exposed:

    T_step = C + max(0, T_comm - backward) + T_comm / buckets

tokens/s = N x tokens_per_rank / T_step. A prediction, not a measurement: it ignores
stragglers, memory-bandwidth contention and switch congestion.

Usage:
    python3 Scripts/bench/scaling_model.py --compute-rate 1550 --tokens-per-rank 2048
"""
import argparse


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--parameters", type=float, default=22.7e6, help="model parameters (tinystories-17m: 22.7M)")
    p.add_argument("--compute-rate", type=float, default=1550, help="one rank's training tokens/s without communication")
    p.add_argument("--tokens-per-rank", type=int, default=2048, help="tokens per rank per step (batch 8 x 256)")
    p.add_argument("--bucket-mb", type=float, default=8)
    p.add_argument("--alpha-us", type=float, default=30, help="per-message latency in microseconds (TCP)")
    p.add_argument("--ranks", default="2,8,64")
    p.add_argument("--networks-gbps", default="10,100")
    a = p.parse_args()
    grad_bytes = 4 * a.parameters
    buckets = max(1, round(grad_bytes / (a.bucket_mb * 1048576)))
    compute = a.tokens_per_rank / a.compute_rate
    backward = compute * 2 / 3
    print(f"model {a.parameters / 1e6:.1f}M parameters ({grad_bytes / 1e6:.1f} MB of gradients, {buckets} buckets), "
          f"{a.tokens_per_rank} tokens per rank per step, compute {compute * 1e3:.0f} ms per step "
          f"({a.compute_rate:,.0f} tokens/s per rank), latency {a.alpha_us:g} us per message")
    print("| network | ranks | bytes per rank per step | T_comm | step, no overlap | step, overlap | "
          "tokens/s, no overlap | tokens/s, overlap | efficiency (overlap) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for gbps in [float(x) for x in a.networks_gbps.split(",")]:
        bandwidth = gbps * 1e9 / 8
        for n in [int(x) for x in a.ranks.split(",")]:
            moved = 2 * (n - 1) / n * grad_bytes
            comm = moved / bandwidth + buckets * 2 * (n - 1) * a.alpha_us * 1e-6
            plain = compute + comm
            overlapped = compute + max(0.0, comm - backward) + comm / buckets
            ideal = n * a.compute_rate
            rate_plain, rate_overlap = n * a.tokens_per_rank / plain, n * a.tokens_per_rank / overlapped
            print(f"| {gbps:g} Gb/s | {n} | {moved / 1e6:.0f} MB | {comm * 1e3:.0f} ms | {plain * 1e3:.0f} ms | "
                  f"{overlapped * 1e3:.0f} ms | {rate_plain:,.0f} | {rate_overlap:,.0f} | {100 * rate_overlap / ideal:.0f}% |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Loopback load generator for `fable serve` (and any OpenAI-compatible server).

For each concurrency level C, C client threads send streaming /v1/completions requests
back to back until --requests requests have finished or --seconds have passed; the
script reports requests/s, generated tokens/s, and p50/p99 of the time to first token and
of the time per token after the first (from each stream's chunk arrival times and its
usage count). Standard library only (http.client), so it measures the server, not a
client library.

    python3 Scripts/bench/serve_bench.py --url http://127.0.0.1:8080 --levels 1 4 16
    python3 Scripts/bench/serve_bench.py --fable .build/release/fable --checkpoint model.safetensors \
        --tokenizer tok/ --slots 16 --levels 1 4 16 --requests 32 --max-tokens 64

With --fable it starts `fable serve --port 0 --slots N` itself. Prints one table row per
level and the load average before and after; --json FILE writes the figures.
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "serve"))
from server_process import FableServer  # noqa: E402

PROMPTS = [
    "Once upon a time", "The little dog", "Lily wanted to", "One day, a big", "Tom and Sue went",
    "There was a girl who", "The sun was", "In the park,",
]


def one_request(host, port, prompt, max_tokens, seed, model):
    """Streams one completion; returns (ttft_s, per_token_s or None, tokens, total_s)."""
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.8,
                       "seed": seed, "stream": True, "stream_options": {"include_usage": True}})
    connection = http.client.HTTPConnection(host, port, timeout=300)
    start = time.perf_counter()
    connection.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    first = last = None
    tokens = 0
    buffer = b""
    while True:
        data = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not data:
            break
        buffer += data
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            if not event.startswith(b"data: ") or event == b"data: [DONE]":
                continue
            chunk = json.loads(event[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices", []):
                if choice.get("text"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
    end = time.perf_counter()
    connection.close()
    ttft = (first or end) - start
    per_token = (last - first) / (tokens - 1) if first and last and tokens > 1 and last > first else None
    return ttft, per_token, tokens, end - start


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[index]


def run_level(url, concurrency, requests, seconds, max_tokens, model):
    parsed = urllib.parse.urlparse(url)
    lock = threading.Lock()
    results, errors = [], []
    issued = [0]
    deadline = time.perf_counter() + seconds

    def worker(worker_id):
        while True:
            with lock:
                if issued[0] >= requests or time.perf_counter() > deadline:
                    return
                n = issued[0]
                issued[0] += 1
            try:
                result = one_request(parsed.hostname, parsed.port, PROMPTS[n % len(PROMPTS)], max_tokens, n, model)
                with lock:
                    results.append(result)
            except Exception as error:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(error))

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ttfts = [r[0] for r in results]
    per_tokens = [r[1] for r in results if r[1] is not None]
    tokens = sum(r[2] for r in results)
    return {
        "concurrency": concurrency, "requests": len(results), "errors": len(errors), "seconds": wall,
        "requests_per_s": len(results) / wall, "tokens_per_s": tokens / wall, "tokens": tokens,
        "ttft_p50_ms": 1000 * percentile(ttfts, 50), "ttft_p99_ms": 1000 * percentile(ttfts, 99),
        "per_token_p50_ms": 1000 * percentile(per_tokens, 50), "per_token_p99_ms": 1000 * percentile(per_tokens, 99),
        "first_error": errors[0] if errors else None,
    }


def bench(url, args):
    with urllib.request.urlopen(url + "/v1/models") as response:
        model = json.load(response)["data"][0]["id"]
    # Warm-up: one short request.
    run_level(url, 1, 1, 60, 8, model)
    load_before = os.getloadavg()
    rows = [run_level(url, level, args.requests, args.seconds, args.max_tokens, model) for level in args.levels]
    load_after = os.getloadavg()
    print(f"model {model}; {args.max_tokens} tokens per request; load average before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"{'streams':>7} {'reqs':>5} {'req/s':>7} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9} "
          f"{'tok p50':>8} {'tok p99':>8} {'errors':>6}")
    for r in rows:
        print(f"{r['concurrency']:>7} {r['requests']:>5} {r['requests_per_s']:>7.2f} {r['tokens_per_s']:>8.1f} "
              f"{r['ttft_p50_ms']:>7.1f}ms {r['ttft_p99_ms']:>7.1f}ms {r['per_token_p50_ms']:>6.1f}ms "
              f"{r['per_token_p99_ms']:>6.1f}ms {r['errors']:>6}")
        if r["first_error"]:
            print("   first error:", r["first_error"])
    return {"model": model, "load_before": load_before, "load_after": load_after, "levels": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--fable")
    parser.add_argument("--checkpoint")
    parser.add_argument("--tokenizer")
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=32, help="requests per level (bounded)")
    parser.add_argument("--seconds", type=float, default=120, help="time limit per level")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    if args.url:
        figures = bench(args.url.rstrip("/"), args)
    elif args.fable and args.checkpoint:
        with FableServer(args.fable, args.checkpoint, args.tokenizer, ["--slots", str(args.slots)]) as server:
            figures = bench(server.url, args)
    else:
        parser.error("give --url, or --fable and --checkpoint")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()

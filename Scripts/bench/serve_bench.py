#!/usr/bin/env python3
"""Loopback load generator for `fable serve` and other OpenAI-compatible servers.

For each concurrency level C, C client threads send streaming /v1/completions requests
back to back until --requests requests have finished or --seconds have passed; the
script reports requests/s, generated tokens/s, and p50/p99 of the time to first token and
of the time per token after the first (from each stream's chunk arrival times and its
token count). Standard library only (http.client), so it measures the servers, not a
client library.

Servers: `--fable BIN --checkpoint FILE` starts `fable serve` itself; `--llama-gguf FILE`
starts llama-cpp-python's server (`python -m llama_cpp.server`, from
`pip install 'llama-cpp-python[server]'`) on the same model exported with
`fable export --format gguf --dtype f32`; `--url NAME=URL` adds a server already running.
Both started servers get --threads threads. With several servers the script alternates
them: every level runs on each server in turn, and the order flips every round
(--rounds), so a change in machine load falls on both sides.

    python3 Scripts/bench/serve_bench.py --fable .build/release/fable --checkpoint model.safetensors \\
        --tokenizer tok/ --llama-gguf model-f32.gguf --threads 2 --slots 16 \\
        --levels 1 4 16 --requests 32 --max-tokens 64 --rounds 2 --json figures.json

Requests sample the model's plain distribution (--temperature, default 1; top_p 1, no top-k,
and for llama.cpp min_p 0 and repeat_penalty 1, which its server otherwise sets to 0.05 and
1.1) with a seed per request; --temperature 0 is greedy, where both sides generate the same
tokens (but a briefly trained model often ends a greedy text after a few tokens). Tokens are counted from the stream's usage chunk where the server sends one,
else one per text chunk (llama.cpp streams one token per chunk).
Prints one table row per server, level and round, the load average before and after, and
--json FILE writes the figures.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
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


class LlamaCppServer:
    """`python -m llama_cpp.server` on a free loopback port, as a context manager."""

    def __init__(self, python, gguf, threads, context, extra=()):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.command = [python, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1",
                        "--port", str(self.port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
                        "--n_ctx", str(context),
                        # By default a new request interrupts the running one; queue it instead.
                        "--interrupt_requests", "False", *extra]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("llama_cpp.server exited: " + " ".join(self.command))
            try:
                with urllib.request.urlopen(self.url + "/v1/models", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError("llama_cpp.server did not answer: " + " ".join(self.command))

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return False


def stream_completion(host, port, body, on_text=None):
    """Sends one streaming completion; returns (start, [text chunk arrival times], usage tokens or None, end)."""
    connection = http.client.HTTPConnection(host, port, timeout=600)
    start = time.perf_counter()
    connection.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    arrivals, usage_tokens, buffer = [], None, b""
    while True:
        data = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not data:
            break
        buffer += data.replace(b"\r\n", b"\n")
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            if not event.startswith(b"data: ") or event == b"data: [DONE]":
                continue
            chunk = json.loads(event[6:])
            if chunk.get("usage"):
                usage_tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices", []):
                if choice.get("text"):
                    arrivals.append(time.perf_counter())
                    if on_text:
                        on_text(arrivals[-1])
    end = time.perf_counter()
    connection.close()
    return start, arrivals, usage_tokens, end


def one_request(host, port, prompt, args, seed, model):
    """Streams one completion; returns (ttft_s, per_token_s or None, tokens, total_s)."""
    # The plain distribution on both sides: llama.cpp's server otherwise applies top_k 40,
    # min_p 0.05 and a repeat penalty of 1.1 (Fable ignores the fields it does not know).
    body = {"model": model, "prompt": prompt, "max_tokens": args.max_tokens, "temperature": args.temperature,
            "top_p": 1.0, "top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0,
            "seed": seed, "stream": True, "stream_options": {"include_usage": True}}
    start, arrivals, usage_tokens, end = stream_completion(host, port, body)
    tokens = usage_tokens if usage_tokens is not None else len(arrivals)
    first = arrivals[0] if arrivals else None
    last = arrivals[-1] if arrivals else None
    ttft = (first or end) - start
    per_token = (last - first) / (tokens - 1) if first and tokens > 1 and last > first else None
    return ttft, per_token, tokens, end - start


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[index]


def run_level(url, concurrency, args, model, requests=None, seconds=None):
    parsed = urllib.parse.urlparse(url)
    requests = requests or args.requests
    lock = threading.Lock()
    results, errors = [], []
    issued = [0]
    deadline = time.perf_counter() + (seconds or args.seconds)

    def worker():
        while True:
            with lock:
                if issued[0] >= requests or time.perf_counter() > deadline:
                    return
                n = issued[0]
                issued[0] += 1
            try:
                result = one_request(parsed.hostname, parsed.port, PROMPTS[n % len(PROMPTS)], args, n, model)
                with lock:
                    results.append(result)
            except Exception as error:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(error))

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
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


def model_id(url):
    with urllib.request.urlopen(url + "/v1/models") as response:
        return json.load(response)["data"][0]["id"]


HEADER = (f"{'server':>8} {'round':>5} {'streams':>7} {'reqs':>5} {'tok/req':>7} {'req/s':>7} {'tok/s':>8} {'TTFT p50':>9} "
          f"{'TTFT p99':>9} {'tok p50':>8} {'tok p99':>8} {'errors':>6}")


def row_text(name, round_index, r):
    return (f"{name:>8} {round_index:>5} {r['concurrency']:>7} {r['requests']:>5} "
            f"{r['tokens'] / max(r['requests'], 1):>7.1f} {r['requests_per_s']:>7.2f} "
            f"{r['tokens_per_s']:>8.1f} {r['ttft_p50_ms']:>7.1f}ms {r['ttft_p99_ms']:>7.1f}ms "
            f"{r['per_token_p50_ms']:>6.1f}ms {r['per_token_p99_ms']:>6.1f}ms {r['errors']:>6}")


def bench(servers, args):
    """servers: [(name, url)]. Alternates them level by level; flips the order each round."""
    models = {name: model_id(url) for name, url in servers}
    for name, url in servers:   # warm-up: one short request each
        run_level(url, 1, args, models[name], requests=1, seconds=60)
    load_before = os.getloadavg()
    rows = []
    print(f"{args.max_tokens} tokens per request, temperature {args.temperature}; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(HEADER)
    for round_index in range(args.rounds):
        order = servers if round_index % 2 == 0 else list(reversed(servers))
        for level in args.levels:
            for name, url in order:
                r = run_level(url, level, args, models[name])
                r.update(server=name, round=round_index + 1, load=os.getloadavg()[0])
                rows.append(r)
                print(row_text(name, round_index + 1, r), flush=True)
                if r["first_error"]:
                    print("   first error:", r["first_error"])
    load_after = os.getloadavg()
    print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    summary = summarise(rows, servers, args.levels)
    return {"models": models, "load_before": load_before, "load_after": load_after, "rows": rows, "summary": summary}


def summarise(rows, servers, levels):
    """Medians over rounds per server and level, and the first server over each other."""
    keys = ["requests_per_s", "tokens_per_s", "ttft_p50_ms", "ttft_p99_ms", "per_token_p50_ms", "per_token_p99_ms"]
    summary = {}
    print("\nmedian over rounds" + (f"; ratio = {servers[0][0]} / {servers[1][0]}" if len(servers) > 1 else ""))
    for level in levels:
        for name, _ in servers:
            picked = [r for r in rows if r["server"] == name and r["concurrency"] == level]
            summary[f"{name}@{level}"] = {k: statistics.median(r[k] for r in picked) for k in keys}
        line = f"{level:>3} streams: " + "   ".join(
            f"{name} {summary[f'{name}@{level}']['tokens_per_s']:.1f} tok/s, "
            f"TTFT p50 {summary[f'{name}@{level}']['ttft_p50_ms']:.1f} ms, "
            f"tok p50 {summary[f'{name}@{level}']['per_token_p50_ms']:.2f} ms" for name, _ in servers)
        if len(servers) > 1:
            a, b = summary[f"{servers[0][0]}@{level}"], summary[f"{servers[1][0]}@{level}"]
            line += f"   ratio tok/s {a['tokens_per_s'] / b['tokens_per_s']:.2f}"
        print(line)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", default=[], help="NAME=URL of a running server (repeatable)")
    parser.add_argument("--fable", help="the fable binary to start")
    parser.add_argument("--checkpoint")
    parser.add_argument("--tokenizer")
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--fable-arg", action="append", default=[], help="extra argument for fable serve")
    parser.add_argument("--llama-gguf", help="a GGUF file to serve with llama-cpp-python's server")
    parser.add_argument("--llama-python", default=sys.executable, help="the Python that has llama_cpp")
    parser.add_argument("--context", type=int, default=256, help="llama.cpp's n_ctx (the model's context)")
    parser.add_argument("--threads", type=int, default=2, help="threads for each started server")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=32, help="requests per level (bounded)")
    parser.add_argument("--seconds", type=float, default=120, help="time limit per level")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    managers, servers = [], []
    try:
        if args.fable:
            if not args.checkpoint:
                parser.error("--fable needs --checkpoint")
            extra = ["--slots", str(args.slots), "--threads", str(args.threads), *args.fable_arg]
            fable = FableServer(args.fable, args.checkpoint, args.tokenizer, extra).__enter__()
            managers.append(fable)
            servers.append(("fable", fable.url))
        if args.llama_gguf:
            llama = LlamaCppServer(args.llama_python, args.llama_gguf, args.threads, args.context).__enter__()
            managers.append(llama)
            servers.append(("llama", llama.url))
        for item in args.url:
            name, _, url = item.partition("=")
            servers.append((name, url.rstrip("/")) if url else ("peer", name.rstrip("/")))
        if not servers:
            parser.error("give --fable and --checkpoint, --llama-gguf, or --url")
        figures = bench(servers, args)
        figures["command"] = " ".join(sys.argv)
    finally:
        for manager in reversed(managers):
            manager.__exit__(None, None, None)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()

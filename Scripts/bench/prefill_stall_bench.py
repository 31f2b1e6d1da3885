#!/usr/bin/env python3
"""How long a long prompt joining the batch stalls the other streams of `fable serve`.

Starts one `fable serve` per --prefill-chunk setting (0 = whole prompts). For each round
and each setting in turn (the order flips every round), --streams streaming requests
decode; once each has produced --settle chunks, one request with a --prompt-tokens-token
prompt (token ids, max_tokens 1) joins. Reported per setting: the other streams' largest
inter-token gap while the long prompt was being computed (from its send to its answer),
their median gap before it joined (the undisturbed step), and the long request's time to
answer. Loopback only, every loop bounded; standard library only.

    python3 Scripts/bench/prefill_stall_bench.py --fable .build/release/fable \\
        --checkpoint model.safetensors --tokenizer tok/ --chunks 0 64 --prompt-tokens 240 --rounds 3
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "serve"))
from serve_bench import stream_completion  # noqa: E402
from server_process import FableServer  # noqa: E402


def measure(url, args, vocab):
    parsed = urllib.parse.urlparse(url)
    arrivals = [[] for _ in range(args.streams)]
    settled = threading.Semaphore(0)
    errors = []

    def stream(i):
        counted = [False]

        def on_text(now):
            arrivals[i].append(now)
            if len(arrivals[i]) == args.settle and not counted[0]:
                counted[0] = True
                settled.release()

        # Sampled, seeded: a briefly trained model often ends a greedy text after a few tokens.
        body = {"prompt": "Once upon a time", "max_tokens": args.stream_tokens, "temperature": 1, "seed": 100 + i,
                "stream": True}
        try:
            stream_completion(parsed.hostname, parsed.port, body, on_text=on_text)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(str(error))
        if not counted[0]:
            settled.release()

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(args.streams)]
    for thread in threads:
        thread.start()
    for _ in threads:
        settled.acquire(timeout=120)
    prompt = [(7 + 31 * i) % vocab for i in range(args.prompt_tokens)]
    body = json.dumps({"prompt": prompt, "max_tokens": 1, "temperature": 0}).encode()
    sent = time.perf_counter()
    request = urllib.request.Request(url + "/v1/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
    answered = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)

    during, before = [], []
    for times in arrivals:
        for a, b in zip(times, times[1:]):
            if b > sent and a < answered:
                during.append(b - a)
            elif b <= sent:
                before.append(b - a)
    return {
        "max_gap_during_ms": 1000 * max(during) if during else float("nan"),
        "median_gap_before_ms": 1000 * statistics.median(before) if before else float("nan"),
        "long_request_ms": 1000 * (answered - sent),
        "streams_finished_early": sum(1 for times in arrivals if times and times[-1] < sent),
        "errors": errors,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fable", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunks", type=int, nargs="+", default=[0, 64], help="--prefill-chunk settings")
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--stream-tokens", type=int, default=200, help="max_tokens of the running streams")
    parser.add_argument("--settle", type=int, default=8, help="chunks each stream produces before the long prompt")
    parser.add_argument("--prompt-tokens", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()

    servers, results = [], {chunk: [] for chunk in args.chunks}
    try:
        for chunk in args.chunks:
            extra = ["--slots", str(args.streams + 1), "--threads", str(args.threads), "--prefill-chunk", str(chunk)]
            servers.append((chunk, FableServer(args.fable, args.checkpoint, args.tokenizer, extra).__enter__()))
        with urllib.request.urlopen(servers[0][1].url + "/v1/models") as response:
            vocab = json.load(response)["data"][0]["tokenizer_vocab_size"]
        load_before = os.getloadavg()
        for round_index in range(args.rounds):
            order = servers if round_index % 2 == 0 else list(reversed(servers))
            for chunk, server in order:
                r = measure(server.url, args, vocab)
                r["load"] = os.getloadavg()[0]
                results[chunk].append(r)
                print(f"round {round_index + 1} prefill-chunk {chunk:>4}: max gap during {r['max_gap_during_ms']:8.1f} ms, "
                      f"median gap before {r['median_gap_before_ms']:6.1f} ms, long prompt answered in "
                      f"{r['long_request_ms']:8.1f} ms, load {r['load']:.2f}"
                      + (f", errors {r['errors'][:1]}" if r["errors"] else ""), flush=True)
        load_after = os.getloadavg()
    finally:
        for _, server in servers:
            server.__exit__(None, None, None)
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    for chunk in args.chunks:
        rows = results[chunk]
        print(f"prefill-chunk {chunk:>4} (median of {len(rows)}): max gap during "
              f"{statistics.median(r['max_gap_during_ms'] for r in rows):.1f} ms, median gap before "
              f"{statistics.median(r['median_gap_before_ms'] for r in rows):.1f} ms, long prompt "
              f"{statistics.median(r['long_request_ms'] for r in rows):.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": " ".join(sys.argv), "load_before": load_before, "load_after": load_after,
                       "results": {str(k): v for k, v in results.items()}}, f, indent=2)


if __name__ == "__main__":
    main()

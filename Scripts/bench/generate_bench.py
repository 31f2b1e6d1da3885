#!/usr/bin/env python3
"""Text generation throughput, Fable vs the PyTorch reference model, side by side.

Runs `fable bench generate --json` (release build) and a simple KV-cache generation loop
around the CS336 reference model (Scripts/reference/model_reference.py) in PyTorch with
the same shape, prompt length, number of new tokens and batch sizes: prefill the prompt
once, then one token per step attending to cached keys and values (preallocated
(batch, heads, max_len, d_head) buffers), multinomial sampling at temperature 1.
PyTorch runs under torch.no_grad() with torch.set_num_threads(THREADS); weights are
random (speed does not depend on them). Without the cache, every step runs the reference
model over the whole prefix and keeps the last position's logits.

The figure is batch x new tokens / wall time of the whole generation (prefill included),
median over alternating rounds (Fable, then PyTorch, repeated) so both see the same machine load. The ratio is Fable / PyTorch tokens per second
(above 1 means Fable is faster).

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/generate_bench.py --threads 2
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from model_reference import PRESETS, TransformerLM  # noqa: E402


# MARK: - A KV-cache generation loop around the reference model

class KVCache:
    """Per layer K and V buffers (batch, heads, max_len, d_head), filled position by position."""

    def __init__(self, model, batch, max_len):
        c = model.config
        dh = c.d_model // c.num_heads
        self.k = [torch.empty(batch, c.num_heads, max_len, dh) for _ in range(c.num_layers)]
        self.v = [torch.empty(batch, c.num_heads, max_len, dh) for _ in range(c.num_layers)]
        self.length = 0


def cached_attention(attn, x, layer, cache, positions):
    """The reference CausalSelfAttention over new positions x (B, T, d) plus the cache."""
    b, t, d = x.shape
    h, dh = attn.num_heads, attn.d_k

    def heads(y):
        return y.view(b, t, h, dh).transpose(1, 2)             # (B, h, T, dh)

    q, k, v = heads(attn.q_proj(x)), heads(attn.k_proj(x)), heads(attn.v_proj(x))
    if attn.rope is not None:
        q = attn.rope(q, positions)
        k = attn.rope(k, positions)
    start = cache.length
    cache.k[layer][:, :, start:start + t] = k
    cache.v[layer][:, :, start:start + t] = v
    keys = cache.k[layer][:, :, :start + t]
    values = cache.v[layer][:, :, :start + t]
    if t == 1:
        out = F.scaled_dot_product_attention(q, keys, values)
    else:
        # Query i sees keys 0..start+i.
        mask = torch.ones(t, start + t, dtype=torch.bool).tril(diagonal=start)
        out = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
    return attn.output_proj(out.transpose(1, 2).reshape(b, t, d))


def cached_forward(model, tokens, cache):
    """Logits (B, vocab) of each row's last new position; advances the cache."""
    t = tokens.shape[1]
    positions = torch.arange(cache.length, cache.length + t)
    x = model.token_embeddings(tokens)
    for i, block in enumerate(model.layers):
        if block.norm == "pre":
            x = x + cached_attention(block.attn, block.ln1(x), i, cache, positions)
            x = x + block.ffn(block.ln2(x))
        elif block.norm == "post":
            x = block.ln1(x + cached_attention(block.attn, x, i, cache, positions))
            x = block.ln2(x + block.ffn(x))
        else:
            x = x + cached_attention(block.attn, x, i, cache, positions)
            x = x + block.ffn(x)
    cache.length += t
    x = x[:, -1]
    if model.config.norm == "pre":
        x = model.ln_final(x)
    return model.lm_head(x)


def sample(logits, generator):
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)   # (B, 1)


def generate_cached(model, prompt, batch, new_tokens, generator):
    cache = KVCache(model, batch, prompt.shape[1] + new_tokens)
    logits = cached_forward(model, prompt.expand(batch, -1).contiguous(), cache)
    out = []
    for step in range(new_tokens):
        token = sample(logits, generator)
        out.append(token)
        if step + 1 < new_tokens:
            logits = cached_forward(model, token, cache)
    return torch.cat(out, dim=1)


def generate_uncached(model, prompt, batch, new_tokens, generator):
    seq = prompt.expand(batch, -1).contiguous()
    for _ in range(new_tokens):
        logits = model(seq)[:, -1]
        seq = torch.cat([seq, sample(logits, generator)], dim=1)
    return seq[:, prompt.shape[1]:]


def check_cache(model, prompt):
    """The cached loop gives the reference model's logits (guards the peer's correctness)."""
    cache = KVCache(model, 1, prompt.shape[1] + 4)
    seq = prompt
    logits = cached_forward(model, seq, cache)
    for step in range(4):
        full = model(seq)[:, -1]
        assert torch.allclose(logits, full, atol=1e-4), f"cached logits differ at step {step}"
        token = logits.argmax(-1, keepdim=True)
        seq = torch.cat([seq, token], dim=1)
        logits = cached_forward(model, token, cache)


def median_seconds(fn, repeats, clock, warm_up=True):
    if warm_up:
        fn()
    samples = []
    for _ in range(repeats):
        start = clock()
        fn()
        samples.append(clock() - start)
    return statistics.median(samples)


# MARK: - Main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="1,8")
    p.add_argument("--prompt-tokens", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--repeat", type=int, default=1, help="timed runs per case per round, after a warm-up")
    p.add_argument("--rounds", type=int, default=3, help="alternating Fable / PyTorch rounds")
    p.add_argument("--fable", default=".build/release/fable")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: elapsed time; cpu: process CPU time / threads (steadier on a busy machine)")
    p.add_argument("--skip-no-cache", action="store_true", help="time only the cached paths")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    clock = time.perf_counter if a.clock == "wall" else (lambda: time.process_time() / a.threads)
    torch.manual_seed(0)
    config = PRESETS["tinystories-17m"]
    model = TransformerLM(config).eval()
    g = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, config.vocab_size, (1, a.prompt_tokens), generator=g)
    batches = [int(b) for b in a.batches.split(",")]
    modes = [True] if a.skip_no_cache else [True, False]

    with torch.no_grad():
        check_cache(model, prompt)

    cmd = [a.fable, "bench", "generate", "--preset", "tinystories-17m", "--batches", a.batches,
           "--prompt-tokens", str(a.prompt_tokens), "--new-tokens", str(a.new_tokens),
           "--repeat", str(a.repeat), "--threads", str(a.threads), "--clock", a.clock, "--json",
           "--mode", "cache" if a.skip_no_cache else "both"]
    cases = [(batch, cached) for batch in batches for cached in modes]
    fable = {case: [] for case in cases}
    peer = {case: [] for case in cases}
    # Rounds alternate the two tools so that both see the same machine load over time.
    for round_index in range(a.rounds):
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            fable[(r["batch"], r["cache"])].append(r["tokens_per_second"])
        with torch.no_grad():
            for batch, cached in cases:
                run = generate_cached if cached else generate_uncached
                seconds = median_seconds(lambda: run(model, prompt, batch, a.new_tokens, g), a.repeat, clock,
                                         warm_up=round_index == 0)
                peer[(batch, cached)].append(batch * a.new_tokens / seconds)

    print(f"generation, tinystories-17m (random weights), prompt {a.prompt_tokens} tokens, "
          f"{a.new_tokens} new tokens per sample, {a.threads} threads, {a.clock} clock, torch {torch.__version__}, "
          f"median of {a.rounds} rounds x {a.repeat} runs")
    print(f"{'batch':>5} {'cache':>5} {'fable tok/s':>12} {'torch tok/s':>12} {'ratio':>7}")
    for batch, cached in cases:
        ours, theirs = statistics.median(fable[(batch, cached)]), statistics.median(peer[(batch, cached)])
        print(f"{batch:>5} {'on' if cached else 'off':>5} {ours:>12.1f} {theirs:>12.1f} {ours / theirs:>7.2f}")


if __name__ == "__main__":
    main()

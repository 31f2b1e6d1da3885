#!/usr/bin/env python3
"""Golden BPE training cases from a plain Python trainer with CS336 semantics.

The trainer below is deliberately naive (recount every pair each step) so that it is
obviously right: pre-tokens are tuples of `bytes`, the text is read with
errors="replace", split on the special tokens with `re.split` (longest first), and the
most frequent pair wins with ties broken by the greatest (bytes, bytes) tuple.

Writes Tests/Fixtures/tokenizer/bpe_train_cases.json: for each case the input (hex, so
invalid UTF-8 survives JSON), the special tokens, the vocab size and the expected merges
(hex pairs).

Usage: python3 Scripts/reference/bpe_train_reference.py   (from the package root)
"""
import json
import os
import random
import re
from collections import Counter

import regex

PATTERN = regex.compile(r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def train(data: bytes, vocab_size: int, specials: list[str]):
    text = data.decode("utf-8", errors="replace")
    if specials:
        split = "|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True))
        parts = re.split(split, text)
    else:
        parts = [text]
    words = Counter()
    for part in parts:
        for match in PATTERN.finditer(part):
            words[tuple(bytes([b]) for b in match.group().encode("utf-8"))] += 1
    size = len(specials) + 256
    merges = []
    while size < vocab_size:
        pairs = Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        size += 1
        joined = best[0] + best[1]
        merged = Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += count
        words = merged
    return merges


def random_text(rng, words, length):
    out = []
    for _ in range(length):
        out.append(rng.choice(words))
        out.append(rng.choice([" ", " ", " ", "  ", "\n", ", ", ". ", "\n\n", "'s ", " 42 "]))
    return "".join(out)


def cases():
    rng = random.Random(1234)
    latin = ["the", "cat", "sat", "on", "mat", "then", "that", "these", "hat", "at", "a", "ta", "tat"]
    unicode_words = ["straße", "naïve", "café", "日本語", "日本", "語", "ĉu", "über", "ἀγάπη", "😀", "😀😀", "٣٤", "e\u0301"]
    ties = ["ab", "ba", "cd", "dc", "xy", "yx", "abcd", "dcba"]
    yield "specials in text", random_text(rng, latin, 300).replace("mat", "<|endoftext|>").encode(), 330, ["<|endoftext|>"]
    yield "several overlapping specials", (
        "<|endoftext|>" + random_text(rng, latin, 120) + "<|end|>" + random_text(rng, latin, 120)
        + "<|pad|><|pad|>" + random_text(rng, latin, 60) + "<|end" + random_text(rng, latin, 60) + "<|endoftext|>"
    ).encode(), 320, ["<|end|>", "<|endoftext|>", "<|pad|>", "<|end"]
    yield "no special token in the input", random_text(rng, latin, 400).encode(), 300, ["<|endoftext|>"]
    yield "no special tokens at all", random_text(rng, latin, 400).encode(), 290, []
    yield "unicode words", random_text(rng, unicode_words, 400).encode(), 340, ["<|endoftext|>"]
    yield "ties everywhere", " ".join(ties * 20).encode(), 290, ["<|endoftext|>"]
    yield "invalid UTF-8 replaced", (
        b"caf\xe9 caf\xc3\xa9 \xff\xfe bad \xe2\x82 trunc " * 30 + b"<|endoftext|>" + b"ok ok \xf0\x9f\x98" * 20
    ), 300, ["<|endoftext|>"]
    yield "runs out of pairs", b"aaa bbb", 400, ["<|endoftext|>"]
    yield "long repeated word", (b"=" * 300 + b"\n") * 5, 270, ["<|endoftext|>"]


def main():
    out = []
    for name, data, vocab_size, specials in cases():
        merges = train(data, vocab_size, specials)
        out.append({
            "name": name,
            "input_hex": data.hex(),
            "special_tokens": specials,
            "vocab_size": vocab_size,
            "merges_hex": [[a.hex(), b.hex()] for a, b in merges],
        })
        print(f"{name}: {len(data)} bytes, {len(merges)} merges")
    path = os.path.join(ROOT, "Tests/Fixtures/tokenizer/bpe_train_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(f"wrote {path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""BPE training: `fable tokenizer train` against Hugging Face `tokenizers`, side by side.

Both train a byte-level BPE (GPT-2 pre-tokenization pattern) with the same vocab size and
thread count on the same files, on the same machine, one after the other:

  corpus.en           ../shared/fixtures/corpus.en, vocab 500
  tinystories 2 MiB   ../shared/data/tinystories_sample_2MiB.txt, vocab 10,000
  mixed 100 MB        built here in /tmp: the shared texts repeated plus generated text
                      with ~400k distinct words (Zipf-distributed), vocab 10,000
  memory check        TinyStories repeated to 25 MB and to 100 MB (the same distinct
                      words), vocab 10,000: peak memory must not grow with the size

Fable's time is its own report (pre-tokenize + merges, without writing files) and the
whole process's wall time; HF's is the time around `Tokenizer.train` in a child Python
process (imports excluded). Peak memory is each child process's maximum resident set.
Fable threads: --threads N; HF threads: RAYON_NUM_THREADS=N.

Usage (package root, after `swift build -c release`):
  python3 Scripts/bench/bpe_train_bench.py [--threads 2] [--repeats 3] [--quick]
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("FABLE_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
FABLE = os.path.join(ROOT, ".build", "release", "fable")
WORK = os.path.join(tempfile.gettempdir(), "fable-bpe-bench")

HF_CHILD = r"""
import json, sys, time
from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
path, vocab = sys.argv[1], int(sys.argv[2])
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
start = time.perf_counter()
tok.train([path], trainer)
elapsed = time.perf_counter() - start
print(json.dumps({"train_s": elapsed, "vocab": tok.get_vocab_size()}))
"""


def run_child(argv, env=None):
    """Runs a command; returns (stdout, wall seconds, peak RSS bytes, cpu seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"command failed ({status}): {' '.join(argv)}\n{err.decode(errors='replace')}")
    return out.decode(), wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def fable(path, vocab, threads, out_dir):
    out, wall, rss, cpu = run_child([FABLE, "tokenizer", "train", "--input", path, "--vocab-size", str(vocab),
                                     "--special-token", "<|endoftext|>", "--out", out_dir,
                                     "--threads", str(threads), "--quiet"])
    pre = float(re.search(r"pre-tokenize:\s+([\d.]+) s", out).group(1))
    merge = float(re.search(r"merges:\s+([\d.]+) s", out).group(1))
    distinct = int(re.search(r"\((\d+) distinct\)", out).group(1))
    return {"train": pre + merge, "pre": pre, "merge": merge, "wall": wall, "rss": rss, "cpu": cpu,
            "distinct": distinct}


def hf(path, vocab, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out, wall, rss, cpu = run_child([sys.executable, "-c", HF_CHILD, path, str(vocab)], env=env)
    result = json.loads(out.strip().splitlines()[-1])
    return {"train": result["train_s"], "wall": wall, "rss": rss, "cpu": cpu}


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


# MARK: - Corpora built at run time (never committed)

def read(path):
    with open(path, "rb") as f:
        return f.read()


def repeated(path, source, size):
    if not (os.path.exists(path) and os.path.getsize(path) >= size):
        data = read(source)
        with open(path, "wb") as f:
            written = 0
            while written < size:
                piece = data[: size - written]
                f.write(piece)
                written += len(piece)
    return path


def mixed_corpus(path, size, seed=7):
    """Half real text (the shared samples repeated), half generated Zipf text over a
    synthetic lexicon, with <|endoftext|> between documents."""
    if os.path.exists(path) and os.path.getsize(path) >= size:
        return path
    rng = random.Random(seed)
    real = b"".join(read(os.path.join(SHARED, p)) for p in (
        "data/tinystories_sample_2MiB.txt", "data/owt_sample.txt", "fixtures/corpus.en"))
    syllables = ["ka", "to", "ri", "mu", "sen", "la", "vor", "ex", "qui", "tha", "ing", "ed", "ion", "al",
                 "pre", "con", "st", "ber", "gh", "ou", "zy", "ph", "ment", "ly", "é", "ü", "ø", "ñ"]
    lexicon = []
    for _ in range(400_000):
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(1, 5)))
        lexicon.append(word.capitalize() if rng.random() < 0.1 else word)
    weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(lexicon))]
    punctuation = [" ", " ", " ", " ", " ", ", ", ". ", "\n", "! ", "? ", " (", ") ", " 19", " 2024 ", "'s "]
    with open(path, "wb") as f:
        written = 0
        while written < size:
            f.write(real)
            written += len(real)
            words = rng.choices(lexicon, weights=weights, k=400_000)
            glue = rng.choices(punctuation, k=len(words))
            parts = []
            for i, (word, sep) in enumerate(zip(words, glue)):
                parts.append(word)
                parts.append(sep)
                if i % 300 == 299:
                    parts.append("<|endoftext|>")
            blob = "".join(parts).encode()
            f.write(blob)
            written += len(blob)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="runs per small case (median reported)")
    parser.add_argument("--quick", action="store_true", help="skip the 100 MB cases")
    parser.add_argument("--build-corpora", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_corpora:
        # Runs as its own process: a child forked from a parent that grew while building
        # the corpora would report the parent's size as its peak RSS (Linux keeps
        # ru_maxrss across fork and exec).
        os.makedirs(WORK, exist_ok=True)
        mixed_corpus(os.path.join(WORK, "mixed-100MB.txt"), 100_000_000)
        ts = os.path.join(SHARED, "data/tinystories_sample_2MiB.txt")
        repeated(os.path.join(WORK, "ts-25MB.txt"), ts, 25_000_000)
        repeated(os.path.join(WORK, "ts-100MB.txt"), ts, 100_000_000)
        return
    if not os.path.exists(FABLE):
        sys.exit(f"{FABLE} not found: run `swift build -c release` first")
    os.makedirs(WORK, exist_ok=True)
    out_dir = os.path.join(WORK, "out")

    cases = [
        ("corpus.en", os.path.join(SHARED, "fixtures/corpus.en"), 500, args.repeats),
        ("tinystories 2 MiB", os.path.join(SHARED, "data/tinystories_sample_2MiB.txt"), 10_000, args.repeats),
    ]
    memory_cases = []
    if not args.quick:
        print("building corpora in", WORK, file=sys.stderr)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--build-corpora"], check=True)
        big = mixed_corpus(os.path.join(WORK, "mixed-100MB.txt"), 100_000_000)
        cases.append(("mixed 100 MB", big, 10_000, 1))
        ts = os.path.join(SHARED, "data/tinystories_sample_2MiB.txt")
        memory_cases = [
            ("tinystories x12 (25 MB)", repeated(os.path.join(WORK, "ts-25MB.txt"), ts, 25_000_000), 10_000),
            ("tinystories x48 (100 MB)", repeated(os.path.join(WORK, "ts-100MB.txt"), ts, 100_000_000), 10_000),
        ]

    print(f"threads: {args.threads}; times in seconds; Fable train = pre-tokenize + merges")
    header = (f"{'corpus':26} {'MB':>7} {'vocab':>6} | {'fable train':>11} {'pre-tok MB/s':>12} {'fable wall':>10} "
              f"{'fable RSS':>9} | {'HF train':>9} {'HF RSS':>8} | {'ratio':>6}")
    print(header)
    print("-" * len(header))
    rows = []
    for name, path, vocab, repeats in cases + [(n, p, v, 1) for n, p, v in memory_cases]:
        fable(path, vocab, args.threads, out_dir)  # warm-up (page cache, binary)
        f_runs = [fable(path, vocab, args.threads, out_dir) for _ in range(repeats)]
        h_runs = [hf(path, vocab, args.threads) for _ in range(max(1, min(repeats, 2 if "100" in name else repeats)))]
        mb = os.path.getsize(path) / 1e6
        f_train, h_train = median_of(f_runs, "train"), median_of(h_runs, "train")
        row = {
            "name": name, "mb": mb, "vocab": vocab, "fable_train": f_train, "fable_pre": median_of(f_runs, "pre"),
            "fable_wall": median_of(f_runs, "wall"), "fable_rss": max(r["rss"] for r in f_runs),
            "fable_cpu": median_of(f_runs, "cpu"), "distinct": f_runs[0]["distinct"],
            "hf_train": h_train, "hf_rss": max(r["rss"] for r in h_runs), "hf_cpu": median_of(h_runs, "cpu"),
        }
        rows.append(row)
        print(f"{name:26} {mb:7.1f} {vocab:6d} | {f_train:11.3f} {mb / row['fable_pre']:12.1f} "
              f"{row['fable_wall']:10.3f} {row['fable_rss'] / 2**20:7.1f}Mi | {h_train:9.3f} "
              f"{row['hf_rss'] / 2**20:6.1f}Mi | {h_train / f_train:5.1f}x", flush=True)
    print()
    print("CPU seconds (user + sys, whole process): " + "; ".join(
        f"{r['name']}: fable {r['fable_cpu']:.2f}, HF {r['hf_cpu']:.2f}" for r in rows))
    print("distinct pre-tokens: " + "; ".join(f"{r['name']}: {r['distinct']}" for r in rows))
    print("ratio = HF train time / Fable train time (higher is better for Fable)")
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

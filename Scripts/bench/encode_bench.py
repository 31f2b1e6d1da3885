#!/usr/bin/env python3
"""Tokenizer encoding, Fable vs tiktoken, side by side with GPT-2's vocabulary.

Runs on the same machine in one session, alternating the two tools, and prints both
figures and their ratio (Fable / tiktoken, higher is better for Fable):

1. single-thread encode throughput on TinyStories (2 MiB), OpenWebText (150 KB) and a
   larger corpus built from Python's standard library sources (~31 MB, files joined with
   <|endoftext|>): tiktoken's `encode(text, allowed_special="all")` on the text in memory
   vs the figure `fable tokenizer stats --threads 1` prints for its encoder;
2. the parallel file encoder, `fable tokenizer encode --threads N` (its own timing:
   reading, encoding, writing the .npy) vs tiktoken reading the file, splitting it into
   documents and `encode_batch(..., num_threads=N)` plus writing a uint16 .npy;
3. pathological inputs: 100,000 x "a", 1,000,000 x "^", one 10 MB line of letters.

Throughput is reported twice: per CPU second of the encoding thread(s) (thread CPU
time; stable when other processes share the cores) and per wall-clock second. Each
figure is the median of --repeat runs. Every Fable output is also checked id for id
against tiktoken.

Usage (from the package root, after `swift build -c release --product fable`):
    python3 Scripts/bench/encode_bench.py [--repeat 5] [--shared ../shared] [--quick]
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Scripts" / "reference"))
from tokenizer_fixtures import gpt2_encoding  # noqa: E402

ENDOFTEXT = "<|endoftext|>"


def build_python_corpus(path: Path) -> None:
    """The standard library's .py files (sorted, site-packages excluded) joined with <|endoftext|>."""
    lib = Path(os.__file__).parent
    parts = []
    for file in sorted(lib.rglob("*.py")):
        if "site-packages" in file.parts:
            continue
        try:
            parts.append(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
    path.write_text(ENDOFTEXT.join(parts), encoding="utf-8")


def build_pathological(work: Path) -> list[Path]:
    random.seed(0)
    files = {
        "100000 x 'a'": "a" * 100_000,
        "1000000 x '^'": "^" * 1_000_000,
        "10 MB line of letters": "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10_000_000)),
    }
    paths = []
    for name, text in files.items():
        path = work / (re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") + ".txt")
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        paths.append((name, path))
    return paths


def run(cmd: list[str]) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return result.stdout


def fable_stats(fable: str, tok: list[str], path: Path, repeat: int, special: bool = True) -> tuple[float, float]:
    """(MB/s per encoder CPU second, MB/s wall) from `fable tokenizer stats`."""
    cmd = [fable, "tokenizer", "stats", *tok, "--input", str(path), "--threads", "1", "--repeat", str(repeat), "--top", "0"]
    if not special:
        cmd.append("--no-special-tokens")
    out = run(cmd)
    m = re.search(r"encode speed:\s+([\d.]+) MB/s per thread \(encoder CPU time\), ([\d.]+) MB/s wall", out)
    if not m:
        sys.exit("cannot parse fable stats output:\n" + out)
    return float(m.group(1)), float(m.group(2))


def tiktoken_single(enc, text: str, repeat: int, special: bool = True) -> tuple[float, float]:
    """(MB/s per thread CPU second, MB/s wall) of tiktoken's single-thread encode, medians."""
    size = len(text.encode("utf-8"))
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.thread_time(), time.perf_counter()
        if special:
            enc.encode(text, allowed_special="all")
        else:
            enc.encode_ordinary(text)
        cpu.append(size / max(time.thread_time() - c, 1e-9) / 1e6)
        wall.append(size / max(time.perf_counter() - w, 1e-9) / 1e6)
    return statistics.median(cpu), statistics.median(wall)


def fable_file(fable: str, tok: list[str], path: Path, out: Path, threads: int) -> float:
    """MB/s of `fable tokenizer encode` from its summary (reading, encoding, writing)."""
    text = run([fable, "tokenizer", "encode", *tok, "--input", str(path), "--output", str(out),
                "--threads", str(threads), "--quiet"])
    m = re.search(r"time:\s+([\d.]+) s, ([\d.]+) MB/s", text)
    if not m:
        sys.exit("cannot parse fable encode output:\n" + text)
    return float(m.group(2))


def tiktoken_file(enc, path: Path, out: Path, threads: int) -> float:
    """MB/s of tiktoken reading a file, encoding its documents in a batch, writing a .npy."""
    start = time.perf_counter()
    text = path.read_text(encoding="utf-8")
    docs = text.split(ENDOFTEXT)
    batches = enc.encode_ordinary_batch(docs, num_threads=threads)
    ids = []
    for index, doc in enumerate(batches):
        if index:
            ids.append(enc.eot_token)
        ids.extend(doc)
    np.save(out, np.asarray(ids, dtype=np.uint16))
    return len(text.encode("utf-8")) / (time.perf_counter() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fable", default=str(ROOT / ".build" / "release" / "fable"), help="the release fable binary")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"), help="the shared data folder")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "fable-encode-bench"), help="scratch folder")
    parser.add_argument("--quick", action="store_true", help="skip the Python corpus and the 10 MB line")
    args = parser.parse_args()

    if not Path(args.fable).exists():
        sys.exit(f"{args.fable} not found: run `swift build -c release --product fable` first")
    shared, work = Path(args.shared), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    enc = gpt2_encoding(shared)
    tok = ["--vocab", str(shared / "fixtures" / "gpt2_vocab.json"), "--merges", str(shared / "fixtures" / "gpt2_merges.txt")]

    inputs = [("TinyStories 2 MiB", shared / "data" / "tinystories_sample_2MiB.txt"),
              ("OpenWebText sample", shared / "data" / "owt_sample.txt")]
    if not args.quick:
        corpus = work / "python_stdlib.txt"
        if not corpus.exists():
            build_python_corpus(corpus)
        inputs.append((f"Python stdlib ({corpus.stat().st_size / 1e6:.0f} MB)", corpus))

    rows = []
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; tiktoken GPT-2 built from {shared}/fixtures")
    print("\n== single-thread encode (MB/s; CPU = per CPU second of the encoding thread) ==")
    for name, path in inputs:
        text = path.read_text(encoding="utf-8")
        # Exactness first: Fable's .npy must hold tiktoken's ids.
        out = work / "check.npy"
        fable_file(args.fable, tok, path, out, 2)
        assert np.load(out).tolist() == enc.encode(text, allowed_special="all"), f"ids differ on {name}"
        t_cpu, t_wall = tiktoken_single(enc, text, args.repeat)
        f_cpu, f_wall = fable_stats(args.fable, tok, path, args.repeat)
        print(f"{name:28s} fable {f_cpu:7.1f} CPU {f_wall:7.1f} wall | tiktoken {t_cpu:6.1f} CPU {t_wall:6.1f} wall"
              f" | ratio {f_cpu / t_cpu:5.2f}x CPU {f_wall / t_wall:5.2f}x wall   (ids identical)")
        rows.append(("encode, 1 thread", name, f_cpu, t_cpu, f_wall, t_wall))

    print("\n== file encoder: read, encode documents in parallel, write .npy (MB/s wall) ==")
    for name, path in inputs:
        for threads in (1, 2):
            f = statistics.median(fable_file(args.fable, tok, path, work / "f.npy", threads) for _ in range(args.repeat))
            t = statistics.median(tiktoken_file(enc, path, work / "t.npy", threads) for _ in range(args.repeat))
            assert np.array_equal(np.load(work / "f.npy"), np.load(work / "t.npy")), f"file ids differ on {name}"
            print(f"{name:28s} {threads} thread{'s' if threads > 1 else ' '}  fable {f:7.1f} | tiktoken {t:6.1f} | ratio {f / t:5.2f}x")
            rows.append((f"file encoder, {threads} thread{'s' if threads > 1 else ''}", name, None, None, f, t))

    print("\n== pathological inputs, single thread (MB/s; ids checked) ==")
    for name, path in build_pathological(work):
        if args.quick and path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(encoding="utf-8")
        out = work / "check.npy"
        fable_file(args.fable, tok, path, out, 1)
        assert np.load(out).tolist() == enc.encode_ordinary(text), f"ids differ on {name}"
        runs = 1 if len(text) > 2_000_000 else args.repeat
        t_cpu, t_wall = tiktoken_single(enc, text, runs, special=False)
        f_cpu, f_wall = fable_stats(args.fable, tok, path, runs, special=False)
        print(f"{name:28s} fable {f_cpu:7.1f} CPU {f_wall:7.1f} wall | tiktoken {t_cpu:6.1f} CPU {t_wall:6.1f} wall"
              f" | ratio {f_cpu / t_cpu:5.2f}x CPU {f_wall / t_wall:5.2f}x wall")
        rows.append(("pathological, 1 thread", name, f_cpu, t_cpu, f_wall, t_wall))

    print("\n| what | input | Fable CPU | tiktoken CPU | ratio | Fable wall | tiktoken wall | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for what, name, f_cpu, t_cpu, f_wall, t_wall in rows:
        cpu = f"{f_cpu:.1f} | {t_cpu:.1f} | {f_cpu / t_cpu:.2f}x" if f_cpu else "- | - | -"
        print(f"| {what} | {name} | {cpu} | {f_wall:.1f} | {t_wall:.1f} | {f_wall / t_wall:.2f}x |")


if __name__ == "__main__":
    main()

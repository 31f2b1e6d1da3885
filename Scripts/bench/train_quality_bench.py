#!/usr/bin/env python3
"""Training quality, Fable vs PyTorch: the same run on the same data, final validation loss.

1. Trains a byte-level BPE tokenizer on the TinyStories sample with `fable tokenizer train`.
2. Splits the text at a story boundary: the first 90% of the characters for training, the
   rest held out, and encodes both halves as uint16 .npy with `fable tokenizer encode` (or,
   where this build has no encode command yet, with Hugging Face `tokenizers` loading the
   same vocab.json and merges.txt: the same GPT-2 byte-level BPE).
3. Trains with `fable train --config` (the release build) into WORK/fable, then trains the
   PyTorch reference (Scripts/reference/train_reference.py) from that run's config.json,
   on the same .npy files, into WORK/pytorch: same architecture, initialisation scheme,
   AdamW hyperparameters, schedule, batch size and token budget.
4. Prints both final validation losses (the whole held-out split) and their ratio.
   With --precisions fp32,bf16 Fable trains once per precision (`precision` in the config:
   bf16-input matrix products, fp32 accumulation), and bf16 is compared with fp32 (bar:
   within 1%).

Usage (from the repository root, after `swift build -c release`):
    python3 Scripts/bench/train_quality_bench.py --threads 2
    python3 Scripts/bench/train_quality_bench.py --threads 2 --precisions fp32,bf16 --no-pytorch
    fable report WORK/fable WORK/pytorch      # both learning curves on one chart
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# A small model for two CPU cores: the `tiny` shape with the tokenizer's vocabulary.
CONFIG = {
    "model": {"vocab_size": 2048, "context_length": 128, "d_model": 128, "num_layers": 4, "num_heads": 4,
              "d_ff": 320, "rope_theta": 10000},
    "optimizer": {"kind": "adamw", "lr": 0.003, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1},
    "schedule": {"kind": "cosine", "warmup_steps": 50, "min_lr_ratio": 0.1},
    "batch_size": 16,
    "max_tokens": 1_024_000,
    "eval_interval": 50,
    "eval_batches": 8,
    "full_eval": True,
    "checkpoint_interval": 0,
    "log_interval": 10,
    "grad_clip": 1.0,
    "seed": 0,
}


def run(command, **kwargs):
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def prepare(args, work):
    text_path = args.text
    tokenizer = os.path.join(work, "tokenizer")
    run([args.fable, "tokenizer", "train", "--input", text_path, "--vocab-size", str(CONFIG["model"]["vocab_size"]),
         "--out", tokenizer, "--quiet"], stdout=subprocess.DEVNULL)
    with open(text_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    separator = "<|endoftext|>"
    cut = text.find(separator, int(len(text) * 0.9))
    cut = len(text) if cut < 0 else cut + len(separator)
    halves = {"train": text[:cut], "val": text[cut:]}
    paths = {}
    listing = subprocess.run([args.fable, "tokenizer", "--help"], capture_output=True, text=True).stdout
    has_encode = any(line.strip().startswith("encode") for line in listing.splitlines())
    for name, part in halves.items():
        text_file = os.path.join(work, f"{name}.txt")
        with open(text_file, "w", encoding="utf-8") as f:
            f.write(part)
        out = os.path.join(work, f"{name}.npy")
        if has_encode:
            run([args.fable, "tokenizer", "encode", "--tokenizer", tokenizer, "--input", text_file, "--output", out, "--quiet"],
                stdout=subprocess.DEVNULL)
        else:
            from tokenizers import Tokenizer, models, pre_tokenizers
            hf = Tokenizer(models.BPE.from_file(os.path.join(tokenizer, "vocab.json"), os.path.join(tokenizer, "merges.txt")))
            hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            hf.add_special_tokens([separator])
            np.save(out, np.array(hf.encode(part).ids, dtype=np.uint16))
        paths[name] = out
        print(f"{name}: {len(np.load(out, mmap_mode='r')):,} tokens -> {out}", flush=True)
    return paths, "fable tokenizer encode" if has_encode else "tokenizers (HF) with the Fable vocab/merges"


def final_val_loss(run_dir):
    loss = None
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            if "val_loss" in record:
                loss = record["val_loss"]
    return loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default=os.path.join(ROOT, "..", "shared", "data", "tinystories_sample_2MiB.txt"))
    parser.add_argument("--work", default="/tmp/fable-train-quality", help="scratch folder (replaced)")
    parser.add_argument("--fable", default=os.path.join(ROOT, ".build", "release", "fable"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds; each trains both sides")
    parser.add_argument("--precisions", default="fp32", help="Fable runs per seed: fp32 and/or bf16 (default: %(default)s)")
    parser.add_argument("--no-pytorch", action="store_true", help="train Fable only (to compare its precisions)")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    paths, encoder = prepare(args, args.work)
    precisions = [p for p in args.precisions.split(",") if p]
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        fable_losses = {}
        for precision in precisions:
            config = dict(CONFIG, seed=seed, precision=precision)
            config_path = os.path.join(args.work, f"config-{seed}-{precision}.json")
            with open(config_path, "w") as f:
                json.dump(config, f, indent=2)
            fable_dir = os.path.join(args.work, f"fable-seed{seed}-{precision}")
            run([args.fable, "train", "--config", config_path, "--train", paths["train"], "--val", paths["val"],
                 "--out", fable_dir, "--threads", str(args.threads), "--quiet"])
            fable_losses[precision] = final_val_loss(fable_dir)
        torch_loss = None
        if not args.no_pytorch:
            torch_dir = os.path.join(args.work, f"pytorch-seed{seed}")
            run([sys.executable, os.path.join(ROOT, "Scripts", "reference", "train_reference.py"),
                 "--config", os.path.join(fable_dir, "config.json"), "--train", paths["train"], "--val", paths["val"],
                 "--out", torch_dir, "--threads", str(args.threads)])
            torch_loss = final_val_loss(torch_dir)
        rows.append((seed, fable_losses, torch_loss))

    steps = -(-CONFIG["max_tokens"] // (CONFIG["batch_size"] * CONFIG["model"]["context_length"]))
    print()
    print(f"data: {args.text} (90/10 split at a story boundary), encoded with {encoder}")
    print(f"config: {json.dumps(CONFIG)}  ({steps} steps)")
    columns = [f"Fable {p} val loss" for p in precisions] + ([] if args.no_pytorch else ["PyTorch val loss"])
    ratios = ([] if args.no_pytorch else ["Fable/PyTorch"]) + (["bf16/fp32"] if {"fp32", "bf16"} <= set(precisions) else [])
    print("seed  " + "  ".join(f"{c:>20}" for c in columns + ratios))
    for seed, fable_losses, torch_loss in rows:
        cells = [fable_losses[p] for p in precisions] + ([] if args.no_pytorch else [torch_loss])
        if not args.no_pytorch:
            cells.append(fable_losses[precisions[-1]] / torch_loss)
        if {"fp32", "bf16"} <= set(precisions):
            cells.append(fable_losses["bf16"] / fable_losses["fp32"])
        print(f"{seed:>4}  " + "  ".join(f"{c:>20.4f}" for c in cells))
    if not args.no_pytorch:
        mean_f = sum(r[1][precisions[-1]] for r in rows) / len(rows)
        mean_t = sum(r[2] for r in rows) / len(rows)
        print(f"mean Fable {precisions[-1]} / PyTorch: {mean_f / mean_t:.4f}  (bar: within 2%)")
    if {"fp32", "bf16"} <= set(precisions):
        mean_b = sum(r[1]["bf16"] for r in rows) / len(rows)
        mean_s = sum(r[1]["fp32"] for r in rows) / len(rows)
        print(f"mean Fable bf16 / fp32: {mean_b / mean_s:.4f}  (bar: within 1%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

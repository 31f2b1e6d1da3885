#!/usr/bin/env python3
"""The PyTorch reference of `fable train`: the same run, trained by PyTorch.

Reads a Fable training config (a run's config.json, every key resolved) and trains the
reference model of model_reference.py the way Fable's Trainer does:

* data: the same token files (.npy); each step samples batch_size windows with starts drawn
  uniformly from 0 .. n - context_length - 1 (inputs the window, targets shifted by one);
* model: the CS336 architecture and initialisation (truncated normal, std sqrt(2/(in+out))
  for linear layers, std 1 for the embedding, RMSNorm gains 1), float32;
* optimizer: torch.optim.AdamW with the config's lr, betas, eps and weight decay (applied
  to every parameter, as Fable does), gradient clipping to grad_clip (clip_grad_norm_);
* schedule: CS336's cosine with linear warmup from optimizer.lr to min_lr (or
  lr * min_lr_ratio) at cosine_steps (default: the last step), or constant;
* length: steps, or ceil(max_tokens / (batch_size * context_length));
* evaluation: the same fixed validation windows as Fable (non-overlapping windows starting
  at 0, T, 2T, ...; the first eval_batches batches, or every window with full_eval at the
  end), the mean loss per token.

The random streams differ (PyTorch's generator draws the initial weights and numpy's the
batches), so the two runs agree in distribution, not bit for bit. It writes metrics.jsonl
and config.json in Fable's format into --out, so `fable report FABLE_RUN TORCH_RUN` draws
both runs on one chart.

Usage:
    python3 Scripts/reference/train_reference.py --config RUN/config.json \
        --train train.npy --val val.npy --out RUN-pytorch --threads 2
"""
import argparse
import json
import math
import os
import sys
import time

# OpenMP's busy-waiting makes PyTorch crawl on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# PyTorch's CPU tensors come straight from malloc, and glibc serves every block over 32 MiB
# with a fresh mmap: with a large vocabulary each step maps, zero-fills page by page and
# unmaps gigabytes of logits (about 100K page faults a second, half the CPU time in the
# kernel). Transparent huge pages for those blocks cut the faults 512-fold; glibc reads
# the tunable only at start-up, hence the re-exec.
if "glibc.malloc.hugetlb" not in os.environ.get("GLIBC_TUNABLES", "") and sys.platform.startswith("linux"):
    tunables = ":".join(filter(None, [os.environ.get("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=1"]))
    os.environ["GLIBC_TUNABLES"] = tunables
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_reference import ModelConfig, TransformerLM  # noqa: E402


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The mean next-token loss, as model_reference.cross_entropy computes it, through
    PyTorch's fused log-softmax (fewer vocabulary-wide temporaries per step)."""
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def learning_rate(step: int, config: dict, total_steps: int) -> float:
    """The rate for the update after `step` completed steps (0-based), as Fable's schedules."""
    opt, sch = config["optimizer"], config["schedule"]
    lr_max = opt["lr"]
    if sch.get("kind", "cosine") == "constant":
        return lr_max
    warmup = sch.get("warmup_steps", 0)
    cosine = sch.get("cosine_steps") or total_steps
    lr_min = sch["min_lr"] if sch.get("min_lr") is not None else lr_max * sch.get("min_lr_ratio", 0.1)
    if step < warmup:
        return step / warmup * lr_max
    if step <= cosine:
        if cosine <= warmup:
            return lr_max
        progress = (step - warmup) / (cosine - warmup)
        return lr_min + 0.5 * (1 + math.cos(progress * math.pi)) * (lr_max - lr_min)
    return lr_min


def validation_windows(tokens: np.ndarray, context: int) -> np.ndarray:
    """Starts of the non-overlapping windows Fable's ValidationBatches uses."""
    count = (len(tokens) - 1) // context
    return np.arange(count) * context


@torch.no_grad()
def evaluate(model, tokens: np.ndarray, context: int, batch_size: int, max_batches) -> float:
    starts = validation_windows(tokens, context)
    if max_batches is not None:
        starts = starts[: max_batches * batch_size]
    total, count = 0.0, 0
    for i in range(0, len(starts), batch_size):
        chunk = starts[i:i + batch_size]
        x = torch.from_numpy(np.stack([tokens[s:s + context] for s in chunk]).astype(np.int64))
        y = torch.from_numpy(np.stack([tokens[s + 1:s + context + 1] for s in chunk]).astype(np.int64))
        loss = cross_entropy(model(x), y).item()
        total += loss * x.numel()
        count += x.numel()
    return total / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="a Fable run's config.json (every key resolved)")
    parser.add_argument("--train", required=True, help="training tokens (.npy)")
    parser.add_argument("--val", required=True, help="validation tokens (.npy)")
    parser.add_argument("--out", required=True, help="folder for metrics.jsonl and config.json")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the config's)")
    args = parser.parse_args()

    with open(args.config) as f:
        config = json.load(f)
    if config["optimizer"].get("kind", "adamw") != "adamw":
        sys.exit("train_reference.py reproduces AdamW runs only")
    torch.set_num_threads(args.threads)
    seed = config.get("seed", 0) if args.seed is None else args.seed
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    model_config = ModelConfig.from_json(config["model"])
    model = TransformerLM(model_config)
    opt = config["optimizer"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=opt["lr"], betas=tuple(opt["betas"]), eps=opt["eps"],
                                  weight_decay=opt["weight_decay"])
    train = np.load(args.train, mmap_mode="r")
    val = np.load(args.val, mmap_mode="r")
    t, b = model_config.context_length, config["batch_size"]
    total = config["steps"] or -(-config["max_tokens"] // (b * t))
    eval_interval, eval_batches = config["eval_interval"], config["eval_batches"]

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    log = open(os.path.join(args.out, "metrics.jsonl"), "w")
    start = time.perf_counter()
    losses, norms, interval_start = [], [], time.perf_counter()
    val_loss = None
    for step in range(total):
        rate = learning_rate(step, config, total)
        for group in optimizer.param_groups:
            group["lr"] = rate
        starts = rng.integers(0, len(train) - t, size=b)
        x = torch.from_numpy(np.stack([train[s:s + t] for s in starts]).astype(np.int64))
        y = torch.from_numpy(np.stack([train[s + 1:s + t + 1] for s in starts]).astype(np.int64))
        optimizer.zero_grad(set_to_none=True)
        loss = cross_entropy(model(x), y)
        loss.backward()
        clip = config.get("grad_clip", 0)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip > 0 else float("inf")).item()
        optimizer.step()
        losses.append(loss.item())
        norms.append(norm)
        done = step + 1
        last = done == total
        eval_due = last or (eval_interval > 0 and done % eval_interval == 0)
        if eval_due:
            full = last and config.get("full_eval", False)
            val_loss = evaluate(model, val, t, b, None if full else eval_batches)
        if last or eval_due or done % config["log_interval"] == 0:
            seconds = time.perf_counter() - interval_start
            record = {"step": done, "tokens": done * b * t, "wall_seconds": time.perf_counter() - start, "lr": rate,
                      "train_loss": sum(losses) / len(losses), "grad_norm": sum(norms) / len(norms),
                      "tokens_per_second": len(losses) * b * t / seconds}
            if eval_due:
                record["val_loss"] = val_loss
            log.write(json.dumps(record) + "\n")
            log.flush()
            if eval_due:
                print(f"step {done}/{total}: train {record['train_loss']:.4f}, val {val_loss:.4f}", flush=True)
            losses, norms, interval_start = [], [], time.perf_counter()
    log.write(json.dumps({"event": "finished", "step": total}) + "\n")
    log.close()
    print(f"final val loss {val_loss:.4f} after {total} steps ({total * b * t} tokens) "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

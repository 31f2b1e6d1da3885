"""Helpers shared by the interchange verification scripts: run `fable`, read its outputs."""
import os
import re
import subprocess

from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fable_binary():
    path = os.environ.get("FABLE", os.path.join(ROOT, ".build/release/fable"))
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found: run `swift build -c release` or set FABLE=/path/to/fable")
    return path


def fable(*args, env=None):
    """Runs fable with arguments; returns (stdout, stderr) and raises with both on failure."""
    run = subprocess.run([fable_binary(), *map(str, args)], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    if run.returncode != 0:
        raise SystemExit(f"fable {' '.join(map(str, args))} failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout, run.stderr


def fable_logits(checkpoint, tokenizer, text_file, out, max_tokens):
    fable("score", "--checkpoint", checkpoint, "--tokenizer", tokenizer, "--text", text_file,
          "--max-tokens", max_tokens, "--logits-out", out)
    tensors = load_file(out)
    return tensors["tokens"].tolist(), tensors["logits"]


def fable_ids(tokenizer, text_file, out):
    """Fable's token ids for a whole file (`fable tokenizer encode`)."""
    import numpy as np
    fable("tokenizer", "encode", "--tokenizer", tokenizer, "--input", text_file, "--output", out)
    return np.load(out).astype(np.int64).tolist()


def fable_greedy(checkpoint, tokenizer, prompt, max_tokens, threads=None, ignore_end_of_text=True):
    """Fable's greedy continuation of max_tokens tokens (by default going on after
    <|endoftext|>): (text without the prompt, tokens generated, decode tokens/s)."""
    args = ["generate", "--checkpoint", checkpoint, "--tokenizer", tokenizer, "--prompt", prompt,
            "--max-tokens", max_tokens, "--temperature", 0, "--seed", 0, "--hide-prompt", "--stats"]
    if ignore_end_of_text:
        args.append("--ignore-end-of-text")
    if threads:
        args += ["--threads", threads]
    out, err = fable(*args)
    match = re.search(r"(\d+) tokens generated .* then ([0-9.]+) tokens/s", err)
    if not match:
        raise SystemExit(f"no statistics in fable generate's output:\n{err}")
    text = out[:-1] if out.endswith("\n") else out
    return text, int(match.group(1)), float(match.group(2))


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())

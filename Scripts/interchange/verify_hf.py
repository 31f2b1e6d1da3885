"""Checks `fable export --format hf` against Hugging Face transformers (not run by CI).

For a Fable checkpoint and its tokenizer:
  1. exports the model (f32, and bf16/f16 for the record) with `fable export --format hf`;
  2. AutoTokenizer (from the exported folder) must give exactly Fable's ids on a held-out text;
  3. AutoModelForCausalLM's logits on the first tokens of that text must be within 1e-4 of
     Fable's (`fable score --logits-out`), in float32;
  4. greedy continuations of several prompts (64 tokens, on past <|endoftext|>) must be identical;
  5. `fable import --format hf` of the export must give back the checkpoint's weights bit for bit.

  python3 Scripts/interchange/verify_hf.py --checkpoint RUN/checkpoints/latest.safetensors \
      --tokenizer TOK --text held_out.txt [--work /tmp/fable-hf]
"""
import argparse
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fable, fable_greedy, fable_ids, fable_logits, load_average  # noqa: E402

PROMPTS = ["Once upon a time", "One day, Lily found", "Tom and his dog", "The sun was"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--text", required=True, help="held-out text (not seen in training)")
    parser.add_argument("--work", default="/tmp/fable-verify-hf")
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(2)
    failures = []

    def check(ok, line):
        print(("PASS " if ok else "FAIL ") + line)
        if not ok:
            failures.append(line)

    hf = os.path.join(args.work, "hf")
    fable("export", "--checkpoint", args.checkpoint, "--tokenizer", args.tokenizer, "--format", "hf",
          "--out", hf, "--overwrite")

    # Tokenizer: AutoTokenizer on the exported folder vs Fable on the whole held-out text.
    tokenizer = AutoTokenizer.from_pretrained(hf)
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    ours = fable_ids(args.tokenizer, args.text, os.path.join(args.work, "ids.npy"))
    theirs = tokenizer(text)["input_ids"]
    check(ours == theirs, f"AutoTokenizer ({type(tokenizer).__name__}) ids identical to Fable's on {len(text):,} "
          f"characters ({len(ours):,} tokens)")
    check(tokenizer.decode(theirs) == text, "AutoTokenizer decodes the ids back to the exact text")

    # Logits in float32.
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    config = model.config
    tokens, logits = fable_logits(args.checkpoint, args.tokenizer, args.text,
                                  os.path.join(args.work, "logits.safetensors"), config.max_position_embeddings)
    with torch.no_grad():
        reference = model(torch.tensor([tokens])).logits[0].numpy()
    diff = float(np.abs(reference - logits).max())
    check(diff <= 1e-4, f"logits on {len(tokens)} held-out tokens: max |HF - Fable| = {diff:.2e} (limit 1e-4; "
          f"logits span {float(logits.min()):.1f}..{float(logits.max()):.1f})")

    # Greedy generation: argmax with the KV cache, on past <|endoftext|>, as fable does with --ignore-end-of-text.
    for prompt in PROMPTS:
        text_fable, count, _ = fable_greedy(args.checkpoint, args.tokenizer, prompt, args.new_tokens)
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        out, past, step = [], None, ids
        with torch.no_grad():
            for _ in range(args.new_tokens):
                result = model(input_ids=step, past_key_values=past, use_cache=True)
                past = result.past_key_values
                out.append(int(result.logits[0, -1].argmax()))
                step = torch.tensor([[out[-1]]])
        text_hf = tokenizer.decode(out)
        check(text_hf == text_fable and len(out) == count,
              f"greedy from {prompt!r}: {len(out)} tokens, identical text" if text_hf == text_fable
              else f"greedy from {prompt!r}: HF {text_hf!r} vs Fable {text_fable!r}")

    # Half-precision exports, for the record (not exact by design).
    for dtype, torch_dtype in [("bf16", torch.bfloat16), ("f16", torch.float16)]:
        folder = os.path.join(args.work, "hf-" + dtype)
        fable("export", "--checkpoint", args.checkpoint, "--tokenizer", args.tokenizer, "--format", "hf",
              "--out", folder, "--dtype", dtype, "--overwrite")
        half = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        with torch.no_grad():
            values = half(torch.tensor([tokens])).logits[0].numpy()
        print(f"info {dtype} export (weights rounded, computed in f32): max |diff| = {float(np.abs(values - logits).max()):.2e}")

    # Import the export back: bit-exact weights.
    back = os.path.join(args.work, "imported")
    fable("import", "--format", "hf", hf, "--out", back, "--overwrite")
    original, again = load_file(args.checkpoint), load_file(os.path.join(back, "model.safetensors"))
    params = [k for k in original if not k.startswith("optimizer.")]
    same = all(k in again and again[k].dtype == original[k].dtype and np.array_equal(again[k], original[k]) for k in params)
    check(same and set(params) == set(again), f"fable import of the export: all {len(params)} tensors bit-identical")

    print(f"load average {load_average()}")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()

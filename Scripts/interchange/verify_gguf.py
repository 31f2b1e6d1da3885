"""Checks `fable export --format gguf` against llama.cpp (llama-cpp-python; not run by CI).

For a Fable checkpoint and its tokenizer:
  1. exports the model as GGUF (f32) and loads it with llama.cpp;
  2. llama.cpp's tokenizer must give exactly Fable's ids on a held-out text;
  3. llama.cpp's logits on the first tokens are compared with Fable's (reported);
  4. greedy continuations of several prompts (64 tokens, on past <|endoftext|>) must be identical.

  pip install llama-cpp-python     # builds llama.cpp from source
  python3 Scripts/interchange/verify_gguf.py --checkpoint RUN/checkpoints/latest.safetensors \
      --tokenizer TOK --text held_out.txt [--work /tmp/fable-gguf]
"""
import argparse
import os
import sys

import numpy as np
from llama_cpp import Llama

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fable, fable_greedy, fable_ids, fable_logits, load_average  # noqa: E402

PROMPTS = ["Once upon a time", "One day, Lily found", "Tom and his dog", "The sun was"]


def open_gguf(path, context, threads=2, logits_all=False):
    return Llama(model_path=path, n_ctx=context, n_threads=threads, n_threads_batch=threads,
                 logits_all=logits_all, verbose=False, seed=0)


def llama_greedy(llm, prompt_ids, new_tokens, eos):
    """Greedy tokens after the prompt (stopping after eos) and the decode rate after the first."""
    import time
    out, first, last = [], None, None
    for token in llm.generate(prompt_ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
        now = time.perf_counter()
        first = first or now
        last = now
        out.append(token)
        if token == eos or len(out) == new_tokens:
            break
    rate = (len(out) - 1) / (last - first) if len(out) > 1 and last > first else 0.0
    return out, rate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--text", required=True, help="held-out text (not seen in training)")
    parser.add_argument("--work", default="/tmp/fable-verify-gguf")
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failures = []

    def check(ok, line):
        print(("PASS " if ok else "FAIL ") + line)
        if not ok:
            failures.append(line)

    path = os.path.join(args.work, "model-f32.gguf")
    fable("export", "--checkpoint", args.checkpoint, "--tokenizer", args.tokenizer, "--format", "gguf",
          "--out", path, "--overwrite")
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    ours = fable_ids(args.tokenizer, args.text, os.path.join(args.work, "ids.npy"))
    tokens, logits = fable_logits(args.checkpoint, args.tokenizer, args.text,
                                  os.path.join(args.work, "logits.safetensors"), 10**9)
    context = len(tokens)  # fable score keeps at most the context length
    llm = open_gguf(path, context, logits_all=True)
    theirs = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    check(ours == theirs, f"llama.cpp tokenizer ids identical to Fable's on {len(text):,} characters ({len(ours):,} tokens)")
    check(llm.detokenize(theirs, special=True).decode("utf-8") == text, "llama.cpp detokenizes the ids back to the exact text")

    llm.reset()
    llm.eval(tokens)
    scores = np.array(llm.scores[:len(tokens)], dtype=np.float32)
    print(f"info logits on {len(tokens)} held-out tokens: max |llama.cpp - Fable| = {float(np.abs(scores - logits).max()):.2e} "
          f"(logits span {float(logits.min()):.1f}..{float(logits.max()):.1f}); argmax agrees at "
          f"{int((scores.argmax(1) == logits.argmax(1)).sum())}/{len(tokens)} positions")

    for prompt in PROMPTS:
        text_fable, count, _ = fable_greedy(args.checkpoint, args.tokenizer, prompt, args.new_tokens)
        out, _ = llama_greedy(llm, llm.tokenize(prompt.encode(), add_bos=False, special=True), args.new_tokens, eos=-1)
        text_llama = llm.detokenize(out, special=True).decode("utf-8", errors="replace")
        check(text_llama == text_fable and len(out) == count,
              f"greedy from {prompt!r}: {len(out)} tokens, identical text" if text_llama == text_fable
              else f"greedy from {prompt!r}: llama.cpp {text_llama!r} vs Fable {text_fable!r}")

    for dtype in ["f16", "bf16"]:
        half = os.path.join(args.work, f"model-{dtype}.gguf")
        fable("export", "--checkpoint", args.checkpoint, "--tokenizer", args.tokenizer, "--format", "gguf",
              "--out", half, "--dtype", dtype, "--overwrite")
        other = open_gguf(half, context, logits_all=True)
        other.eval(tokens)
        values = np.array(other.scores[:len(tokens)], dtype=np.float32)
        print(f"info {dtype} GGUF loads; logits max |diff| vs Fable f32 = {float(np.abs(values - logits).max()):.2e}")
        del other

    print(f"load average {load_average()}")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()

"""Generation speed, batch 1: `fable generate` beside llama.cpp on the same exported model.

Exports the checkpoint as f32 GGUF, then alternates Fable and llama.cpp (llama-cpp-python)
for --rounds rounds, each generating --tokens greedy tokens after the same prompt with the
same thread count, and reports decode tokens/s (after the first token) for both, their
ratio and the load average. Re-runnable; not run by CI.

  python3 Scripts/interchange/bench_generate.py --checkpoint CKPT --tokenizer TOK [--threads 2]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fable, fable_greedy, load_average  # noqa: E402
from verify_gguf import llama_greedy, open_gguf  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--prompt", default="Once upon a time")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/fable-bench-gguf")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "model-f32.gguf")
    fable("export", "--checkpoint", args.checkpoint, "--tokenizer", args.tokenizer, "--format", "gguf",
          "--out", path, "--overwrite")
    llm = open_gguf(path, args.tokens + 64, threads=args.threads)
    prompt = llm.tokenize(args.prompt.encode(), add_bos=False, special=True)
    fable_rates, llama_rates, loads = [], [], []
    for round_ in range(args.rounds):
        _, count, rate = fable_greedy(args.checkpoint, args.tokenizer, args.prompt, args.tokens, threads=args.threads,
                                       ignore_end_of_text=False)
        fable_rates.append(rate)
        out, llama_rate = llama_greedy(llm, prompt, args.tokens, eos=-1)
        llama_rates.append(llama_rate)
        loads.append(load_average())
        print(f"round {round_ + 1}: fable {rate:.1f} tok/s ({count} tokens), llama.cpp {llama_rate:.1f} tok/s "
              f"({len(out)} tokens); load {loads[-1]}")
    f, l = statistics.median(fable_rates), statistics.median(llama_rates)
    print(f"median decode tokens/s, batch 1, {args.threads} threads: Fable {f:.1f}, llama.cpp {l:.1f}, "
          f"Fable/llama.cpp = {f / l:.2f}x")


if __name__ == "__main__":
    main()

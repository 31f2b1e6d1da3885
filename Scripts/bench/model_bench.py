#!/usr/bin/env python3
"""Transformer LM forward+backward throughput: Fable vs PyTorch eager, side by side.

Both run the same model (Scripts/reference/model_reference.py's TransformerLM, the CS336
architecture) on random tokens: logits, mean cross-entropy, zero the gradients, backward.
The figure is the median step time over the timed steps after warm-up, as tokens/s.
Both also time a whole AdamW step (forward + backward + the optimizer update: torch.optim.AdamW
and FableTraining's AdamW). Fable's side is `fable bench model --json` from a release build.

    swift build -c release --product fable
    python3 Scripts/bench/model_bench.py                      # tinystories-17m, batch 8, 2 threads
    python3 Scripts/bench/model_bench.py --preset tiny --batch-size 16
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Scripts", "reference"))

import torch  # noqa: E402
import model_reference as ref  # noqa: E402


def fable_config(args) -> dict:
    out = subprocess.run([args.fable, "model-config", "--preset", args.preset],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def bench_torch(config: ref.ModelConfig, args) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ref.TransformerLM(config)
    t = args.context_length or config.context_length
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, config.vocab_size, (args.batch_size, t), generator=gen)
    targets = torch.randint(0, config.vocab_size, (args.batch_size, t), generator=gen)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    clock = time.perf_counter if args.clock == "wall" else (lambda: time.process_time() / args.threads)

    def step(update: bool) -> float:
        start = clock()
        loss = ref.cross_entropy(model(ids), targets)
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        if update:
            optimizer.step()
        return clock() - start

    results = {}
    for label, update in (("forward_backward", False), ("adamw_step", True)):
        for _ in range(args.warmup):
            step(update)
        times = [step(update) for _ in range(args.steps)]
        median = statistics.median(times)
        results[label] = {"seconds": median, "tokens_per_second": args.batch_size * t / median}
    return results


def bench_fable(args) -> dict:
    cmd = [args.fable, "bench", "model", "--preset", args.preset, "--batch-size", str(args.batch_size),
           "--steps", str(args.steps), "--warmup", str(args.warmup), "--threads", str(args.threads),
           "--clock", args.clock, "--json"]
    if args.context_length:
        cmd += ["--context-length", str(args.context_length)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="tinystories-17m", help="model preset (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8, help="sequences per step (default: %(default)s)")
    parser.add_argument("--context-length", type=int, default=None, help="tokens per sequence (default: the preset's)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up steps (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads for both (default: %(default)s)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or process CPU time / threads (steadier on a busy machine)")
    parser.add_argument("--fable", default=os.path.join(ROOT, ".build", "release", "fable"),
                        help="the fable binary (default: %(default)s)")
    parser.add_argument("--skip-fable", action="store_true", help="time PyTorch only")
    args = parser.parse_args()

    if args.skip_fable:
        presets = {"tinystories-17m": ref.PRESETS["tinystories-17m"].to_json()}
        config = ref.ModelConfig.from_json(presets[args.preset])
    else:
        config = ref.ModelConfig.from_json(fable_config(args))
    t = args.context_length or config.context_length
    print(f"{args.preset}: batch {args.batch_size} x {t} tokens, {args.threads} threads, "
          f"{args.clock} clock, median of {args.steps} steps after {args.warmup} warm-up")

    fable = None if args.skip_fable else bench_fable(args)
    torch_results = bench_torch(config, args)
    torch_fb = torch_results["forward_backward"]["tokens_per_second"]
    torch_step = torch_results["adamw_step"]["tokens_per_second"]
    print(f"  PyTorch {torch.__version__} eager, forward+backward: {torch_fb:8.0f} tokens/s")
    print(f"  PyTorch eager, whole AdamW step:          {torch_step:8.0f} tokens/s")
    if fable:
        ours = fable["tokens_per_second"]
        ours_step = fable["adamw_step_tokens_per_second"]
        print(f"  Fable forward+backward ({fable['gemm'].split(' ')[0]}):           {ours:8.0f} tokens/s")
        print(f"  Fable whole AdamW step:                   {ours_step:8.0f} tokens/s")
        print(f"  ratio Fable / PyTorch, forward+backward:  {ours / torch_fb:.2f}x")
        print(f"  ratio Fable / PyTorch, whole AdamW step:  {ours_step / torch_step:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks `fable accounting --json` against the CS336 hand formulas, written out here.

    python3 experiments/accounting_check.py experiments/results/accounting/gpt2-xl.json

Prints each figure from Fable beside the hand formula's and exits 1 if any differs by
more than one part in a million.
"""
import json
import sys

report = json.load(open(sys.argv[1]))
c = report["config"]
V, T, d, L, h, F = c["vocab_size"], report["sequence_length"], c["d_model"], c["num_layers"], c["num_heads"], c["d_ff"]
B = report["batch_size"]
assert c["ffn"] == "swiglu" and c["norm"] == "pre" and not c["tie_embeddings"], "the formulas below are for the base architecture"

P = 2 * V * d + L * (4 * d * d + 3 * d * F + 2 * d) + d          # embeddings + LM head + blocks + final norm
forward = L * (8 * T * d * d + 4 * T * T * d + 6 * T * d * F) + 2 * T * d * V
step = 3 * B * forward + 14 * P                                   # backward = 2 x forward; AdamW ~14 FLOPs/param
activations = 4 * (L * (2 * T * d + 3 * T * d + 2 * h * T * T + 2 * T * d + 4 * T * F + T * d) + T * d + 2 * T * V)
fixed = 16 * P                                                    # weights, gradients, two AdamW moments in float32
max_batch = int((report["memory_budget_bytes"] - fixed) // activations)

checks = [
    ("parameters", report["total_parameters"], P),
    ("forward FLOPs per sequence", report["forward_flops"], forward),
    ("AdamW step FLOPs", report["training_step_flops"], step),
    ("activation bytes per sequence", report["training_bytes_per_sequence"], activations),
    ("fixed training bytes", report["training_fixed_bytes"], fixed),
    ("largest batch in budget", report["max_batch_size"], max_batch),
]
if report.get("training_seconds") is not None:
    seconds = report["training_steps"] * step / (report["peak_flops"] * report["mfu"])
    checks.append(("training days", report["training_seconds"] / 86400, seconds / 86400))

failed = False
print(f"{report['model']}: T={T} d={d} L={L} h={h} d_ff={F} V={V} batch={B}")
print(f"{'figure':<32}{'fable accounting':>22}{'hand formula':>22}")
for name, fable, hand in checks:
    ok = abs(fable - hand) <= 1e-6 * max(abs(hand), 1)
    failed |= not ok
    print(f"{name:<32}{fable:>22,.6g}{hand:>22,.6g}  {'ok' if ok else 'DIFFERS'}")
sys.exit(1 if failed else 0)

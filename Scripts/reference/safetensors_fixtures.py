#!/usr/bin/env python3
"""Golden safetensors files written by the reference library (safetensors.torch.save_file).

Writes Tests/Fixtures/safetensors/:
  python_mixed.safetensors / .json  many dtypes, a scalar, an empty tensor and several
                                    metadata keys: Fable must read every value.
  python_exact.safetensors / .json  dotted names out of order, F32/F16/BF16/I64/U8 and one
                                    metadata key with characters that need escaping: Fable,
                                    given the same tensors and metadata, must write the same bytes.
The .json files hold the expected values (floats as exact decimal doubles of float32).

Run: python3 Scripts/reference/safetensors_fixtures.py
"""
import json
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "safetensors")


def floats(t):
    return [float(x) for x in t.reshape(-1).to(torch.float32).tolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)

    # --- reading fixture: every common dtype -------------------------------------------
    mixed = {
        "weight.f32": torch.randn(2, 3, generator=g),
        "weight.f16": (torch.randn(4, generator=g) * 100).to(torch.float16),
        "weight.bf16": (torch.randn(2, 2, generator=g) * 1e-3).to(torch.bfloat16),
        "weight.f64": torch.randn(3, generator=g, dtype=torch.float64),
        "ids.i64": torch.tensor([-5, 0, 2**40], dtype=torch.int64),
        "ids.i32": torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32),
        "ids.u8": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "ids.u16": torch.tensor([65535, 1], dtype=torch.uint16),
        "mask.bool": torch.tensor([True, False, True]),
        "scalar.f32": torch.tensor(2.5),
        "empty.f32": torch.zeros(0, 3),
    }
    metadata = {"format": "pt", "note": "several keys", "step": "42"}
    save_file(mixed, os.path.join(OUT, "python_mixed.safetensors"), metadata=metadata)
    expected = {"metadata": metadata, "tensors": {}}
    for name, t in mixed.items():
        entry = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
        if t.is_floating_point():
            entry["floats"] = floats(t)
        else:
            entry["integers"] = [int(x) for x in t.reshape(-1).to(torch.int64).tolist()]
        expected["tensors"][name] = entry
    with open(os.path.join(OUT, "python_mixed.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)

    # --- writing fixture: Fable must reproduce these bytes ------------------------------
    src_f16 = torch.tensor([0.1, -2.5, 65519.0, 1e-7, 3.0e-8, 1.0009765625 + 2**-11], dtype=torch.float32)
    src_bf16 = torch.tensor([1.00390625, 1.01171875, -3.14159, 1e-20, 3.0e38], dtype=torch.float32)
    exact = {
        "layers.10.attn.q_proj.weight": torch.randn(2, 3, generator=g),
        "layers.2.attn.q_proj.weight": torch.randn(3, 2, generator=g),
        "ln_final.weight": torch.ones(4),
        "token_embeddings.weight": torch.randn(5, 2, generator=g),
        "a.scalar": torch.tensor(-0.0),
        "half.f16": src_f16.to(torch.float16),
        "half.bf16": src_bf16.to(torch.bfloat16),
        "step.i64": torch.tensor([7, -1], dtype=torch.int64),
        "bytes.u8": torch.tensor([1, 2, 3], dtype=torch.uint8),
    }
    meta_exact = {"config": '{"d_model": 512, "path": "runs/a/b", "quote": "\\"", "nl": "\n\t\u0001", "utf8": "ünï€"}'}
    save_file(exact, os.path.join(OUT, "python_exact.safetensors"), metadata=meta_exact)
    spec = {"metadata": meta_exact, "tensors": {}}
    for name, t in exact.items():
        entry = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
        if name == "half.f16":
            entry["source_floats"] = floats(src_f16)
        elif name == "half.bf16":
            entry["source_floats"] = floats(src_bf16)
        elif t.is_floating_point():
            entry["source_floats"] = floats(t)
        else:
            entry["integers"] = [int(x) for x in t.reshape(-1).tolist()]
        spec["tensors"][name] = entry
    with open(os.path.join(OUT, "python_exact.json"), "w") as f:
        json.dump(spec, f, indent=1, sort_keys=True)
    print("wrote", OUT)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks, on the Python side, that a safetensors file Fable wrote loads in the reference
library with the expected tensors and metadata.

Usage: python3 Scripts/reference/check_fable_safetensors.py FILE [SPEC.json]
  FILE       a file written by Fable, e.g. from the SafeTensors round-trip test
             (FABLE_KEEP_SAFETENSORS=/tmp/fable_exact.safetensors swift test --filter SafeTensors)
  SPEC.json  the expected tensors (default Tests/Fixtures/safetensors/python_exact.json)
Exits non-zero on any difference.
"""
import json
import os
import sys

import torch
from safetensors import safe_open

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
          "int64": torch.int64, "uint8": torch.uint8}


def main():
    path = sys.argv[1]
    spec_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "safetensors", "python_exact.json")
    spec = json.load(open(spec_path))
    failures = []
    with safe_open(path, framework="pt") as f:
        if f.metadata() != spec["metadata"]:
            failures.append(f"metadata {f.metadata()!r} != {spec['metadata']!r}")
        if sorted(f.keys()) != sorted(spec["tensors"]):
            failures.append(f"names {sorted(f.keys())} != {sorted(spec['tensors'])}")
        for name, entry in spec["tensors"].items():
            t = f.get_tensor(name)
            want_dtype = DTYPES[entry["dtype"]]
            if t.dtype != want_dtype or list(t.shape) != entry["shape"]:
                failures.append(f"{name}: {t.dtype} {list(t.shape)} != {want_dtype} {entry['shape']}")
                continue
            if "source_floats" in entry:
                want = torch.tensor(entry["source_floats"], dtype=torch.float32).to(want_dtype).reshape(entry["shape"])
            else:
                want = torch.tensor(entry["integers"], dtype=want_dtype).reshape(entry["shape"])
            if not torch.equal(t.view(-1).view(torch.uint8), want.reshape(-1).view(torch.uint8)):
                failures.append(f"{name}: values differ: {t} vs {want}")
    if failures:
        print("FAIL\n" + "\n".join(failures))
        sys.exit(1)
    print(f"OK: {path} loads in safetensors with {len(spec['tensors'])} tensors and the expected metadata")


if __name__ == "__main__":
    main()

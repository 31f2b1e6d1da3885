#!/usr/bin/env python3
"""fp32 -> bfloat16 rounding as PyTorch does it (round to nearest, ties to even).

Writes Tests/Fixtures/tensor/bf16_rounding.json: a list of [fp32 bits, bf16 bits] pairs
covering ties (both parities), values just off a tie, carries into the exponent, overflow to
infinity, signed zeros, infinities, subnormals and ordinary random values. The bf16 packing
of the mixed-precision matrix products must give the same bits (BF16GEMMTests).

Run from the repository root:  python3 Scripts/reference/bf16_fixtures.py
"""
import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "tensor", "bf16_rounding.json")


def bits_of(value_bits):
    return struct.unpack("<f", struct.pack("<I", value_bits))[0]


patterns = [
    0x00000000, 0x80000000,  # signed zeros
    0x3F800000, 0xBF800000,  # +-1
    0x3F808000,  # tie, even below: stays 0x3F80
    0x3F818000,  # tie, odd below: rounds up to 0x3F82
    0x3F807FFF, 0x3F808001,  # just below / above a tie
    0x3F7FFFFF,  # carry into the exponent: 1.0
    0x7F7FFFFF,  # largest float: overflows to +inf
    0xFF7F8000,  # tie at the top: -inf
    0x7F7F7FFF,  # stays finite
    0x7F800000, 0xFF800000,  # infinities
    0x00000001, 0x00008000, 0x00018000, 0x007FFFFF, 0x80400000,  # subnormals
    0x00800000,  # smallest normal
]
generator = torch.Generator().manual_seed(0)
randoms = torch.randint(0, 2**31 - 1, (40,), generator=generator).tolist()
# Random bit patterns with a normal exponent (no NaN/inf), half of them negative.
for index, r in enumerate(randoms):
    exponent = 1 + (r >> 23) % 254
    pattern = (exponent << 23) | (r & 0x7FFFFF) | ((index & 1) << 31)
    patterns.append(pattern)

values = torch.tensor([bits_of(p) for p in patterns], dtype=torch.float32)
rounded = values.to(torch.bfloat16).view(torch.int16).tolist()
pairs = [[p, r & 0xFFFF] for p, r in zip(patterns, rounded)]
with open(OUT, "w") as f:
    source = json.dumps("torch " + torch.__version__ + " float32.to(bfloat16)")
    lines = ",\n".join(json.dumps(pair) for pair in pairs)
    f.write('{"source": ' + source + ',\n"pairs": [\n' + lines + "\n]}\n")
print(f"wrote {len(pairs)} pairs to {OUT}")

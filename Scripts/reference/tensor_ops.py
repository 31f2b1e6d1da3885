#!/usr/bin/env python3
"""Golden values for FableTensor ops, computed by PyTorch in float64.

Writes Tests/Fixtures/tensor/<group>.json. Each case holds the inputs (float32 values,
so Swift sees exactly the same numbers), integer/boolean extras (indices, targets,
positions, masks), the output, an upstream gradient `seed`, and the gradient of
sum(output * seed) with respect to every float input.

Run from the repository root:  python3 Scripts/reference/tensor_ops.py
"""
import json
import math
import os

import torch

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "tensor")


def rand(*shape, scale=1.0, positive=False):
    t = torch.randn(*shape, dtype=torch.float32) * scale
    if positive:
        t = t.abs() + 0.5
    return t.to(torch.float64)


def enc(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "data": [float(x) for x in t.reshape(-1).tolist()]}


def case(name, inputs, fn, extras=None):
    """inputs: dict name -> float64 tensor (float32-representable)."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    seed = torch.randn(tuple(out.shape), dtype=torch.float32).to(torch.float64)
    (out * seed).sum().backward()
    return {
        "name": name,
        "inputs": {k: enc(v) for k, v in inputs.items()},
        "extras": extras or {},
        "output": enc(out),
        "seed": enc(seed),
        "grads": {k: enc(v.grad) for k, v in leaves.items()},
    }


def write(group, cases):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"{group}.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"group": group, "cases": cases}, f, separators=(",", ":"))
    os.replace(tmp, path)
    print(f"wrote {path} ({len(cases)} cases)")


# ---------------------------------------------------------------- elementwise
def elementwise():
    a, b, c = rand(2, 3, 4), rand(3, 1), rand(4)
    p = rand(3, 5, positive=True)
    x = rand(3, 5, scale=2)
    return [
        case("add_broadcast", {"a": a, "b": b}, lambda a, b: a + b),
        case("sub_broadcast", {"a": a, "c": c}, lambda a, c: a - c),
        case("mul_broadcast", {"b": b, "c": c}, lambda b, c: b * c),
        case("div_broadcast", {"a": a, "c": rand(4, positive=True)}, lambda a, c: a / c),
        case("scalar_ops", {"x": x}, lambda x: (x * 3 + 1) - 2 / (x * x + 1)),
        case("exp", {"x": x}, lambda x: torch.exp(x)),
        case("log", {"p": p}, lambda p: torch.log(p)),
        case("sqrt", {"p": p}, lambda p: torch.sqrt(p)),
        case("rsqrt", {"p": p}, lambda p: torch.rsqrt(p)),
        case("square", {"x": x}, lambda x: x * x),
        case("sigmoid", {"x": x}, lambda x: torch.sigmoid(x)),
        case("silu", {"x": x}, lambda x: torch.nn.functional.silu(x)),
        case("relu", {"x": x}, lambda x: torch.relu(x)),
        case("pow", {"p": p}, lambda p: p ** 1.5),
    ]


# ---------------------------------------------------------------- reductions
def reductions():
    x, x3 = rand(2, 3, 4), rand(2, 3, 4, scale=3)
    return [
        case("sum_axis1_keep", {"x": x}, lambda x: x.sum(dim=1, keepdim=True)),
        case("sum_axis_last", {"x": x}, lambda x: x.sum(dim=-1)),
        case("mean_axis0", {"x": x}, lambda x: x.mean(dim=0)),
        case("max_axis1", {"x": x}, lambda x: x.max(dim=1).values),
        case("sum_all", {"x": x}, lambda x: x.sum()),
        case("mean_all", {"x": x}, lambda x: x.mean()),
        case("softmax_last", {"x": x3}, lambda x: torch.softmax(x, dim=-1)),
        case("softmax_axis1", {"x": x}, lambda x: torch.softmax(x, dim=1)),
        case("log_softmax_last", {"x": x3}, lambda x: torch.log_softmax(x, dim=-1)),
        case("log_softmax_axis0", {"x": x}, lambda x: torch.log_softmax(x, dim=0)),
    ]


# ---------------------------------------------------------------- matmul and shape
def matmul_shape():
    a, b = rand(2, 3, 4), rand(4, 5)
    c, w = rand(2, 4, 3), rand(5, 4)
    x = rand(2, 3, 4)
    ids = [3, 0, 3, 5, 1, 2]
    table = rand(6, 4)
    mask = (torch.rand(3, 4) > 0.6)
    return [
        case("matmul_batched_matrix", {"a": a, "b": b}, lambda a, b: a @ b),
        case("matmul_batched", {"a": a, "c": c}, lambda a, c: a @ c),
        case("matmul_transpose_a", {"c": c, "b": b}, lambda c, b: c.transpose(-1, -2) @ b),
        case("matmul_transpose_both", {"a": a, "c": c},
             lambda a, c: a.transpose(-1, -2) @ c.transpose(-1, -2)),
        case("linear", {"a": a, "w": w}, lambda a, w: a @ w.T),
        case("permute", {"x": x}, lambda x: x.permute(2, 0, 1)),
        case("transpose_reshape", {"x": x}, lambda x: x.transpose(0, 1).reshape(3, 8)),
        case("slice_axis1", {"x": x}, lambda x: x[:, 1:3, :]),
        case("concat_axis1", {"x": x, "y": rand(2, 2, 4)}, lambda x, y: torch.cat([x, y], dim=1)),
        case("embedding", {"table": table}, lambda table: table[torch.tensor(ids).reshape(2, 3)],
             extras={"indices": ids, "indices_shape": [2, 3]}),
        case("masked_fill", {"x": x}, lambda x: x.masked_fill(mask, -5.0),
             extras={"mask": [int(v) for v in mask.reshape(-1).tolist()], "mask_shape": [3, 4]}),
    ]


# ---------------------------------------------------------------- fused ops
def rmsnorm(x, g, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rope_ref(x, positions, theta):
    d = x.shape[-1]
    k = torch.arange(d // 2, dtype=torch.float64)
    inv = 1.0 / (theta ** (2 * k / d))
    ang = torch.tensor(positions, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cos(ang), torch.sin(ang)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack([y0, y1], dim=-1).reshape(x.shape)


def attention_ref(q, k, v, causal, mask=None):
    d = q.shape[-1]
    s = q @ k.transpose(-1, -2) / math.sqrt(d)
    tq, tk = s.shape[-2], s.shape[-1]
    allowed = torch.ones(tq, tk, dtype=torch.bool)
    if causal:
        allowed = torch.ones(tq, tk, dtype=torch.bool).tril(diagonal=tk - tq)
    if mask is not None:
        allowed = allowed & mask
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def fused():
    x, g = rand(2, 3, 8), rand(8)
    xf = rand(2, 3, 6)
    w1, w2, w3 = rand(10, 6, scale=0.4), rand(6, 10, scale=0.4), rand(10, 6, scale=0.4)
    a, b = rand(3, 10), rand(3, 10)
    rx = rand(2, 2, 5, 8)
    q, k, v = rand(2, 2, 5, 4), rand(2, 2, 5, 4), rand(2, 2, 5, 3)
    q2 = rand(2, 2, 3, 4)
    amask = (torch.rand(5, 5) > 0.3) | torch.eye(5, dtype=torch.bool)  # every row sees a key
    logits = rand(2, 3, 11, scale=2)
    targets = [0, 10, 5, 3, 3, 7]
    positions = [0, 3, 1, 7, 2]
    return [
        case("rmsnorm", {"x": x, "g": g}, lambda x, g: rmsnorm(x, g)),
        case("swiglu_gate", {"a": a, "b": b}, lambda a, b: torch.nn.functional.silu(a) * b),
        case("swiglu_ffn", {"x": xf, "w1": w1, "w2": w2, "w3": w3},
             lambda x, w1, w2, w3: (torch.nn.functional.silu(x @ w1.T) * (x @ w3.T)) @ w2.T),
        case("rope", {"x": rx}, lambda x: rope_ref(x, positions, 10000.0),
             extras={"positions": positions, "theta": 10000.0}),
        case("attention_causal", {"q": q, "k": k, "v": v}, lambda q, k, v: attention_ref(q, k, v, True)),
        case("attention_full", {"q": q, "k": k, "v": v}, lambda q, k, v: attention_ref(q, k, v, False)),
        case("attention_causal_masked", {"q": q, "k": k, "v": v},
             lambda q, k, v: attention_ref(q, k, v, True, amask),
             extras={"mask": [int(t) for t in amask.reshape(-1).tolist()]}),
        case("attention_causal_short_query", {"q": q2, "k": k, "v": v},
             lambda q, k, v: attention_ref(q, k, v, True)),
        case("cross_entropy", {"logits": logits},
             lambda logits: torch.nn.functional.cross_entropy(logits.reshape(-1, 11), torch.tensor(targets)),
             extras={"targets": targets}),
    ]


if __name__ == "__main__":
    write("elementwise", elementwise())
    write("reductions", reductions())
    write("matmul_shape", matmul_shape())
    write("fused", fused())

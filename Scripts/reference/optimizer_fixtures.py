#!/usr/bin/env python3
"""Golden numbers for Fable's optimizers and gradient clipping, from PyTorch.

Writes Tests/Fixtures/training/optimizers.json with:
  adamw[]        torch.optim.AdamW trajectories (given gradients and per-step learning rates)
  sgd_cs336      the CS336 handout's SGD example (lr / sqrt(t + 1)) on loss = mean(w^2)
  newton_schulz  the Muon orthogonalisation of a tall and a wide matrix (float32)
  muon           Muon for 2-D hidden matrices + AdamW for embeddings, LM head and gains
  clip[]         torch.nn.utils.clip_grad_norm_ (returned norm and clipped gradients)
All tensors are float32; values are exact decimal doubles of the float32 numbers.

Run: python3 Scripts/reference/optimizer_fixtures.py
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "training", "optimizers.json")


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def adamw_case(seed, shapes, betas, eps, wd, lrs):
    g = torch.Generator().manual_seed(seed)
    params = {n: torch.nn.Parameter(torch.randn(*s, generator=g)) for n, s in shapes}
    opt = torch.optim.AdamW(list(params.values()), lr=lrs[0], betas=betas, eps=eps, weight_decay=wd)
    case = {"betas": list(betas), "eps": eps, "weight_decay": wd, "lrs": lrs,
            "params": [{"name": n, "shape": list(s), "initial": flat(params[n])} for n, s in shapes],
            "steps": []}
    for lr in lrs:
        for group in opt.param_groups:
            group["lr"] = lr
        grads = {}
        for n, p in params.items():
            p.grad = torch.randn(p.shape, generator=g) * 0.5
            grads[n] = flat(p.grad)
        opt.step()
        case["steps"].append({"grads": grads, "after": {n: flat(p) for n, p in params.items()}})
    return case


def sgd_cs336():
    # The handout's example: weights = 5 * randn((10, 10)), loss = (weights**2).mean(),
    # p -= lr / sqrt(t + 1) * grad with t counting from 0. Shape (4, 4) keeps the file small.
    g = torch.Generator().manual_seed(3)
    w = torch.nn.Parameter(5 * torch.randn((4, 4), generator=g))
    initial = flat(w)
    lr, losses = 10.0, []
    for t in range(10):
        w.grad = None
        loss = (w ** 2).mean()
        losses.append(float(loss.detach()))
        loss.backward()
        with torch.no_grad():
            w -= lr / math.sqrt(t + 1) * w.grad
    return {"lr": lr, "shape": [4, 4], "initial": initial, "losses": losses, "final": flat(w)}


def newton_schulz(G, steps=5, eps=1e-7):
    """Muon's orthogonalisation (Keller Jordan's reference), in float32 instead of bfloat16."""
    a, b, c = (3.4445, -4.7750, 2.0315)
    X = G.float()
    if G.size(-2) > G.size(-1):
        X = X.mT
    X = X / (X.norm() + eps)
    for _ in range(steps):
        A = X @ X.mT
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.size(-2) > G.size(-1):
        X = X.mT
    return X


def muon_update(grad, momentum, beta, nesterov=True):
    momentum.lerp_(grad, 1 - beta)
    update = grad.lerp(momentum, beta) if nesterov else momentum.clone()
    update = newton_schulz(update)
    update *= max(1, grad.size(-2) / grad.size(-1)) ** 0.5
    return update


def muon_case():
    g = torch.Generator().manual_seed(11)
    shapes = [("token_embeddings.weight", (6, 4)), ("layers.0.attn.q_proj.weight", (4, 4)),
              ("layers.0.ln1.weight", (4,)), ("layers.0.ffn.w1.weight", (8, 4)),
              ("layers.0.ffn.w2.weight", (4, 8)), ("layers.1.attn.q_proj.weight", (4, 4)),
              ("layers.1.ffn.w1.weight", (8, 4)), ("layers.1.ffn.w2.weight", (4, 8)), ("lm_head.weight", (6, 4))]
    # Six matrices: with two or three threads Fable spreads whole matrices over the threads.
    excluded = {"token_embeddings.weight", "lm_head.weight"}
    params = {n: torch.nn.Parameter(torch.randn(*s, generator=g)) for n, s in shapes}
    muon_names = [n for n, s in shapes if len(s) == 2 and n not in excluded]
    adamw_names = [n for n, _ in shapes if n not in muon_names]
    lr, muon_lr, wd, betas, eps, beta = 0.01, 0.05, 0.1, (0.9, 0.95), 1e-8, 0.95
    adamw = torch.optim.AdamW([params[n] for n in adamw_names], lr=lr, betas=betas, eps=eps, weight_decay=wd)
    momenta = {n: torch.zeros_like(params[n]) for n in muon_names}
    scales = [1.0, 0.8, 0.5, 0.25]  # a schedule: every rate is multiplied by it
    case = {"lr": lr, "muon_lr": muon_lr, "weight_decay": wd, "betas": list(betas), "eps": eps,
            "muon_momentum": beta, "lr_scales": scales, "muon_params": muon_names,
            "params": [{"name": n, "shape": list(s), "initial": flat(params[n])} for n, s in shapes],
            "steps": []}
    for scale in scales:
        grads = {}
        for n, p in params.items():
            p.grad = torch.randn(p.shape, generator=g)
            grads[n] = flat(p.grad)
        for group in adamw.param_groups:
            group["lr"] = lr * scale
        adamw.step()
        with torch.no_grad():
            for n in muon_names:
                p = params[n]
                update = muon_update(p.grad.clone(), momenta[n], beta)
                p.mul_(1 - muon_lr * scale * wd)
                p.add_(update, alpha=-muon_lr * scale)
        case["steps"].append({"grads": grads, "after": {n: flat(p) for n, p in params.items()}})
    return case


def clip_case(seed, scale, max_norm):
    g = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (5,), (2, 2)]
    ps = [torch.nn.Parameter(torch.zeros(*s)) for s in shapes]
    grads = []
    for p in ps:
        p.grad = torch.randn(p.shape, generator=g) * scale
        grads.append(flat(p.grad))
    norm = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    return {"shapes": [list(s) for s in shapes], "max_norm": max_norm, "grads": grads,
            "norm": float(norm), "clipped": [flat(p.grad) for p in ps]}


def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    g = torch.Generator().manual_seed(5)
    tall, wide = torch.randn(5, 3, generator=g), torch.randn(3, 7, generator=g)
    data = {
        "adamw": [
            adamw_case(1, [("w", (3, 4)), ("b", (4,))], (0.9, 0.999), 1e-8, 0.01,
                       [1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]),
            adamw_case(2, [("w", (5, 2)), ("g", (2,))], (0.9, 0.95), 1e-6, 0.1,
                       [0.1, 0.05, 0.02, 0.01, 0.005]),
        ],
        "sgd_cs336": sgd_cs336(),
        "newton_schulz": [
            {"shape": [5, 3], "input": flat(tall), "output": flat(newton_schulz(tall))},
            {"shape": [3, 7], "input": flat(wide), "output": flat(newton_schulz(wide))},
        ],
        "muon": muon_case(),
        "clip": [clip_case(7, 1.0, 1.0), clip_case(8, 0.01, 1.0)],
    }
    with open(OUT, "w") as f:
        json.dump(data, f, indent=None)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()

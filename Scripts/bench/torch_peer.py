"""PyTorch as users write it, for the benchmarks' main peer rows.

The same CS336 Transformer LM as Scripts/reference/model_reference.py (same modules and
weights), with the pieces a PyTorch user would reach for instead of the hand-written ones,
as nanoGPT writes them: F.scaled_dot_product_attention(is_causal=True), F.silu,
F.rms_norm, F.cross_entropy, and torch.optim.AdamW with fused=True (foreach where fused
is not available). OpenMP keeps its default settings. `make_step` builds one training step
(forward, loss, backward, clip 1.0, AdamW), optionally under torch.compile or CPU autocast
bf16.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import model_reference as ref  # noqa: E402


def _attention_forward(self, x, token_positions=None):
    *lead, T, d_model = x.shape

    def heads(t):
        return t.reshape(*lead, T, self.num_heads, self.d_k).transpose(-3, -2)

    q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
    if self.rope is not None:
        if token_positions is None:
            token_positions = torch.arange(T, device=x.device)
        positions = token_positions.unsqueeze(-2)
        q = self.rope(q, positions)
        k = self.rope(k, positions)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return self.output_proj(out.transpose(-3, -2).reshape(*lead, T, d_model))


def _rms_norm_forward(self, x):
    return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


def _swiglu_forward(self, x):
    return self.w2(F.silu(self.w1(x)) * self.w3(x))


def _linear_forward(self, x):
    return F.linear(x, self.weight)


def idiomatic(model: torch.nn.Module) -> torch.nn.Module:
    """Swaps the reference model's hand-written pieces for PyTorch's own, in place."""
    for module in model.modules():
        if isinstance(module, ref.CausalSelfAttention):
            module.forward = _attention_forward.__get__(module)
        elif isinstance(module, ref.RMSNorm):
            module.forward = _rms_norm_forward.__get__(module)
        elif isinstance(module, ref.SwiGLU):
            module.forward = _swiglu_forward.__get__(module)
        elif isinstance(module, ref.Linear):
            module.forward = _linear_forward.__get__(module)
    return model


def adamw(parameters, **kwargs):
    """AdamW fused where this PyTorch supports it on CPU, else foreach."""
    parameters = list(parameters)
    try:
        return torch.optim.AdamW(parameters, fused=True, **kwargs), "fused"
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(parameters, foreach=True, **kwargs), "foreach"


def make_step(config, style: str = "sdpa", seed: int = 0):
    """Returns (step(x, y) -> loss, description) for style `sdpa`, `compile`, `bf16`
    (autocast bf16 on CPU, SDPA model) or `reference` (the hand-written reference model
    with a plain AdamW: the old peer)."""
    torch.manual_seed(seed)
    model = ref.TransformerLM(config)
    kwargs = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    if style == "reference":
        optimizer, kind = torch.optim.AdamW(model.parameters(), **kwargs), "default"
        forward = model
        loss_of = ref.cross_entropy
    else:
        idiomatic(model)
        optimizer, kind = adamw(model.parameters(), **kwargs)
        forward = torch.compile(model) if style == "compile" else model

        def loss_of(logits, y):
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        if style == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = forward(x)
        else:
            logits = forward(x)
        loss = loss_of(logits, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    names = {"sdpa": "PyTorch eager, SDPA", "compile": "PyTorch torch.compile, SDPA",
             "bf16": "PyTorch eager SDPA, autocast bf16", "reference": "old peer: reference model, hand-written attention"}
    return step, f"{names[style]}, AdamW {kind}"

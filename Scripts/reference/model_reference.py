#!/usr/bin/env python3
"""The CS336 Transformer LM in PyTorch: Fable's reference model.

Three jobs share this one file:

* golden fixtures for FableModel's tests (`python3 model_reference.py fixtures`), written to
  Tests/Fixtures/model: every module and the whole LM (main config and each ablation) with
  weights, inputs, outputs, loss and all parameter gradients;
* the PyTorch peer for `Scripts/bench/model_bench.py` (import `TransformerLM`, `ModelConfig`);
* the reference for the trainer's quality bar (same architecture, same state-dict names, so
  a Fable safetensors file loads here with `load_safetensors` and vice versa).

The architecture follows the CS336 Assignment 1 handout: Linear without bias (weight
(out, in)), Embedding, RMSNorm (eps 1e-5, computed in float32 or wider), SwiGLU
(w1, w2, w3), RoPE rotating pairs (2i, 2i+1), causal multi-head self-attention with
q/k/v/output projections, pre-norm blocks, ln_final and lm_head. The ablation switches
mirror Fable's `ModelConfig`: norm (pre | post | none), position (rope | none),
ffn (swiglu | silu) and tie_embeddings.

Ablation details (the same choices Fable makes):
* post-norm: z = ln1(x + attn(x)); y = ln2(z + ffn(z)); no ln_final, since every block
  already ends in a norm (as in the original post-norm Transformer).
* none: no RMSNorm anywhere (no ln1, ln2 or ln_final parameters).
* NoPE: attention without any position information.
* silu: FFN(x) = w2(SiLU(w1 x)); its d_ff is chosen by the config (Fable's default is
  3/2 of the SwiGLU d_ff, which matches SwiGLU's parameter count exactly).
* tie_embeddings: lm_head shares token_embeddings.weight; the shared matrix is initialised
  like the LM head (truncated normal, std sqrt(2 / (vocab + d_model))), and files hold it
  once, under token_embeddings.weight.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from typing import Optional

import torch
from torch import nn


# MARK: - Configuration

@dataclasses.dataclass
class ModelConfig:
    """The model hyperparameters, with the same JSON keys as Fable's ModelConfig."""

    vocab_size: int
    context_length: int
    d_model: int
    num_layers: int
    num_heads: int
    d_ff: int
    rope_theta: float = 10000.0
    norm: str = "pre"          # pre | post | none
    position: str = "rope"     # rope | none
    ffn: str = "swiglu"        # swiglu | silu
    tie_embeddings: bool = False

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(obj: dict) -> "ModelConfig":
        fields = {f.name for f in dataclasses.fields(ModelConfig)}
        return ModelConfig(**{k: v for k, v in obj.items() if k in fields})


PRESETS = {
    "tinystories-17m": ModelConfig(10000, 256, 512, 4, 16, 1344, 10000.0),
}


# MARK: - Modules

def trunc_normal_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    return nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-3.0 * std, b=3.0 * std)


class Linear(nn.Module):
    """y = x W^T with W of shape (out_features, in_features); no bias."""

    def __init__(self, in_features: int, out_features: int, device=None, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features, device=device, dtype=dtype))
        trunc_normal_(self.weight, math.sqrt(2.0 / (in_features + out_features)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T


class Embedding(nn.Module):
    """Looks up rows of a (num_embeddings, embedding_dim) matrix."""

    def __init__(self, num_embeddings: int, embedding_dim: int, device=None, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_embeddings, embedding_dim, device=device, dtype=dtype))
        trunc_normal_(self.weight, 1.0)

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        return self.weight[token_ids]


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * g, computed in at least float32."""

    def __init__(self, d_model: int, eps: float = 1e-5, device=None, dtype=None):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model, device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        in_dtype = x.dtype
        wide = torch.promote_types(in_dtype, torch.float32)
        x = x.to(wide)
        rms = torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return (x / rms * self.weight.to(wide)).to(in_dtype)


def silu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class SwiGLU(nn.Module):
    """w2(SiLU(w1 x) * w3 x)."""

    def __init__(self, d_model: int, d_ff: int, device=None, dtype=None):
        super().__init__()
        self.w1 = Linear(d_model, d_ff, device, dtype)
        self.w2 = Linear(d_ff, d_model, device, dtype)
        self.w3 = Linear(d_model, d_ff, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(silu(self.w1(x)) * self.w3(x))


class SiLUFeedForward(nn.Module):
    """w2(SiLU(w1 x)): the ungated ablation."""

    def __init__(self, d_model: int, d_ff: int, device=None, dtype=None):
        super().__init__()
        self.w1 = Linear(d_model, d_ff, device, dtype)
        self.w2 = Linear(d_ff, d_model, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(silu(self.w1(x)))


class RotaryPositionalEmbedding(nn.Module):
    """Rotates pairs (2k, 2k+1) of the last dimension by position * theta^(-2k/d_k)."""

    def __init__(self, theta: float, d_k: int, max_seq_len: int, device=None):
        super().__init__()
        k = torch.arange(0, d_k // 2, device=device, dtype=torch.float64)
        inv_freq = theta ** (-2.0 * k / d_k)
        positions = torch.arange(max_seq_len, device=device, dtype=torch.float64)
        angles = positions[:, None] * inv_freq[None, :]            # (max_seq_len, d_k/2)
        # Kept in float64 and rounded to the input's dtype per call.
        self.register_buffer("cos", torch.cos(angles), persistent=False)
        self.register_buffer("sin", torch.sin(angles), persistent=False)

    def forward(self, x: torch.Tensor, token_positions: torch.Tensor) -> torch.Tensor:
        cos = self.cos[token_positions].to(x.dtype)                 # (..., T, d_k/2)
        sin = self.sin[token_positions].to(x.dtype)
        x_even, x_odd = x[..., 0::2], x[..., 1::2]
        out_even = x_even * cos - x_odd * sin
        out_odd = x_even * sin + x_odd * cos
        return torch.stack((out_even, out_odd), dim=-1).flatten(-2)


def softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    shifted = x - x.max(dim=dim, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


def scaled_dot_product_attention(q, k, v, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d_k)) v; mask True means 'may attend'."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return softmax(scores, dim=-1) @ v


class CausalSelfAttention(nn.Module):
    """Causal multi-head self-attention with optional RoPE on queries and keys."""

    def __init__(self, d_model: int, num_heads: int, rope: Optional[RotaryPositionalEmbedding] = None,
                 device=None, dtype=None):
        super().__init__()
        assert d_model % num_heads == 0
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.q_proj = Linear(d_model, d_model, device, dtype)
        self.k_proj = Linear(d_model, d_model, device, dtype)
        self.v_proj = Linear(d_model, d_model, device, dtype)
        self.output_proj = Linear(d_model, d_model, device, dtype)
        self.rope = rope

    def forward(self, x: torch.Tensor, token_positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        *lead, T, d_model = x.shape

        def heads(t):  # (..., T, d_model) -> (..., h, T, d_k)
            return t.reshape(*lead, T, self.num_heads, self.d_k).transpose(-3, -2)

        q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
        if self.rope is not None:
            if token_positions is None:
                token_positions = torch.arange(T, device=x.device)
            positions = token_positions.unsqueeze(-2)               # broadcast over heads
            q = self.rope(q, positions)
            k = self.rope(k, positions)
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool, device=x.device))
        out = scaled_dot_product_attention(q, k, v, mask)          # (..., h, T, d_k)
        out = out.transpose(-3, -2).reshape(*lead, T, d_model)
        return self.output_proj(out)


class TransformerBlock(nn.Module):
    """One block; norm is 'pre' (CS336), 'post' or 'none'; ffn is 'swiglu' or 'silu'."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int,
                 rope: Optional[RotaryPositionalEmbedding] = None,
                 norm: str = "pre", ffn: str = "swiglu", device=None, dtype=None):
        super().__init__()
        self.norm = norm
        if norm != "none":
            self.ln1 = RMSNorm(d_model, device=device, dtype=dtype)
        self.attn = CausalSelfAttention(d_model, num_heads, rope, device, dtype)
        if norm != "none":
            self.ln2 = RMSNorm(d_model, device=device, dtype=dtype)
        self.ffn = (SwiGLU if ffn == "swiglu" else SiLUFeedForward)(d_model, d_ff, device, dtype)

    def forward(self, x: torch.Tensor, token_positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.norm == "pre":
            x = x + self.attn(self.ln1(x), token_positions)
            return x + self.ffn(self.ln2(x))
        if self.norm == "post":
            x = self.ln1(x + self.attn(x, token_positions))
            return self.ln2(x + self.ffn(x))
        x = x + self.attn(x, token_positions)
        return x + self.ffn(x)


class TransformerLM(nn.Module):
    """Token ids (..., T) -> logits (..., T, vocab_size)."""

    def __init__(self, config: ModelConfig, device=None, dtype=None):
        super().__init__()
        c = config
        assert c.norm in ("pre", "post", "none") and c.position in ("rope", "none")
        assert c.ffn in ("swiglu", "silu")
        self.config = c
        self.token_embeddings = Embedding(c.vocab_size, c.d_model, device, dtype)
        rope = None
        if c.position == "rope":
            rope = RotaryPositionalEmbedding(c.rope_theta, c.d_model // c.num_heads, c.context_length, device)
        self.layers = nn.ModuleList(
            TransformerBlock(c.d_model, c.num_heads, c.d_ff, rope, c.norm, c.ffn, device, dtype)
            for _ in range(c.num_layers))
        if c.norm == "pre":
            self.ln_final = RMSNorm(c.d_model, device=device, dtype=dtype)
        self.lm_head = Linear(c.d_model, c.vocab_size, device, dtype)
        if c.tie_embeddings:
            self.token_embeddings.weight = self.lm_head.weight

    def forward(self, token_ids: torch.Tensor, token_positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.token_embeddings(token_ids)
        for layer in self.layers:
            x = layer(x, token_positions)
        if self.config.norm == "pre":
            x = self.ln_final(x)
        return self.lm_head(x)

    def file_state_dict(self) -> dict:
        """The state dict as files hold it: a tied matrix once, as token_embeddings.weight."""
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        if self.config.tie_embeddings:
            state.pop("lm_head.weight")
        return state


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over every position."""
    logits = logits.reshape(-1, logits.shape[-1])
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    log_z = torch.log(torch.exp(shifted).sum(dim=-1))
    picked = shifted.gather(-1, targets.reshape(-1, 1)).squeeze(-1)
    return (log_z - picked).mean()


def load_safetensors(model: TransformerLM, path: str) -> None:
    """Loads a Fable or PyTorch safetensors file with the CS336 names."""
    from safetensors.torch import load_file
    state = load_file(path)
    if model.config.tie_embeddings and "lm_head.weight" not in state:
        state["lm_head.weight"] = state["token_embeddings.weight"]
    model.load_state_dict(state, strict=True)


# MARK: - Fixtures

TINY = ModelConfig(vocab_size=64, context_length=16, d_model=32, num_layers=2, num_heads=4,
                   d_ff=48, rope_theta=10000.0)
# Ablations use a narrower model to keep the fixtures small.
ABLATION_BASE = dataclasses.replace(TINY, d_model=16, num_heads=2, d_ff=48)
ABLATIONS = {
    "lm_no_norm": dataclasses.replace(ABLATION_BASE, norm="none"),
    "lm_post_norm": dataclasses.replace(ABLATION_BASE, norm="post"),
    "lm_nope": dataclasses.replace(ABLATION_BASE, position="none"),
    "lm_silu": dataclasses.replace(ABLATION_BASE, ffn="silu", d_ff=72),
    "lm_tied": dataclasses.replace(ABLATION_BASE, tie_embeddings=True),
}


class FixtureWriter:
    """Writes <name>.json (config, integer inputs, scalars) and <name>.safetensors
    (float32: module weights under their own names; 'input', 'output', 'grad_output',
    'grad.input' and 'grad.<parameter name>'). Whole-LM weights live in their own
    <name>.weights.safetensors, named by the JSON's "weights" key."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.written = []

    def write(self, name: str, meta: dict, tensors: dict) -> None:
        from safetensors.torch import save_file
        tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}
        save_file(tensors, os.path.join(self.out_dir, name + ".safetensors"))
        with open(os.path.join(self.out_dir, name + ".json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write("\n")
        self.written.append(name)


def _wide(module: nn.Module) -> nn.Module:
    """A float64 copy computing the expectations."""
    import copy
    return copy.deepcopy(module).to(torch.float64)


def _module_case(writer: FixtureWriter, name: str, module: nn.Module, x: torch.Tensor,
                 extra_meta: dict, call=None) -> None:
    """Forward a float input, backpropagate a fixed random upstream gradient, and record
    the output, the input gradient and every parameter gradient."""
    call = call or (lambda m, inp: m(inp))
    wide = _wide(module)
    x64 = x.to(torch.float64).requires_grad_(True)
    y = call(wide, x64)
    grad_output = torch.randn(y.shape, dtype=torch.float64)
    y.backward(grad_output)
    tensors = {k: v for k, v in module.state_dict().items()}
    tensors.update({"input": x, "output": y, "grad_output": grad_output, "grad.input": x64.grad})
    for pname, p in wide.named_parameters():
        tensors["grad." + pname] = p.grad
    meta = {"input_shape": list(x.shape), "output_shape": list(y.shape)}
    meta.update(extra_meta)
    writer.write(name, meta, tensors)


def _lm_case(writer: FixtureWriter, name: str, config: ModelConfig, seed: int,
             batch_shape: tuple, seq_len: int, with_positions: bool = False,
             weights_from: Optional[str] = None) -> None:
    """Records logits, loss and all parameter gradients of the mean cross-entropy.
    The weights go to <name>.weights.safetensors (a plain state dict); with `weights_from`
    (a fixture made with the same seed) that fixture's weights file is named instead."""
    torch.manual_seed(seed)
    model = TransformerLM(config)
    gen = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, config.vocab_size, (*batch_shape, seq_len), generator=gen)
    targets = torch.randint(0, config.vocab_size, (*batch_shape, seq_len), generator=gen)
    positions = None
    if with_positions:
        start = config.context_length - seq_len
        positions = torch.arange(start, start + seq_len)
    wide = _wide(model)
    logits = wide(ids, positions)
    loss = cross_entropy(logits, targets)
    loss.backward()
    if weights_from is None:
        # Exactly what PyTorch users write: the state dict, nothing else.
        from safetensors.torch import save_file
        save_file(model.file_state_dict(), os.path.join(writer.out_dir, name + ".weights.safetensors"))
    tensors = {"output": logits}
    for pname, p in wide.named_parameters():
        tensors["grad." + pname] = p.grad
    meta = {
        "config": config.to_json(),
        "token_ids": ids.flatten().tolist(),
        "targets": targets.flatten().tolist(),
        "input_shape": list(ids.shape),
        "output_shape": list(logits.shape),
        "loss": loss.item(),
        "parameter_names": list(model.file_state_dict().keys()),
    }
    if positions is not None:
        meta["token_positions"] = positions.tolist()
    meta["weights"] = (weights_from or name) + ".weights.safetensors"
    writer.write(name, meta, tensors)


def write_fixtures(out_dir: str) -> list:
    torch.manual_seed(0)
    w = FixtureWriter(out_dir)

    # Modules, with extra leading (batch-like) dimensions.
    _module_case(w, "linear", Linear(12, 8), torch.randn(2, 3, 5, 12), {"in_features": 12, "out_features": 8})
    emb = Embedding(20, 6)
    ids = torch.randint(0, 20, (2, 7))
    wide = _wide(emb)
    out = wide(ids)
    grad_output = torch.randn(out.shape, dtype=torch.float64)
    out.backward(grad_output)
    w.write("embedding", {"num_embeddings": 20, "embedding_dim": 6, "token_ids": ids.flatten().tolist(),
                          "input_shape": list(ids.shape), "output_shape": list(out.shape)},
            {"weight": emb.weight, "output": out, "grad_output": grad_output, "grad.weight": wide.weight.grad})

    norm = RMSNorm(16)
    with torch.no_grad():
        norm.weight.copy_(1.0 + 0.1 * torch.randn(16))  # a non-trivial gain
    _module_case(w, "rmsnorm", norm, 3.0 * torch.randn(2, 5, 16), {"d_model": 16, "eps": 1e-5})
    _module_case(w, "swiglu", SwiGLU(16, 24), torch.randn(2, 5, 16), {"d_model": 16, "d_ff": 24})
    _module_case(w, "silu_ffn", SiLUFeedForward(16, 36), torch.randn(2, 5, 16), {"d_model": 16, "d_ff": 36})

    rope = RotaryPositionalEmbedding(10000.0, 8, 32)
    positions = torch.tensor([3, 4, 5, 9, 17, 30])
    _module_case(w, "rope", rope, torch.randn(2, 3, 6, 8),
                 {"theta": 10000.0, "d_k": 8, "max_seq_len": 32, "token_positions": positions.tolist()},
                 call=lambda m, inp: m(inp, positions))

    attn_rope = RotaryPositionalEmbedding(10000.0, 4, 16)
    attn = CausalSelfAttention(16, 4, attn_rope)
    _module_case(w, "attention", attn, torch.randn(2, 7, 16),
                 {"d_model": 16, "num_heads": 4, "theta": 10000.0, "max_seq_len": 16, "rope": True})
    attn_positions = torch.tensor([5, 6, 7, 8, 9])
    _module_case(w, "attention_positions", attn, torch.randn(2, 5, 16),
                 {"d_model": 16, "num_heads": 4, "theta": 10000.0, "max_seq_len": 16, "rope": True,
                  "token_positions": attn_positions.tolist()},
                 call=lambda m, inp: m(inp, attn_positions))
    _module_case(w, "attention_nope", CausalSelfAttention(16, 4, None), torch.randn(3, 6, 16),
                 {"d_model": 16, "num_heads": 4, "rope": False})

    for norm_kind in ("pre", "post", "none"):
        block_rope = RotaryPositionalEmbedding(10000.0, 4, 16)
        block = TransformerBlock(16, 4, 24, block_rope, norm=norm_kind)
        _module_case(w, f"block_{norm_kind}", block, torch.randn(2, 6, 16),
                     {"d_model": 16, "num_heads": 4, "d_ff": 24, "theta": 10000.0, "max_seq_len": 16,
                      "norm": norm_kind, "ffn": "swiglu", "rope": True})

    # The whole LM: a full-context batch, a truncated sequence, a single unbatched sequence
    # and explicit token positions; then each ablation.
    _lm_case(w, "lm", TINY, seed=10, batch_shape=(2,), seq_len=16)
    _lm_case(w, "lm_truncated", TINY, seed=10, batch_shape=(3,), seq_len=9, weights_from="lm")
    _lm_case(w, "lm_unbatched", TINY, seed=10, batch_shape=(), seq_len=5, with_positions=True,
             weights_from="lm")
    for i, (name, config) in enumerate(ABLATIONS.items()):
        _lm_case(w, name, config, seed=20 + i, batch_shape=(2,), seq_len=11)
    return w.written


# MARK: - Command line

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fx = sub.add_parser("fixtures", help="write the golden fixtures for FableModel's tests")
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "model")
    fx.add_argument("--out", default=os.path.normpath(default_out), help="output folder (default: %(default)s)")
    ev = sub.add_parser("eval", help="load a safetensors file and print the loss on given token ids")
    ev.add_argument("--config", required=True, help="model config JSON (Fable's ModelConfig keys)")
    ev.add_argument("--weights", required=True, help="safetensors weights with the CS336 names")
    ev.add_argument("--tokens", required=True, help="comma-separated token ids (one sequence)")
    args = parser.parse_args(argv)

    if args.command == "fixtures":
        names = write_fixtures(args.out)
        total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
        print(f"wrote {len(names)} fixtures to {args.out} ({total / 1024:.0f} KiB)")
        return 0
    with open(args.config) as f:
        config = ModelConfig.from_json(json.load(f))
    model = TransformerLM(config)
    load_safetensors(model, args.weights)
    ids = torch.tensor([int(t) for t in args.tokens.split(",")])
    with torch.no_grad():
        logits = model(ids[:-1])
        print(f"loss {cross_entropy(logits, ids[1:]).item():.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

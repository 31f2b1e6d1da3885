"""Writes Tests/Fixtures/interchange/: small models made by the libraries Fable exchanges with.

- hf-tiny/ and hf-tiny-tied/: Llama models written by transformers' save_pretrained
  (random weights, initializer_range 0.5 so every weight matters) with a byte-level BPE
  tokenizer trained by HF `tokenizers`, plus expected.json: the ids AutoTokenizer gives for
  a text and the logits LlamaForCausalLM computes for them (float32). Fable's importer must
  reproduce both.
- gguf_py.gguf: a GGUF v3 file written by the `gguf` package (llama.cpp's Python writer)
  with every metadata value type and F32/F16 tensors; expected in gguf_py.json. Fable's GGUF
  reader must parse it.

Run from the package root: python3 Scripts/reference/interchange_fixtures.py
"""
import json
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

OUT = "Tests/Fixtures/interchange"
SHARED = os.environ.get("FABLE_SHARED", "../shared")
TEXT = "Once upon a time, Lily found a red ball. \"Look!\" she said.<|endoftext|>Tom ran home."


def train_tokenizer(vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    with open(os.path.join(SHARED, "fixtures/tinystories_sample.txt"), encoding="utf-8") as f:
        tok.train_from_iterator([f.read()], trainer=trainer)
    return tok


def write_model(name, tied, theta):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    tok = train_tokenizer(300)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    eot = tok.token_to_id("<|endoftext|>")
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64, rms_norm_eps=1e-5,
                         rope_theta=theta, tie_word_embeddings=tied, initializer_range=0.5,
                         bos_token_id=eot, eos_token_id=eot)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # RMSNorm gains start at 1; make them matter too
        for name_, p in model.named_parameters():
            if "norm" in name_:
                p.copy_(1 + 0.3 * torch.randn_like(p))
    model.save_pretrained(folder, safe_serialization=True)
    for extra in ["generation_config.json", "special_tokens_map.json", "chat_template.jinja"]:
        path = os.path.join(folder, extra)
        if os.path.exists(path):
            os.remove(path)
    loaded = AutoTokenizer.from_pretrained(folder)
    ids = loaded(TEXT)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    positions = sorted(set(range(0, len(ids), 6)) | {len(ids) - 1})
    rows = [[float("%.8g" % x) for x in logits[p].tolist()] for p in positions]
    expected = {"text": TEXT, "ids": ids, "positions": positions, "logits": rows}
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(folder, "vocab", tok.get_vocab_size(), "tokens", len(ids))


def write_gguf():
    import gguf
    path = os.path.join(OUT, "gguf_py.gguf")
    writer = gguf.GGUFWriter(path, arch="llama")
    writer.add_uint8("t.u8", 200)
    writer.add_int8("t.i8", -100)
    writer.add_uint16("t.u16", 60000)
    writer.add_int16("t.i16", -30000)
    writer.add_uint32("t.u32", 4000000000)
    writer.add_int32("t.i32", -2000000000)
    writer.add_float32("t.f32", 0.15625)
    writer.add_uint64("t.u64", 2**60)
    writer.add_int64("t.i64", -(2**60))
    writer.add_float64("t.f64", 1e-300)
    writer.add_bool("t.bool", True)
    writer.add_string("t.str", "héllo Ġ")
    writer.add_array("t.arr", ["a", "bc", ""])
    a = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    b = (np.arange(8, dtype=np.float32) - 3.5).astype(np.float16)
    writer.add_tensor("a.weight", a)
    writer.add_tensor("b.weight", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    expected = {"a.weight": {"shape": [2, 3], "values": a.flatten().tolist()},
                "b.weight": {"shape": [8], "values": b.astype(np.float32).tolist()}}
    with open(os.path.join(OUT, "gguf_py.json"), "w") as f:
        json.dump(expected, f)
    print(path)


if __name__ == "__main__":
    if not os.path.isdir(SHARED):
        sys.exit(f"shared data not found at {SHARED}; set FABLE_SHARED")
    os.makedirs(OUT, exist_ok=True)
    write_model("hf-tiny", tied=False, theta=10000.0)
    write_model("hf-tiny-tied", tied=True, theta=500.0)
    write_gguf()

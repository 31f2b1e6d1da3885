#!/usr/bin/env python3
"""Writes the tokenizer's golden fixtures to Tests/Fixtures/tokenizer/.

The reference is tiktoken's GPT-2 encoding, built offline from GPT-2's vocab.json and
merges.txt in ../shared/fixtures (the same files the Swift tests load), exactly as
tiktoken_ext.openai_public.gpt2() builds it from the downloaded copies.

Special tokens follow the CS336 rule: the text is split on the special tokens, longest
first where they overlap, and the text between them is encoded with encode_ordinary.
For the cases with the single <|endoftext|> token the script checks that this equals
tiktoken's own encode(..., allowed_special="all").

Usage: python3 Scripts/reference/tokenizer_fixtures.py [--shared ../shared]
"""
import argparse
import json
import os
import re
import tempfile
from pathlib import Path

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "tokenizer"
ENDOFTEXT = "<|endoftext|>"


def gpt2_bytes_to_unicode():
    """GPT-2's encoder.py bytes_to_unicode, written out independently of tiktoken."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def gpt2_encoding(shared: Path) -> tiktoken.Encoding:
    # tiktoken's loader skips the first line of the merges file (the "#version" header);
    # the shared copy has none, so add it.
    merges = (shared / "fixtures" / "gpt2_merges.txt").read_text(encoding="utf-8")
    with tempfile.NamedTemporaryFile("w", suffix=".bpe", delete=False, encoding="utf-8") as f:
        f.write("#version: 0.2\n" + merges + ("" if merges.endswith("\n") else "\n"))
        bpe_path = f.name
    try:
        ranks = data_gym_to_mergeable_bpe_ranks(bpe_path, str(shared / "fixtures" / "gpt2_vocab.json"))
    finally:
        os.unlink(bpe_path)
    return tiktoken.Encoding(
        name="gpt2-local", explicit_n_vocab=50257, pat_str=r50k_pat_str,
        mergeable_ranks=ranks, special_tokens={ENDOFTEXT: 50256})


def encode_with_specials(enc: tiktoken.Encoding, text: str, specials: list[str]) -> list[int]:
    """The CS336 rule: longest special first, ids of missing specials appended after 50256."""
    if not specials:
        return enc.encode_ordinary(text)
    ids = {ENDOFTEXT: 50256}
    for s in specials:
        if s not in ids:
            ids[s] = 50257 + len([k for k in ids if k != ENDOFTEXT])
    pattern = "(" + "|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)) + ")"
    out: list[int] = []
    for part in re.split(pattern, text):
        if part in ids and part in specials:
            out.append(ids[part])
        elif part:
            out.extend(enc.encode_ordinary(part))
    return out


CASES = [
    ("empty", "", []),
    ("single character", "s", []),
    ("single unicode character", "🙃", []),
    ("ascii string", "Hello, how are you?", []),
    ("unicode string", "Héllò hôw are ü? 🙃", []),
    ("unicode string with special token", "Héllò hôw <|endoftext|> are ü? 🙃", [ENDOFTEXT]),
    ("overlapping special tokens", "Hello, how <|endoftext|><|endoftext|> are you?<|endoftext|>",
     [ENDOFTEXT, ENDOFTEXT + ENDOFTEXT]),
    ("special token without specials enabled", "a <|endoftext|> b", []),
    ("trailing newlines before special token", "Hello\n\n<|endoftext|>\n\nWorld\n\n\n", [ENDOFTEXT]),
    ("double newlines around special token", "The end.\n\n<|endoftext|>\n\nOnce upon a time\n \n", [ENDOFTEXT]),
    ("special tokens back to back", "<|endoftext|><|endoftext|>x<|endoftext|>", [ENDOFTEXT]),
    ("partial special token", "<|endoftext| <|endo <|endoftext|", [ENDOFTEXT]),
    ("whitespace runs", "a  b   c\t\td \n\n e\r\n\r\n  \n", []),
    ("trailing spaces", "word   ", []),
    ("contractions", "I'm you're he's we'll they've I'd don't WE'LL 'tis", []),
    ("numbers", "1234567890 3.14159 1,000,000", []),
    ("letters and marks", "naïve café Ελληνικά русский 日本語のテキスト 한국어", []),
    ("symbols", "#$%^&*()_+{}|:\"<>?~`-=[]\\;',./ ^^^^", []),
    ("emoji and joiners", "👩‍👩‍👧 🏳️‍🌈 e\u0301 \u200b\u00a0\u3000x", []),
    ("control characters", "a\x00b\x01\x7f\x1b[31m", []),
    ("long letter run", "a" * 3000, []),
    ("long caret run", "^" * 3000, []),
    ("long mixed piece", ("Supercalifragilistic" * 150), []),
    ("long digit run", "9" * 2000, []),
]

FILES = [
    ("address.txt", "fixtures/address.txt", []),
    ("german.txt", "fixtures/german.txt", []),
    ("tinystories_sample.txt", "fixtures/tinystories_sample.txt", [ENDOFTEXT]),
    ("corpus.en", "fixtures/corpus.en", [ENDOFTEXT]),
]

# Prefixes of the larger samples: a wider exactness check at modest fixture size.
PREFIXES = [
    ("tinystories_sample_2MiB.txt prefix", "data/tinystories_sample_2MiB.txt", 32768, [ENDOFTEXT]),
    ("owt_sample.txt prefix", "data/owt_sample.txt", 32768, [ENDOFTEXT]),
]

# Decoding: byte sequences that are not valid UTF-8 become U+FFFD, as bytes.decode(errors="replace").
DECODE_TEXTS = ["🙃", "Héllò", "日本"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"), help="the shared data folder")
    args = parser.parse_args()
    shared = Path(args.shared)
    enc = gpt2_encoding(shared)

    cases = []
    for name, text, specials in CASES:
        cases.append({"name": name, "text": text, "special_tokens": specials,
                      "ids": encode_with_specials(enc, text, specials)})
    for name, rel, specials in FILES:
        text = (shared / rel).read_text(encoding="utf-8")
        cases.append({"name": name, "file": rel, "special_tokens": specials,
                      "ids": encode_with_specials(enc, text, specials)})
    for name, rel, length, specials in PREFIXES:
        raw = (shared / rel).read_bytes()[:length]
        text = raw.decode("utf-8", errors="ignore")  # drop a cut character at the end
        cases.append({"name": name, "file": rel, "prefix_bytes": len(text.encode("utf-8")),
                      "special_tokens": specials, "ids": encode_with_specials(enc, text, specials)})

    # Cross-check the CS336 rule against tiktoken's own special handling.
    for case in cases:
        if case["special_tokens"] == [ENDOFTEXT]:
            text = case.get("text")
            if text is None:
                raw = (shared / case["file"]).read_bytes()
                text = raw[: case.get("prefix_bytes", len(raw))].decode("utf-8")
            assert enc.encode(text, allowed_special="all") == case["ids"], case["name"]

    decodes = []
    for text in DECODE_TEXTS:
        ids = enc.encode_ordinary(text)
        raw = b"".join(enc.decode_single_token_bytes(i) for i in ids)
        for start in range(len(ids)):
            for end in range(start + 1, len(ids) + 1):
                part = b"".join(enc.decode_single_token_bytes(i) for i in ids[start:end])
                decodes.append({"ids": ids[start:end], "text": part.decode("utf-8", errors="replace")})
        assert raw.decode("utf-8") == text
    # Lone bytes that are never valid UTF-8 on their own.
    for byte in [0x80, 0xBF, 0xC0, 0xE2, 0xF0, 0xFF]:
        ids = enc.encode_single_token(bytes([byte]))
        decodes.append({"ids": [ids, ids], "text": bytes([byte, byte]).decode("utf-8", errors="replace")})

    b2u = gpt2_bytes_to_unicode()
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "gpt2_encodings.json", "w", encoding="utf-8") as f:
        json.dump({"source": "tiktoken " + tiktoken.__version__ + " gpt2 (built from shared/fixtures)",
                   "cases": cases, "decodes": decodes}, f, ensure_ascii=False)
        f.write("\n")
    with open(OUT / "bytes_to_unicode.json", "w", encoding="utf-8") as f:
        json.dump([ord(b2u[b]) for b in range(256)], f)
        f.write("\n")
    print(f"wrote {len(cases)} encode cases and {len(decodes)} decode cases to {OUT}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""JSON cases checked against Python's `json` module, for FableFormats' reader and writer.

Writes Tests/Fixtures/formats/json_cases.json:
  valid      RFC 8259 texts (hex of the UTF-8 bytes) with what json.dumps writes for the
             parsed value: compact (separators=(",", ":"), ensure_ascii=False), Python's
             default (", ", ": ", ensure_ascii=True) and indent=2 (ensure_ascii=False)
  invalid    texts RFC 8259 forbids that json.loads also rejects
  doubles    doubles (as 64-bit patterns, seeded random and edge cases) with repr(x)
  nonfinite  NaN / Infinity texts with Python's dumps of them (allow_nan=True)

Run: python3 Scripts/reference/json_fixtures.py
"""
import json
import math
import os
import random
import struct

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "formats")

VALID = [
    '{}', '[]', '""', '0', '-0', '1', '-1', '123456789', 'true', 'false', 'null',
    '9223372036854775807', '-9223372036854775808', '18446744073709551615', '9223372036854775808',
    '0.5', '-0.0', '1e3', '1E-7', '1.5e+300', '2.5e-320', '0.1', '123456789012345678.0',
    '3.141592653589793', '1e16', '1e15', '0.0001', '0.00001', '[1, 2.0, 3e0]',
    ' \t\r\n{ "a" : 1 , "b" : [ true , false , null ] } \n',
    '{"z": 1, "a": 2, "m": {"y": [], "b": {}}}',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u0000\\u001f\\u007f"', '"\\u00e9\\u4e2d"',
    '"\\ud83d\\ude00"', '"\\uD834\\uDD1E"', '"caf\u00e9 \u4e2d \U0001F600"', '"\u007f"',
    '{"": "", " ": " "}', '[[[[[[]]]]]]', '{"a": {"b": {"c": {"d": [1, {"e": null}]}}}}',
    '{"k\\u0000ey": "tab\\tand\\u0001"}',
    '[-1.5e-7, 6.02214076e23, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308]',
]

INVALID = [
    '', ' ', '{', '}', '[', '[1,]', '{"a":1,}', '[1 2]', '{"a" 1}', '{"a":}', "{'a':1}",
    '{a:1}', '01', '-01', '1.', '.5', '-', '+1', '1e', '1e+', '0x10', '"abc', '"\\x41"',
    '"\\u12"', '"\\u12G4"', '"tab\there"', '"new\nline"', 'tru', 'nul', 'True', '[1] [2]',
    '{"a":1} x', '"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '[1,,2]', '[,1]', '{,}',
    '18446744073709551616', '-9223372036854775809', '1e400',
]
# Invalid UTF-8 inside a string (bytes, not text).
INVALID_BYTES = [b'"\xff"', b'"\xc3"', b'"\xed\xa0\x80"', b'["\xe2\x82"]']


def dumps_all(value):
    return {
        "compact": json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        "spaced": json.dumps(value),
        "indented": json.dumps(value, indent=2, ensure_ascii=False),
    }


def python_rejects(text):
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return True
    # Python keeps huge integers and reads 1e400 as inf; Fable's 64-bit / finite limits
    # reject them on purpose.
    if isinstance(value, int) and not (-2**63 <= value < 2**64):
        return True
    if isinstance(value, float) and math.isinf(value):
        return True
    # Python accepts lone surrogates; a Swift String cannot hold them.
    if isinstance(value, str) and any(0xD800 <= ord(c) < 0xE000 for c in value):
        return True
    return False


def main():
    os.makedirs(OUT, exist_ok=True)
    valid = []
    for text in VALID:
        value = json.loads(text)
        valid.append({"hex": text.encode("utf-8").hex(), **dumps_all(value)})
    invalid = []
    for text in INVALID:
        assert python_rejects(text), text
        invalid.append(text.encode("utf-8").hex())
    for raw in INVALID_BYTES:
        try:
            json.loads(raw.decode("utf-8"))
            raise AssertionError(raw)
        except UnicodeDecodeError:
            pass
        invalid.append(raw.hex())
    rng = random.Random(15)
    patterns = [rng.getrandbits(64) for _ in range(300)]
    patterns += [struct.unpack("<Q", struct.pack("<d", x))[0] for x in [
        0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e-4, 1e-5, 9.999999999999999e15, 1e16, 123.456, 1e21, 1e22,
        5e-324, 1.7976931348623157e308, 2.0 ** 53, 2.0 ** 53 + 2, 0.30000000000000004, 100.0, 1e-7]]
    doubles = []
    for bits in patterns:
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isnan(x) or math.isinf(x):
            continue
        doubles.append({"bits": format(bits, "016x"), "repr": repr(x)})
    nonfinite = []
    for text in ['[NaN, Infinity, -Infinity]', '{"loss": NaN, "x": -Infinity}']:
        value = json.loads(text)
        nonfinite.append({"text": text, "compact": json.dumps(value, separators=(",", ":"))})
    with open(os.path.join(OUT, "json_cases.json"), "w") as f:
        json.dump({"valid": valid, "invalid": invalid, "doubles": doubles, "nonfinite": nonfinite}, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()

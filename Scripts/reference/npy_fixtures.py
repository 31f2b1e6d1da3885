#!/usr/bin/env python3
"""Token-array files written by numpy, for Fable's TokenDataset reader.

Writes Tests/Fixtures/datasets/:
  tokens_u2.npy    np.save of 1000 uint16 tokens (i * 7919 % 500)
  tokens_u4.npy    the same values + 70000 as uint32 (vocab above 65536)
  tokens_i8.npy    the same values as int64 (read-only support)
  tokens_v2.npy    uint16 written with format version 2.0
  tokens_u2.bin    the uint16 tokens as raw bytes (tokens.tofile)
  bad_fortran.npy  a 2-D Fortran-order array (must be rejected)
  bad_2d.npy       a 2-D array (must be rejected)
  bad_be.npy       big-endian '>u2' (must be rejected)
  headers.json     np.save's exact header bytes (hex) for several lengths, so Fable's
                   writer of .npy headers can be checked byte for byte.

and Tests/Fixtures/formats/npy_headers.json: the header bytes numpy writes for arrays of
other shapes, dtypes, orders and format versions 1.0/2.0/3.0, with what numpy reads back
(descr, fortran_order, shape, data offset), for FableFormats' .npy codec.

Run: python3 Scripts/reference/npy_fixtures.py
"""
import io
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "datasets")
FORMATS = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "formats")


def header_cases():
    """np.save / write_array headers for several arrays, and what read_array_header gives."""
    arrays = [
        ("scalar f8", np.float64(2.5), None),
        ("empty u2", np.zeros(0, dtype=np.uint16), None),
        ("u1 vector", np.arange(5, dtype=np.uint8), None),
        ("bool vector", np.array([True, False]), None),
        ("f4 matrix", np.zeros((2, 3), dtype=np.float32), None),
        ("i8 3-d fortran", np.asfortranarray(np.zeros((2, 3, 4), dtype=np.int64)), None),
        ("big-endian", np.zeros(3, dtype=">i4"), None),
        ("u2 version 2.0", np.arange(7, dtype=np.uint16), (2, 0)),
        ("u2 version 3.0", np.arange(7, dtype=np.uint16), (3, 0)),
        ("wide shape", np.zeros((1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), dtype=np.float16), None),
    ]
    cases = []
    for name, array, version in arrays:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asanyarray(array), version=version)
        data = buffer.getvalue()
        buffer.seek(0)
        major, minor = np.lib.format.read_magic(buffer)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(buffer)
        offset = buffer.tell()
        cases.append({"name": name, "hex": data[:offset].hex(), "descr": np.lib.format.dtype_to_descr(dtype),
                      "fortran_order": fortran, "shape": list(shape), "data_offset": offset, "major": major})
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    values = (np.arange(1000, dtype=np.int64) * 7919) % 500
    np.save(os.path.join(OUT, "tokens_u2.npy"), values.astype(np.uint16))
    np.save(os.path.join(OUT, "tokens_u4.npy"), np.append(values, 70000).astype(np.uint32))
    np.save(os.path.join(OUT, "tokens_i8.npy"), values.astype(np.int64))
    with open(os.path.join(OUT, "tokens_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, values.astype(np.uint16), version=(2, 0))
    values.astype(np.uint16).tofile(os.path.join(OUT, "tokens_u2.bin"))
    np.save(os.path.join(OUT, "bad_fortran.npy"), np.asfortranarray(np.zeros((3, 4), dtype=np.uint16)))
    np.save(os.path.join(OUT, "bad_2d.npy"), np.zeros((3, 4), dtype=np.uint16))
    np.save(os.path.join(OUT, "bad_be.npy"), np.zeros(4, dtype=">u2"))
    headers = []
    for dtype in ["<u2", "<u4"]:
        for n in [0, 1, 1000, 123456789012]:
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": (n,)})
            headers.append({"descr": dtype, "count": n, "hex": buffer.getvalue().hex()})
    # What np.save itself writes for a real array (may use _wrap_header with growth padding).
    buffer = io.BytesIO()
    np.save(buffer, values.astype(np.uint16))
    saved = buffer.getvalue()
    headers.append({"descr": "<u2", "count": 1000, "hex": saved[: len(saved) - 2000].hex(), "source": "np.save"})
    with open(os.path.join(OUT, "headers.json"), "w") as f:
        json.dump({"values": values.tolist(), "headers": headers}, f, indent=1)
    os.makedirs(FORMATS, exist_ok=True)
    with open(os.path.join(FORMATS, "npy_headers.json"), "w") as f:
        json.dump({"numpy": np.__version__, "cases": header_cases()}, f, indent=1)
        f.write("\n")
    print("wrote", OUT, "and", FORMATS)


if __name__ == "__main__":
    main()

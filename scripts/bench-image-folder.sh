#!/usr/bin/env bash
# Measures `era train vision --data DIR` on generated image folders: peak memory (RSS) and wall time
# when the folder is decoded batch by batch (the default) and when it is first read whole into memory
# (`--preload`), side by side in one sitting, on 10 000 and 100 000 MNIST-sized images (28 × 28 PNGs,
# 10 classes, 1 000 held-out images). One epoch of the small CNN each, on the fast CPU path.
# Usage: scripts/bench-image-folder.sh [--sizes 10000,100000] [--out DIR]   (ERA_BIN: the era to time,
# default target/release/era; about 2 minutes on 2 cores, writing the PNGs the first time included)
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=10000,100000
out=target/bench-image-folder
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    *) echo "bench-image-folder: unknown option '$1' (known: --sizes N,N --out DIR)" >&2; exit 2 ;;
  esac
done
era=${ERA_BIN:-target/release/era}
[ -x "$era" ] || { echo "bench-image-folder: $era not found: cargo build --release -p era-native, or set ERA_BIN" >&2; exit 1; }
mkdir -p "$out"

python3 - "$era" "$out" "$sizes" <<'EOF'
import json, os, struct, subprocess, sys, time, zlib

era, out, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]

def png(path, pixels, side):
    # An 8-bit RGB PNG written with the standard library: filter byte 0 before each row.
    raw = b"".join(b"\x00" + pixels[y * side * 3:(y + 1) * side * 3] for y in range(side))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))

def folder(n):
    root = os.path.join(out, f"images-{n}")
    done = os.path.join(root, ".complete")
    if os.path.exists(done):
        return root
    side = 28
    for split, count in (("train", n), ("val", 1000)):
        for i in range(count):
            c = i % 10
            d = os.path.join(root, split, f"class-{c}")
            os.makedirs(d, exist_ok=True)
            # A bright band whose row is the class, over noise drawn from the image's index.
            px = bytearray()
            for y in range(side):
                for x in range(side):
                    v = (x * 131 + y * 71 + i * 29) % 97
                    if 2 * c <= y // 1.4 < 2 * c + 2:
                        v += 150
                    px += bytes((v, v, v))
            png(os.path.join(d, f"{i:06}.png"), bytes(px), side)
    open(done, "w").close()
    return root

rows = []
for n in sizes:
    root = folder(n)
    for mode, extra in (("streamed", []), ("preloaded", ["--preload"])):
        run_out = os.path.join(out, f"runs-{n}-{mode}")
        cmd = [era, "train", "vision", "--dataset", "folder", "--data", root, "--image-size", "28",
               "--model", "small-cnn", "--epochs", "1", "--batch-size", "64", "--backend", "fast",
               "--no-augment", "--quiet", "--out", run_out, "--run-name", "bench", *extra]
        # Each run under its own Python, whose children's peak RSS is that one run's.
        probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                 "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        t0 = time.monotonic()
        peak_kb = int(subprocess.run([sys.executable, "-c", probe, *cmd], check=True, capture_output=True, text=True).stdout)
        wall = time.monotonic() - t0
        rows.append({"images": n, "mode": mode, "wall_s": round(wall, 1), "peak_rss_mb": round(peak_kb / 1024, 1),
                     "images_per_s": round(n / wall, 1)})
        subprocess.run(["rm", "-rf", run_out])
        print(json.dumps(rows[-1]), flush=True)
by = {(r["images"], r["mode"]): r for r in rows}
if len(sizes) >= 2:
    a, b = sizes[0], sizes[-1]
    for mode in ("streamed", "preloaded"):
        print(f"{mode}: peak RSS {by[(b, mode)]['peak_rss_mb']} MB at {b} images, {by[(a, mode)]['peak_rss_mb']} MB at {a}: "
              f"+{by[(b, mode)]['peak_rss_mb'] - by[(a, mode)]['peak_rss_mb']:.1f} MB")
for n in sizes:
    s, p = by[(n, "streamed")], by[(n, "preloaded")]
    print(f"{n} images: streamed {s['wall_s']} s, preloaded {p['wall_s']} s end to end: "
          f"streamed/preloaded throughput {p['wall_s'] / s['wall_s']:.2f}x")
EOF

"""Reads videos back with FFmpeg's decoders (through PyAV), as players do, for the video test: prints
one JSON object with, for each file, its codec, profile, width, height, frame rate, duration in seconds
and number of decoded frames, and for two files the mean absolute difference of each pair of frames
in RGB levels (0-255, FFmpeg's colour conversion by the stream's own colour description).

    python scripts/video_reference.py VIDEO [OTHER_VIDEO]
"""

import json
import sys

import av
import numpy as np


def read(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        seconds = float(stream.duration * stream.time_base) if stream.duration is not None else None
        return {
            "codec": ctx.name,
            "profile": ctx.profile,
            "width": ctx.width,
            "height": ctx.height,
            "fps": float(stream.average_rate) if stream.average_rate else None,
            "seconds": seconds,
            "frames": len(frames),
        }, frames


def main(paths):
    out = {}
    decoded = []
    for path in paths:
        info, frames = read(path)
        out[path] = info
        decoded.append(frames)
    if len(decoded) == 2:
        out["mean_difference"] = [
            float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) for a, b in zip(*decoded)
        ]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])

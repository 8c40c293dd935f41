"""Reads TensorBoard event files back as TensorBoard itself loads a run folder (the `tensorboard`
package's EventAccumulator, which also drops what a resume's SessionLog START supersedes), for the
export test: prints one JSON object, {"scalars": {tag: [[step, wall_time, value], ...]},
"text": {tag: [[step, text], ...]}}, NaN written as null.

    python scripts/tensorboard_reference.py RUN_FOLDER
"""

import json
import math
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(folder):
    acc = EventAccumulator(folder, size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {
        tag: [[e.step, e.wall_time, None if math.isnan(e.value) else e.value] for e in acc.Scalars(tag)]
        for tag in tags["scalars"]
    }
    text = {tag: [[e.step, e.tensor_proto.string_val[0].decode()] for e in acc.Tensors(tag)] for tag in tags["tensors"]}
    print(json.dumps({"scalars": scalars, "text": text}))


if __name__ == "__main__":
    main(sys.argv[1])

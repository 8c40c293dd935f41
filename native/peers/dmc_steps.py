#!/usr/bin/env python3
"""Times dm_control's own Python loop on one suite task, for `era bench control --algo env --against dm-control`.

    python3 - DOMAIN-TASK STEPS < native/peers/dmc_steps.py

Uniform random actions (1 000 drawn beforehand), the observation dict flattened every step as the
released SAC-ERA's wrapper does, a reset whenever an episode ends. Prints `<number> steps/s`.
"""
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from dm_control import suite  # noqa: E402


def main():
    name, steps = sys.argv[1], int(sys.argv[2])
    domain, task = name.split("-", 1)
    env = suite.load(domain, task, task_kwargs={"random": 0})
    spec = env.action_spec()
    rng = np.random.default_rng(0)
    actions = rng.uniform(spec.minimum, spec.maximum, size=(1000, spec.shape[0]))
    env.reset()
    start = time.perf_counter()
    for t in range(steps):
        ts = env.step(actions[t % len(actions)])
        np.concatenate([np.asarray(v).ravel() for v in ts.observation.values()])
        if ts.last():
            env.reset()
    print(f"{steps / (time.perf_counter() - start)} steps/s")


if __name__ == "__main__":
    main()

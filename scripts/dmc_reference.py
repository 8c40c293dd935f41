#!/usr/bin/env python3
"""Prints what dm_control's suite tasks return, for era's comparison test (shared/tests/mujoco.rs).

    eval "$(scripts/setup-mujoco.sh)"   # a venv with dm-control==1.0.50 and mujoco==3.17.0
    "$ERA_GYMNASIUM_PYTHON" scripts/dmc_reference.py steps [STEPS]
    "$ERA_GYMNASIUM_PYTHON" scripts/dmc_reference.py resets [RESETS]

`steps`: for each task, the state after a seeded `env.reset()` (qpos, qvel, act) is set again as
`era env rollout --state` sets it (`with physics.reset_context(): qpos, qvel, act = state`), then
seeded uniform random actions are applied; each step's flattened observation and reward are
recorded, with the task's step limit, physics steps per action and action bounds.
`resets`: for one task of each domain, RESETS (default 300) initial states (qpos, qvel, act) from
`env.reset()`, summarised as their per-entry mean and standard deviation.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from dm_control import suite  # noqa: E402
from importlib.metadata import version  # noqa: E402

TASKS = [
    ("cheetah", "run"), ("walker", "walk"), ("walker", "run"), ("hopper", "hop"), ("quadruped", "run"),
    ("humanoid", "stand"), ("humanoid", "walk"), ("humanoid", "run"),
    ("dog", "stand"), ("dog", "walk"), ("dog", "trot"), ("dog", "run"),
]
DOMAINS = [("cheetah", "run"), ("walker", "walk"), ("hopper", "hop"), ("quadruped", "run"),
           ("humanoid", "walk"), ("dog", "walk")]


def flat(obs):
    return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in obs.values()])


def state(physics):
    d = physics.data
    return np.concatenate([d.qpos, d.qvel, d.act])


def steps_case(domain, task, seed, steps):
    env = suite.load(domain, task, task_kwargs={"random": seed})
    env.reset()
    physics = env.physics
    start = state(physics)
    m = physics.model
    with physics.reset_context():
        physics.data.qpos[:] = start[:m.nq]
        physics.data.qvel[:] = start[m.nq:m.nq + m.nv]
        physics.data.act[:] = start[m.nq + m.nv:]
    first = flat(env.task.get_observation(physics))
    spec = env.action_spec()
    rng = np.random.default_rng(seed)
    actions, records = [], []
    for _ in range(steps):
        a = rng.uniform(spec.minimum, spec.maximum).astype(np.float32)
        ts = env.step(a)
        actions.append([float(x) for x in a])
        records.append({"obs": [float(x) for x in flat(ts.observation)], "reward": float(ts.reward)})
    return {
        "env": f"dmc/{domain}-{task}", "state": [float(x) for x in start], "first_obs": [float(x) for x in first],
        "step_limit": float(env._step_limit), "n_sub_steps": int(env._n_sub_steps),
        "action_low": [float(x) for x in spec.minimum], "action_high": [float(x) for x in spec.maximum],
        "actions": actions, "steps": records,
    }


def resets_case(domain, task, n):
    env = suite.load(domain, task, task_kwargs={"random": 12345})
    states = []
    for _ in range(n):
        env.reset()
        states.append(state(env.physics))
    states = np.array(states)
    return {"env": f"dmc/{domain}-{task}", "n": n, "mean": states.mean(0).tolist(), "std": states.std(0).tolist()}


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "steps"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else (100 if what == "steps" else 300)
    if what == "steps":
        cases = [steps_case(d, t, seed, count) for seed, (d, t) in enumerate(TASKS)]
    elif what == "resets":
        cases = [resets_case(d, t, count) for d, t in DOMAINS]
    else:
        sys.exit(f"unknown mode {what!r} (steps or resets)")
    print(json.dumps({"dm_control": version("dm-control"), "mujoco": mujoco.__version__, "cases": cases}))


if __name__ == "__main__":
    main()

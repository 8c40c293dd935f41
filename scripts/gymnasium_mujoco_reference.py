#!/usr/bin/env python3
"""Prints what Gymnasium's MuJoCo v5 tasks return, for era's comparison test (shared/tests/mujoco.rs).

    eval "$(scripts/setup-mujoco.sh)"   # a venv with gymnasium==1.4.0 and mujoco==3.17.0
    "$ERA_GYMNASIUM_PYTHON" scripts/gymnasium_mujoco_reference.py [STEPS]

For each task: from a seeded state near the model's rest pose (set with `set_state`, as
`era env rollout --state` does) it applies seeded uniform random actions, and records observation,
reward and termination of each step. When the task terminates, a new segment starts from a new
state, until STEPS (default 100) steps are recorded.
"""
import json
import sys

import gymnasium as gym
import mujoco
import numpy as np

TASKS = ["HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5", "Humanoid-v5"]


def segments(env_id, steps, seed):
    env = gym.make(env_id)
    env.reset(seed=seed)
    raw = env.unwrapped
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    out, done = [], 0
    while done < steps:
        qpos = raw.init_qpos + rng.uniform(-0.05, 0.05, size=raw.model.nq)
        qvel = raw.init_qvel + rng.uniform(-0.05, 0.05, size=raw.model.nv)
        env.reset(seed=seed)  # mj_resetData, as era's reset_to does, then the state
        raw.set_state(qpos, qvel)
        first_obs = raw._get_obs()
        actions, records = [], []
        while done < steps:
            a = rng.uniform(low, high).astype(np.float32)
            obs, reward, terminated, truncated, _ = env.step(a)
            actions.append([float(x) for x in a])
            records.append({"obs": [float(x) for x in obs], "reward": float(reward), "terminated": bool(terminated)})
            done += 1
            if terminated:
                break
        out.append({"state": [float(x) for x in np.concatenate([qpos, qvel])],
                    "first_obs": [float(x) for x in first_obs], "actions": actions, "steps": records})
    return out


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    cases = [{"env": t, "segments": segments(t, steps, seed=i)} for i, t in enumerate(TASKS)]
    print(json.dumps({"gymnasium": gym.__version__, "mujoco": mujoco.__version__, "cases": cases}))


if __name__ == "__main__":
    main()

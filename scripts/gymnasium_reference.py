#!/usr/bin/env python3
"""Writes the Gymnasium reference trajectories that era's environment tests compare against.

    eval "$(scripts/setup-mujoco.sh)"   # a venv with gymnasium 1.4.0 and NumPy 2
    "$ERA_GYMNASIUM_PYTHON" scripts/gymnasium_reference.py > shared/tests/data/gymnasium_reference.json

Each case sets a raw state after reset (as `era env rollout --state` does), applies a fixed action
sequence and records what Gymnasium returns, stopping at termination or truncation.
"""
import json
import math

import gymnasium as gym
import numpy as np


def rollout(env_id, state, actions):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.unwrapped.state = np.array(state, dtype=np.float64)
    steps = []
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(np.array(a, dtype=np.float32))
        steps.append({"obs": [float(x) for x in obs], "reward": float(reward),
                      "terminated": bool(terminated), "truncated": bool(truncated)})
        if terminated or truncated:
            break
    return {"env": env_id, "state": state, "actions": actions, "steps": steps,
            "gymnasium": gym.__version__, "numpy": np.__version__}


def main():
    rng = np.random.default_rng(12345)
    cases = []
    # Pendulum: random torques beyond the bounds (clipping), through the 200-step limit.
    acts = [[float(x)] for x in rng.uniform(-3, 3, size=210).astype(np.float32)]
    cases.append(rollout("Pendulum-v1", [2.5, -0.7], acts))
    # Pendulum: a constant push that spins it past the speed limit.
    cases.append(rollout("Pendulum-v1", [math.pi, 0.0], [[2.0]] * 60))
    # Mountain car: bang-bang control that reaches the goal (termination).
    acts = [[1.0 if (t // 40) % 2 == 0 else -1.0] for t in range(999)]
    cases.append(rollout("MountainCarContinuous-v0", [-0.5, 0.0], acts))
    # Mountain car: out-of-range actions and the left wall, through the 999-step limit.
    acts = [[float(x)] for x in rng.uniform(-1.5, 0.8, size=1000).astype(np.float32)]
    cases.append(rollout("MountainCarContinuous-v0", [-1.1, -0.02], acts))
    # Pendulum balanced near the unstable upright position by small float32 torques: rounding differences
    # grow exponentially here, so this catches any arithmetic that differs from Gymnasium's (e.g. the
    # torque term in float64 where NumPy 2 computes it in float32).
    acts = [[float(x)] for x in rng.uniform(-0.3, 0.3, size=200).astype(np.float32)]
    cases.append(rollout("Pendulum-v1", [0.02, -0.01], acts))
    print(json.dumps(cases))


if __name__ == "__main__":
    main()

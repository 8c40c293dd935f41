//! `HalfCheetah-v5`: a planar cheetah runs forward; no termination (Gymnasium's `half_cheetah_v5.py`).
//!
//! Observation (17): `qpos[1..9]` (root z and angle, six joint angles), `qvel[0..9]`.
//! Reward: `x_velocity − 0.1 · Σ a²`. Frame skip 5 (dt 0.05); reset noise `U(±0.1)` on `qpos`,
//! `0.1 · N(0, 1)` on `qvel`.

use super::{Progress, Task};

/// The environment id.
pub const ID: &str = "HalfCheetah-v5";

/// Gymnasium's default `HalfCheetahEnv`.
pub fn task() -> Task {
    Task {
        id: ID,
        xml: "half_cheetah.xml",
        summary: "MuJoCo planar cheetah running forward (Gymnasium v5)",
        state_layout: "qpos[9] then qvel[9]",
        frame_skip: 5,
        skip_qpos: 1,
        clip_qvel: None,
        extras: &[],
        progress: Progress::RootX,
        forward_reward_weight: 1.0,
        ctrl_cost_weight: 0.1,
        contact_cost: None,
        healthy_reward: 0.0,
        is_healthy: None,
        reset_noise_scale: 0.1,
        normal_qvel_noise: true,
    }
}

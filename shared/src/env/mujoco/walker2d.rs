//! `Walker2d-v5`: a planar biped walks forward without falling (Gymnasium's `walker2d_v5.py`).
//!
//! Observation (17): `qpos[1..9]`, `qvel[0..9]` clipped to ±10.
//! Reward: `x_velocity + 1 (healthy) − 0.001 · Σ a²`. Healthy while z ∈ (0.8, 2) and the torso
//! angle ∈ (−1, 1); unhealthy terminates. Model `walker2d_v5.xml` (both feet with friction 0.9),
//! frame skip 4 (dt 0.008); reset noise `U(±0.005)` on both `qpos` and `qvel`.

use super::{Progress, Task};

/// The environment id.
pub const ID: &str = "Walker2d-v5";

fn is_healthy(qpos: &[f64], _qvel: &[f64]) -> bool {
    let (z, angle) = (qpos[1], qpos[2]);
    0.8 < z && z < 2.0 && -1.0 < angle && angle < 1.0
}

/// Gymnasium's default `Walker2dEnv`.
pub fn task() -> Task {
    Task {
        id: ID,
        xml: "walker2d_v5.xml",
        summary: "MuJoCo planar biped walker (Gymnasium v5)",
        state_layout: "qpos[9] then qvel[9]",
        frame_skip: 4,
        skip_qpos: 1,
        clip_qvel: Some(10.0),
        extras: &[],
        progress: Progress::RootX,
        forward_reward_weight: 1.0,
        ctrl_cost_weight: 1e-3,
        contact_cost: None,
        healthy_reward: 1.0,
        is_healthy: Some(is_healthy),
        reset_noise_scale: 5e-3,
        normal_qvel_noise: false,
    }
}

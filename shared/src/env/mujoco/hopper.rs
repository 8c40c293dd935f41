//! `Hopper-v5`: a one-legged planar hopper hops forward without falling (Gymnasium's `hopper_v5.py`).
//!
//! Observation (11): `qpos[1..6]`, `qvel[0..6]` clipped to ±10.
//! Reward: `x_velocity + 1 (healthy) − 0.001 · Σ a²`. Healthy while every state entry after the
//! first two is in (−100, 100), z > 0.7 and the torso angle is in (−0.2, 0.2); unhealthy terminates.
//! Frame skip 4 (dt 0.008); reset noise `U(±0.005)` on both `qpos` and `qvel`.

use super::{Progress, Task};

/// The environment id.
pub const ID: &str = "Hopper-v5";

/// Gymnasium's `is_healthy`: `state_vector()[2:]` within (−100, 100), z and angle in their ranges.
fn is_healthy(qpos: &[f64], qvel: &[f64]) -> bool {
    let (z, angle) = (qpos[1], qpos[2]);
    let state_ok = qpos[2..].iter().chain(qvel).all(|&v| -100.0 < v && v < 100.0);
    state_ok && 0.7 < z && z < f64::INFINITY && -0.2 < angle && angle < 0.2
}

/// Gymnasium's default `HopperEnv`.
pub fn task() -> Task {
    Task {
        id: ID,
        xml: "hopper.xml",
        summary: "MuJoCo one-legged hopper (Gymnasium v5)",
        state_layout: "qpos[6] then qvel[6]",
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

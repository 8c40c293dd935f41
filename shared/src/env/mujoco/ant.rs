//! `Ant-v5`: a four-legged ant walks forward (Gymnasium's `ant_v5.py`).
//!
//! Observation (105): `qpos[2..15]` (torso z, quaternion, eight joint angles), `qvel[0..14]`, then
//! `cfrc_ext[1:]` clipped to [−1, 1] (78 = 13 bodies × 6).
//! Reward: `x_velocity (torso frame) + 1 (healthy) − 0.5 · Σ a² − 5·10⁻⁴ · Σ clip(cfrc_ext, ±1)²`.
//! Healthy while the state is finite and the torso z ∈ [0.2, 1]; unhealthy terminates.
//! Frame skip 5 (dt 0.05); reset noise `U(±0.1)` on `qpos`, `0.1 · N(0, 1)` on `qvel`.

use super::{ContactCost, Extra, Progress, Task};

/// The environment id.
pub const ID: &str = "Ant-v5";

fn is_healthy(qpos: &[f64], qvel: &[f64]) -> bool {
    let finite = qpos.iter().chain(qvel).all(|v| v.is_finite());
    finite && (0.2..=1.0).contains(&qpos[2])
}

/// Gymnasium's default `AntEnv`.
pub fn task() -> Task {
    Task {
        id: ID,
        xml: "ant.xml",
        summary: "MuJoCo four-legged ant (Gymnasium v5)",
        state_layout: "qpos[15] then qvel[14]",
        frame_skip: 5,
        skip_qpos: 2,
        clip_qvel: None,
        extras: &[Extra::CfrcExt(Some((-1.0, 1.0)))],
        // main_body = 1, the torso.
        progress: Progress::BodyX(1),
        forward_reward_weight: 1.0,
        ctrl_cost_weight: 0.5,
        contact_cost: Some(ContactCost { weight: 5e-4, force_range: Some((-1.0, 1.0)), cost_range: None }),
        healthy_reward: 1.0,
        is_healthy: Some(is_healthy),
        reset_noise_scale: 0.1,
        normal_qvel_noise: true,
    }
}

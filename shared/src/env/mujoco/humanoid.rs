//! `Humanoid-v5`: a 3D humanoid runs forward without falling (Gymnasium's `humanoid_v5.py`).
//!
//! Observation (348): `qpos[2..24]`, `qvel[0..23]`, `cinert[1:]` (130), `cvel[1:]` (78),
//! `qfrc_actuator[6:]` (17), `cfrc_ext[1:]` (78).
//! Reward: `1.25 · x_velocity (mass centre) + 5 (healthy) − 0.1 · Σ a² − min(5·10⁻⁷ · Σ cfrc_ext², 10)`.
//! Healthy while the torso z ∈ (1, 2); unhealthy terminates.
//! Frame skip 5 (dt 0.015); reset noise `U(±0.01)` on both `qpos` and `qvel`.

use super::{ContactCost, Extra, Progress, Task};

/// The environment id.
pub const ID: &str = "Humanoid-v5";

fn is_healthy(qpos: &[f64], _qvel: &[f64]) -> bool {
    1.0 < qpos[2] && qpos[2] < 2.0
}

/// Gymnasium's default `HumanoidEnv`.
pub fn task() -> Task {
    Task {
        id: ID,
        xml: "humanoid.xml",
        summary: "MuJoCo 3D humanoid running (Gymnasium v5)",
        state_layout: "qpos[24] then qvel[23]",
        frame_skip: 5,
        skip_qpos: 2,
        clip_qvel: None,
        extras: &[Extra::Cinert, Extra::Cvel, Extra::QfrcActuator, Extra::CfrcExt(None)],
        progress: Progress::MassCenterX,
        forward_reward_weight: 1.25,
        ctrl_cost_weight: 0.1,
        contact_cost: Some(ContactCost {
            weight: 5e-7,
            force_range: None,
            cost_range: Some((f64::NEG_INFINITY, 10.0)),
        }),
        healthy_reward: 5.0,
        is_healthy: Some(is_healthy),
        reset_noise_scale: 1e-2,
        normal_qvel_noise: false,
    }
}

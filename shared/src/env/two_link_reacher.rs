//! `TwoLinkReacher-v0`: a planar two-link arm moving its tip to a random target (no gravity).
//!
//! Modelled on Gymnasium's `Reacher-v5` (same link lengths, target disk, observation layout, frame time
//! and time limit) but with the closed-form dynamics of [`chain`](super::chain) instead of MuJoCo:
//! point masses of 0.1 kg at the ends of links of 0.1 m and 0.11 m, joint damping 0.01 N·m·s,
//! torques `τ = 0.1·clip(a, −1, 1)` N·m, two Euler substeps of 10 ms per step.
//!
//! ```text
//! r = −‖tip − target‖ − 0.1·‖clip(a)‖²
//! ```
//!
//! State `[q₀, q₁, q̇₀, q̇₁, target_x, target_y]`; observation `[cos q₀, cos q₁, sin q₀, sin q₁,
//! target_x, target_y, q̇₀, q̇₁, tip_x − target_x, tip_y − target_y]` (10). Reset: `qᵢ ~ U(−0.1, 0.1)`,
//! `q̇ᵢ ~ U(−0.005, 0.005)`, target uniform in the disk of radius 0.2. Never terminates; truncated at
//! 50 steps.

use rand::Rng;

use super::chain::{Chain, arm_observation, arm_scene, tip_distance};
use super::{BoxSpace, Dynamics, EnvError, EnvRng, EnvSpec, Scene};

/// The registered id.
pub const ID: &str = "TwoLinkReacher-v0";
const TORQUE: f64 = 0.1;
const TARGET_RADIUS: f64 = 0.2;

/// The two-link reacher.
#[derive(Debug, Clone)]
pub struct TwoLinkReacher {
    chain: Chain,
}

impl Default for TwoLinkReacher {
    fn default() -> Self {
        Self {
            chain: Chain {
                lengths: vec![0.1, 0.11],
                masses: vec![0.1, 0.1],
                gravity: 0.0,
                damping: 0.01,
                dt: 0.01,
                substeps: 2,
                max_speed: 50.0,
            },
        }
    }
}

impl Dynamics for TwoLinkReacher {
    fn spec(&self) -> EnvSpec {
        let mut high = vec![1.0; 4];
        high.extend([TARGET_RADIUS, TARGET_RADIUS, 50.0, 50.0, 0.41, 0.41]);
        EnvSpec {
            id: ID,
            observation: BoxSpace { low: high.iter().map(|h| -h).collect(), high },
            action: BoxSpace::uniform(2, -1.0, 1.0),
            max_episode_steps: 50,
            state_layout: "[q0, q1, q̇0, q̇1, target_x, target_y]",
            summary: "planar 2-link arm reaching a random target (manipulator equations, no gravity)",
        }
    }

    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64> {
        let mut s: Vec<f64> = (0..2).map(|_| rng.random_range(-0.1..0.1)).collect();
        s.extend((0..2).map(|_| rng.random_range(-0.005..0.005)));
        loop {
            let t = [rng.random_range(-TARGET_RADIUS..TARGET_RADIUS), rng.random_range(-TARGET_RADIUS..TARGET_RADIUS)];
            if t[0].hypot(t[1]) < TARGET_RADIUS {
                s.extend(t);
                return s;
            }
        }
    }

    fn check_state(&self, _state: &[f64]) -> Result<(), EnvError> {
        Ok(())
    }

    fn observe(&self, s: &[f64]) -> Vec<f32> {
        // Gymnasium's order: cos q, sin q, target, q̇, tip − target.
        let o = arm_observation(&self.chain, s);
        [&o[0..4], &o[6..8], &o[4..6], &o[8..10]].concat()
    }

    fn step(&self, s: &mut [f64], action: &[f32]) -> (f64, bool) {
        let a: Vec<f64> = action.iter().map(|&a| f64::from(a).clamp(-1.0, 1.0)).collect();
        // Gymnasium's Reacher rewards the distance before the step.
        let reward = -tip_distance(&self.chain, s) - 0.1 * a.iter().map(|a| a * a).sum::<f64>();
        let torque: Vec<f64> = a.iter().map(|a| a * TORQUE).collect();
        self.chain.advance(s, &torque);
        (reward, false)
    }

    fn scene(&self, s: &[f64]) -> Scene {
        arm_scene(&self.chain, s, 0.25, 0.008)
    }
}

//! `FiveLinkArm-v0`: a planar five-link arm in a vertical plane that must hold its tip on a target
//! against gravity.
//!
//! Five links of 0.2 m with point masses of 0.2 kg at their ends, hanging from a fixed base, under
//! g = 9.81 m/s² (the dynamics of [`chain`](super::chain)); joint damping 0.05 N·m·s; five Euler
//! substeps of 10 ms per step. Joint `i`'s torque is `τᵢ = τᵢ_max·clip(aᵢ, −1, 1)` with `τᵢ_max`
//! 1.2 times the gravity torque on joint `i` when the links beyond it are stretched out
//! horizontally, so any pose can be held but the base needs far more torque than the wrist: the
//! dimensions matter unequally, which is what ERA's per-dimension σ budget is about.
//!
//! ```text
//! r = −‖tip − target‖ − 0.01·‖clip(a)‖²
//! ```
//!
//! State `[q₀…q₄, q̇₀…q̇₄, target_x, target_y]`; observation `[cos q (5), sin q (5), q̇ (5), target (2),
//! tip − target (2)]` (19). Reset: hanging down (`q₀ = −π/2`) with `qᵢ` perturbed by `U(−0.1, 0.1)`,
//! at rest; the target at a distance `U(0.4, 0.9)` from the base in the upper half-plane. Never
//! terminates; truncated at 200 steps (10 s).

use std::f64::consts::{FRAC_PI_2, PI};

use rand::Rng;

use super::chain::{Chain, arm_observation, arm_scene, tip_distance};
use super::{BoxSpace, Dynamics, EnvError, EnvRng, EnvSpec, Scene};

/// The registered id.
pub const ID: &str = "FiveLinkArm-v0";
const LINKS: usize = 5;
const LINK: f64 = 0.2;
const MASS: f64 = 0.2;
const G: f64 = 9.81;
const MAX_SPEED: f64 = 10.0;

/// The five-link arm.
#[derive(Debug, Clone)]
pub struct FiveLinkArm {
    chain: Chain,
    max_torque: Vec<f64>,
}

impl Default for FiveLinkArm {
    fn default() -> Self {
        // Gravity torque on joint i with the rest stretched out: g·m·l·(1 + 2 + … + (n − i)).
        let max_torque = (0..LINKS)
            .map(|i| {
                let k = (LINKS - i) as f64;
                1.2 * G * MASS * LINK * k * (k + 1.0) / 2.0
            })
            .collect();
        Self {
            chain: Chain {
                lengths: vec![LINK; LINKS],
                masses: vec![MASS; LINKS],
                gravity: G,
                damping: 0.05,
                dt: 0.01,
                substeps: 5,
                max_speed: MAX_SPEED,
            },
            max_torque,
        }
    }
}

impl Dynamics for FiveLinkArm {
    fn spec(&self) -> EnvSpec {
        let reach = LINK * LINKS as f64;
        let mut high = vec![1.0; 2 * LINKS];
        high.extend([MAX_SPEED; LINKS]);
        high.extend([reach, reach, 2.0 * reach, 2.0 * reach]);
        EnvSpec {
            id: ID,
            observation: BoxSpace { low: high.iter().map(|h| -h).collect(), high },
            action: BoxSpace::uniform(LINKS, -1.0, 1.0),
            max_episode_steps: 200,
            state_layout: "[q0..q4, q̇0..q̇4, target_x, target_y]",
            summary: "planar 5-link arm holding its tip on a target against gravity (manipulator equations)",
        }
    }

    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64> {
        let mut s: Vec<f64> = (0..LINKS).map(|_| rng.random_range(-0.1..0.1)).collect();
        s[0] -= FRAC_PI_2;
        s.extend([0.0; LINKS]);
        let (r, angle) = (rng.random_range(0.4..0.9), rng.random_range(0.0..PI));
        s.extend([r * f64::cos(angle), r * f64::sin(angle)]);
        s
    }

    fn check_state(&self, _state: &[f64]) -> Result<(), EnvError> {
        Ok(())
    }

    fn observe(&self, s: &[f64]) -> Vec<f32> {
        arm_observation(&self.chain, s)
    }

    fn step(&self, s: &mut [f64], action: &[f32]) -> (f64, bool) {
        let a: Vec<f64> = action.iter().map(|&a| f64::from(a).clamp(-1.0, 1.0)).collect();
        let torque: Vec<f64> = a.iter().zip(&self.max_torque).map(|(a, m)| a * m).collect();
        self.chain.advance(s, &torque);
        let reward = -tip_distance(&self.chain, s) - 0.01 * a.iter().map(|a| a * a).sum::<f64>();
        (reward, false)
    }

    fn scene(&self, s: &[f64]) -> Scene {
        arm_scene(&self.chain, s, 1.1, 0.03)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_torque_can_hold_the_stretched_arm_and_zero_torque_falls() {
        let arm = FiveLinkArm::default();
        // Stretched out horizontally, at rest.
        let mut s = vec![0.0; 2 * LINKS];
        s.extend([0.5, 0.5]);
        let mut held = s.clone();
        arm.step(&mut held, &[1.0 / 1.2; LINKS]);
        // Exactly the gravity torque at every joint (up to the f32 action): nothing moves.
        assert!(held[..2 * LINKS].iter().all(|v| v.abs() < 1e-6), "{held:?}");
        arm.step(&mut s, &[0.0; LINKS]);
        assert!(s[0] < -1e-3, "the unpowered arm falls: {s:?}");
    }
}

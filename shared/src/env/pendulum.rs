//! `Pendulum-v1`, exactly as Gymnasium 1.x defines it.
//!
//! State `[θ, θ̇]` (θ = 0 upright), action: torque `u ∈ [−2, 2]` (clipped). With g = 10, m = l = 1,
//! dt = 0.05:
//!
//! ```text
//! θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, −8, 8)
//! θ'  = θ + θ̇'·dt
//! r   = −(normalize(θ)² + 0.1·θ̇² + 0.001·u²)      (of the state before the step)
//! ```
//!
//! Observation `[cos θ, sin θ, θ̇]`; reset draws θ ~ U(−π, π), θ̇ ~ U(−1, 1); never terminates;
//! truncated at 200 steps.

use std::f64::consts::PI;

use rand::Rng;

use super::{BoxSpace, Dynamics, EnvError, EnvRng, EnvSpec, Role, Scene, Shape, angle_normalize};

/// The registered id.
pub const ID: &str = "Pendulum-v1";
const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f64 = 2.0;
const DT: f64 = 0.05;
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;

/// Gymnasium's pendulum swing-up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pendulum;

impl Dynamics for Pendulum {
    fn spec(&self) -> EnvSpec {
        EnvSpec {
            id: ID,
            observation: BoxSpace { low: vec![-1.0, -1.0, -MAX_SPEED], high: vec![1.0, 1.0, MAX_SPEED] },
            action: BoxSpace::uniform(1, -MAX_TORQUE, MAX_TORQUE),
            max_episode_steps: 200,
            state_layout: "[θ, θ̇]",
            summary: "swing a pendulum up and hold it (Gymnasium, exact)",
        }
    }

    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64> {
        vec![rng.random_range(-PI..PI), rng.random_range(-1.0..1.0)]
    }

    fn check_state(&self, _state: &[f64]) -> Result<(), EnvError> {
        Ok(())
    }

    fn observe(&self, s: &[f64]) -> Vec<f32> {
        vec![s[0].cos() as f32, s[0].sin() as f32, s[1] as f32]
    }

    fn step(&self, s: &mut [f64], action: &[f32]) -> (f64, bool) {
        let (th, thdot) = (s[0], s[1]);
        // The action stays float32, as in Gymnasium: under NumPy 2's promotion rules a Python float
        // times a float32 scalar is float32, so the torque term `3/(m l²)·u` and the cost's `0.001·u²`
        // are computed in float32 and only then join the float64 state (computing them in float64
        // drifts from Gymnasium by 10⁻⁴ within ~110 steps near the upright position, where errors grow).
        let u = action[0].clamp(-MAX_TORQUE as f32, MAX_TORQUE as f32);
        let torque = f64::from((3.0 / (M * L * L)) as f32 * u);
        let cost = angle_normalize(th).powi(2) + 0.1 * thdot * thdot + f64::from(0.001f32 * (u * u));
        let new_thdot = (thdot + (3.0 * G / (2.0 * L) * th.sin() + torque) * DT).clamp(-MAX_SPEED, MAX_SPEED);
        s[0] = th + new_thdot * DT;
        s[1] = new_thdot;
        (-cost, false)
    }

    fn scene(&self, s: &[f64]) -> Scene {
        // θ = 0 is upright and θ grows counter-clockwise, as in Gymnasium's renderer.
        let tip = [-L * s[0].sin(), L * s[0].cos()];
        Scene {
            view: [-1.3, 1.3, -1.3, 1.3],
            shapes: vec![
                Shape::Segment { from: [0.0, 0.0], to: tip, width: 0.2, role: Role::Body },
                Shape::Circle { center: [0.0, 0.0], radius: 0.05, role: Role::Joint },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_by_hand() {
        // θ = 1, θ̇ = 0.5, u = 3 → clipped to 2.
        // cost = 1 + 0.1·0.25 + 0.001·4 = 1.029 (0.001·4 in float32: 0.004000000189989805)
        // θ̇' = 0.5 + (15·sin 1 + 3·2)·0.05 = 0.5 + (12.622064772118… + 6)·0.05 = 1.431103238605…
        // θ'  = 1 + 1.431103238605…·0.05 = 1.071555161930…
        let mut s = vec![1.0, 0.5];
        let (r, term) = Pendulum.step(&mut s, &[3.0]);
        assert!((r + 1.025 + f64::from(0.004f32)).abs() < 1e-12 && !term);
        assert!((s[1] - (0.5 + (15.0 * 1f64.sin() + 6.0) * 0.05)).abs() < 1e-12);
        assert!((s[1] - 1.431_103_238_6).abs() < 1e-9);
        assert!((s[0] - 1.071_555_161_9).abs() < 1e-9);
    }
}

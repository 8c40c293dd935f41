//! `MountainCarContinuous-v0`, exactly as Gymnasium 1.x defines it.
//!
//! State `[position, velocity]`, action: force `a` (clipped to `[−1, 1]` for the dynamics, unclipped in
//! the reward). With power = 0.0015:
//!
//! ```text
//! v' = clip(v + force·power − 0.0025·cos(3·x), −0.07, 0.07)
//! x' = clip(x + v', −1.2, 0.6);   v' = 0 if x' = −1.2 and v' < 0
//! terminated = x' ≥ 0.45 and v' ≥ 0
//! r = 100·[terminated] − 0.1·a²
//! ```
//!
//! Gymnasium stores the state as float32 after each step; so does this. Reset: x ~ U(−0.6, −0.4), v = 0;
//! truncated at 999 steps.

use rand::Rng;

use super::{BoxSpace, Dynamics, EnvError, EnvRng, EnvSpec, Role, Scene, Shape};

/// The registered id.
pub const ID: &str = "MountainCarContinuous-v0";
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.45;
const GOAL_VELOCITY: f64 = 0.0;
const POWER: f64 = 0.0015;

/// Gymnasium's continuous mountain car.
#[derive(Debug, Clone, Copy, Default)]
pub struct MountainCarContinuous;

/// The track's height at `x`.
fn height(x: f64) -> f64 {
    (3.0 * x).sin() * 0.45 + 0.55
}

impl Dynamics for MountainCarContinuous {
    fn spec(&self) -> EnvSpec {
        EnvSpec {
            id: ID,
            observation: BoxSpace { low: vec![MIN_POSITION, -MAX_SPEED], high: vec![MAX_POSITION, MAX_SPEED] },
            action: BoxSpace::uniform(1, -1.0, 1.0),
            max_episode_steps: 999,
            state_layout: "[position, velocity]",
            summary: "drive an underpowered car up a hill (Gymnasium, exact)",
        }
    }

    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64> {
        vec![rng.random_range(-0.6..-0.4), 0.0]
    }

    fn check_state(&self, s: &[f64]) -> Result<(), EnvError> {
        let bounds = [("position", MIN_POSITION, MAX_POSITION), ("velocity", -MAX_SPEED, MAX_SPEED)];
        for (index, (&value, (name, low, high))) in s.iter().zip(bounds).enumerate() {
            if !(low..=high).contains(&value) {
                return Err(EnvError::StateOutOfRange { env: ID, index, name, value, low, high });
            }
        }
        Ok(())
    }

    fn observe(&self, s: &[f64]) -> Vec<f32> {
        vec![s[0] as f32, s[1] as f32]
    }

    fn step(&self, s: &mut [f64], action: &[f32]) -> (f64, bool) {
        let a = f64::from(action[0]);
        let force = a.clamp(-1.0, 1.0);
        let (mut x, mut v) = (s[0], s[1]);
        v = (v + force * POWER - 0.0025 * (3.0 * x).cos()).clamp(-MAX_SPEED, MAX_SPEED);
        x = (x + v).clamp(MIN_POSITION, MAX_POSITION);
        if x == MIN_POSITION && v < 0.0 {
            v = 0.0;
        }
        let terminated = x >= GOAL_POSITION && v >= GOAL_VELOCITY;
        let reward = if terminated { 100.0 } else { 0.0 } - a * a * 0.1;
        // Gymnasium keeps `np.array([position, velocity], dtype=np.float32)`.
        s[0] = f64::from(x as f32);
        s[1] = f64::from(v as f32);
        (reward, terminated)
    }

    fn scene(&self, s: &[f64]) -> Scene {
        let track = (0..=100)
            .map(|i| {
                let x = MIN_POSITION + (MAX_POSITION - MIN_POSITION) * f64::from(i) / 100.0;
                [x, height(x)]
            })
            .collect();
        let car = [s[0], height(s[0]) + 0.04];
        Scene {
            view: [MIN_POSITION, MAX_POSITION, 0.0, 1.1],
            shapes: vec![
                Shape::Polyline { points: track, role: Role::Ground },
                Shape::Segment {
                    from: [GOAL_POSITION, height(GOAL_POSITION)],
                    to: [GOAL_POSITION, height(GOAL_POSITION) + 0.1],
                    width: 0.01,
                    role: Role::Target,
                },
                Shape::Circle { center: car, radius: 0.04, role: Role::Body },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_stops_the_car_and_goal_terminates() {
        // At the left wall moving left: velocity is zeroed.
        let mut s = vec![-1.2, -0.07];
        let (r, term) = MountainCarContinuous.step(&mut s, &[2.0]);
        assert_eq!(s, vec![f64::from(-1.2f32), 0.0], "stored as float32, as Gymnasium does");
        // The reward uses the unclipped action: −0.1·2² = −0.4.
        assert!((r + 0.4).abs() < 1e-12 && !term);
        // Just below the goal, moving right fast: reaches it.
        let mut s = vec![0.44, 0.06];
        let (r, term) = MountainCarContinuous.step(&mut s, &[0.0]);
        assert!(term && (r - 100.0).abs() < 1e-12);
        assert!(MountainCarContinuous.check_state(&[0.7, 0.0]).unwrap_err().to_string().contains("position"));
    }
}

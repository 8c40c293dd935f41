//! Pendulum-v1 and MountainCarContinuous-v0 reproduce Gymnasium to 1e-5 from the same state and actions.
//!
//! The reference trajectories were written by `scripts/gymnasium_reference.py` with Gymnasium 1.4.0 and
//! NumPy 2 from float32 actions (what every agent sends). The last case balances Pendulum near the
//! unstable upright position, where rounding differences grow: it is held to 10⁻⁶, which computing
//! the torque term in float64 instead of Gymnasium's float32 breaks (measured 10⁻⁴ drift).
#![allow(clippy::unwrap_used)]

use era_shared::env::Env;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    env: String,
    state: Vec<f64>,
    actions: Vec<Vec<f32>>,
    steps: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    obs: Vec<f64>,
    reward: f64,
    terminated: bool,
    truncated: bool,
}

#[test]
fn trajectories_match_gymnasium() {
    let text = include_str!("data/gymnasium_reference.json");
    let cases: Vec<Case> = serde_json::from_str(text).unwrap();
    assert_eq!(cases.len(), 5);
    for (c, case) in cases.iter().enumerate() {
        let mut env = Env::make(&case.env).unwrap();
        env.reset_to(&case.state).unwrap();
        let mut worst = 0f64;
        for (t, (a, want)) in case.actions.iter().zip(&case.steps).enumerate() {
            let got = env.step(a).unwrap();
            let at = format!("case {c} ({}) step {t}", case.env);
            assert_eq!((got.terminated, got.truncated), (want.terminated, want.truncated), "{at}");
            for (g, w) in got.obs.iter().zip(&want.obs) {
                worst = worst.max((f64::from(*g) - w).abs());
            }
            worst = worst.max((got.reward - want.reward).abs());
            let tolerance = if c == 4 { 1e-6 } else { 1e-5 };
            assert!(
                worst <= tolerance,
                "{at}: {:?} vs {:?}, reward {} vs {}",
                got.obs,
                want.obs,
                got.reward,
                want.reward
            );
        }
        assert!(env.step(&case.actions[0]).is_err() || case.steps.len() == case.actions.len(), "case {c} ended");
        eprintln!("case {c} ({}): largest difference {worst:.2e} over {} steps", case.env, case.steps.len());
    }
}

//! era's MuJoCo tasks against Gymnasium itself: observations and rewards over 100 steps per task.
//!
//! Needs `eval "$(scripts/setup-mujoco.sh)"` (MuJoCo 3.17.0, Gymnasium 1.4.0's models, and a venv
//! with `gymnasium[mujoco]==1.4.0` whose python is `$ERA_GYMNASIUM_PYTHON`).

mod common;

use era_shared::env::{Env, MUJOCO_ENV_IDS};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    gymnasium: String,
    mujoco: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    env: String,
    segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Segment {
    state: Vec<f64>,
    first_obs: Vec<f64>,
    actions: Vec<Vec<f32>>,
    steps: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    obs: Vec<f64>,
    reward: f64,
    terminated: bool,
}

/// Runs Gymnasium through the setup script's venv.
fn gymnasium(steps: usize) -> Reference {
    common::reference("gymnasium_mujoco_reference.py", &[&steps.to_string()])
}

/// Observations are f32 in era (f64 in Gymnasium): equal to 1e-6, relative above magnitude 1.
/// Returns the largest error seen.
fn assert_obs(env: &str, at: &str, ours: &[f32], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{env} {at}: observation length");
    let mut worst = 0.0f64;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let err = (f64::from(a) - b).abs() / b.abs().max(1.0);
        assert!(err <= 1e-6, "{env} {at}: obs[{i}] = {a}, Gymnasium {b} (error {err:e})");
        worst = worst.max(err);
    }
    worst
}

#[test]
fn observations_and_rewards_match_gymnasium_for_100_steps() {
    let reference = gymnasium(100);
    assert_eq!((reference.gymnasium.as_str(), reference.mujoco.as_str()), ("1.4.0", "3.17.0"));
    let ids: Vec<&str> = reference.cases.iter().map(|c| c.env.as_str()).collect();
    assert_eq!(ids, MUJOCO_ENV_IDS);
    for case in &reference.cases {
        let env_id = case.env.as_str();
        let mut env = Env::make(env_id).unwrap();
        let (mut steps, mut worst, mut worst_obs) = (0, 0.0f64, 0.0f64);
        for (k, seg) in case.segments.iter().enumerate() {
            let obs = env.reset_to(&seg.state).unwrap();
            worst_obs = worst_obs.max(assert_obs(env_id, &format!("segment {k} reset"), &obs, &seg.first_obs));
            for (t, (action, want)) in seg.actions.iter().zip(&seg.steps).enumerate() {
                let got = env.step(action).unwrap();
                let at = format!("segment {k} step {t}");
                worst_obs = worst_obs.max(assert_obs(env_id, &at, &got.obs, &want.obs));
                let err = (got.reward - want.reward).abs();
                worst = worst.max(err);
                assert!(err <= 1e-6, "{env_id} {at}: reward {} vs Gymnasium {}", got.reward, want.reward);
                assert_eq!(got.terminated, want.terminated, "{env_id} {at}: terminated");
                steps += 1;
            }
        }
        assert_eq!(steps, 100, "{env_id}");
        eprintln!(
            "{env_id}: 100 steps in {} segments, worst observation error {worst_obs:e}, worst reward error {worst:e}",
            case.segments.len()
        );
    }
}

#[test]
fn a_restored_snapshot_continues_bit_for_bit() {
    // Every Gymnasium task, and a DMC task of each kind of state (no activations, activations, a big one).
    let dmc = ["dmc/cheetah-run", "dmc/quadruped-run", "dmc/dog-walk"];
    for id in MUJOCO_ENV_IDS.iter().chain(&dmc) {
        let mut a = Env::make(id).unwrap();
        let mut b = Env::make(id).unwrap();
        a.reset(Some(5));
        let dims = a.spec().action.dims();
        let act = |t: usize| (0..dims).map(|i| 0.3 * ((t * dims + i) as f32).sin()).collect::<Vec<f32>>();
        for t in 0..3 {
            a.step(&act(t)).unwrap();
        }
        let snap = a.snapshot();
        assert!(!snap.sim.is_empty(), "{id}: the simulator state is kept");
        // Through JSON, as a checkpoint stores it.
        let snap = serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
        b.restore(snap).unwrap();
        for t in 3..8 {
            let (x, y) = (a.step(&act(t)), b.step(&act(t)));
            assert_eq!(x, y, "{id} step {t}");
            if x.unwrap().terminated {
                break;
            }
        }
    }
}

#[test]
fn rollout_state_is_qpos_then_qvel_and_bad_states_are_named() {
    let mut env = Env::make("Hopper-v5").unwrap();
    assert_eq!(env.spec().state_layout, "qpos[6] then qvel[6]");
    let e = env.reset_to(&[0.0; 11]).unwrap_err().to_string();
    assert!(e.contains("state has 11 values, expected 12") && e.contains("qpos[6] then qvel[6]"), "{e}");
    let mut state = vec![0.0, 1.25, 0.0, 0.0, 0.0, 0.0];
    state.extend([0.0; 6]);
    let obs = env.reset_to(&state).unwrap();
    // qpos without x, then qvel.
    assert_eq!(&obs[..5], &[1.25, 0.0, 0.0, 0.0, 0.0]);
}

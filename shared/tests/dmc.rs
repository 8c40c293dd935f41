//! era's DeepMind Control tasks against dm_control itself: observations and rewards over 100
//! steps from the same state, the episode length and action bounds, and the reset distribution
//! (`tests/mujoco.rs` checks the DMC tasks' exact resume with the Gymnasium ones).
//!
//! Needs `eval "$(scripts/setup-mujoco.sh)"` (MuJoCo 3.17.0, dm_control 1.0.50's suite, and a venv
//! with `dm-control==1.0.50` whose python is `$ERA_GYMNASIUM_PYTHON`).

mod common;

use era_shared::env::{DMC_ENV_IDS, Env};
use serde::Deserialize;
use serde::de::DeserializeOwned;

#[derive(Deserialize)]
struct Reference<C> {
    dm_control: String,
    mujoco: String,
    cases: Vec<C>,
}

#[derive(Deserialize)]
struct StepsCase {
    env: String,
    state: Vec<f64>,
    first_obs: Vec<f64>,
    step_limit: f64,
    n_sub_steps: usize,
    action_low: Vec<f64>,
    action_high: Vec<f64>,
    actions: Vec<Vec<f32>>,
    steps: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    obs: Vec<f64>,
    reward: f64,
}

#[derive(Deserialize)]
struct ResetsCase {
    env: String,
    n: usize,
    mean: Vec<f64>,
    std: Vec<f64>,
}

/// Runs `scripts/dmc_reference.py MODE COUNT` through the setup script's venv.
fn dm_control<C: DeserializeOwned>(mode: &str, count: usize) -> Reference<C> {
    let reference: Reference<C> = common::reference("dmc_reference.py", &[mode, &count.to_string()]);
    assert_eq!((reference.dm_control.as_str(), reference.mujoco.as_str()), ("1.0.50", "3.17.0"));
    reference
}

/// Relative error, with values below 1e-6 in magnitude compared absolutely (f32 rounding of a
/// value near 0 is not a relative 1e-5).
fn rel(ours: f64, theirs: f64) -> f64 {
    (ours - theirs).abs() / theirs.abs().max(1e-6)
}

/// Every observation entry within 1e-5 relative; returns the largest error.
fn assert_obs(env: &str, at: &str, ours: &[f32], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{env} {at}: observation length");
    let mut worst = 0.0f64;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let err = rel(f64::from(a), b);
        assert!(err <= 1e-5, "{env} {at}: obs[{i}] = {a}, dm_control {b} (relative error {err:e})");
        worst = worst.max(err);
    }
    worst
}

#[test]
fn observations_and_rewards_match_dm_control_for_100_steps() {
    let reference: Reference<StepsCase> = dm_control("steps", 100);
    let ids: Vec<&str> = reference.cases.iter().map(|c| c.env.as_str()).collect();
    assert_eq!(ids, DMC_ENV_IDS);
    for case in &reference.cases {
        let id = case.env.as_str();
        let mut env = Env::make(id).unwrap();
        let spec = env.spec().clone();
        assert_eq!(f64::from(spec.max_episode_steps), case.step_limit.ceil(), "{id}: episode length");
        assert_eq!((&spec.action.low, &spec.action.high), (&case.action_low, &case.action_high), "{id}: action bounds");
        let obs = env.reset_to(&case.state).unwrap();
        let mut worst_obs = assert_obs(id, "reset", &obs, &case.first_obs);
        let mut worst_reward = 0.0f64;
        for (t, (action, want)) in case.actions.iter().zip(&case.steps).enumerate() {
            let got = env.step(action).unwrap();
            let at = format!("step {t}");
            worst_obs = worst_obs.max(assert_obs(id, &at, &got.obs, &want.obs));
            let err = rel(got.reward, want.reward);
            assert!(err <= 1e-5, "{id} {at}: reward {} vs dm_control {} ({err:e})", got.reward, want.reward);
            worst_reward = worst_reward.max(err);
            assert!(!got.terminated && !got.truncated, "{id} {at}: dm_control's tasks only end at the time limit");
        }
        assert_eq!(case.steps.len(), 100);
        eprintln!(
            "{id}: {} physics steps per action, 100 steps, worst observation error {worst_obs:e}, worst reward error {worst_reward:e}",
            case.n_sub_steps
        );
    }
}

#[test]
fn reset_states_are_distributed_as_dm_controls() {
    const N: usize = 300;
    let reference: Reference<ResetsCase> = dm_control("resets", N);
    for case in &reference.cases {
        let id = case.env.as_str();
        let mut env = Env::make(id).unwrap();
        let states: Vec<Vec<f64>> = (0..N as u64)
            .map(|seed| {
                env.reset(Some(seed));
                env.state().to_vec()
            })
            .collect();
        let dims = states[0].len();
        assert_eq!((dims, case.n), (case.mean.len(), N), "{id}: state length");
        let mut worst = 0.0f64;
        for i in 0..dims {
            let mean = states.iter().map(|s| s[i]).sum::<f64>() / N as f64;
            let std = (states.iter().map(|s| (s[i] - mean).powi(2)).sum::<f64>() / N as f64).sqrt();
            // Means within 5 standard errors of their difference; spreads within 25 % (the spread of
            // a standard deviation over 300 draws is about 4 % for a normal, more for skewed draws).
            let se = ((std * std + case.std[i] * case.std[i]) / N as f64).sqrt();
            let z = (mean - case.mean[i]).abs() / se.max(1e-9);
            assert!(
                z <= 5.0 || (mean - case.mean[i]).abs() < 1e-9,
                "{id}: state[{i}] mean {mean} vs dm_control {} ({z:.1} standard errors)",
                case.mean[i]
            );
            let spread = (std - case.std[i]).abs() / case.std[i].max(std).max(1e-9);
            assert!(
                spread <= 0.25 || case.std[i].max(std) < 1e-6,
                "{id}: state[{i}] spread {std} vs dm_control {}",
                case.std[i]
            );
            worst = worst.max(z);
        }
        eprintln!("{id}: {dims} state entries over {N} resets, largest mean difference {worst:.2} standard errors");
    }
}

#[test]
fn states_of_the_wrong_length_and_unknown_tasks_are_named() {
    let mut env = Env::make("dmc/quadruped-run").unwrap();
    assert_eq!(env.spec().state_layout, "qpos[23] then qvel[22] then act[12]");
    let e = env.reset_to(&[0.0; 45]).unwrap_err().to_string();
    assert!(e.contains("state has 45 values, expected 57") && e.contains("act[12]"), "{e}");
    let e = Env::make("dmc/walker-jog").unwrap_err().to_string();
    assert!(e.contains("unknown environment `dmc/walker-jog`") && e.contains("dmc/walker-run"), "{e}");
    assert!(!e.contains("Pendulum"), "only the suite's tasks are listed: {e}");
}

//! Environments with Gymnasium's API, in pure Rust (no native dependencies; they also run in the browser).
//!
//! An [`Env`] is one task's physics ([`Dynamics`]) plus what Gymnasium's wrappers add: a seeded RNG
//! for resets, the time limit (`truncated`), and a check of every action. [`VecEnv`] runs N copies
//! with automatic reset. [`Env::scene`] gives what the explorer needs to draw the task.
//!
//! | id | obs | action | limit | what |
//! |---|---|---|---|---|
//! | `Pendulum-v1` | 3 | 1 | 200 | Gymnasium's pendulum swing-up, exact |
//! | `MountainCarContinuous-v0` | 2 | 1 | 999 | Gymnasium's continuous mountain car, exact |
//! | `TwoLinkReacher-v0` | 10 | 2 | 50 | planar 2-link arm reaching a target (no gravity) |
//! | `FiveLinkArm-v0` | 19 | 5 | 200 | planar 5-link arm under gravity holding its tip on a target |
//!
//! With the `mujoco` feature, [`mujoco`] adds Gymnasium's v5 locomotion tasks (`HalfCheetah-v5`,
//! `Hopper-v5`, `Walker2d-v5`, `Ant-v5`, `Humanoid-v5`) and [`dmc`] the DeepMind Control suite's
//! (`dmc/cheetah-run`, `dmc/walker-walk`, …, `dmc/humanoid-walk`, `dmc/dog-walk`), simulated by
//! MuJoCo 3.17.0.

mod chain;
pub mod dmc;
pub mod five_link_arm;
pub mod mountain_car;
#[cfg(feature = "mujoco")]
pub mod mujoco;
pub mod pendulum;
#[cfg(feature = "render")]
pub mod render;
pub mod scene;
pub mod two_link_reacher;
pub mod vec_env;

use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use dmc::DMC_ENV_IDS;
pub use scene::{Role, Scene, Shape};
pub use vec_env::{VecEnv, VecStep};

/// The random generator behind resets: seedable, portable, and serialisable for checkpoints.
pub type EnvRng = ChaCha8Rng;

/// Why an environment could not be made, reset or stepped.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EnvError {
    /// No environment has this id.
    #[error("unknown environment `{id}` (available: {available})")]
    UnknownId {
        /// The id asked for.
        id: String,
        /// Every registered id, comma-separated.
        available: String,
    },
    /// An action or state of the wrong length.
    #[error("{env}: {what} has {got} values, expected {expected} ({layout})")]
    Length {
        /// The environment id.
        env: &'static str,
        /// `action` or `state`.
        what: &'static str,
        /// Values given.
        got: usize,
        /// Values required.
        expected: usize,
        /// What the values mean.
        layout: &'static str,
    },
    /// A NaN or infinite value in an action or state.
    #[error("{env}: {what}[{index}] = {value} is not a finite number")]
    NotFinite {
        /// The environment id.
        env: &'static str,
        /// `action` or `state`.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A state value outside the range the dynamics allow.
    #[error("{env}: state[{index}] ({name}) = {value} is outside [{low}, {high}]")]
    StateOutOfRange {
        /// The environment id.
        env: &'static str,
        /// Position of the value.
        index: usize,
        /// What the value is.
        name: &'static str,
        /// The value.
        value: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// A known environment that cannot be made here (a missing feature or model file).
    #[error("{id}: {reason}")]
    Unavailable {
        /// The environment id.
        id: String,
        /// What is missing and how to get it.
        reason: String,
    },
    /// An action repeat outside `1..=` the task's time limit.
    #[error("{env}: action repeat {got} must be in 1..={limit} (the task's time limit in steps)")]
    ActionRepeat {
        /// The environment id.
        env: &'static str,
        /// The repeat asked for.
        got: u32,
        /// The task's time limit.
        limit: u32,
    },
    /// `step` after the episode ended, before `reset`.
    #[error("{env}: step called after the episode ended; call reset first")]
    NeedsReset {
        /// The environment id.
        env: &'static str,
    },
}

/// A box: per-dimension lower and upper bounds (infinite where unbounded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxSpace {
    /// Lower bounds.
    pub low: Vec<f64>,
    /// Upper bounds.
    pub high: Vec<f64>,
}

impl BoxSpace {
    /// A box with the same bounds in every one of `dims` dimensions.
    pub fn uniform(dims: usize, low: f64, high: f64) -> Self {
        Self { low: vec![low; dims], high: vec![high; dims] }
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.low.len()
    }

    /// Maps `a ∈ [−1, 1]` per dimension to `[low, high]` (the agents act in `[−1, 1]`).
    pub fn from_unit(&self, a: &[f32]) -> Vec<f32> {
        a.iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(&a, (&lo, &hi))| (lo + (f64::from(a) + 1.0) * 0.5 * (hi - lo)) as f32)
            .collect()
    }
}

/// What an environment is: id, spaces, time limit and the layout of its raw state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvSpec {
    /// The Gymnasium-style id, e.g. `Pendulum-v1`.
    pub id: &'static str,
    /// Observation bounds.
    pub observation: BoxSpace,
    /// Action bounds (actions are clipped to them as the task defines).
    pub action: BoxSpace,
    /// Gymnasium's `max_episode_steps`: `truncated` becomes true at this step.
    pub max_episode_steps: u32,
    /// The raw state accepted by [`Env::reset_to`], e.g. `[θ, θ̇]`.
    pub state_layout: &'static str,
    /// One line about the task.
    pub summary: &'static str,
}

/// One task's physics: the state is a plain `Vec<f64>`, so snapshots and `--state` are trivial.
pub trait Dynamics: Send + Sync + fmt::Debug {
    /// The task's spec.
    fn spec(&self) -> EnvSpec;
    /// Draws an initial state, as the task's `reset` does.
    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64>;
    /// Rejects a raw state the dynamics cannot start from (length is checked by [`Env`]).
    fn check_state(&self, state: &[f64]) -> Result<(), EnvError>;
    /// The observation of a state.
    fn observe(&self, state: &[f64]) -> Vec<f32>;
    /// Advances `state` by one step under `action`; returns the reward and whether the episode terminated.
    fn step(&self, state: &mut [f64], action: &[f32]) -> (f64, bool);
    /// What to draw for a state.
    fn scene(&self, state: &[f64]) -> Scene;
    /// An episode starts from `state` (a simulator sets its internal state here; the pure-Rust
    /// tasks keep everything in `state` and need nothing).
    fn begin(&self, _state: &[f64]) {}
    /// Simulator state beyond the raw state that an exact continuation needs (MuJoCo: the solver's
    /// warm start and time); empty when the raw state is everything.
    fn sim_state(&self) -> Vec<f64> {
        Vec::new()
    }
    /// Restores what [`Dynamics::sim_state`] returned, after the raw state was set.
    fn restore_sim_state(&self, _sim: &[f64]) -> Result<(), EnvError> {
        Ok(())
    }
    /// MuJoCo's offscreen renderer of this task's model, `width × height` (`None`: not a MuJoCo task).
    #[cfg(feature = "render")]
    fn renderer(&self, _width: u32, _height: u32) -> Option<Result<mujoco_rs::renderer::MjRenderer, String>> {
        None
    }
    /// Draws `state` with a renderer made by [`Dynamics::renderer`].
    #[cfg(feature = "render")]
    fn render(&self, _state: &[f64], _renderer: &mut mujoco_rs::renderer::MjRenderer) -> Result<(), String> {
        Err("not a MuJoCo task".into())
    }
}

/// The ids of the pure-Rust environments (every build, the browser too), in the order `era env list` prints them.
pub const ENV_IDS: &[&str] = &[pendulum::ID, mountain_car::ID, two_link_reacher::ID, five_link_arm::ID];

/// The ids of the MuJoCo locomotion tasks (available with the `mujoco` feature).
pub const MUJOCO_ENV_IDS: &[&str] = &["HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5", "Humanoid-v5"];

/// Whether `id` names a MuJoCo task (Gymnasium's or DeepMind Control's), in any build.
pub fn is_mujoco(id: &str) -> bool {
    MUJOCO_ENV_IDS.contains(&id) || DMC_ENV_IDS.contains(&id)
}

/// Every id this build can make: [`ENV_IDS`], plus [`MUJOCO_ENV_IDS`] and [`DMC_ENV_IDS`] with the
/// `mujoco` feature.
pub fn env_ids() -> Vec<&'static str> {
    let mut ids = ENV_IDS.to_vec();
    if cfg!(feature = "mujoco") {
        ids.extend(MUJOCO_ENV_IDS);
        ids.extend(DMC_ENV_IDS);
    }
    ids
}

/// The dynamics registered under `id`.
pub fn dynamics(id: &str) -> Result<Box<dyn Dynamics>, EnvError> {
    #[cfg(feature = "mujoco")]
    if let Some(task) = mujoco::task(id) {
        return Ok(Box::new(mujoco::Locomotion::new(task)?));
    }
    #[cfg(feature = "mujoco")]
    if let Some(def) = dmc::definition(id) {
        return Ok(Box::new(dmc::Suite::new(def)?));
    }
    Ok(match id {
        pendulum::ID => Box::new(pendulum::Pendulum),
        mountain_car::ID => Box::new(mountain_car::MountainCarContinuous),
        two_link_reacher::ID => Box::new(two_link_reacher::TwoLinkReacher::default()),
        five_link_arm::ID => Box::new(five_link_arm::FiveLinkArm::default()),
        _ if MUJOCO_ENV_IDS.contains(&id) || DMC_ENV_IDS.contains(&id) => {
            return Err(EnvError::Unavailable {
                id: id.to_string(),
                reason: "this build has no MuJoCo: set it up with `eval \"$(scripts/setup-mujoco.sh)\"` and build \
                         with `--features mujoco`"
                    .into(),
            });
        }
        // A mistyped suite task is named among its own suite's.
        _ if id.starts_with("dmc/") => {
            return Err(EnvError::UnknownId { id: id.to_string(), available: DMC_ENV_IDS.join(", ") });
        }
        _ => return Err(EnvError::UnknownId { id: id.to_string(), available: env_ids().join(", ") }),
    })
}

/// The spec of every environment this build can make (a MuJoCo task whose model files are
/// missing is left out; [`dynamics`] says why).
pub fn specs() -> Vec<EnvSpec> {
    env_ids().iter().filter_map(|id| dynamics(id).ok()).map(|d| d.spec()).collect()
}

/// The result of one step, as Gymnasium returns it (without `info`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The next observation.
    pub obs: Vec<f32>,
    /// The reward.
    pub reward: f64,
    /// The task ended (goal reached or failure).
    pub terminated: bool,
    /// The time limit was reached.
    pub truncated: bool,
}

/// Everything needed to continue an environment exactly: for checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvSnapshot {
    /// The raw state.
    pub state: Vec<f64>,
    /// The task's own steps taken in the current episode.
    pub elapsed: u32,
    /// Whether the episode has ended.
    pub done: bool,
    /// The reset RNG.
    pub rng: EnvRng,
    /// The simulator's own state ([`Dynamics::sim_state`]); empty for the pure-Rust tasks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sim: Vec<f64>,
}

/// A task with Gymnasium's `reset`/`step` API and time limit, optionally repeating each action.
#[derive(Debug)]
pub struct Env {
    dynamics: Box<dyn Dynamics>,
    spec: EnvSpec,
    state: Vec<f64>,
    /// Length of a raw state (fixed per task).
    state_len: usize,
    rng: EnvRng,
    /// The task's own steps taken in this episode (each action takes up to `action_repeat`).
    elapsed: u32,
    /// The task's own time limit, in its steps.
    task_limit: u32,
    action_repeat: u32,
    done: bool,
}

impl Env {
    /// The environment registered under `id`, seeded with 0 until the first `reset(Some(seed))`.
    pub fn make(id: &str) -> Result<Self, EnvError> {
        let dynamics = dynamics(id)?;
        let spec = dynamics.spec();
        let mut rng = EnvRng::seed_from_u64(0);
        let state = dynamics.initial_state(&mut rng);
        let task_limit = spec.max_episode_steps;
        Ok(Self {
            dynamics,
            spec,
            state_len: state.len(),
            state,
            rng,
            elapsed: 0,
            task_limit,
            action_repeat: 1,
            done: true,
        })
    }

    /// Repeats every action `n` times, summing the rewards (the action-repeat wrapper of DrQ and
    /// jaxrl): an episode of `T` task steps becomes `⌈T/n⌉` steps, the last of which repeats only
    /// as often as the time limit leaves room for; a termination ends the repeats at once.
    pub fn with_action_repeat(mut self, n: u32) -> Result<Self, EnvError> {
        if !(1..=self.task_limit).contains(&n) {
            return Err(EnvError::ActionRepeat { env: self.spec.id, got: n, limit: self.task_limit });
        }
        self.action_repeat = n;
        self.spec.max_episode_steps = self.task_limit.div_ceil(n);
        Ok(self)
    }

    /// How often each action is applied.
    pub fn action_repeat(&self) -> u32 {
        self.action_repeat
    }

    /// The spec.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Starts an episode; with a seed the RNG is re-seeded first (Gymnasium's `reset(seed=…)`).
    pub fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        self.state = self.dynamics.initial_state(&mut self.rng);
        self.dynamics.begin(&self.state);
        self.elapsed = 0;
        self.done = false;
        self.dynamics.observe(&self.state)
    }

    /// Starts an episode from a raw state (layout in [`EnvSpec::state_layout`]).
    pub fn reset_to(&mut self, state: &[f64]) -> Result<Vec<f32>, EnvError> {
        let expected = self.state_len;
        if state.len() != expected {
            return Err(EnvError::Length {
                env: self.spec.id,
                what: "state",
                got: state.len(),
                expected,
                layout: self.spec.state_layout,
            });
        }
        if let Some((index, &value)) = state.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(EnvError::NotFinite { env: self.spec.id, what: "state", index, value });
        }
        self.dynamics.check_state(state)?;
        self.state = state.to_vec();
        self.dynamics.begin(&self.state);
        self.elapsed = 0;
        self.done = false;
        Ok(self.dynamics.observe(&self.state))
    }

    /// Applies one action (in the environment's own units; see [`BoxSpace::from_unit`]).
    pub fn step(&mut self, action: &[f32]) -> Result<Step, EnvError> {
        let env = self.spec.id;
        if self.done {
            return Err(EnvError::NeedsReset { env });
        }
        let expected = self.spec.action.dims();
        if action.len() != expected {
            return Err(EnvError::Length {
                env,
                what: "action",
                got: action.len(),
                expected,
                layout: "one value per joint",
            });
        }
        if let Some((index, &value)) = action.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(EnvError::NotFinite { env, what: "action", index, value: value.into() });
        }
        let (mut reward, mut terminated) = (0.0, false);
        for _ in 0..self.action_repeat {
            let (r, t) = self.dynamics.step(&mut self.state, action);
            reward += r;
            terminated = t;
            self.elapsed = self.elapsed.saturating_add(1);
            if terminated || self.elapsed >= self.task_limit {
                break;
            }
        }
        let truncated = self.elapsed >= self.task_limit;
        self.done = terminated || truncated;
        Ok(Step { obs: self.dynamics.observe(&self.state), reward, terminated, truncated })
    }

    /// The raw state (layout in [`EnvSpec::state_layout`]).
    pub fn state(&self) -> &[f64] {
        &self.state
    }

    /// The task's own steps taken in the current episode (actions × the action repeat, at most).
    pub fn elapsed(&self) -> u32 {
        self.elapsed
    }

    /// What to draw now.
    pub fn scene(&self) -> Scene {
        self.dynamics.scene(&self.state)
    }

    /// The task's physics.
    pub fn dynamics(&self) -> &dyn Dynamics {
        self.dynamics.as_ref()
    }

    /// A snapshot from which [`Env::restore`] continues exactly.
    pub fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: self.state.clone(),
            elapsed: self.elapsed,
            done: self.done,
            rng: self.rng.clone(),
            sim: self.dynamics.sim_state(),
        }
    }

    /// Continues from a snapshot taken of an environment with the same id.
    pub fn restore(&mut self, snapshot: EnvSnapshot) -> Result<(), EnvError> {
        self.reset_to(&snapshot.state)?;
        if !snapshot.sim.is_empty() {
            self.dynamics.restore_sim_state(&snapshot.sim)?;
        }
        self.elapsed = snapshot.elapsed;
        self.done = snapshot.done;
        self.rng = snapshot.rng;
        Ok(())
    }
}

/// Gymnasium's `angle_normalize`: `((x + π) mod 2π) − π` with a floored modulo, in `[−π, π)`.
pub fn angle_normalize(x: f64) -> f64 {
    use std::f64::consts::PI;
    (x + PI).rem_euclid(2.0 * PI) - PI
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_env_resets_steps_and_truncates_at_its_limit() {
        for spec in specs() {
            let mut env = Env::make(spec.id).unwrap();
            let obs = env.reset(Some(3));
            assert_eq!(obs.len(), spec.observation.dims(), "{}", spec.id);
            let zero = vec![0.0; spec.action.dims()];
            let mut steps = 0;
            loop {
                let s = env.step(&zero).unwrap();
                steps += 1;
                assert!(s.obs.iter().all(|v| v.is_finite()) && s.reward.is_finite(), "{}", spec.id);
                if s.terminated || s.truncated {
                    assert!(s.truncated == (steps == spec.max_episode_steps), "{}", spec.id);
                    break;
                }
            }
            assert!(matches!(env.step(&zero), Err(EnvError::NeedsReset { .. })));
        }
    }

    #[test]
    fn same_seed_same_episode_and_snapshots_continue_exactly() {
        for id in ENV_IDS {
            let mut a = Env::make(id).unwrap();
            let mut b = Env::make(id).unwrap();
            assert_eq!(a.reset(Some(7)), b.reset(Some(7)));
            let act = vec![0.3; a.spec().action.dims()];
            a.step(&act).unwrap();
            let snap = a.snapshot();
            let next_a = a.step(&act).unwrap();
            b.restore(snap).unwrap();
            assert_eq!(b.step(&act).unwrap(), next_a, "{id}");
            // The RNG continues too: the next reset draws the same state.
            assert_eq!(a.reset(None), b.reset(None), "{id}");
        }
    }

    #[test]
    fn bad_actions_and_states_are_named() {
        let mut env = Env::make("Pendulum-v1").unwrap();
        env.reset(Some(0));
        let e = env.step(&[0.0, 1.0]).unwrap_err().to_string();
        assert!(e.contains("action has 2 values, expected 1"), "{e}");
        let e = env.step(&[f32::NAN]).unwrap_err().to_string();
        assert!(e.contains("action[0] = NaN"), "{e}");
        let e = env.reset_to(&[0.0]).unwrap_err().to_string();
        assert!(e.contains("state has 1 values, expected 2") && e.contains("θ"), "{e}");
        let e = Env::make("Pendulum-v0").unwrap_err().to_string();
        assert!(e.contains("unknown environment `Pendulum-v0`") && e.contains("Pendulum-v1"), "{e}");
    }

    #[test]
    fn action_repeat_sums_rewards_and_shortens_the_episode() {
        let a = [0.7f32];
        let mut once = Env::make("Pendulum-v1").unwrap();
        let mut thrice = Env::make("Pendulum-v1").unwrap().with_action_repeat(3).unwrap();
        // 200 task steps: 66 actions of 3 and a last one of 2.
        assert_eq!(thrice.spec().max_episode_steps, 67);
        assert_eq!(once.reset(Some(4)), thrice.reset(Some(4)));
        let mut steps = 0;
        loop {
            let s = thrice.step(&a).unwrap();
            steps += 1;
            let repeats = if steps == 67 { 2 } else { 3 };
            let mut reward = 0.0;
            let mut last = None;
            for _ in 0..repeats {
                let o = once.step(&a).unwrap();
                reward += o.reward;
                last = Some(o);
            }
            let last = last.unwrap();
            assert_eq!(
                (&s.obs, s.terminated, s.truncated),
                (&last.obs, last.terminated, last.truncated),
                "step {steps}"
            );
            assert!((s.reward - reward).abs() < 1e-12);
            if s.truncated {
                break;
            }
        }
        assert_eq!((steps, thrice.elapsed()), (67, 200));
        let e = Env::make("Pendulum-v1").unwrap().with_action_repeat(0).unwrap_err().to_string();
        assert!(e.contains("action repeat 0 must be in 1..=200"), "{e}");
    }

    #[test]
    fn angle_normalize_matches_python_floored_modulo() {
        use std::f64::consts::PI;
        // Python: ((-4.0 + pi) % (2*pi)) - pi = 2.2831853071795862
        assert!((angle_normalize(-4.0) - 2.283_185_307_179_586_2).abs() < 1e-15);
        assert!((angle_normalize(PI) + PI).abs() < 1e-15);
        assert_eq!(angle_normalize(0.5), 0.5);
    }
}

//! A control run's settings: the environment, the agent (tagged by algorithm), the budget, and the
//! evaluation and logging cadence; saved as the run's `config.json`.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use super::policy::EraConfig;
use super::ppo::PpoConfig;
use super::sac::SacConfig;
use crate::env::Env;
use crate::train::TrainError;

/// Which algorithm family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algo {
    /// Soft actor-critic (SAC-ERA with ERA on).
    Sac,
    /// Proximal policy optimisation (PPO-ERA with ERA on).
    Ppo,
}

crate::choice::named_choice!(Algo, "algorithm", { Sac => "sac", Ppo => "ppo" });

/// The agent's settings, tagged by algorithm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algo", rename_all = "snake_case")]
pub enum AgentConfig {
    /// SAC or SAC-ERA.
    Sac(SacConfig),
    /// PPO or PPO-ERA.
    Ppo(PpoConfig),
}

impl AgentConfig {
    /// The family.
    pub fn algo(&self) -> Algo {
        match self {
            Self::Sac(_) => Algo::Sac,
            Self::Ppo(_) => Algo::Ppo,
        }
    }

    /// The ERA settings.
    pub fn era(&self) -> &EraConfig {
        match self {
            Self::Sac(c) => &c.era,
            Self::Ppo(c) => &c.era,
        }
    }

    /// The ERA settings, to change mid-run ([`EraConfig::retarget`]).
    pub fn era_mut(&mut self) -> &mut EraConfig {
        match self {
            Self::Sac(c) => &mut c.era,
            Self::Ppo(c) => &mut c.era,
        }
    }
}

/// A control run: environment, agent, budget, evaluation and logging cadence.
#[derive(Config, Debug, PartialEq)]
pub struct ControlConfig {
    /// Environment id (see `era env list`).
    pub env: String,
    /// The agent.
    pub agent: AgentConfig,
    /// Seed of everything random in the run.
    #[config(default = 0)]
    pub seed: u64,
    /// Environment steps to train for (summed over copies).
    #[config(default = 100_000)]
    pub total_steps: u64,
    /// Environment copies stepped together.
    #[config(default = 1)]
    pub num_envs: usize,
    /// Each action is applied this many times, rewards summed ([`crate::env::Env::with_action_repeat`]);
    /// `total_steps`, `eval_every` and `log_every` count actions. 1 is the released SAC-ERA.
    #[config(default = 1)]
    pub action_repeat: u32,
    /// Evaluate every this many environment steps (and at the end).
    #[config(default = 5000)]
    pub eval_every: u64,
    /// Deterministic (mean-action) episodes per evaluation.
    #[config(default = 10)]
    pub eval_episodes: usize,
    /// Log training statistics every this many environment steps (PPO: after every rollout).
    #[config(default = 1000)]
    pub log_every: u64,
}

/// The released SAC-ERA's evaluation interval on DeepMind Control (`--eval_interval` in
/// `train_parallel.py`).
pub const DMC_EVAL_EVERY: u64 = 25_000;

/// The most environment copies a run steps in parallel.
pub const MAX_ENVS: usize = 4096;

impl ControlConfig {
    /// Checks every setting before any network or buffer is allocated: the counts, then the agent's
    /// settings against the environment's action size (the environment is made to read it); the
    /// error names the setting and its valid range.
    pub fn check(&self) -> Result<(), TrainError> {
        self.check_counts()?;
        let d = Env::make(&self.env)?.with_action_repeat(self.action_repeat)?.spec().action.dims();
        match &self.agent {
            AgentConfig::Sac(c) => c.checked(d).map(drop),
            AgentConfig::Ppo(c) => c.checked(d, self.num_envs).map(drop),
        }
    }

    /// The step counts and the number of environment copies, checked before the copies are made.
    pub(super) fn check_counts(&self) -> Result<(), TrainError> {
        if self.total_steps == 0 || self.eval_every == 0 || self.log_every == 0 {
            return Err(TrainError::Config("total_steps, eval_every and log_every must be at least 1".into()));
        }
        if !(1..=MAX_ENVS).contains(&self.num_envs) {
            return Err(TrainError::Config(format!("num_envs = {} must be in 1..={MAX_ENVS}", self.num_envs)));
        }
        Ok(())
    }

    /// The released SAC-ERA's protocol where it differs from era's general defaults: on DeepMind
    /// Control (`dmc/…`) SAC evaluates every 25 000 steps (`train_parallel.py`'s `eval_interval`).
    /// Everything else the released code sets (5 000 random steps, 2 updates per step, batch 256,
    /// 512-512 networks, no action repeat, 10 evaluation episodes) is already the default.
    pub fn with_suite_defaults(mut self) -> Self {
        if self.env.starts_with("dmc/") && self.agent.algo() == Algo::Sac {
            self.eval_every = DMC_EVAL_EVERY;
        }
        self
    }

    /// The algorithm's name as logged: `sac-era`, `sac`, `ppo-era` or `ppo`.
    pub fn algorithm_name(&self) -> &'static str {
        match (self.agent.algo(), self.agent.era().enabled) {
            (Algo::Sac, true) => "sac-era",
            (Algo::Sac, false) => "sac",
            (Algo::Ppo, true) => "ppo-era",
            (Algo::Ppo, false) => "ppo",
        }
    }
}

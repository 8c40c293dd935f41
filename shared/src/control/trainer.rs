//! The control training loop, shared by `era train control` and the browser.
//!
//! [`ControlTrainer::advance`] runs one unit of work — one environment step (and its updates) for SAC,
//! one rollout and its update epochs for PPO — and returns the metrics to log. It is `async` only
//! because reading the device is (see [`read`](super::read)); nothing in it measures time, so the
//! caller adds wall-clock metrics. Everything random comes from the run's seed, so on the CPU backend a
//! run is reproducible, and [`ControlTrainer::save`] / [`ControlTrainer::load`] continue it exactly.

use burn::config::Config;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::ppo::{self, Ppo, PpoConfig, PpoHostState, Rollout};
use super::replay::ReplayBuffer;
use super::sac::{Sac, SacConfig};
use crate::env::{Env, EnvSnapshot, EnvSpec, Scene, VecEnv};
use crate::metrics;
use crate::runlog::EraTargets;
use crate::train::{Logged, Part, TrainError, TrainRng, Trainer, part, read};

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
    pub fn era(&self) -> &super::policy::EraConfig {
        match self {
            Self::Sac(c) => &c.era,
            Self::Ppo(c) => &c.era,
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

/// The most environment copies a run steps in parallel.
pub const MAX_ENVS: usize = 4096;

impl ControlConfig {
    /// Checks every setting before any network or buffer is allocated: the counts, then the agent's
    /// settings against the environment's action size (the environment is made to read it); the
    /// error names the setting and its valid range.
    pub fn check(&self) -> Result<(), TrainError> {
        self.check_counts()?;
        let d = Env::make(&self.env)?.spec().action.dims();
        match &self.agent {
            AgentConfig::Sac(c) => c.checked(d).map(drop),
            AgentConfig::Ppo(c) => c.checked(d, self.num_envs).map(drop),
        }
    }

    /// The step counts and the number of environment copies, checked before the copies are made.
    fn check_counts(&self) -> Result<(), TrainError> {
        if self.total_steps == 0 || self.eval_every == 0 || self.log_every == 0 {
            return Err(TrainError::Config("total_steps, eval_every and log_every must be at least 1".into()));
        }
        if !(1..=MAX_ENVS).contains(&self.num_envs) {
            return Err(TrainError::Config(format!("num_envs = {} must be in 1..={MAX_ENVS}", self.num_envs)));
        }
        Ok(())
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

/// Which implementation runs the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// The burn agents, on the trainer's backend: SAC and PPO, on any device.
    #[default]
    Burn,
    /// The fast CPU path (feature `fast`): the same SAC and PPO updates with hand-written gradients.
    Fast,
}

/// What every engine enum ([`SacAgent`], [`PpoAgent`]) forwards to the agent it holds: `config`,
/// `act` (read from the device for burn), `set_h0`, `save` and `load`.
macro_rules! forward_to_engine {
    ($config:ty) => {
        /// The settings.
        pub fn config(&self) -> &$config {
            on_engine!(self, a => a.config())
        }

        /// The agent's `act` on observations `[rows × obs_dim]` (PPO: normalised), read into host
        /// memory (SAC: actions; PPO: rows of `[action, log π, V]`).
        pub async fn act(
            &mut self,
            obs: &[f32],
            rows: usize,
            deterministic: bool,
            rng: &mut TrainRng,
        ) -> Result<Vec<f32>, TrainError> {
            match self {
                Self::Burn(a) => read(a.act(obs, rows, deterministic, rng)).await,
                #[cfg(feature = "fast")]
                Self::Fast(a) => Ok(a.act(obs, rows, deterministic, rng)),
            }
        }

        fn set_h0(&mut self, h0: f64) -> Result<(), TrainError> {
            on_engine!(self, a => a.set_h0(h0))
        }

        fn save(&self) -> Result<Vec<Part>, TrainError> {
            on_engine!(self, a => a.save())
        }

        fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
            on_engine!(self, a => a.load(parts))
        }
    };
}

/// `$body` on the agent an engine enum holds, bound to `$a`, whichever engine it is.
macro_rules! on_engine {
    ($agent:expr, $a:ident => $body:expr) => {
        match $agent {
            Self::Burn($a) => $body,
            #[cfg(feature = "fast")]
            Self::Fast($a) => $body,
        }
    };
}

enum Agent<B: AutodiffBackend> {
    Sac { agent: SacAgent<B>, buffer: ReplayBuffer, stats: Option<SacStats<B>> },
    Ppo { agent: PpoAgent<B>, host: PpoHostState, obs_norm: Vec<f32>, rollouts: u64 },
}

/// A PPO agent on either engine.
pub enum PpoAgent<B: AutodiffBackend> {
    /// The burn agent.
    Burn(Box<Ppo<B>>),
    /// The fast CPU path.
    #[cfg(feature = "fast")]
    Fast(Box<super::fast::ppo::Ppo>),
}

impl<B: AutodiffBackend> PpoAgent<B> {
    /// A fresh agent on `engine` for `n` copies of an environment with `o` observations and `d`
    /// actions (the same networks on both).
    pub fn new(
        engine: Engine,
        cfg: &PpoConfig,
        (o, d, n): (usize, usize, usize),
        rng: &mut TrainRng,
        device: &B::Device,
    ) -> Result<Self, TrainError> {
        match engine {
            Engine::Burn => Ok(Self::Burn(Box::new(Ppo::new(cfg.clone(), o, d, n, rng, device)?))),
            #[cfg(feature = "fast")]
            Engine::Fast => Ok(Self::Fast(Box::new(super::fast::ppo::Ppo::new(cfg.clone(), o, d, n, rng)?))),
            #[cfg(not(feature = "fast"))]
            Engine::Fast => Err(TrainError::Config("this build has no fast CPU path (feature `fast`)".into())),
        }
    }

    forward_to_engine!(PpoConfig);

    fn stat_keys(&self) -> Vec<&'static str> {
        ppo::stat_keys(self.config().era.enabled)
    }

    /// The update epochs on a rollout (see [`Ppo::update`]); the last minibatch's statistics.
    pub async fn update(
        &mut self,
        rollout: &Rollout,
        lr_frac: f64,
        rng: &mut TrainRng,
    ) -> Result<Vec<f32>, TrainError> {
        match self {
            Self::Burn(a) => read(a.update(rollout, lr_frac, rng)).await,
            #[cfg(feature = "fast")]
            Self::Fast(a) => Ok(a.update(rollout, lr_frac, rng)),
        }
    }
}

/// A SAC agent on either engine.
pub enum SacAgent<B: AutodiffBackend> {
    /// The burn agent.
    Burn(Box<Sac<B>>),
    /// The fast CPU path.
    #[cfg(feature = "fast")]
    Fast(Box<super::fast::sac::Sac>),
}

/// An update's statistics: on the device (burn) or already on the host (fast path).
pub enum SacStats<B: AutodiffBackend> {
    /// Still on the device.
    Device(Tensor<B::InnerBackend, 1>),
    /// On the host.
    Host(Vec<f32>),
}

impl<B: AutodiffBackend> SacStats<B> {
    /// The values, reading the device if they are there.
    pub async fn read(self) -> Result<Vec<f32>, TrainError> {
        match self {
            Self::Device(t) => read(t).await,
            Self::Host(v) => Ok(v),
        }
    }
}

impl<B: AutodiffBackend> SacAgent<B> {
    /// A fresh agent on `engine` for `o` observations and `d` actions (the same networks on both).
    pub fn new(
        engine: Engine,
        cfg: &SacConfig,
        o: usize,
        d: usize,
        rng: &mut TrainRng,
        device: &B::Device,
    ) -> Result<Self, TrainError> {
        match engine {
            Engine::Burn => Ok(Self::Burn(Box::new(Sac::new(cfg.clone(), o, d, rng, device)?))),
            #[cfg(feature = "fast")]
            Engine::Fast => Ok(Self::Fast(Box::new(super::fast::sac::Sac::new(cfg.clone(), o, d, rng)?))),
            #[cfg(not(feature = "fast"))]
            Engine::Fast => Err(TrainError::Config("this build has no fast CPU path (feature `fast`)".into())),
        }
    }

    forward_to_engine!(SacConfig);

    fn stat_keys(&self) -> [&'static str; 10] {
        super::sac::stat_keys(self.config().era.enabled)
    }

    /// One update (see [`Sac::update`]); the statistics when `stats`.
    pub fn update(&mut self, batch: &super::replay::Batch, rng: &mut TrainRng, stats: bool) -> Option<SacStats<B>> {
        match self {
            Self::Burn(a) => a.update(batch, rng, stats).map(SacStats::Device),
            #[cfg(feature = "fast")]
            Self::Fast(a) => a.update(batch, rng, stats).map(SacStats::Host),
        }
    }
}

/// Where a non-finite value came from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Policy,
    Environment,
}

/// [`TrainError::Diverged`] naming the first non-finite value among `values` (the policy's actions,
/// or the environments' observations after `step`), with its likely cause.
fn finite(values: &[f32], source: Source, step: u64) -> Result<(), TrainError> {
    let Some(i) = values.iter().position(|v| !v.is_finite()) else { return Ok(()) };
    let (what, cause) = match source {
        Source::Policy => {
            ("the policy's action", "its networks hold non-finite weights: likely a learning rate too high")
        }
        Source::Environment => ("an observation", "the simulation's state blew up"),
    };
    Err(TrainError::Diverged(format!("{what} [{i}] is {} at step {step} ({cause})", values[i])))
}

/// What a checkpoint stores besides the networks: the loop's exact position.
#[derive(Debug, Serialize, Deserialize)]
struct LoopState {
    step: u64,
    updates: u64,
    obs: Vec<f32>,
    episodes: Episodes,
    next_eval: u64,
    next_log: u64,
    last_eval: Option<u64>,
    rng: TrainRng,
    envs: Vec<EnvSnapshot>,
    ppo: Option<PpoLoopState>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PpoLoopState {
    host: PpoHostState,
    obs_norm: Vec<f32>,
    rollouts: u64,
}

/// Running return and length of each environment copy's current episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Episodes {
    returns: Vec<f64>,
    lengths: Vec<u32>,
}

impl Episodes {
    fn new(copies: usize) -> Self {
        Self { returns: vec![0.0; copies], lengths: vec![0; copies] }
    }

    /// Books one step of every copy; returns the finished episodes' return and length, logged at `step`.
    fn book(&mut self, step: u64, rewards: &[f64], terminated: &[bool], truncated: &[bool]) -> Vec<Logged> {
        let mut out = Vec::new();
        for i in 0..rewards.len() {
            self.returns[i] += rewards[i];
            self.lengths[i] += 1;
            if terminated[i] || truncated[i] {
                out.push(Logged {
                    step,
                    metrics: vec![
                        (metrics::EPISODIC_RETURN, self.returns[i]),
                        (metrics::EPISODIC_LENGTH, f64::from(self.lengths[i])),
                    ],
                });
                self.returns[i] = 0.0;
                self.lengths[i] = 0;
            }
        }
        out
    }
}

pub use crate::train::LOOP_PART;
/// The checkpoint part holding the replay buffer (SAC) as safetensors.
pub const REPLAY_PART: &str = "replay.safetensors";

/// A control training run in progress.
pub struct ControlTrainer<B: AutodiffBackend> {
    config: ControlConfig,
    agent: Agent<B>,
    envs: VecEnv,
    eval_env: Env,
    obs: Vec<f32>,
    rng: TrainRng,
    step: u64,
    updates: u64,
    episodes: Episodes,
    next_eval: u64,
    next_log: u64,
    last_eval: Option<u64>,
}

impl<B: AutodiffBackend> ControlTrainer<B> {
    /// A fresh run: environments reset from the seed, networks initialised from it.
    pub fn new(config: ControlConfig, device: &B::Device) -> Result<Self, TrainError> {
        Self::with_engine(config, device, Engine::Burn)
    }

    /// [`ControlTrainer::new`] on the given engine. For the same seed [`Engine::Fast`] starts from
    /// the same networks and draws the same random numbers as [`Engine::Burn`].
    pub fn with_engine(config: ControlConfig, device: &B::Device, engine: Engine) -> Result<Self, TrainError> {
        // The agents check their own settings when built (before allocating); the environments are
        // made once, here.
        config.check_counts()?;
        let mut envs = VecEnv::new(&config.env, config.num_envs)?;
        let eval_env = Env::make(&config.env)?;
        let (o, d, n) = (envs.spec().observation.dims(), envs.spec().action.dims(), envs.len());
        let mut rng = TrainRng::seed_from_u64(config.seed);
        let obs = envs.reset(config.seed);
        let agent = match &config.agent {
            AgentConfig::Sac(c) => {
                let agent = SacAgent::new(engine, c, o, d, &mut rng, device)?;
                let buffer = ReplayBuffer::new(c.buffer_size, o, d);
                Agent::Sac { agent, buffer, stats: None }
            }
            AgentConfig::Ppo(c) => {
                let agent = PpoAgent::new(engine, c, (o, d, n), &mut rng, device)?;
                let mut host = PpoHostState::new(o, n);
                let obs_norm = host.normalize_obs(c, &obs, true);
                Agent::Ppo { agent, host, obs_norm, rollouts: 0 }
            }
        };
        Ok(Self {
            next_eval: config.eval_every,
            next_log: config.log_every,
            agent,
            envs,
            eval_env,
            obs,
            rng,
            step: 0,
            updates: 0,
            episodes: Episodes::new(n),
            last_eval: None,
            config,
        })
    }

    /// The run's settings.
    pub fn config(&self) -> &ControlConfig {
        &self.config
    }

    /// The environment's spec.
    pub fn env_spec(&self) -> &EnvSpec {
        self.envs.spec()
    }

    /// The header's `era` object.
    pub fn era_targets(&self) -> EraTargets {
        self.config.agent.era().targets(self.envs.spec().action.dims())
    }

    /// Environment steps taken.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Gradient updates made (SAC) or minibatch epochs (PPO: rollouts × epochs × minibatches).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Whether the budget is used up.
    pub fn is_done(&self) -> bool {
        self.step >= self.config.total_steps
    }

    /// Moves the ERA target to `h0` nats (whole action) from the next update on, e.g. when a viewer
    /// changes it in the explorer; the config (and so the next checkpoint) records the new value.
    pub fn set_h0(&mut self, h0: f64) -> Result<(), TrainError> {
        match (&mut self.agent, &mut self.config.agent) {
            (Agent::Sac { agent, .. }, AgentConfig::Sac(c)) => {
                agent.set_h0(h0)?;
                c.era.h0 = Some(h0);
            }
            (Agent::Ppo { agent, .. }, AgentConfig::Ppo(c)) => {
                agent.set_h0(h0)?;
                c.era.h0 = Some(h0);
            }
            _ => return Err(TrainError::Config("the agent does not match its config".into())),
        }
        Ok(())
    }

    /// What the first environment copy looks like now.
    pub fn scene(&self) -> Scene {
        self.envs.envs()[0].scene()
    }

    /// One unit of work (SAC: one step of every copy and its updates; PPO: a rollout and its update),
    /// then any evaluation that fell due. Returns what to log.
    pub async fn advance(&mut self) -> Result<Vec<Logged>, TrainError> {
        let mut logged = match self.config.agent.algo() {
            Algo::Sac => self.advance_sac().await?,
            Algo::Ppo => self.advance_ppo().await?,
        };
        if self.step >= self.next_eval || (self.is_done() && self.last_eval != Some(self.step)) {
            while self.next_eval <= self.step {
                self.next_eval += self.config.eval_every;
            }
            let ret = self.evaluate(self.config.eval_episodes).await?;
            self.last_eval = Some(self.step);
            logged.push(Logged { step: self.step, metrics: vec![(metrics::EVAL_RETURN, ret)] });
        }
        Ok(logged)
    }

    async fn advance_sac(&mut self) -> Result<Vec<Logged>, TrainError> {
        let Agent::Sac { agent, buffer, stats } = &mut self.agent else { unreachable!("advance_sac on a SAC agent") };
        let spec = self.envs.spec().clone();
        let (o, d, n) = (spec.observation.dims(), spec.action.dims(), self.envs.len());
        let learning_starts = agent.config().learning_starts;
        let actions: Vec<f32> = if self.step < learning_starts {
            (0..n * d).map(|_| self.rng.random_range(-1.0f32..=1.0)).collect()
        } else {
            agent.act(&self.obs, n, false, &mut self.rng).await?
        };
        finite(&actions, Source::Policy, self.step)?;
        let env_actions: Vec<f32> = actions.chunks(d).flat_map(|a| spec.action.from_unit(a)).collect();
        let s = self.envs.step(&env_actions)?;
        finite(&s.obs, Source::Environment, self.step)?;
        for i in 0..n {
            let next = s.final_obs[i].as_deref().unwrap_or(&s.obs[i * o..(i + 1) * o]);
            buffer.push(
                &self.obs[i * o..(i + 1) * o],
                &actions[i * d..(i + 1) * d],
                s.rewards[i] as f32,
                next,
                s.terminated[i],
            );
        }
        self.obs = s.obs;
        self.step += n as u64;
        if self.step > learning_starts {
            let (batch_size, utd) = (agent.config().batch_size, agent.config().updates_per_step);
            // Statistics are only computed for the last update before a log.
            let log_due = self.step >= self.next_log;
            for i in 0..utd * n {
                let batch = buffer.sample(batch_size, &mut self.rng);
                let last = log_due && i + 1 == utd * n;
                if let Some(t) = agent.update(&batch, &mut self.rng, last) {
                    *stats = Some(t);
                }
                self.updates += 1;
            }
        }
        let mut logged = Vec::new();
        if self.step >= self.next_log {
            while self.next_log <= self.step {
                self.next_log += self.config.log_every;
            }
            if let Some(t) = stats.take() {
                let values = t.read().await?;
                let mut m: Vec<(&'static str, f64)> =
                    agent.stat_keys().into_iter().zip(&values).map(|(k, &v)| (k, f64::from(v))).collect();
                m.push((metrics::UPDATES, self.updates as f64));
                logged.push(Logged { step: self.step, metrics: m });
            }
        }
        let mut episodes = self.episodes.book(self.step, &s.rewards, &s.terminated, &s.truncated);
        episodes.append(&mut logged);
        Ok(episodes)
    }

    async fn advance_ppo(&mut self) -> Result<Vec<Logged>, TrainError> {
        let spec = self.envs.spec().clone();
        let (d, n) = (spec.action.dims(), self.envs.len());
        let Agent::Ppo { agent, host, obs_norm, rollouts } = &mut self.agent else {
            unreachable!("advance_ppo on a PPO agent")
        };
        let cfg = agent.config().clone();
        let mut ro = Rollout::default();
        let mut episodes = Vec::new();
        for _ in 0..cfg.num_steps {
            let out = agent.act(obs_norm, n, false, &mut self.rng).await?;
            let mut actions = Vec::with_capacity(n * d);
            for row in out.chunks(d + 2) {
                actions.extend_from_slice(&row[..d]);
                ro.log_probs.push(row[d]);
                ro.values.push(row[d + 1]);
            }
            finite(&actions, Source::Policy, self.step)?;
            let clipped: Vec<f32> = actions.iter().map(|a| a.clamp(-1.0, 1.0)).collect();
            let env_actions: Vec<f32> = clipped.chunks(d).flat_map(|a| spec.action.from_unit(a)).collect();
            let s = self.envs.step(&env_actions)?;
            finite(&s.obs, Source::Environment, self.step)?;
            ro.obs.extend_from_slice(obs_norm);
            ro.actions.extend_from_slice(&actions);
            ro.rewards.extend(host.normalize_rewards(&cfg, &s.rewards, &s.terminated));
            ro.dones.extend(s.terminated.iter().zip(&s.truncated).map(|(a, b)| *a || *b));
            *obs_norm = host.normalize_obs(&cfg, &s.obs, true);
            self.obs = s.obs;
            self.step += n as u64;
            episodes.extend(self.episodes.book(self.step, &s.rewards, &s.terminated, &s.truncated));
        }
        let next = agent.act(obs_norm, n, true, &mut self.rng).await?;
        let next_values: Vec<f32> = next.chunks(d + 2).map(|r| r[d + 1]).collect();
        (ro.advantages, ro.returns) = ppo::gae(&ro, &next_values, n, cfg.gamma, cfg.gae_lambda);
        let iterations = (self.config.total_steps / (cfg.num_steps * n) as u64).max(1);
        let frac = (1.0 - *rollouts as f64 / iterations as f64).max(0.0);
        let stats = agent.update(&ro, frac, &mut self.rng).await?;
        *rollouts += 1;
        self.updates += (cfg.update_epochs * cfg.num_minibatches) as u64;
        let mut m: Vec<(&'static str, f64)> =
            agent.stat_keys().into_iter().zip(&stats).map(|(k, &v)| (k, f64::from(v))).collect();
        let entropy = -ro.log_probs.iter().map(|&l| f64::from(l)).sum::<f64>() / ro.log_probs.len().max(1) as f64;
        m.push((metrics::POLICY_ENTROPY, entropy));
        m.push((metrics::LEARNING_RATE, cfg.lr_at(frac)));
        m.push((metrics::UPDATES, self.updates as f64));
        episodes.push(Logged { step: self.step, metrics: m });
        self.next_log = self.step + self.config.log_every;
        Ok(episodes)
    }

    /// Mean undiscounted return of `episodes` deterministic (mean-action) episodes on a separate
    /// environment, seeded from the run's seed and the current step so every evaluation is reproducible.
    pub async fn evaluate(&mut self, episodes: usize) -> Result<f64, TrainError> {
        let spec = self.eval_env.spec().clone();
        let d = spec.action.dims();
        let base = self.config.seed.wrapping_mul(1_000_003).wrapping_add(self.step.wrapping_mul(7919));
        let mut total = 0.0;
        for e in 0..episodes {
            let mut obs = self.eval_env.reset(Some(base.wrapping_add(e as u64)));
            loop {
                let action: Vec<f32> = match &mut self.agent {
                    Agent::Sac { agent, .. } => agent.act(&obs, 1, true, &mut self.rng).await?,
                    Agent::Ppo { agent, host, .. } => {
                        let norm = host.normalize_obs(agent.config(), &obs, false);
                        let out = agent.act(&norm, 1, true, &mut self.rng).await?;
                        out[..d].iter().map(|a| a.clamp(-1.0, 1.0)).collect()
                    }
                };
                let s = self.eval_env.step(&spec.action.from_unit(&action))?;
                total += s.reward;
                obs = s.obs;
                if s.terminated || s.truncated {
                    break;
                }
            }
        }
        Ok(total / episodes.max(1) as f64)
    }

    /// Everything needed to continue exactly: the agent's parts, the loop state and (SAC) the replay buffer.
    pub fn save(&self) -> Result<Vec<Part>, TrainError> {
        let (mut parts, ppo) = match &self.agent {
            Agent::Sac { agent, buffer, .. } => {
                let mut parts = agent.save()?;
                parts.push((REPLAY_PART.to_string(), buffer.to_safetensors()?));
                (parts, None)
            }
            Agent::Ppo { agent, host, obs_norm, rollouts } => (
                agent.save()?,
                Some(PpoLoopState { host: host.clone(), obs_norm: obs_norm.clone(), rollouts: *rollouts }),
            ),
        };
        let state = LoopState {
            step: self.step,
            updates: self.updates,
            obs: self.obs.clone(),
            episodes: self.episodes.clone(),
            next_eval: self.next_eval,
            next_log: self.next_log,
            last_eval: self.last_eval,
            rng: self.rng.clone(),
            envs: self.envs.snapshot(),
            ppo,
        };
        parts.push(crate::train::loop_part(&state)?);
        Ok(parts)
    }

    /// Continues from [`ControlTrainer::save`]'s parts (for a trainer built with the same config).
    pub fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        let state: LoopState = crate::train::read_loop(parts, |s: &LoopState| s.step, None)?;
        match (&mut self.agent, state.ppo) {
            (Agent::Sac { agent, buffer, stats }, None) => {
                agent.load(parts)?;
                buffer.from_safetensors(part(parts, REPLAY_PART)?)?;
                *stats = None;
            }
            (Agent::Ppo { agent, host, obs_norm, rollouts }, Some(p)) => {
                agent.load(parts)?;
                *host = p.host;
                *obs_norm = p.obs_norm;
                *rollouts = p.rollouts;
            }
            _ => return Err(TrainError::Checkpoint("the checkpoint was written by the other algorithm".into())),
        }
        self.envs.restore(state.envs)?;
        self.step = state.step;
        self.updates = state.updates;
        self.obs = state.obs;
        self.episodes = state.episodes;
        self.next_eval = state.next_eval;
        self.next_log = state.next_log;
        self.last_eval = state.last_eval;
        self.rng = state.rng;
        Ok(())
    }
}

impl<B: AutodiffBackend> Trainer for ControlTrainer<B> {
    fn advance(&mut self) -> impl Future<Output = Result<Vec<Logged>, TrainError>> {
        ControlTrainer::advance(self)
    }

    fn position(&self) -> u64 {
        self.step
    }

    fn total(&self) -> u64 {
        self.config.total_steps
    }

    fn save(&self) -> Result<Vec<Part>, TrainError> {
        ControlTrainer::save(self)
    }

    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        ControlTrainer::load(self, parts)
    }

    fn era_targets(&self) -> EraTargets {
        ControlTrainer::era_targets(self)
    }
}

//! The control training loop, shared by `era train control` and the browser.
//!
//! [`ControlTrainer::advance`] runs one unit of work — one environment step (and its updates) for SAC,
//! one rollout and its update epochs for PPO — and returns the metrics to log. It is `async` only
//! because reading the device is (see [`read`](super::read)); nothing in it measures time, so the
//! caller adds wall-clock metrics. Everything random comes from the run's seed, so on the CPU backend a
//! run is reproducible, and [`ControlTrainer::save`] / [`ControlTrainer::load`] continue it exactly.

use burn::tensor::backend::AutodiffBackend;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::config::{AgentConfig, Algo, ControlConfig};
use super::engine::{self as engines, Engine, PpoLearner, Readback, SacLearner};
use super::ppo::{self, PpoHostState, Rollout};
use super::replay::ReplayBuffer;
use crate::env::{Env, EnvSnapshot, EnvSpec, Scene, VecEnv};
use crate::metrics;
use crate::runlog::EraTargets;
use crate::train::{Logged, Part, TrainError, TrainRng, Trainer, part};

enum Agent<B: AutodiffBackend> {
    Sac { agent: Box<dyn SacLearner<B>>, buffer: ReplayBuffer, stats: Option<Readback<B::InnerBackend, 1>> },
    Ppo { agent: Box<dyn PpoLearner<B>>, host: PpoHostState, obs_norm: Vec<f32>, rollouts: u64 },
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
            self.lengths[i] = self.lengths[i].saturating_add(1);
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
        let mut envs = VecEnv::new(&config.env, config.num_envs)?.with_action_repeat(config.action_repeat)?;
        let eval_env = Env::make(&config.env)?.with_action_repeat(config.action_repeat)?;
        let (o, d, n) = (envs.spec().observation.dims(), envs.spec().action.dims(), envs.len());
        let mut rng = TrainRng::seed_from_u64(config.seed);
        let obs = envs.reset(config.seed);
        let agent = match &config.agent {
            AgentConfig::Sac(c) => {
                let agent = engines::sac(engine, c, (o, d), &mut rng, device)?;
                let buffer = ReplayBuffer::new(c.buffer_size, o, d);
                Agent::Sac { agent, buffer, stats: None }
            }
            AgentConfig::Ppo(c) => {
                let agent = engines::ppo(engine, c, (o, d, n), &mut rng, device)?;
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
    /// Fails, naming the valid range, when `h0` cannot be reached or ERA is off; nothing changes then.
    pub fn set_h0(&mut self, h0: f64) -> Result<(), TrainError> {
        let head = self.config.agent.era_mut().retarget(h0, self.envs.spec().action.dims())?;
        match &mut self.agent {
            Agent::Sac { agent, .. } => agent.set_era(head),
            Agent::Ppo { agent, .. } => agent.set_era(head),
        }
        Ok(())
    }

    /// What the first environment copy looks like now.
    pub fn scene(&self) -> Scene {
        self.envs.envs()[0].scene()
    }

    async fn advance_sac(&mut self) -> Result<Vec<Logged>, TrainError> {
        let (Agent::Sac { agent, buffer, stats }, AgentConfig::Sac(cfg)) = (&mut self.agent, &self.config.agent) else {
            unreachable!("advance_sac on a SAC agent")
        };
        let spec = self.envs.spec().clone();
        let (o, d, n) = (spec.observation.dims(), spec.action.dims(), self.envs.len());
        let learning_starts = cfg.learning_starts;
        let actions: Vec<f32> = if self.step < learning_starts {
            (0..n * d).map(|_| self.rng.random_range(-1.0f32..=1.0)).collect()
        } else {
            agent.act(&self.obs, n, false, &mut self.rng).read().await?
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
            let (batch_size, utd) = (cfg.batch_size, cfg.updates_per_step);
            // Statistics are only computed for the last update before a log.
            let log_due = self.step >= self.next_log;
            for i in 0..utd * n {
                let batch = buffer.sample(batch_size, &mut self.rng);
                let last = log_due && i + 1 == utd * n;
                if let Some(t) = agent.update(cfg, &batch, &mut self.rng, last) {
                    *stats = Some(t);
                }
                self.updates = self.updates.saturating_add(1);
            }
        }
        let mut logged = Vec::new();
        if self.step >= self.next_log {
            self.next_log = crate::train::schedule::next_due(self.next_log, self.step, self.config.log_every);
            if let Some(t) = stats.take() {
                let values = t.read().await?;
                let mut m: Vec<(&'static str, f64)> = super::sac::stat_keys(cfg.era.enabled)
                    .into_iter()
                    .zip(&values)
                    .map(|(k, &v)| (k, f64::from(v)))
                    .collect();
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
        let (Agent::Ppo { agent, host, obs_norm, rollouts }, AgentConfig::Ppo(cfg)) =
            (&mut self.agent, &self.config.agent)
        else {
            unreachable!("advance_ppo on a PPO agent")
        };
        let mut ro = Rollout::default();
        let mut episodes = Vec::new();
        for _ in 0..cfg.num_steps {
            let out = agent.act(obs_norm, n, false, &mut self.rng).read().await?;
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
            ro.rewards.extend(host.normalize_rewards(cfg, &s.rewards, &s.terminated));
            ro.dones.extend(s.terminated.iter().zip(&s.truncated).map(|(a, b)| *a || *b));
            *obs_norm = host.normalize_obs(cfg, &s.obs, true);
            self.obs = s.obs;
            self.step += n as u64;
            episodes.extend(self.episodes.book(self.step, &s.rewards, &s.terminated, &s.truncated));
        }
        let next = agent.act(obs_norm, n, true, &mut self.rng).read().await?;
        let next_values: Vec<f32> = next.chunks(d + 2).map(|r| r[d + 1]).collect();
        (ro.advantages, ro.returns) = ppo::gae(&ro, &next_values, n, cfg.gamma, cfg.gae_lambda);
        let iterations = (self.config.total_steps / (cfg.num_steps * n) as u64).max(1);
        let frac = (1.0 - *rollouts as f64 / iterations as f64).max(0.0);
        let stats = agent.update(cfg, &ro, frac, &mut self.rng).read().await?;
        *rollouts += 1;
        self.updates = self.updates.saturating_add((cfg.update_epochs * cfg.num_minibatches) as u64);
        let mut m: Vec<(&'static str, f64)> =
            ppo::stat_keys(cfg.era.enabled).into_iter().zip(&stats).map(|(k, &v)| (k, f64::from(v))).collect();
        let entropy = -ro.log_probs.iter().map(|&l| f64::from(l)).sum::<f64>() / ro.log_probs.len().max(1) as f64;
        m.push((metrics::POLICY_ENTROPY, entropy));
        m.push((metrics::LEARNING_RATE, cfg.lr_at(frac)));
        m.push((metrics::UPDATES, self.updates as f64));
        episodes.push(Logged { step: self.step, metrics: m });
        self.next_log = self.step + self.config.log_every;
        Ok(episodes)
    }

    /// The environment evaluations run on.
    pub fn eval_env(&self) -> &Env {
        &self.eval_env
    }

    /// Mean undiscounted return of `episodes` deterministic (mean-action) episodes on a separate
    /// environment, seeded from the run's seed and the current step so every evaluation is reproducible.
    pub async fn evaluate(&mut self, episodes: usize) -> Result<f64, TrainError> {
        self.evaluate_watched(episodes, &mut |_| ()).await
    }

    /// [`Self::evaluate`], calling `watch` with the environment after the first episode's reset and
    /// after each of its steps (a video records it).
    pub async fn evaluate_watched(&mut self, episodes: usize, watch: &mut dyn FnMut(&Env)) -> Result<f64, TrainError> {
        let spec = self.eval_env.spec().clone();
        let d = spec.action.dims();
        let base = self.config.seed.wrapping_mul(1_000_003).wrapping_add(self.step.wrapping_mul(7919));
        let mut total = 0.0;
        for e in 0..episodes {
            let mut obs = self.eval_env.reset(Some(base.wrapping_add(e as u64)));
            if e == 0 {
                watch(&self.eval_env);
            }
            loop {
                let action: Vec<f32> = match (&mut self.agent, &self.config.agent) {
                    (Agent::Sac { agent, .. }, _) => agent.act(&obs, 1, true, &mut self.rng).read().await?,
                    (Agent::Ppo { agent, host, .. }, AgentConfig::Ppo(cfg)) => {
                        let norm = host.normalize_obs(cfg, &obs, false);
                        let out = agent.act(&norm, 1, true, &mut self.rng).read().await?;
                        out[..d].iter().map(|a| a.clamp(-1.0, 1.0)).collect()
                    }
                    (Agent::Ppo { .. }, AgentConfig::Sac(_)) => unreachable!("a PPO agent is built from a PPO config"),
                };
                let s = self.eval_env.step(&spec.action.from_unit(&action))?;
                if e == 0 {
                    watch(&self.eval_env);
                }
                total += s.reward;
                obs = s.obs;
                if s.terminated || s.truncated {
                    break;
                }
            }
        }
        Ok(total / episodes.max(1) as f64)
    }
}

impl<B: AutodiffBackend> Trainer for ControlTrainer<B> {
    /// One unit of work (SAC: one step of every copy and its updates; PPO: a rollout and its update),
    /// then any evaluation that fell due. Returns what to log.
    async fn advance(&mut self) -> Result<Vec<Logged>, TrainError> {
        let mut logged = match self.config.agent.algo() {
            Algo::Sac => self.advance_sac().await?,
            Algo::Ppo => self.advance_ppo().await?,
        };
        if self.step >= self.next_eval || (self.is_done() && self.last_eval != Some(self.step)) {
            self.next_eval = crate::train::schedule::next_due(self.next_eval, self.step, self.config.eval_every);
            let ret = self.evaluate(self.config.eval_episodes).await?;
            self.last_eval = Some(self.step);
            logged.push(Logged { step: self.step, metrics: vec![(metrics::EVAL_RETURN, ret)] });
        }
        Ok(logged)
    }

    fn position(&self) -> u64 {
        self.step
    }

    fn total(&self) -> u64 {
        self.config.total_steps
    }

    /// Everything needed to continue exactly: the agent's parts, the loop state and (SAC) the replay buffer.
    fn save(&self) -> Result<Vec<Part>, TrainError> {
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
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        let state: LoopState = crate::train::read_loop(parts, |s: &LoopState| s.step, None)?;
        // One observation and one running episode per environment copy, as this trainer steps them.
        let copies = self.episodes.returns.len();
        if state.obs.len() != self.obs.len()
            || state.episodes.returns.len() != copies
            || state.episodes.lengths.len() != copies
        {
            return Err(TrainError::Checkpoint(format!(
                "{}: {} observation values and {}/{} episode returns/lengths, expected {} and {copies} \
                 (the checkpoint of another environment or number of copies?)",
                crate::train::LOOP_PART,
                state.obs.len(),
                state.episodes.returns.len(),
                state.episodes.lengths.len(),
                self.obs.len()
            )));
        }
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

    fn era_targets(&self) -> EraTargets {
        ControlTrainer::era_targets(self)
    }
}

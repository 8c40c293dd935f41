//! Proximal policy optimisation, with ERA (PPO-ERA) or without, as CleanRL's `ppo_continuous_action`.
//!
//! A Gaussian policy `N(μ(s), σ²)` (actions clipped to `[−1, 1]` by the trainer), a separate value
//! network, generalised advantage estimation, the clipped surrogate objective with a clipped value
//! loss, observation and reward normalisation, and gradients clipped by their global norm.
//!
//! The log-std is a state-independent parameter (default) or a second head. With ERA it passes through
//! the Gaussian activation, so the policy's entropy is `H₀ + δ` at every state and every update; the
//! network chooses only how to spread it over action dimensions. Without ERA it is the raw `log σ`.

use burn::config::Config;
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, AdamConfig, GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::engine::{Agent, PpoLearner, Readback};
use super::mlp::{Mlp, Nonlinearity};
use super::normalize::RunningMeanStd;
use super::policy::{EraConfig, EraHead, Scalar, std_stats};
use crate::tensor::{delta_loss, diag_gaussian_entropy, gaussian_log_prob};
use crate::train::{Part, TrainError, TrainRng, check_records, load_module, load_record, record_bytes, upload};

/// PPO and PPO-ERA settings; defaults are CleanRL's for MuJoCo.
#[derive(Config, Debug, PartialEq)]
pub struct PpoConfig {
    /// ERA on (PPO-ERA) or off (PPO), its target and δ.
    pub era: EraConfig,
    /// A state-dependent log-std head instead of one parameter per action dimension.
    #[config(default = false)]
    pub state_dependent_std: bool,
    /// Hidden layer widths of the actor and of the value network.
    #[config(default = "vec![64, 64]")]
    pub hidden: Vec<usize>,
    /// Hidden nonlinearity.
    #[config(default = "Nonlinearity::Tanh")]
    pub activation: Nonlinearity,
    /// Adam learning rate.
    #[config(default = 3e-4)]
    pub lr: f64,
    /// Anneal the learning rate linearly to 0 over the run.
    #[config(default = true)]
    pub anneal_lr: bool,
    /// Steps per environment copy per rollout.
    #[config(default = 2048)]
    pub num_steps: usize,
    /// Discount γ.
    #[config(default = 0.99)]
    pub gamma: f64,
    /// GAE λ.
    #[config(default = 0.95)]
    pub gae_lambda: f64,
    /// Minibatches per epoch.
    #[config(default = 32)]
    pub num_minibatches: usize,
    /// Epochs over each rollout.
    #[config(default = 10)]
    pub update_epochs: usize,
    /// Ratio clip ε.
    #[config(default = 0.2)]
    pub clip_coef: f64,
    /// Clip the value loss around the old values too.
    #[config(default = true)]
    pub clip_vloss: bool,
    /// Value-loss weight.
    #[config(default = 0.5)]
    pub vf_coef: f64,
    /// Entropy-bonus weight (0: CleanRL's default, and ERA needs none).
    #[config(default = 0.0)]
    pub ent_coef: f64,
    /// Global gradient-norm clip.
    #[config(default = 0.5)]
    pub max_grad_norm: f64,
    /// Normalise observations by running statistics (clipped to ±10).
    #[config(default = true)]
    pub norm_obs: bool,
    /// Scale rewards by the running std of the discounted return (clipped to ±10).
    #[config(default = true)]
    pub norm_reward: bool,
}

/// Adam's ε for every PPO optimiser (CleanRL's).
pub const ADAM_EPSILON: f32 = 1e-5;

/// The gains of the actor's and the critic's last layers: small, so that the policy starts near zero
/// mean and the value near zero (CleanRL's 0.01 and 1).
pub const LAST_LAYER_GAINS: [f64; 2] = [0.01, 1.0];

impl PpoConfig {
    /// The layer sizes of the actor (observation → hidden… → `D` means, then `D` raw log-std scores
    /// with a state-dependent head) and of the critic (observation → hidden… → 1), for every engine.
    pub fn layer_sizes(&self, obs_dim: usize, act_dim: usize) -> [Vec<usize>; 2] {
        let heads = if self.state_dependent_std { 2 * act_dim } else { act_dim };
        [[&[obs_dim][..], &self.hidden, &[heads]].concat(), [&[obs_dim][..], &self.hidden, &[1]].concat()]
    }

    /// PPO-ERA (`era`) or PPO with every other setting at its default. PPO-ERA keeps δ constant at 0:
    /// its Gaussian is not bounded (the environment clips actions), so its entropy is exactly `H₀ + δ`
    /// and there is nothing to compensate; learning δ would only cost an optimiser step per minibatch.
    pub fn standard(era: bool) -> Self {
        Self::new(EraConfig::new().with_enabled(era).with_delta_auto(false))
    }

    /// Checks the settings for `num_envs` environment copies and builds the ERA head (`None`: ERA off)
    /// for `act_dim` action dimensions; the error names the setting and its valid range.
    pub fn checked(&self, act_dim: usize, num_envs: usize) -> Result<Option<EraHead>, TrainError> {
        super::mlp::check_hidden(&self.hidden)?;
        let batch = self.num_steps.saturating_mul(num_envs);
        if self.num_minibatches == 0 || batch < self.num_minibatches || batch > super::sac::MAX_BATCH {
            return Err(TrainError::Config(format!(
                "num_steps × num_envs = {batch} must be at least num_minibatches = {} (≥ 1) and at most {}",
                self.num_minibatches,
                super::sac::MAX_BATCH
            )));
        }
        Ok(self.era.build(act_dim)?)
    }

    /// The learning rate at fraction `lr_frac` of the rate (1 at the start, towards 0 at the end) when
    /// annealing, else the constant rate.
    pub fn lr_at(&self, lr_frac: f64) -> f64 {
        if self.anneal_lr { self.lr * lr_frac } else { self.lr }
    }
}

/// The keys of a PPO update's statistics, in order (δ and its loss only with ERA).
pub fn stat_keys(era: bool) -> Vec<&'static str> {
    use crate::metrics::*;
    let mut keys = vec![ACTOR_LOSS, CRITIC_LOSS, APPROX_KL, CLIP_FRAC, GAUSSIAN_ENTROPY, STD_MEAN, STD_MIN, STD_MAX];
    if era {
        keys.extend([DELTA, DELTA_LOSS]);
    }
    keys
}

/// Visits the minibatches of one update in the order every engine visits them: each of `epochs`
/// epochs shuffles the `rows` rollout rows with `rng` and cuts them into `minibatches` equal chunks
/// (a remainder is left out, as CleanRL). `visit` gets each chunk's row indices and whether it is the
/// update's last.
pub fn for_each_minibatch(
    (epochs, minibatches): (usize, usize),
    rows: usize,
    rng: &mut TrainRng,
    mut visit: impl FnMut(&[usize], bool),
) {
    let mb = rows / minibatches.max(1);
    if mb == 0 {
        return;
    }
    let steps = epochs * (rows / mb);
    let mut order: Vec<usize> = (0..rows).collect();
    let mut step = 0;
    for _ in 0..epochs {
        order.shuffle(rng);
        for idx in order.chunks_exact(mb) {
            step += 1;
            visit(idx, step == steps);
        }
    }
}

/// Rows `idx` of the row-major `[_, width]` array `src`, written into `out`.
pub fn gather_rows(src: &[f32], width: usize, idx: &[usize], out: &mut Vec<f32>) {
    out.clear();
    for &i in idx {
        out.extend_from_slice(&src[i * width..(i + 1) * width]);
    }
}

/// A minibatch's advantages normalised to mean 0 and standard deviation 1 (the sample std, ddof 1, as
/// torch's `.std()`), plus 10⁻⁸ in the divisor.
pub fn normalize_advantages(adv: &mut [f32]) {
    let n = adv.len();
    let mean = adv.iter().sum::<f32>() / n as f32;
    let std = (adv.iter().map(|a| (a - mean).powi(2)).sum::<f32>() / (n.max(2) - 1) as f32).sqrt();
    adv.iter_mut().for_each(|a| *a = (*a - mean) / (std + 1e-8));
}

/// The actor, its log-std parameter and the value network, saved as one record.
#[derive(Module, Debug)]
pub struct PpoNets<B: Backend> {
    /// Observation → μ (and raw log-std scores with a state-dependent head).
    actor: Mlp<B>,
    /// Per-dimension raw log-std scores (ERA) or log σ (plain), shape `[D]`.
    log_std: Param<Tensor<B, 1>>,
    /// Observation → V(s).
    critic: Mlp<B>,
}

/// Host-side state that must survive a checkpoint: the normalisers, whichever engine runs the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpoHostState {
    /// Observation statistics.
    pub obs_rms: RunningMeanStd,
    /// Discounted-return statistics for reward scaling.
    pub ret_rms: RunningMeanStd,
    /// Each environment copy's running discounted return.
    pub discounted: Vec<f64>,
}

impl PpoHostState {
    /// Fresh statistics for `obs_dim` observations and `num_envs` environment copies.
    pub fn new(obs_dim: usize, num_envs: usize) -> Self {
        Self { obs_rms: RunningMeanStd::new(obs_dim), ret_rms: RunningMeanStd::new(1), discounted: vec![0.0; num_envs] }
    }

    /// Normalises raw observations `[rows × obs_dim]` (when `cfg.norm_obs`), first folding them into
    /// the statistics when `update`.
    pub fn normalize_obs(&mut self, cfg: &PpoConfig, raw: &[f32], update: bool) -> Vec<f32> {
        if !cfg.norm_obs {
            return raw.to_vec();
        }
        let dims = self.obs_rms.mean.len().max(1);
        raw.chunks(dims)
            .flat_map(|row| {
                if update {
                    self.obs_rms.update(&row.iter().map(|&x| f64::from(x)).collect::<Vec<_>>());
                }
                self.obs_rms.normalize(row, 10.0)
            })
            .collect()
    }

    /// Scales one step's rewards (one per copy) by the running std of the discounted return (when
    /// `cfg.norm_reward`), which restarts only at termination (Gymnasium's `NormalizeReward`).
    pub fn normalize_rewards(&mut self, cfg: &PpoConfig, rewards: &[f64], terminated: &[bool]) -> Vec<f32> {
        if !cfg.norm_reward {
            return rewards.iter().map(|&r| r as f32).collect();
        }
        for ((g, &r), &t) in self.discounted.iter_mut().zip(rewards).zip(terminated) {
            *g = *g * cfg.gamma * if t { 0.0 } else { 1.0 } + r;
            self.ret_rms.update(&[*g]);
        }
        let scale = (self.ret_rms.var[0] + 1e-8).sqrt();
        rewards.iter().map(|&r| (r / scale).clamp(-10.0, 10.0) as f32).collect()
    }
}

/// One rollout, flattened over time × environment copies (row `t·N + i`).
#[derive(Debug, Clone, Default)]
pub struct Rollout {
    /// Normalised observations.
    pub obs: Vec<f32>,
    /// Sampled (unclipped) actions.
    pub actions: Vec<f32>,
    /// Their log-densities under the rollout policy.
    pub log_probs: Vec<f32>,
    /// Value estimates.
    pub values: Vec<f32>,
    /// Normalised rewards.
    pub rewards: Vec<f32>,
    /// Whether the episode ended at this step (terminated or truncated, as CleanRL).
    pub dones: Vec<bool>,
    /// Advantage estimates (from [`gae`]).
    pub advantages: Vec<f32>,
    /// Returns, `advantages + values` (from [`gae`]).
    pub returns: Vec<f32>,
}

/// A PPO or PPO-ERA agent.
pub struct Ppo<B: AutodiffBackend> {
    act_dim: usize,
    /// Whether the actor outputs the log-std scores (else they are learned parameters): its shape.
    state_dependent_std: bool,

    era: Option<EraHead>,
    nets: PpoNets<B>,
    delta: Scalar<B>,
    opt: OptimizerAdaptor<Adam, PpoNets<B>, B>,
    delta_opt: OptimizerAdaptor<Adam, Scalar<B>, B>,
    device: B::Device,
}

impl<B: AutodiffBackend> Ppo<B> {
    /// A fresh agent for `num_envs` copies of an environment with `obs_dim` observations and
    /// `act_dim` actions (the observation and reward statistics are the caller's: [`PpoHostState`]).
    pub fn new(
        cfg: &PpoConfig,
        obs_dim: usize,
        act_dim: usize,
        num_envs: usize,
        rng: &mut TrainRng,
        device: &B::Device,
    ) -> Result<Self, TrainError> {
        let era = cfg.checked(act_dim, num_envs)?;
        let ([actor_sizes, critic_sizes], [actor_gain, critic_gain]) =
            (cfg.layer_sizes(obs_dim, act_dim), LAST_LAYER_GAINS);
        let actor = Mlp::new(&actor_sizes, cfg.activation, actor_gain, rng, device);
        let critic = Mlp::new(&critic_sizes, cfg.activation, critic_gain, rng, device);
        let log_std = Param::from_tensor(Tensor::zeros([act_dim], device));
        let adam = || AdamConfig::new().with_epsilon(ADAM_EPSILON);
        Ok(Self {
            act_dim,
            nets: PpoNets { actor, log_std, critic },
            delta: Scalar::new(cfg.era.delta, device),
            opt: adam().init(),
            delta_opt: adam().init(),
            era,
            device: device.clone(),
            state_dependent_std: cfg.state_dependent_std,
        })
    }

    /// The keys of [`Ppo::update`]'s statistics, in order (see [`stat_keys`]).
    pub fn stat_keys(&self) -> Vec<&'static str> {
        stat_keys(self.era.is_some())
    }

    fn policy<BB: Backend>(
        &self,
        nets: &PpoNets<BB>,
        obs: Tensor<BB, 2>,
        delta: Tensor<BB, 1>,
    ) -> (Tensor<BB, 2>, Tensor<BB, 2>) {
        let d = self.act_dim;
        let out = nets.actor.forward(obs);
        let rows = out.dims()[0];
        let (mu, raw) = if self.state_dependent_std {
            (out.clone().narrow(1, 0, d), out.narrow(1, d, d))
        } else {
            (out, nets.log_std.val().unsqueeze_dim::<2>(0).repeat_dim(0, rows))
        };
        let log_std = match &self.era {
            Some(head) => head.log_std(raw, delta),
            None => raw,
        };
        (mu, log_std)
    }

    /// For normalised observations `[rows × obs_dim]`: `[rows, D + 2]` holding a sampled action (or the
    /// mean when `deterministic`), its log-density and `V(s)`, left on the device for one read.
    pub fn act(&self, obs: &[f32], rows: usize, deterministic: bool, rng: &mut TrainRng) -> Tensor<B::InnerBackend, 2> {
        let nets = self.nets.valid();
        let obs = upload(obs, [rows, obs.len() / rows.max(1)], &self.device);
        let (mu, log_std) = self.policy(&nets, obs.clone(), self.delta.valid().get());
        let action = if deterministic {
            mu.clone()
        } else {
            let noise: Vec<f32> = (0..rows * self.act_dim).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
            mu.clone().add(log_std.clone().exp().mul(upload(&noise, [rows, self.act_dim], &self.device)))
        };
        let log_prob = gaussian_log_prob(action.clone(), mu, log_std);
        Tensor::cat(vec![action, log_prob, nets.critic.forward(obs)], 1)
    }

    /// The current δ (0 without ERA), on the device.
    pub fn delta(&self) -> Tensor<B::InnerBackend, 1> {
        match &self.era {
            Some(head) => self.delta.valid().get().clamp(0.0, head.delta_max),
            None => Tensor::zeros([1], &self.device),
        }
    }

    /// `update_epochs` epochs of minibatch updates on a rollout (its advantages and returns filled in);
    /// `lr_frac` scales the learning rate (annealing). Returns the last minibatch's statistics named by
    /// [`Ppo::stat_keys`], on the device (only that minibatch computes them).
    pub fn update(
        &mut self,
        cfg: &PpoConfig,
        rollout: &Rollout,
        lr_frac: f64,
        rng: &mut TrainRng,
    ) -> Tensor<B::InnerBackend, 1> {
        let n = rollout.log_probs.len();
        let (o, d, dev) = (rollout.obs.len() / n.max(1), self.act_dim, self.device.clone());
        let lr = cfg.lr_at(lr_frac);
        let c = cfg.clip_coef;
        let mut stats = Tensor::zeros([self.stat_keys().len()], &dev);
        for_each_minibatch((cfg.update_epochs, cfg.num_minibatches), n, rng, |idx, last| {
            let mb = idx.len();
            let gather = |src: &[f32], w: usize| -> Vec<f32> {
                let mut rows = Vec::with_capacity(mb * w);
                gather_rows(src, w, idx, &mut rows);
                rows
            };
            let mut adv = gather(&rollout.advantages, 1);
            normalize_advantages(&mut adv);
            let obs: Tensor<B, 2> = upload(&gather(&rollout.obs, o), [mb, o], &dev);
            let actions: Tensor<B, 2> = upload(&gather(&rollout.actions, d), [mb, d], &dev);
            let old_log_prob: Tensor<B, 2> = upload(&gather(&rollout.log_probs, 1), [mb, 1], &dev);
            let adv: Tensor<B, 2> = upload(&adv, [mb, 1], &dev);
            let ret: Tensor<B, 2> = upload(&gather(&rollout.returns, 1), [mb, 1], &dev);
            let old_v: Tensor<B, 2> = upload(&gather(&rollout.values, 1), [mb, 1], &dev);

            let delta_used = last.then(|| self.delta());
            let (mu, log_std) = self.policy(&self.nets, obs.clone(), self.delta.get().detach());
            let log_prob = gaussian_log_prob(actions, mu, log_std.clone());
            let log_ratio = log_prob.sub(old_log_prob.clone());
            let ratio = log_ratio.clone().exp();
            let pg =
                adv.clone().neg().mul(ratio.clone()).max_pair(adv.neg().mul(ratio.clone().clamp(1.0 - c, 1.0 + c)));
            let pg_loss = pg.mean();
            let v = self.nets.critic.forward(obs);
            let v_err = v.clone().sub(ret.clone()).square();
            let v_loss = if cfg.clip_vloss {
                let clipped = old_v.clone().add(v.sub(old_v).clamp(-c, c));
                v_err.max_pair(clipped.sub(ret).square()).mean().mul_scalar(0.5)
            } else {
                v_err.mean().mul_scalar(0.5)
            };
            let mut loss = pg_loss.clone().add(v_loss.clone().mul_scalar(cfg.vf_coef));
            if cfg.ent_coef != 0.0 {
                loss = loss.sub(diag_gaussian_entropy(log_std.clone()).mean().mul_scalar(cfg.ent_coef));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &self.nets);
            let grads = clip_global_norm::<B>(grads, &self.nets, cfg.max_grad_norm);
            self.nets = self.opt.step(lr, self.nets.clone(), grads);

            let delta_loss_value = match &self.era {
                Some(head) if head.delta_auto => {
                    let h = old_log_prob.neg().squeeze_dim::<1>(1);
                    let loss = delta_loss(self.delta.get(), h, head.era.h0());
                    let value = last.then(|| loss.clone().detach().inner());
                    let grads = GradientsParams::from_grads(loss.backward(), &self.delta);
                    self.delta = self.delta_opt.step(cfg.era.delta_lr, self.delta.clone(), grads);
                    self.delta = self.delta.clone().clamped(0.0, head.delta_max);
                    value
                }
                _ => None,
            };
            // Only the last minibatch reports statistics.
            let Some(delta_used) = delta_used else { return };
            let ratio = ratio.detach().inner();
            let approx_kl = ratio.clone().sub_scalar(1.0).sub(log_ratio.detach().inner()).mean();
            let clip_frac = ratio.sub_scalar(1.0).abs().greater_elem(c).float().mean();
            let mut parts = vec![
                pg_loss.detach().inner().reshape([1]),
                v_loss.detach().inner().reshape([1]),
                approx_kl.reshape([1]),
                clip_frac.reshape([1]),
                std_stats(log_std.detach().inner()),
            ];
            if self.era.is_some() {
                parts.push(delta_used);
                parts.push(delta_loss_value.unwrap_or_else(|| Tensor::zeros([1], &dev)));
            }
            stats = Tensor::cat(parts, 0);
        });
        stats
    }
}

/// Generalised advantage estimation over a rollout of `num_envs` copies (rows `t·N + i`), bootstrapped
/// from `next_values` (the values of the observations after the last step). A step that ended an
/// episode does not bootstrap. Returns `(advantages, returns)` with `returns = advantages + values`,
/// what [`Rollout::advantages`] and [`Rollout::returns`] hold.
pub fn gae(rollout: &Rollout, next_values: &[f32], num_envs: usize, gamma: f64, lambda: f64) -> (Vec<f32>, Vec<f32>) {
    let n = rollout.values.len();
    let steps = n / num_envs.max(1);
    let mut adv = vec![0f32; n];
    for (i, &bootstrap) in next_values.iter().enumerate().take(num_envs) {
        let mut last = 0f64;
        for t in (0..steps).rev() {
            let row = t * num_envs + i;
            let next_value = if t + 1 == steps { bootstrap } else { rollout.values[row + num_envs] };
            let mask = if rollout.dones[row] { 0.0 } else { 1.0 };
            let delta =
                f64::from(rollout.rewards[row]) + gamma * f64::from(next_value) * mask - f64::from(rollout.values[row]);
            last = delta + gamma * lambda * mask * last;
            adv[row] = last as f32;
        }
    }
    let returns = adv.iter().zip(&rollout.values).map(|(a, v)| a + v).collect();
    (adv, returns)
}

/// Ids of a module's float parameters by rank, for the global gradient norm.
#[derive(Default)]
struct ParamIds {
    rank1: Vec<ParamId>,
    rank2: Vec<ParamId>,
}

impl<B: Backend> ModuleVisitor<B> for ParamIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        match D {
            1 => self.rank1.push(param.id),
            2 => self.rank2.push(param.id),
            _ => {}
        }
    }
}

/// Scales every gradient by `min(1, max_norm / (‖g‖ + 1e-6))`, `‖g‖` the norm over all of them
/// together (PyTorch's `clip_grad_norm_`), without reading anything back.
fn clip_global_norm<B: AutodiffBackend>(
    mut grads: GradientsParams,
    module: &PpoNets<B>,
    max_norm: f64,
) -> GradientsParams {
    let mut ids = ParamIds::default();
    module.visit(&mut ids);
    let mut squares: Vec<Tensor<B::InnerBackend, 1>> = Vec::new();
    for &id in &ids.rank1 {
        if let Some(g) = grads.get::<B::InnerBackend, 1>(id) {
            squares.push(g.square().sum());
        }
    }
    for &id in &ids.rank2 {
        if let Some(g) = grads.get::<B::InnerBackend, 2>(id) {
            squares.push(g.square().sum());
        }
    }
    if squares.is_empty() {
        return grads;
    }
    let norm = Tensor::cat(squares, 0).sum().sqrt();
    let scale = norm.add_scalar(1e-6).recip().mul_scalar(max_norm).clamp_max(1.0);
    for &id in &ids.rank1 {
        if let Some(g) = grads.remove::<B::InnerBackend, 1>(id) {
            grads.register(id, g.mul(scale.clone()));
        }
    }
    for &id in &ids.rank2 {
        if let Some(g) = grads.remove::<B::InnerBackend, 2>(id) {
            grads.register(id, g.mul(scale.clone().unsqueeze_dim::<2>(0)));
        }
    }
    grads
}

impl<B: AutodiffBackend> Agent for Ppo<B> {
    /// Uses `head` from the next update on; the networks and δ are kept.
    fn set_era(&mut self, head: EraHead) {
        self.era = Some(head);
    }

    /// The networks and optimiser states as checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![
            record_bytes::<B, _>(self.nets.clone().into_record(), "nets.mpk")?,
            record_bytes::<B, _>(self.delta.clone().into_record(), "delta.mpk")?,
            record_bytes::<B, _>(self.opt.to_record(), "optim.mpk")?,
            record_bytes::<B, _>(self.delta_opt.to_record(), "optim-delta.mpk")?,
        ])
    }

    /// Restores what [`Ppo::save`] wrote (the host state travels separately).
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        check_records(parts)?;
        let dev = &self.device;
        self.nets = load_module(self.nets.clone(), parts, "nets.mpk", dev)?;
        self.delta = load_module(self.delta.clone(), parts, "delta.mpk", dev)?;
        self.opt = self.opt.clone().load_record(load_record::<B, _>(parts, "optim.mpk", dev)?);
        self.delta_opt = self.delta_opt.clone().load_record(load_record::<B, _>(parts, "optim-delta.mpk", dev)?);
        Ok(())
    }
}

impl<B: AutodiffBackend> PpoLearner<B> for Ppo<B> {
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2> {
        Readback::Device(Ppo::act(self, obs, rows, deterministic, rng))
    }

    fn update(
        &mut self,
        cfg: &PpoConfig,
        rollout: &Rollout,
        lr_frac: f64,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 1> {
        Readback::Device(Ppo::update(self, cfg, rollout, lr_frac, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_by_hand() {
        // One copy, three steps, γ = 0.5, λ = 1; the episode ends at step 1.
        // δ₂ = r₂ + γ·V_next − V₂ = 1 + 0.5·4 − 1 = 2;            A₂ = 2
        // δ₁ = r₁ + 0 − V₁ = 0 − 2 = −2 (done: no bootstrap);    A₁ = −2
        // δ₀ = r₀ + γ·V₁ − V₀ = 1 + 1 − 0 = 2;                    A₀ = 2 + 0.5·(−2) = 1
        let r = Rollout {
            values: vec![0.0, 2.0, 1.0],
            rewards: vec![1.0, 0.0, 1.0],
            dones: vec![false, true, false],
            ..Default::default()
        };
        let (adv, ret) = gae(&r, &[4.0], 1, 0.5, 1.0);
        assert_eq!(adv, vec![1.0, -2.0, 2.0]);
        assert_eq!(ret, vec![1.0, 0.0, 3.0]);
    }
}

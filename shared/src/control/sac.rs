//! Soft actor-critic, with ERA (the authors' SAC-ERA) or without (SAC as the field knows it).
//!
//! Both keep twin Q networks with Polyak-averaged targets and learn from a replay buffer:
//!
//! | | SAC | SAC-ERA |
//! |---|---|---|
//! | policy | `tanh(u)`, `u ~ N(μ, σ²)`, `log σ` squashed into `[−5, 2]` | `N(tanh μ, σ′²)` truncated to `[−1, 1]` |
//! | `log σ` | a head | the ERA activation of a head: entropy `H₀ + δ` |
//! | critic target | `r + γ(1−d)(min Q̄(s′,a′) − α log π(a′|s′))` | `r + γ(1−d) min Q̄(s′,a′)` |
//! | actor loss | `α log π(a|s) − min Q(s,a)` | `−min Q(s,a)` |
//! | entropy control | `α` learned towards target entropy `−D` | δ learned so `H[π] ≈ H₀` |
//!
//! The critics are not differentiated for the actor loss (only the action is). Actions live in
//! `[−1, 1]`; the trainer rescales them to the environment's bounds.

use burn::config::Config;
use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, AdamConfig, AdamW, AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, activation};
use rand::Rng;
use rand_distr::StandardNormal;

use super::engine::{Agent, Readback, SacLearner};
use super::mlp::{Init, Mlp, NetSpec, Nonlinearity, Norm, ORTHOGONAL_GAIN};
use super::policy::{EraConfig, EraHead, Scalar, std_stats};
use super::replay::Batch;
use crate::tensor::{delta_loss, tanh_gaussian_log_prob, truncated_normal_quantile, truncated_normal_sample};
use crate::train::{Part, TrainError, TrainRng, check_records, load_module, load_record, record_bytes, upload};

/// CleanRL's bounds for SAC's squashed log-std: `log σ = min + ½(max − min)(tanh(raw) + 1)`.
pub const LOG_STD_MIN: f64 = -5.0;
/// The upper bound of SAC's squashed log-std.
pub const LOG_STD_MAX: f64 = 2.0;

/// Noise for `len` action entries: uniforms in `(0, 1)` for SAC-ERA's inverse CDF (`era`), standard
/// normals for SAC. Both paths draw it here, so they consume the generator identically.
pub fn draw_noise(era: bool, len: usize, rng: &mut TrainRng) -> Vec<f32> {
    if era {
        (0..len).map(|_| rng.random_range(1e-6f32..1.0 - 1e-6)).collect()
    } else {
        (0..len).map(|_| rng.sample::<f32, _>(StandardNormal)).collect()
    }
}

/// The keys of a SAC update's statistics, in order: the last two are SAC's α and its loss, or
/// SAC-ERA's δ and its loss.
pub fn stat_keys(era: bool) -> [&'static str; 10] {
    use crate::metrics::*;
    let (scalar, scalar_loss) = if era { (DELTA, DELTA_LOSS) } else { (ALPHA, ALPHA_LOSS) };
    [
        CRITIC_LOSS,
        ACTOR_LOSS,
        QF_VALUE,
        POLICY_ENTROPY,
        GAUSSIAN_ENTROPY,
        STD_MEAN,
        STD_MIN,
        STD_MAX,
        scalar,
        scalar_loss,
    ]
}

/// SAC and SAC-ERA settings. The defaults are the authors' released SAC-ERA (their JAX code): 512-512
/// ELU networks, critics with a LayerNorm before each ELU, orthogonal initialisation, Adam for the
/// actor and AdamW (weight decay 10⁻⁴) for the critics, 2 updates per environment step, and δ ≡ 0.
/// SAC (ERA off) uses the same networks and optimisers, so that the entropy control is the only
/// difference; CleanRL's SAC is `hidden [256, 256]`, `relu`, `critic_norm none`, `init default`,
/// `critic_weight_decay 0`, `updates_per_step 1`.
#[derive(Config, Debug, PartialEq)]
pub struct SacConfig {
    /// ERA on (SAC-ERA) or off (SAC), its target and δ.
    pub era: EraConfig,
    /// Hidden layer widths of every network.
    #[config(default = "vec![512, 512]")]
    pub hidden: Vec<usize>,
    /// Hidden nonlinearity.
    #[config(default = "Nonlinearity::Elu")]
    pub activation: Nonlinearity,
    /// Normalisation of the critics' hidden layers (the actor has none).
    #[config(default = "Norm::Layer")]
    pub critic_norm: Norm,
    /// How every network's weights start.
    #[config(default = "Init::Orthogonal")]
    pub init: Init,
    /// Actor learning rate (Adam).
    #[config(default = 3e-4)]
    pub actor_lr: f64,
    /// Critic learning rate (AdamW).
    #[config(default = 3e-4)]
    pub critic_lr: f64,
    /// The critics' decoupled weight decay (AdamW; 0 is Adam). optax's `adamw` default, as released.
    #[config(default = 1e-4)]
    pub critic_weight_decay: f64,
    /// Learning rate of `log α` (SAC).
    #[config(default = 3e-4)]
    pub alpha_lr: f64,
    /// Initial temperature α (SAC).
    #[config(default = 1.0)]
    pub init_alpha: f64,
    /// SAC's target entropy; `−D` when absent.
    pub target_entropy: Option<f64>,
    /// Discount γ.
    #[config(default = 0.99)]
    pub gamma: f64,
    /// Polyak factor τ of the target critics.
    #[config(default = 0.005)]
    pub tau: f64,
    /// Transitions per update.
    #[config(default = 256)]
    pub batch_size: usize,
    /// Replay buffer capacity.
    #[config(default = 1_000_000)]
    pub buffer_size: usize,
    /// Environment steps of uniform random actions before learning starts.
    #[config(default = 5000)]
    pub learning_starts: u64,
    /// Gradient updates per environment step (the update-to-data ratio), each on its own batch.
    #[config(default = 2)]
    pub updates_per_step: usize,
}

/// The settings a `config.json` written before the network and optimiser options existed lacks.
/// Those runs used [`SacConfig::cleanrl`]'s values for them, and resume with those.
pub const ADDED_SETTINGS: [&str; 3] = ["critic_norm", "init", "critic_weight_decay"];

/// The largest minibatch an update takes.
pub const MAX_BATCH: usize = 1 << 20;

impl SacConfig {
    /// The networks: the actor (observation → hidden… → `D` means and `D` raw log-std scores, no
    /// normalisation; under orthogonal initialisation the means' block with gain √2 and the scores'
    /// with gain 1, the authors' two heads) and each critic (observation and action → hidden… → 1).
    pub fn nets(&self, obs_dim: usize, act_dim: usize) -> [NetSpec; 2] {
        let [actor, critic] = self.layer_sizes(obs_dim, act_dim);
        let (means, scores) = match self.init {
            Init::Orthogonal => (ORTHOGONAL_GAIN, 1.0),
            Init::Default => (1.0, 1.0),
        };
        let spec =
            |sizes: Vec<usize>, norm, last| NetSpec { sizes, activation: self.activation, norm, init: self.init, last };
        let critic_gain = if self.init == Init::Orthogonal { ORTHOGONAL_GAIN } else { 1.0 };
        [
            spec(actor, Norm::None, vec![(act_dim, means), (act_dim, scores)]),
            spec(critic, self.critic_norm, vec![(1, critic_gain)]),
        ]
    }

    /// The layer sizes of the actor (observation → hidden… → `D` means and `D` raw log-std scores)
    /// and of each critic (observation and action → hidden… → 1), for every engine.
    pub fn layer_sizes(&self, obs_dim: usize, act_dim: usize) -> [Vec<usize>; 2] {
        [
            [&[obs_dim][..], &self.hidden, &[2 * act_dim]].concat(),
            [&[obs_dim + act_dim][..], &self.hidden, &[1]].concat(),
        ]
    }

    /// Checks the settings for `act_dim` action dimensions; the ERA head when ERA is on.
    /// Sizes are checked before anything is allocated.
    pub fn checked(&self, act_dim: usize) -> Result<Option<EraHead>, TrainError> {
        super::mlp::check_hidden(&self.hidden)?;
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return Err(TrainError::Config(format!("batch_size = {} must be in 1..={MAX_BATCH}", self.batch_size)));
        }
        if !(self.critic_weight_decay >= 0.0 && self.critic_weight_decay * self.critic_lr < 1.0) {
            return Err(TrainError::Config(format!(
                "critic_weight_decay = {} must be ≥ 0 with critic_lr × critic_weight_decay < 1",
                self.critic_weight_decay
            )));
        }
        Ok(self.era.build(act_dim)?)
    }

    /// SAC-ERA as the authors released it (`era`), or SAC with the same networks and optimisers.
    pub fn standard(era: bool) -> Self {
        Self::new(EraConfig::new().with_enabled(era))
    }

    /// CleanRL's SAC networks and optimisers (256-256 ReLU, uniform initialisation, no
    /// normalisation, Adam for the critics, one update per step) with ERA on or off: what era's SAC
    /// was before it followed the authors' release.
    pub fn cleanrl(era: bool) -> Self {
        Self::standard(era)
            .with_hidden(vec![256, 256])
            .with_activation(Nonlinearity::Relu)
            .with_critic_norm(Norm::None)
            .with_init(Init::Default)
            .with_critic_weight_decay(0.0)
            .with_updates_per_step(1)
    }
}

/// Twin Q networks `Q(s, a)`.
#[derive(Module, Debug)]
pub struct Critic<B: Backend> {
    q1: Mlp<B>,
    q2: Mlp<B>,
}

impl<B: Backend> Critic<B> {
    fn new(spec: &NetSpec, rng: &mut TrainRng, device: &B::Device) -> Self {
        Self { q1: Mlp::from_spec(spec, rng, device), q2: Mlp::from_spec(spec, rng, device) }
    }

    /// `min(Q₁, Q₂)` and `(Q₁, Q₂)`, each `[batch, 1]`.
    fn forward(&self, obs: Tensor<B, 2>, action: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let x = Tensor::cat(vec![obs, action], 1);
        (self.q1.forward(x.clone()), self.q2.forward(x))
    }

    fn soft_update(self, online: &Self, tau: f64) -> Self {
        Self { q1: self.q1.soft_update(&online.q1, tau), q2: self.q2.soft_update(&online.q2, tau) }
    }
}

/// Everything SAC learns, saved as one record.
#[derive(Module, Debug)]
pub struct SacNets<B: Backend> {
    /// Observation → `[μ, raw log-std scores]` (2·D outputs).
    actor: Mlp<B>,
    critic: Critic<B>,
    /// Polyak-averaged critics (never differentiated).
    target: Critic<B>,
    /// SAC: `log α`. SAC-ERA: δ.
    scalar: Scalar<B>,
}

/// A sampled action with its log-density and the policy's log-std.
struct Sample<B: Backend> {
    action: Tensor<B, 2>,
    log_prob: Tensor<B, 2>,
    log_std: Tensor<B, 2>,
}

/// A SAC or SAC-ERA agent.
pub struct Sac<B: AutodiffBackend> {
    act_dim: usize,
    era: Option<EraHead>,
    target_entropy: f64,
    nets: SacNets<B>,
    actor_opt: OptimizerAdaptor<Adam, Mlp<B>, B>,
    critic_opt: OptimizerAdaptor<AdamW, Critic<B>, B>,
    scalar_opt: OptimizerAdaptor<Adam, Scalar<B>, B>,
    device: B::Device,
}

impl<B: AutodiffBackend> Sac<B> {
    /// A fresh agent for `obs_dim` observations and `act_dim` actions, initialised from `rng`.
    pub fn new(
        cfg: &SacConfig,
        obs_dim: usize,
        act_dim: usize,
        rng: &mut TrainRng,
        device: &B::Device,
    ) -> Result<Self, TrainError> {
        let era = cfg.checked(act_dim)?;
        let [actor_spec, critic_spec] = cfg.nets(obs_dim, act_dim);
        let actor = Mlp::from_spec(&actor_spec, rng, device);
        let critic = Critic::new(&critic_spec, rng, device);
        let target = critic.clone().no_grad();
        let scalar = match &era {
            Some(_) => Scalar::new(cfg.era.delta, device),
            None => Scalar::new(cfg.init_alpha.ln(), device),
        };
        let adam = || AdamConfig::new().with_epsilon(1e-8);
        Ok(Self {
            target_entropy: cfg.target_entropy.unwrap_or(-(act_dim as f64)),
            act_dim,
            era,
            nets: SacNets { actor, critic, target, scalar },
            actor_opt: adam().init(),
            critic_opt: AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(cfg.critic_weight_decay as f32).init(),
            scalar_opt: adam().init(),
            device: device.clone(),
        })
    }

    /// The keys of [`Sac::update`]'s statistics (see [`stat_keys`]).
    pub fn stat_keys(&self) -> [&'static str; 10] {
        stat_keys(self.era.is_some())
    }

    /// Noise for `rows` samples: standard normals (SAC) or uniforms in `(0, 1)` (SAC-ERA's inverse CDF).
    fn noise<BB: Backend>(&self, rows: usize, rng: &mut TrainRng, device: &BB::Device) -> Tensor<BB, 2> {
        upload(&draw_noise(self.era.is_some(), rows * self.act_dim, rng), [rows, self.act_dim], device)
    }

    /// Splits the actor's output into the mean and the log-std.
    fn head<BB: Backend>(&self, out: Tensor<BB, 2>, scalar: Tensor<BB, 1>) -> (Tensor<BB, 2>, Tensor<BB, 2>) {
        let d = self.act_dim;
        let mu = out.clone().narrow(1, 0, d);
        let raw = out.narrow(1, d, d);
        let log_std = match &self.era {
            Some(head) => head.log_std(raw, scalar),
            None => activation::tanh(raw)
                .add_scalar(1.0)
                .mul_scalar(0.5 * (LOG_STD_MAX - LOG_STD_MIN))
                .add_scalar(LOG_STD_MIN),
        };
        (mu, log_std)
    }

    /// Samples actions in `[−1, 1]` with their log-density.
    fn sample<BB: Backend>(
        &self,
        actor: &Mlp<BB>,
        obs: Tensor<BB, 2>,
        scalar: Tensor<BB, 1>,
        noise: Tensor<BB, 2>,
    ) -> Sample<BB> {
        let (mu, log_std) = self.head(actor.forward(obs), scalar);
        match self.era {
            Some(_) => {
                let (action, log_prob) = truncated_normal_sample(mu.tanh(), log_std.clone(), noise);
                Sample { action, log_prob, log_std }
            }
            None => {
                let u = mu.clone().add(log_std.clone().exp().mul(noise));
                let log_prob = tanh_gaussian_log_prob(u.clone(), mu, log_std.clone());
                Sample { action: u.tanh(), log_prob, log_std }
            }
        }
    }

    /// Actions in `[−1, 1]` for `[rows × obs_dim]` observations, left on the device: sampled, or the
    /// mode `tanh μ` when `deterministic` (evaluation).
    pub fn act(&self, obs: &[f32], rows: usize, deterministic: bool, rng: &mut TrainRng) -> Tensor<B::InnerBackend, 2> {
        let actor = self.nets.actor.valid();
        let obs = upload(obs, [rows, obs.len() / rows.max(1)], &self.device);
        if deterministic {
            return actor.forward(obs).narrow(1, 0, self.act_dim).tanh();
        }
        let noise = self.noise(rows, rng, &self.device);
        self.sample(&actor, obs, self.nets.scalar.valid().get(), noise).action
    }

    /// One gradient step of the critics, the actor and α or δ, then the target update. With `stats`,
    /// also returns the statistics named by [`Sac::stat_keys`], on the device (computing them costs a
    /// dozen tensor operations, so only the update before a log asks for them).
    pub fn update(
        &mut self,
        cfg: &SacConfig,
        batch: &Batch,
        rng: &mut TrainRng,
        stats: bool,
    ) -> Option<Tensor<B::InnerBackend, 1>> {
        let n = batch.rewards.len();
        let (o, d, dev) = (batch.obs.len() / n.max(1), self.act_dim, &self.device);
        let obs: Tensor<B, 2> = upload(&batch.obs, [n, o], dev);
        let actions: Tensor<B, 2> = upload(&batch.actions, [n, d], dev);

        // Critic: regress both Q's on the bootstrapped target, computed without autodiff.
        let target_q = {
            let next_obs = upload(&batch.next_obs, [n, o], dev);
            let rewards: Tensor<B::InnerBackend, 2> = upload(&batch.rewards, [n, 1], dev);
            let not_done = upload::<B::InnerBackend, 2>(&batch.terminated, [n, 1], dev).neg().add_scalar(1.0);
            let scalar = self.nets.scalar.valid().get();
            let noise = self.noise(n, rng, dev);
            let actor = self.nets.actor.valid();
            let (next_action, entropy_term) = match self.era {
                // SAC-ERA's target has no entropy term: the action alone, without a gradient path.
                Some(_) => {
                    let (mu, log_std) = self.head(actor.forward(next_obs.clone()), scalar);
                    (truncated_normal_quantile(mu.tanh(), log_std, noise), None)
                }
                None => {
                    let next = self.sample(&actor, next_obs.clone(), scalar.clone(), noise);
                    (next.action, Some(next.log_prob.mul(scalar.exp().unsqueeze_dim::<2>(0))))
                }
            };
            let (t1, t2) = self.nets.target.valid().forward(next_obs, next_action);
            let mut v = t1.min_pair(t2);
            if let Some(term) = entropy_term {
                v = v.sub(term);
            }
            Tensor::<B, 2>::from_inner(rewards.add(not_done.mul(v).mul_scalar(cfg.gamma)))
        };
        let (q1, q2) = self.nets.critic.forward(obs.clone(), actions);
        let q_mean = stats.then(|| q1.clone().detach().inner().mean());
        let critic_loss = q1.sub(target_q.clone()).square().mean().add(q2.sub(target_q).square().mean());
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.nets.critic);
        self.nets.critic = self.critic_opt.step(cfg.critic_lr, self.nets.critic.clone(), grads);

        // Actor: push sampled actions up the (fixed) critics.
        let critic = self.nets.critic.clone().no_grad();
        let scalar = self.nets.scalar.get().detach();
        let s = self.sample(&self.nets.actor, obs.clone(), scalar.clone(), self.noise(n, rng, dev));
        let (q1, q2) = critic.forward(obs, s.action);
        let q = q1.min_pair(q2);
        let actor_loss = match self.era {
            Some(_) => q.neg().mean(),
            None => s.log_prob.clone().mul(scalar.clone().exp().unsqueeze_dim::<2>(0)).sub(q).mean(),
        };
        let grads = GradientsParams::from_grads(actor_loss.backward(), &self.nets.actor);
        self.nets.actor = self.actor_opt.step(cfg.actor_lr, self.nets.actor.clone(), grads);

        // α (SAC) or δ (SAC-ERA) from the same samples' log-densities.
        let log_prob = s.log_prob.detach();
        let entropy = stats.then(|| log_prob.clone().neg().mean().inner());
        let scalar_loss = match &self.era {
            Some(head) if head.delta_auto => {
                let h = log_prob.neg().squeeze_dim::<1>(1);
                Some(delta_loss(self.nets.scalar.get(), h, head.era.h0()))
            }
            Some(_) => None,
            None => Some(self.nets.scalar.get().mul(log_prob.add_scalar(self.target_entropy).mean()).neg()),
        };
        let scalar_loss_value = match scalar_loss {
            Some(loss) => {
                let value = loss.clone().detach().inner();
                let grads = GradientsParams::from_grads(loss.backward(), &self.nets.scalar);
                let lr = if self.era.is_some() { cfg.era.delta_lr } else { cfg.alpha_lr };
                self.nets.scalar = self.scalar_opt.step(lr, self.nets.scalar.clone(), grads);
                if let Some(head) = &self.era {
                    self.nets.scalar = self.nets.scalar.clone().clamped(0.0, head.delta_max);
                }
                Some(value)
            }
            None => None,
        };

        self.nets.target = self.nets.target.clone().soft_update(&self.nets.critic, cfg.tau);

        let (Some(q_mean), Some(entropy)) = (q_mean, entropy) else { return None };
        // The δ or α in force for this update's samples (before its own step).
        let scalar_now = match &self.era {
            Some(head) => scalar.inner().clamp(0.0, head.delta_max),
            None => scalar.inner().exp(),
        };
        let scalar_loss_value = scalar_loss_value.unwrap_or_else(|| Tensor::zeros([1], &self.device));
        Some(Tensor::cat(
            vec![
                critic_loss.detach().inner().reshape([1]),
                actor_loss.detach().inner().reshape([1]),
                q_mean.reshape([1]),
                entropy.reshape([1]),
                std_stats(s.log_std.detach().inner()),
                scalar_now,
                scalar_loss_value.reshape([1]),
            ],
            0,
        ))
    }

    /// Every learned value, flat in the fast path's layout and named as its checkpoint names them:
    /// `actor`, `scalar` (δ or `log α`), `critic1`, `target1`, `critic2`, `target2`. For comparing
    /// engines and implementations parameter by parameter.
    pub fn parameters(&self) -> Vec<(String, Vec<f32>)> {
        let scalar = crate::tensor::to_f64(self.nets.scalar.get().inner()).into_iter().map(|v| v as f32).collect();
        let (critic, target) = (&self.nets.critic, &self.nets.target);
        [
            ("actor", self.nets.actor.valid().flat_params()),
            ("scalar", scalar),
            ("critic1", critic.q1.valid().flat_params()),
            ("target1", target.q1.valid().flat_params()),
            ("critic2", critic.q2.valid().flat_params()),
            ("target2", target.q2.valid().flat_params()),
        ]
        .into_iter()
        .map(|(name, values)| (name.to_string(), values))
        .collect()
    }
}

impl<B: AutodiffBackend> Agent for Sac<B> {
    /// Uses `head` from the next update on; the networks and δ are kept.
    fn set_era(&mut self, head: EraHead) {
        self.era = Some(head);
    }

    /// The networks and optimiser states as checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![
            record_bytes::<B, _>(self.nets.clone().into_record(), "nets.mpk")?,
            record_bytes::<B, _>(self.actor_opt.to_record(), "optim-actor.mpk")?,
            record_bytes::<B, _>(self.critic_opt.to_record(), "optim-critic.mpk")?,
            record_bytes::<B, _>(self.scalar_opt.to_record(), "optim-scalar.mpk")?,
        ])
    }

    /// Restores what [`Sac::save`] wrote.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        check_records(parts)?;
        let dev = &self.device;
        self.nets = load_module(self.nets.clone(), parts, "nets.mpk", dev)?;
        self.actor_opt = self.actor_opt.clone().load_record(load_record::<B, _>(parts, "optim-actor.mpk", dev)?);
        self.critic_opt = self.critic_opt.clone().load_record(load_record::<B, _>(parts, "optim-critic.mpk", dev)?);
        self.scalar_opt = self.scalar_opt.clone().load_record(load_record::<B, _>(parts, "optim-scalar.mpk", dev)?);
        Ok(())
    }
}

impl<B: AutodiffBackend> SacLearner<B> for Sac<B> {
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2> {
        Readback::Device(Sac::act(self, obs, rows, deterministic, rng))
    }

    fn update(
        &mut self,
        cfg: &SacConfig,
        batch: &Batch,
        rng: &mut TrainRng,
        stats: bool,
    ) -> Option<Readback<B::InnerBackend, 1>> {
        Sac::update(self, cfg, batch, rng, stats).map(Readback::Device)
    }
}

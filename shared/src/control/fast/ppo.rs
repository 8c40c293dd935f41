//! PPO and PPO-ERA on the fast CPU path: [`crate::control::ppo`]'s update with hand-written gradients.
//!
//! Same networks from the seed, the same minibatches in the same order
//! ([`crate::control::ppo::for_each_minibatch`]), the same formulas. It runs on the calling thread: a
//! minibatch of 64 rows through 64-wide networks is a few microseconds of arithmetic, so the burn
//! version's time goes to overhead (a tensor allocated and an operation dispatched per step of the
//! formula, the autodiff graph built and walked), which is what this one leaves out.
//!
//! The gradients, per row of a minibatch of `n` (see the reference for the losses):
//! - policy: `r = exp(log π(a|s) − log π_old)`; the clipped surrogate `max(−A·r, −A·clip(r, 1±ε))`
//!   passes `−A·r/n` to `log π` where its unclipped side is taken, nothing elsewhere;
//!   `∂log π/∂μ = z/σ` and `∂log π/∂log σ = z² − 1` with `z = (a − μ)/σ`; an entropy bonus adds
//!   `−c_ent/n` to every `∂L/∂log σ`; ERA's activation passes it back to the raw scores
//!   ([`crate::gaussian::GaussianEra::backward_row`]);
//! - value: `c_v·(V − R)/n`, or with the clipped value loss through whichever of the two squared
//!   errors is larger (the clipped one passes nothing where its clip acts);
//! - all gradients together scaled to a global norm of at most `max_grad_norm`, then Adam (ε 10⁻⁵).

use burn::tensor::backend::AutodiffBackend;
use rand::Rng;
use rand_distr::StandardNormal;

use super::mlp::{Mlp, Scratch, Trace};
use super::{learn_delta, std_stats};
use crate::control::engine::{Agent, PpoLearner, Readback};
use crate::control::policy::EraHead;
use crate::control::ppo::{
    ADAM_EPSILON, LAST_LAYER_GAINS, PpoConfig, Rollout, for_each_minibatch, gather_rows, normalize_advantages,
    stat_keys,
};
use crate::cpu::{Adam, State, read_part, write_part};
use crate::gaussian::gaussian_log_prob;
use crate::train::{Part, TrainError, TrainRng};

/// The checkpoint part of a fast PPO agent.
pub const PART: &str = "fast-ppo.safetensors";

/// The policy's log-std as the update and acting share it: from the actor's second head
/// (state-dependent) or the parameter, through ERA's activation when it is on.
struct Policy<'a> {
    era: Option<&'a EraHead>,
    /// ERA's δ clamped into its range (0 without ERA).
    delta: f32,
    act_dim: usize,
    /// The state-independent parameter, `[D]`; `None` when the actor has a log-std head.
    param: Option<&'a [f32]>,
}

impl Policy<'_> {
    /// Columns of the actor's output: `D` means, then `D` raw log-std scores with a head.
    fn heads(&self) -> usize {
        if self.param.is_some() { self.act_dim } else { 2 * self.act_dim }
    }

    /// `log σ`, `[rows, D]`, for the actor's outputs `out` (`[rows, heads]`).
    fn log_std(&self, out: &[f32], log_std: &mut Vec<f32>) {
        let (d, heads) = (self.act_dim, self.heads());
        let rows = out.len() / heads;
        log_std.resize(rows * d, 0.0);
        let apply = |raw: &[f32], ls: &mut [f32]| match self.era {
            Some(head) => head.era.apply_row_learned(raw, self.delta, ls).expect("rows of D raw scores"),
            None => ls.copy_from_slice(raw),
        };
        match self.param {
            // The same for every row: computed once, then copied.
            Some(param) if rows > 0 => {
                let (first, rest) = log_std.split_at_mut(d);
                apply(param, first);
                rest.chunks_exact_mut(d).for_each(|ls| ls.copy_from_slice(first));
            }
            Some(_) => {}
            None => {
                for (r, ls) in log_std.chunks_exact_mut(d).enumerate() {
                    apply(&out[r * heads + d..(r + 1) * heads], ls);
                }
            }
        }
    }

    /// Passes `∂L/∂log σ` (`[rows, D]`) back to the raw scores: into the head's columns of `g_out`
    /// (`[rows, heads]`), or summed over rows into `g_param` (`[D]`) for the parameter (`summed`:
    /// scratch space of `D`).
    fn backward(&self, out: &[f32], g_log_std: &[f32], g_out: &mut [f32], g_param: &mut [f32], summed: &mut [f32]) {
        let (d, heads) = (self.act_dim, self.heads());
        match self.param {
            Some(param) => {
                // Every row's raw scores are the parameter, and the activation's gradient is linear in
                // the upstream gradient: the rows' sum passes back once.
                summed.fill(0.0);
                for row in g_log_std.chunks_exact(d) {
                    summed.iter_mut().zip(row).for_each(|(p, g)| *p += g);
                }
                match self.era {
                    Some(head) => {
                        head.era.backward_row(param, self.delta, summed, g_param);
                    }
                    None => g_param.copy_from_slice(summed),
                }
            }
            None => {
                for (r, g) in g_log_std.chunks_exact(d).enumerate() {
                    let raw = &out[r * heads + d..(r + 1) * heads];
                    let g_raw = &mut g_out[r * heads + d..(r + 1) * heads];
                    match self.era {
                        Some(head) => {
                            head.era.backward_row(raw, self.delta, g, g_raw);
                        }
                        None => g_raw.copy_from_slice(g),
                    }
                }
            }
        }
    }
}

/// Buffers kept between minibatches so that no update allocates.
#[derive(Debug, Default, Clone)]
struct Buffers {
    obs: Vec<f32>,
    actions: Vec<f32>,
    old_log_prob: Vec<f32>,
    adv: Vec<f32>,
    ret: Vec<f32>,
    old_v: Vec<f32>,
    actor: Trace,
    actor_scratch: Scratch,
    critic: Trace,
    critic_scratch: Scratch,
    /// `log σ` of the minibatch, `[rows, D]`.
    log_std: Vec<f32>,
    /// `∂L/∂log σ`, `[rows, D]`.
    g_log_std: Vec<f32>,
    /// `∂L/∂(actor output)`, `[rows, heads]`.
    g_out: Vec<f32>,
    /// `∂L/∂V`, `[rows]`.
    g_v: Vec<f32>,
    /// `∂L/∂log σ` summed over rows, `[D]`.
    g_summed: Vec<f32>,
    actor_grads: Vec<f32>,
    log_std_grads: Vec<f32>,
    critic_grads: Vec<f32>,
    noise: Vec<f32>,
}

/// A PPO or PPO-ERA agent on the fast CPU path.
#[derive(Debug, Clone)]
pub struct Ppo {
    act_dim: usize,
    /// Whether the actor outputs the log-std scores (else they are learned parameters): its shape.
    state_dependent_std: bool,
    era: Option<EraHead>,
    actor: Mlp,
    actor_adam: Adam,
    /// The state-independent log-std scores (ERA) or log σ (plain), `[D]`; unused with a head.
    log_std: Vec<f32>,
    log_std_adam: Adam,
    critic: Mlp,
    critic_adam: Adam,
    /// ERA's compensation δ (unclamped; 0 without ERA).
    delta: f32,
    delta_adam: Adam,
    buf: Buffers,
}

impl Ppo {
    /// A fresh agent for `num_envs` copies of an environment with `obs_dim` observations and `act_dim`
    /// actions, initialised from `rng` exactly as [`crate::control::ppo::Ppo::new`] initialises its
    /// networks.
    pub fn new(
        cfg: &PpoConfig,
        obs_dim: usize,
        act_dim: usize,
        num_envs: usize,
        rng: &mut TrainRng,
    ) -> Result<Self, TrainError> {
        let era = cfg.checked(act_dim, num_envs)?;
        let ([actor_sizes, critic_sizes], [actor_gain, critic_gain]) =
            (cfg.layer_sizes(obs_dim, act_dim), LAST_LAYER_GAINS);
        let actor = Mlp::new(&actor_sizes, cfg.activation, actor_gain, rng);
        let critic = Mlp::new(&critic_sizes, cfg.activation, critic_gain, rng);
        Ok(Self {
            actor_adam: Adam::with_epsilon(actor.len(), ADAM_EPSILON),
            critic_adam: Adam::with_epsilon(critic.len(), ADAM_EPSILON),
            log_std: vec![0.0; act_dim],
            log_std_adam: Adam::with_epsilon(act_dim, ADAM_EPSILON),
            delta: cfg.era.delta as f32,
            delta_adam: Adam::with_epsilon(1, ADAM_EPSILON),
            actor,
            critic,
            era,
            act_dim,
            state_dependent_std: cfg.state_dependent_std,
            buf: Buffers::default(),
        })
    }

    /// The keys of [`Ppo::update`]'s statistics, in order.
    pub fn stat_keys(&self) -> Vec<&'static str> {
        stat_keys(self.era.is_some())
    }

    fn policy(&self) -> Policy<'_> {
        Policy {
            era: self.era.as_ref(),
            delta: policy_delta(self.era.as_ref(), self.delta),
            act_dim: self.act_dim,
            param: (!self.state_dependent_std).then_some(self.log_std.as_slice()),
        }
    }

    /// For normalised observations `[rows × obs_dim]`: rows of `D + 2` values, a sampled action (or
    /// the mean when `deterministic`), its log-density and `V(s)`, as the reference's `act`.
    pub fn act(&mut self, obs: &[f32], rows: usize, deterministic: bool, rng: &mut TrainRng) -> Vec<f32> {
        let d = self.act_dim;
        let mut b = std::mem::take(&mut self.buf);
        self.actor.forward(obs, rows, &mut b.actor);
        self.critic.forward(obs, rows, &mut b.critic);
        let policy = self.policy();
        let heads = policy.heads();
        policy.log_std(b.actor.output(), &mut b.log_std);
        b.noise.clear();
        if !deterministic {
            b.noise.extend((0..rows * d).map(|_| rng.sample::<f32, _>(StandardNormal)));
        }
        let mut result = Vec::with_capacity(rows * (d + 2));
        for r in 0..rows {
            let mu = &b.actor.output()[r * heads..r * heads + d];
            let ls = &b.log_std[r * d..(r + 1) * d];
            let start = result.len();
            for j in 0..d {
                result.push(if deterministic { mu[j] } else { mu[j] + ls[j].exp() * b.noise[r * d + j] });
            }
            let log_prob = gaussian_log_prob(&result[start..], mu, ls);
            result.extend([log_prob, b.critic.output()[r]]);
        }
        self.buf = b;
        result
    }

    /// `update_epochs` epochs of minibatch updates on a rollout (its advantages and returns filled in), as
    /// [`crate::control::ppo::Ppo::update`]; `lr_frac` scales the learning rate (annealing). Returns
    /// the last minibatch's statistics named by [`Ppo::stat_keys`].
    pub fn update(&mut self, cfg: &PpoConfig, rollout: &Rollout, lr_frac: f64, rng: &mut TrainRng) -> Vec<f32> {
        let lr = cfg.lr_at(lr_frac);
        let mut stats = vec![0.0; self.stat_keys().len()];
        let plan = (cfg.update_epochs, cfg.num_minibatches);
        for_each_minibatch(plan, rollout.log_probs.len(), rng, |idx, last| {
            if let Some(s) = self.minibatch(cfg, rollout, idx, lr, last) {
                stats = s;
            }
        });
        stats
    }

    /// One minibatch's gradient step (and δ's when learned); its statistics when `last`.
    fn minibatch(
        &mut self,
        cfg: &PpoConfig,
        rollout: &Rollout,
        idx: &[usize],
        lr: f64,
        last: bool,
    ) -> Option<Vec<f32>> {
        let (d, rows) = (self.act_dim, idx.len());
        let o = rollout.obs.len() / rollout.log_probs.len().max(1);
        let inv = 1.0 / rows as f32;
        let (c, ent_coef, vf_coef) = (cfg.clip_coef as f32, cfg.ent_coef as f32, cfg.vf_coef as f32);
        let mut b = std::mem::take(&mut self.buf);
        gather_rows(&rollout.obs, o, idx, &mut b.obs);
        gather_rows(&rollout.actions, d, idx, &mut b.actions);
        gather_rows(&rollout.log_probs, 1, idx, &mut b.old_log_prob);
        gather_rows(&rollout.advantages, 1, idx, &mut b.adv);
        normalize_advantages(&mut b.adv);
        gather_rows(&rollout.returns, 1, idx, &mut b.ret);
        gather_rows(&rollout.values, 1, idx, &mut b.old_v);

        // The policy loss and its gradient in the actor's outputs.
        let policy = self.policy();
        let heads = policy.heads();
        self.actor.forward(&b.obs, rows, &mut b.actor);
        let out = b.actor.output();
        policy.log_std(out, &mut b.log_std);
        b.g_out.clear();
        b.g_out.resize(rows * heads, 0.0);
        b.g_log_std.resize(rows * d, 0.0);
        let (mut pg_sum, mut kl_sum, mut clipped) = (0.0f32, 0.0f32, 0usize);
        for r in 0..rows {
            let (mu, ls, a) =
                (&out[r * heads..r * heads + d], &b.log_std[r * d..(r + 1) * d], &b.actions[r * d..(r + 1) * d]);
            let log_ratio = gaussian_log_prob(a, mu, ls) - b.old_log_prob[r];
            let ratio = log_ratio.exp();
            let neg_adv = -b.adv[r];
            let (plain, bounded) = (neg_adv * ratio, neg_adv * ratio.clamp(1.0 - c, 1.0 + c));
            // The reference's `max_pair` keeps its first argument unless it is the smaller.
            let unclipped = plain >= bounded;
            pg_sum += if unclipped { plain } else { bounded };
            let g_log_prob = if unclipped { neg_adv * ratio * inv } else { 0.0 };
            kl_sum += (ratio - 1.0) - log_ratio;
            clipped += usize::from((ratio - 1.0).abs() > c);
            for j in 0..d {
                let sigma = ls[j].exp();
                let z = (a[j] - mu[j]) / sigma;
                b.g_out[r * heads + j] = g_log_prob * z / sigma;
                b.g_log_std[r * d + j] = g_log_prob * (z * z - 1.0) - ent_coef * inv;
            }
        }
        b.log_std_grads.resize(d, 0.0);
        b.g_summed.resize(d, 0.0);
        policy.backward(out, &b.g_log_std, &mut b.g_out, &mut b.log_std_grads, &mut b.g_summed);
        b.actor_grads.resize(self.actor.len(), 0.0);
        self.actor.backward(&b.actor, &b.g_out, Some(&mut b.actor_grads), None, &mut b.actor_scratch);

        // The value loss and its gradient.
        self.critic.forward(&b.obs, rows, &mut b.critic);
        b.g_v.resize(rows, 0.0);
        let mut v_sum = 0.0f32;
        for (r, &v) in b.critic.output().iter().enumerate() {
            let (ret, old) = (b.ret[r], b.old_v[r]);
            let err = (v - ret) * (v - ret);
            let (loss, g) = if cfg.clip_vloss {
                let step = v - old;
                let moved = old + step.clamp(-c, c);
                let err_clipped = (moved - ret) * (moved - ret);
                if err >= err_clipped {
                    (err, 2.0 * (v - ret))
                } else {
                    (err_clipped, if step.abs() <= c { 2.0 * (moved - ret) } else { 0.0 })
                }
            } else {
                (err, 2.0 * (v - ret))
            };
            v_sum += loss;
            b.g_v[r] = g * 0.5 * inv * vf_coef;
        }
        let v_loss = v_sum * inv * 0.5;
        b.critic_grads.resize(self.critic.len(), 0.0);
        self.critic.backward(&b.critic, &b.g_v, Some(&mut b.critic_grads), None, &mut b.critic_scratch);

        // All gradients to a global norm of at most `max_grad_norm` (PyTorch's `clip_grad_norm_`).
        let learns_log_std = !cfg.state_dependent_std;
        let squares = |g: &[f32]| g.iter().map(|x| x * x).sum::<f32>();
        let log_std_sq = if learns_log_std { squares(&b.log_std_grads) } else { 0.0 };
        let norm = (squares(&b.actor_grads) + log_std_sq + squares(&b.critic_grads)).sqrt();
        let scale = ((1.0 / (norm + 1e-6)) * cfg.max_grad_norm as f32).min(1.0);
        for g in [&mut b.actor_grads, &mut b.log_std_grads, &mut b.critic_grads] {
            g.iter_mut().for_each(|x| *x *= scale);
        }
        self.actor_adam.step(&mut self.actor.params, &b.actor_grads, lr);
        if learns_log_std {
            self.log_std_adam.step(&mut self.log_std, &b.log_std_grads, lr);
        }
        self.critic_adam.step(&mut self.critic.params, &b.critic_grads, lr);

        // δ from the rollout's own entropy estimates, `−log π_old`.
        let delta_used = policy_delta(self.era.as_ref(), self.delta);
        let delta_loss = match &self.era {
            Some(head) if head.delta_auto => learn_delta(
                head,
                &mut self.delta,
                &mut self.delta_adam,
                b.old_log_prob.iter().copied(),
                cfg.era.delta_lr,
            ),
            _ => 0.0,
        };
        let stats = last.then(|| {
            let mut s = vec![pg_sum * inv, v_loss, kl_sum * inv, clipped as f32 * inv];
            s.extend(std_stats(b.log_std.chunks_exact(d), d));
            if self.era.is_some() {
                s.extend([delta_used, delta_loss]);
            }
            s
        });
        self.buf = b;
        stats
    }

    /// The agent's state as its checkpoint part holds it.
    fn state(&self) -> State<'_> {
        State::default()
            .value("actor", &self.actor.params)
            .adam("actor", &self.actor_adam)
            .value("log_std", &self.log_std)
            .adam("log_std", &self.log_std_adam)
            .value("critic", &self.critic.params)
            .adam("critic", &self.critic_adam)
            .value("delta", std::slice::from_ref(&self.delta))
            .adam("delta", &self.delta_adam)
    }
}

/// δ as the policy uses it: clamped into `[0, δ_max]` (0 without ERA).
fn policy_delta(era: Option<&EraHead>, delta: f32) -> f32 {
    era.map_or(0.0, |h| h.delta_in_range(delta))
}

impl Agent for Ppo {
    /// Uses `head` from the next update on; the networks and δ are kept.
    fn set_era(&mut self, head: EraHead) {
        self.era = Some(head);
    }

    /// The networks, optimiser states and δ as one checkpoint part ([`PART`]; the observation and
    /// reward statistics travel separately).
    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![write_part(PART, &self.state())?])
    }

    /// Restores what [`Ppo::save`] wrote, checking every tensor's length against this agent's.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        let mut read = read_part(parts, PART, &self.state())?;
        self.actor.params = read.take("actor")?;
        self.actor_adam = read.adam("actor", &self.actor_adam)?;
        self.log_std = read.take("log_std")?;
        self.log_std_adam = read.adam("log_std", &self.log_std_adam)?;
        self.critic.params = read.take("critic")?;
        self.critic_adam = read.adam("critic", &self.critic_adam)?;
        self.delta = read.take("delta")?[0];
        self.delta_adam = read.adam("delta", &self.delta_adam)?;
        Ok(())
    }
}

impl<B: AutodiffBackend> PpoLearner<B> for Ppo {
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2> {
        Readback::Host(Ppo::act(self, obs, rows, deterministic, rng))
    }

    fn update(
        &mut self,
        cfg: &PpoConfig,
        rollout: &Rollout,
        lr_frac: f64,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 1> {
        Readback::Host(Ppo::update(self, cfg, rollout, lr_frac, rng))
    }
}

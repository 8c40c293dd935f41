//! SAC and SAC-ERA on the fast CPU path: [`crate::control::sac`]'s update with hand-written gradients.
//!
//! The update is the reference's, step for step: the critics regress on `r + γ(1−d)(min Q̄(s′,a′) − …)`,
//! the actor follows `−min Q(s, a)` through fixed critics, then α or δ, then Polyak averaging. What
//! makes it fast: two lanes (this thread and the agent's own worker) run the twin critics and the two
//! halves of each batch through the actor side by side, meeting at spin barriers, and every buffer is
//! kept between updates (see [`Sac::update`]).

use std::sync::RwLock;

use burn::tensor::backend::AutodiffBackend;

use super::mlp::{Mlp, Scratch, Trace};
use super::{learn_delta, polyak};
use crate::control::engine::{Agent, Readback, SacLearner};
use crate::control::policy::EraHead;
use crate::control::replay::Batch;
use crate::control::sac::{LOG_STD_MAX, LOG_STD_MIN, SacConfig, draw_noise};
use crate::cpu::{Adam, SpinBarrier, State, read_part, write_part};
use crate::gaussian::{tanh_gaussian_log_prob, truncated_normal_draw, truncated_normal_quantile};
use crate::train::{Part, TrainError, TrainRng};

/// The checkpoint part of a fast SAC agent.
pub const PART: &str = "fast-sac.safetensors";

/// What the policy head made of the actor's output for some rows.
#[derive(Debug, Default, Clone)]
struct Head {
    /// Actions in `[−1, 1]`, `[rows, D]`.
    action: Vec<f32>,
    /// `log π(a|s)` per row (SAC-ERA: only where gradients are wanted).
    log_prob: Vec<f32>,
    /// `log σ` (SAC-ERA: after the ERA activation), `[rows, D]`.
    log_std: Vec<f32>,
    /// SAC-ERA: `∂a/∂loc`. SAC: the pre-squash sample `u`.
    d_loc: Vec<f32>,
    /// SAC-ERA: `∂a/∂log σ`. SAC: unused.
    d_log_std: Vec<f32>,
}

/// The policy as the lanes share it: the actor and its head, read-only during an update.
struct Policy<'a> {
    actor: &'a Mlp,
    era: Option<&'a EraHead>,
    /// SAC-ERA: the learned δ clamped into its range.
    delta: f32,
    act_dim: usize,
}

impl<'a> Policy<'a> {
    /// The policy with the learned scalar: SAC-ERA's δ is clamped into its range here, once.
    fn new(actor: &'a Mlp, era: Option<&'a EraHead>, scalar: f32, act_dim: usize) -> Self {
        Self { actor, era, delta: era.map_or(0.0, |h| h.delta_in_range(scalar)), act_dim }
    }

    /// The head on the actor's output `out` (`[rows, 2D]`: means, then raw log-std scores) with `noise`
    /// from [`draw_noise`]: samples and log-std, and with `grads` (SAC: always) the log-densities and
    /// what the actor's gradient needs.
    fn head(&self, out: &[f32], noise: &[f32], grads: bool, h: &mut Head) {
        let d = self.act_dim;
        let rows = out.len() / (2 * d);
        for buf in [&mut h.action, &mut h.log_std, &mut h.d_loc, &mut h.d_log_std] {
            buf.resize(rows * d, 0.0);
        }
        h.log_prob.resize(rows, 0.0);
        let scale = (0.5 * (LOG_STD_MAX - LOG_STD_MIN)) as f32;
        for r in 0..rows {
            let (mu, raw) = out[r * 2 * d..(r + 1) * 2 * d].split_at(d);
            let at = r * d..(r + 1) * d;
            let log_std = &mut h.log_std[at.clone()];
            match self.era {
                Some(era) => {
                    era.era.apply_row_learned(raw, self.delta, log_std).expect("rows of D raw scores");
                    let mut lp = 0.0f32;
                    for j in 0..d {
                        // In f32, as the tensor version computes it.
                        let (loc, ls, u) = (mu[j].tanh(), log_std[j], noise[r * d + j]);
                        if grads {
                            let draw = truncated_normal_draw(loc, ls, u);
                            h.action[r * d + j] = draw.action;
                            h.d_loc[r * d + j] = draw.d_loc;
                            h.d_log_std[r * d + j] = draw.d_log_scale;
                            lp += draw.log_prob;
                        } else {
                            h.action[r * d + j] = truncated_normal_quantile(loc, ls, u);
                        }
                    }
                    h.log_prob[r] = lp;
                }
                None => {
                    for j in 0..d {
                        log_std[j] = ((raw[j].tanh() + 1.0) * scale) + LOG_STD_MIN as f32;
                        let u = mu[j] + log_std[j].exp() * noise[r * d + j];
                        h.d_loc[r * d + j] = u;
                        h.action[r * d + j] = u.tanh();
                    }
                    h.log_prob[r] = tanh_gaussian_log_prob(&h.d_loc[at.clone()], mu, log_std);
                }
            }
        }
    }

    /// `∂L/∂(actor output)` of the actor loss for some rows, from `g_action`
    /// (`∂L/∂a` through the critics, `[rows, D]`) and what the head kept for these rows.
    fn output_grad(&self, out: &[f32], head: &Head, g_action: &[f32], alpha: f32, inv_n: f32, grad_out: &mut Vec<f32>) {
        let d = self.act_dim;
        let rows = out.len() / (2 * d);
        grad_out.resize(rows * 2 * d, 0.0);
        let scale = (0.5 * (LOG_STD_MAX - LOG_STD_MIN)) as f32;
        let mut g_log_std = vec![0.0f32; d];
        for r in 0..rows {
            let out = &out[r * 2 * d..(r + 1) * 2 * d];
            let (g_mu, g_raw) = grad_out[r * 2 * d..(r + 1) * 2 * d].split_at_mut(d);
            for j in 0..d {
                let (at, g_a) = (r * d + j, g_action[r * d + j]);
                match self.era {
                    Some(_) => {
                        let loc = out[j].tanh();
                        g_mu[j] = g_a * head.d_loc[at] * (1.0 - loc * loc);
                        g_log_std[j] = g_a * head.d_log_std[at];
                    }
                    None => {
                        // log π's gradient: 2·tanh(u) through the squash's log-determinant in u, and −1
                        // per dimension in log σ (the Gaussian term's u- and μ/σ-paths cancel).
                        let (u, a) = (head.d_loc[at], head.action[at]);
                        let g_u = g_a * (1.0 - a * a) + alpha * inv_n * 2.0 * u.tanh();
                        g_mu[j] = g_u;
                        let g_ls = g_u * (u - out[j]) - alpha * inv_n;
                        let t = out[d + j].tanh();
                        g_raw[j] = g_ls * scale * (1.0 - t * t);
                    }
                }
            }
            if let Some(era) = self.era {
                era.era.backward_row(&out[d..], self.delta, &g_log_std, g_raw);
            }
        }
    }
}

/// One of the twin critics with its optimiser and Polyak-averaged target: what one lane owns.
#[derive(Debug, Clone)]
struct Twin {
    critic: Mlp,
    adam: Adam,
    target: Mlp,
}

/// A lane's own buffers, kept between updates so no update allocates.
#[derive(Debug, Default, Clone)]
struct LaneBuffers {
    /// The actor on this lane's half of the batch.
    actor: Trace,
    actor_scratch: Scratch,
    actor_grads: Vec<f32>,
    actor_grad_out: Vec<f32>,
    /// The head on this lane's half.
    head: Head,
    /// This lane's critic (or target) on the whole batch.
    critic: Trace,
    critic_scratch: Scratch,
    critic_grads: Vec<f32>,
    critic_grad_out: Vec<f32>,
    critic_grad_in: Vec<f32>,
    input: Vec<f32>,
    target_q: Vec<f32>,
    g_action: Vec<f32>,
}

/// What a lane hands the other between phases (swapped in, never copied).
#[derive(Debug, Default)]
struct Published {
    /// Actions of this lane's half, `[rows, D]`.
    actions: Vec<f32>,
    /// `log π` of this lane's half.
    log_prob: Vec<f32>,
    /// `log σ` of this lane's half (statistics).
    log_std: Vec<f32>,
    /// This lane's critic or target output on the whole batch, `[n]`.
    q: Vec<f32>,
    /// `∂L/∂input` of this lane's critic on the whole batch, `[n, obs + D]`.
    grad_in: Vec<f32>,
}

/// What a lane returns: its critic's loss and mean Q, and `Σ min Q` of the actor step.
struct LaneResult {
    critic_loss: f32,
    q_mean: f32,
    q_min_sum: f32,
}

/// A SAC or SAC-ERA agent on the fast CPU path.
#[derive(Debug)]
pub struct Sac {
    obs_dim: usize,
    act_dim: usize,
    era: Option<EraHead>,
    target_entropy: f64,
    actor: Mlp,
    twins: [Twin; 2],
    /// SAC: `log α`. SAC-ERA: δ.
    scalar: f32,
    actor_adam: Adam,
    scalar_adam: Adam,
    lanes: [LaneBuffers; 2],
    published: [RwLock<Published>; 2],
    /// The thread that runs lane 1.
    helper: rayon::ThreadPool,
}

/// `[obs, action]` rows (`o` and `d` wide), the critics' input, written into `input`; the actions
/// come in the lanes' halves.
fn critic_input(input: &mut Vec<f32>, obs: &[f32], halves: [&[f32]; 2], (o, d): (usize, usize)) {
    input.clear();
    let actions = halves[0].chunks_exact(d).chain(halves[1].chunks_exact(d));
    for (r, a) in actions.enumerate() {
        input.extend_from_slice(&obs[r * o..(r + 1) * o]);
        input.extend_from_slice(a);
    }
}

/// Where a batch of `rows` is split between the two lanes.
fn split(rows: usize) -> usize {
    rows / 2
}

impl Sac {
    /// A fresh agent for `obs_dim` observations and `act_dim` actions, initialised from `rng` exactly
    /// as [`crate::control::sac::Sac::new`] initialises its networks.
    pub fn new(cfg: &SacConfig, obs_dim: usize, act_dim: usize, rng: &mut TrainRng) -> Result<Self, TrainError> {
        let era = cfg.checked(act_dim)?;
        let [actor_spec, critic_spec] = cfg.nets(obs_dim, act_dim);
        let actor = Mlp::from_spec(&actor_spec, rng);
        let mut twin = || {
            let critic = Mlp::from_spec(&critic_spec, rng);
            Twin {
                adam: Adam::new(critic.len()).with_weight_decay(cfg.critic_weight_decay),
                target: critic.clone(),
                critic,
            }
        };
        let twins = [twin(), twin()];
        let scalar = match &era {
            Some(_) => cfg.era.delta as f32,
            None => cfg.init_alpha.ln() as f32,
        };
        Ok(Self {
            target_entropy: cfg.target_entropy.unwrap_or(-(act_dim as f64)),
            actor_adam: Adam::new(actor.len()),
            scalar_adam: Adam::new(1),
            twins,
            actor,
            scalar,
            era,
            obs_dim,
            act_dim,
            lanes: Default::default(),
            published: Default::default(),
            helper: rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "era-sac-lane".into())
                .build()
                .map_err(|e| TrainError::Config(format!("cannot start the fast path's lane thread: {e}")))?,
        })
    }

    /// Actions in `[−1, 1]` for `[rows × obs_dim]` observations: sampled, or the mode `tanh μ` when
    /// `deterministic`. On the calling thread.
    pub fn act(&mut self, obs: &[f32], rows: usize, deterministic: bool, rng: &mut TrainRng) -> Vec<f32> {
        let d = self.act_dim;
        let lane = &mut self.lanes[0];
        self.actor.forward(obs, rows, &mut lane.actor);
        if deterministic {
            return lane.actor.output().chunks_exact(2 * d).flat_map(|row| row[..d].iter().map(|m| m.tanh())).collect();
        }
        let noise = draw_noise(self.era.is_some(), rows * d, rng);
        let policy = Policy::new(&self.actor, self.era.as_ref(), self.scalar, d);
        policy.head(lane.actor.output(), &noise, false, &mut lane.head);
        lane.head.action.clone()
    }

    /// One gradient step of the critics, the actor and α or δ, then the target update, as
    /// [`crate::control::sac::Sac::update`]. With `stats`, also returns the statistics named by
    /// [`crate::control::sac::stat_keys`].
    ///
    /// Two lanes run it, this thread and the agent's worker thread, meeting at spin barriers: lane `k` owns
    /// critic `k` (its target, optimiser and buffers) and half `k` of the batch for the actor, and
    /// hands results to the other lane through [`Published`].
    pub fn update(&mut self, cfg: &SacConfig, batch: &Batch, rng: &mut TrainRng, stats: bool) -> Option<Vec<f32>> {
        let n = batch.rewards.len();
        let (o, d) = (self.obs_dim, self.act_dim);
        let era = self.era.is_some();
        let inv_n = 1.0 / n as f32;
        let alpha = self.scalar.exp();
        let gamma = cfg.gamma as f32;
        let (critic_lr, tau) = (cfg.critic_lr, cfg.tau);
        // Drawn here, in the reference's order: the target's noise, then the actor step's.
        let noise_next = draw_noise(era, n * d, rng);
        let noise = draw_noise(era, n * d, rng);
        let policy = Policy::new(&self.actor, self.era.as_ref(), self.scalar, d);
        let at = split(n);
        let rows = [0..at, at..n];
        let published = &self.published;
        let barrier = SpinBarrier::default();

        let lane = |k: usize, twin: &mut Twin, buf: &mut LaneBuffers| -> LaneResult {
            let _guard = barrier.poison_on_panic();
            let mine = rows[k].clone();
            let publish = |f: &mut dyn FnMut(&mut Published)| f(&mut published[k].write().expect("lane lock"));
            let both = || [published[0].read().expect("lane lock"), published[1].read().expect("lane lock")];
            // A network of this lane on `[obs, both halves' published actions]`; its output published.
            let on_actions = |net: &Mlp, obs: &[f32], buf: &mut LaneBuffers| {
                {
                    let p = both();
                    critic_input(&mut buf.input, obs, [&p[0].actions, &p[1].actions], (o, d));
                }
                net.forward(&buf.input, n, &mut buf.critic);
                publish(&mut |p| {
                    p.q.clear();
                    p.q.extend_from_slice(buf.critic.output());
                });
            };

            // 1. The actor on this half of the next observations: the target's actions.
            policy.actor.forward(&batch.next_obs[mine.start * o..mine.end * o], mine.len(), &mut buf.actor);
            policy.head(buf.actor.output(), &noise_next[mine.start * d..mine.end * d], !era, &mut buf.head);
            publish(&mut |p| {
                std::mem::swap(&mut p.actions, &mut buf.head.action);
                std::mem::swap(&mut p.log_prob, &mut buf.head.log_prob);
            });
            barrier.wait();
            // 2. This lane's target critic on the whole batch.
            on_actions(&twin.target, &batch.next_obs, buf);
            barrier.wait();
            // 3. The bootstrapped target (each lane computes all of it), then this lane's critic step.
            {
                let p = both();
                buf.target_q.resize(n, 0.0);
                let log_prob = p[0].log_prob.iter().chain(&p[1].log_prob);
                for (r, lp) in log_prob.enumerate() {
                    let (q1, q2) = (p[0].q[r], p[1].q[r]);
                    let mut v = if q2 < q1 { q2 } else { q1 };
                    if !era {
                        v -= lp * alpha;
                    }
                    buf.target_q[r] = batch.rewards[r] + (1.0 - batch.terminated[r]) * v * gamma;
                }
            }
            buf.input.clear();
            for r in 0..n {
                buf.input.extend_from_slice(&batch.obs[r * o..(r + 1) * o]);
                buf.input.extend_from_slice(&batch.actions[r * d..(r + 1) * d]);
            }
            twin.critic.forward(&buf.input, n, &mut buf.critic);
            let (mut loss, mut sum) = (0.0f32, 0.0f32);
            buf.critic_grad_out.resize(n, 0.0);
            for (r, &q) in buf.critic.output().iter().enumerate() {
                let e = q - buf.target_q[r];
                loss += e * e;
                sum += q;
                buf.critic_grad_out[r] = 2.0 * e * inv_n;
            }
            buf.critic_grads.resize(twin.critic.len(), 0.0);
            twin.critic.backward(
                &buf.critic,
                &buf.critic_grad_out,
                Some(&mut buf.critic_grads),
                None,
                &mut buf.critic_scratch,
            );
            twin.adam.step(&mut twin.critic.params, &buf.critic_grads, critic_lr);
            barrier.wait();
            // 4. The actor on this half of the observations, with what its gradient needs.
            policy.actor.forward(&batch.obs[mine.start * o..mine.end * o], mine.len(), &mut buf.actor);
            policy.head(buf.actor.output(), &noise[mine.start * d..mine.end * d], true, &mut buf.head);
            publish(&mut |p| {
                p.actions.clear();
                p.actions.extend_from_slice(&buf.head.action);
                p.log_prob.clear();
                p.log_prob.extend_from_slice(&buf.head.log_prob);
                p.log_std.clear();
                p.log_std.extend_from_slice(&buf.head.log_std);
            });
            barrier.wait();
            // 5. This lane's (updated, fixed) critic on the sampled actions.
            on_actions(&twin.critic, &batch.obs, buf);
            barrier.wait();
            // 6. ∂(−min Q)/∂a through this lane's critic where it is the smaller (min_pair keeps Q₁ on ties).
            let mut q_min_sum = 0.0f32;
            {
                let p = both();
                for r in 0..n {
                    let (q1, q2) = (p[0].q[r], p[1].q[r]);
                    let second = q2 < q1;
                    q_min_sum += if second { q2 } else { q1 };
                    buf.critic_grad_out[r] = if second == (k == 1) { -inv_n } else { 0.0 };
                }
            }
            twin.critic.backward(
                &buf.critic,
                &buf.critic_grad_out,
                None,
                Some(&mut buf.critic_grad_in),
                &mut buf.critic_scratch,
            );
            publish(&mut |p| std::mem::swap(&mut p.grad_in, &mut buf.critic_grad_in));
            barrier.wait();
            // 7. The actor's gradient on this half; the target's Polyak step.
            {
                let p = both();
                buf.g_action.clear();
                for r in mine.clone() {
                    let col = r * (o + d) + o;
                    buf.g_action.extend((0..d).map(|j| p[0].grad_in[col + j] + p[1].grad_in[col + j]));
                }
            }
            policy.output_grad(buf.actor.output(), &buf.head, &buf.g_action, alpha, inv_n, &mut buf.actor_grad_out);
            buf.actor_grads.resize(policy.actor.len(), 0.0);
            policy.actor.backward(
                &buf.actor,
                &buf.actor_grad_out,
                Some(&mut buf.actor_grads),
                None,
                &mut buf.actor_scratch,
            );
            polyak(&mut twin.target.params, &twin.critic.params, tau);
            LaneResult { critic_loss: loss * inv_n, q_mean: sum * inv_n, q_min_sum }
        };

        let [t0, t1] = &mut self.twins;
        let [b0, b1] = &mut self.lanes;
        // Lane 1 on the agent's own worker thread (persistent: no thread is created per update, and it
        // is never busy with other work, so the lanes always run together); lane 0 on this thread.
        let mut r1 = None;
        let r0 = self.helper.in_place_scope(|scope| {
            scope.spawn(|_| r1 = Some(lane(1, t1, b1)));
            lane(0, t0, b0)
        });
        let r1 = r1.expect("the scope waits for lane 1");

        // The whole batch's actor gradient: the halves' sums, added in a fixed order.
        let [b0, b1] = &mut self.lanes;
        b0.actor_grads.iter_mut().zip(&b1.actor_grads).for_each(|(a, b)| *a += b);
        self.actor_adam.step(&mut self.actor.params, &b0.actor_grads, cfg.actor_lr);

        let p = [self.published[0].read().expect("lane lock"), self.published[1].read().expect("lane lock")];
        let log_prob_sum = p[0].log_prob.iter().chain(&p[1].log_prob).sum::<f32>();
        let actor_loss = match self.era {
            Some(_) => -r0.q_min_sum * inv_n,
            None => (log_prob_sum * alpha - r0.q_min_sum) * inv_n,
        };
        // α (SAC) or δ (SAC-ERA) from the same samples' log-densities.
        let scalar_before = self.scalar;
        let log_prob = p[0].log_prob.iter().chain(&p[1].log_prob);
        let scalar_loss = match &self.era {
            Some(head) if head.delta_auto => {
                Some(learn_delta(head, &mut self.scalar, &mut self.scalar_adam, log_prob.copied(), cfg.era.delta_lr))
            }
            Some(_) => None,
            None => {
                let mean = log_prob.map(|&lp| lp + self.target_entropy as f32).sum::<f32>() * inv_n;
                self.scalar_adam.step(std::slice::from_mut(&mut self.scalar), &[-mean], cfg.alpha_lr);
                Some(-(scalar_before * mean))
            }
        };

        stats.then(|| {
            let [h, s_mean, s_min, s_max] =
                super::std_stats(p[0].log_std.chunks_exact(d).chain(p[1].log_std.chunks_exact(d)), d);
            let scalar_now = match &self.era {
                Some(head) => head.delta_in_range(scalar_before),
                None => scalar_before.exp(),
            };
            vec![
                r0.critic_loss + r1.critic_loss,
                actor_loss,
                r0.q_mean,
                -log_prob_sum * inv_n,
                h,
                s_mean,
                s_min,
                s_max,
                scalar_now,
                scalar_loss.unwrap_or(0.0),
            ]
        })
    }

    /// The agent's state as its checkpoint part holds it.
    fn state(&self) -> State<'_> {
        let mut state = State::default()
            .value("actor", &self.actor.params)
            .adam("actor", &self.actor_adam)
            .value("scalar", std::slice::from_ref(&self.scalar))
            .adam("scalar", &self.scalar_adam);
        for (k, twin) in self.twins.iter().enumerate() {
            state = state
                .value(format!("critic{}", k + 1), &twin.critic.params)
                .adam(format!("critic{}", k + 1), &twin.adam)
                .value(format!("target{}", k + 1), &twin.target.params);
        }
        state
    }

    /// Every learned value, named as [`crate::control::sac::Sac::parameters`] names them.
    pub fn parameters(&self) -> Vec<(String, Vec<f32>)> {
        self.state().values.into_iter().map(|(name, values)| (name, values.to_vec())).collect()
    }
}

impl Agent for Sac {
    /// Uses `head` from the next update on; the networks and δ are kept.
    fn set_era(&mut self, head: EraHead) {
        self.era = Some(head);
    }

    /// The networks, optimiser states and the learned scalar as one checkpoint part ([`PART`]).
    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![write_part(PART, &self.state())?])
    }

    /// Restores what [`Sac::save`] wrote, checking every tensor's length against this agent's.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        let mut read = read_part(parts, PART, &self.state())?;
        self.actor.params = read.take("actor")?;
        self.actor_adam = read.adam("actor", &self.actor_adam)?;
        self.scalar = read.take("scalar")?[0];
        self.scalar_adam = read.adam("scalar", &self.scalar_adam)?;
        for (k, twin) in self.twins.iter_mut().enumerate() {
            let name = format!("critic{}", k + 1);
            twin.critic.params = read.take(&name)?;
            twin.adam = read.adam(&name, &twin.adam)?;
            twin.target.params = read.take(&format!("target{}", k + 1))?;
        }
        Ok(())
    }
}

impl<B: AutodiffBackend> SacLearner<B> for Sac {
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2> {
        Readback::Host(Sac::act(self, obs, rows, deterministic, rng))
    }

    fn update(
        &mut self,
        cfg: &SacConfig,
        batch: &Batch,
        rng: &mut TrainRng,
        stats: bool,
    ) -> Option<Readback<B::InnerBackend, 1>> {
        Sac::update(self, cfg, batch, rng, stats).map(Readback::Host)
    }
}

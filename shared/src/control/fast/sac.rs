//! SAC and SAC-ERA on the fast CPU path: [`crate::control::sac`]'s update with hand-written gradients.
//!
//! The update is the reference's, step for step: the critics regress on `r + γ(1−d)(min Q̄(s′,a′) − …)`,
//! the actor follows `−min Q(s, a)` through fixed critics, then α or δ, then Polyak averaging. What
//! makes it fast: the twin critics run side by side on the pool's two halves, the actor's products use
//! the whole pool, and every buffer is kept between updates.

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::mlp::{Mlp, Scratch, Trace};
use super::{Adam, polyak};
use crate::control::policy::EraHead;
use crate::control::replay::Batch;
use crate::control::sac::{LOG_STD_MAX, LOG_STD_MIN, SacConfig, draw_noise, stat_keys};
use crate::control::{AgentError, AgentRng, Part};
use crate::gaussian::{LOG_SQRT_2PI_E, tanh_gaussian_log_prob, truncated_normal_draw, truncated_normal_quantile};

/// The checkpoint part of a fast SAC agent.
pub const PART: &str = "fast-sac.safetensors";

/// What the policy head made of the actor's output for a batch.
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

/// Rows of a [`Head`], writable.
struct HeadRows<'a> {
    action: &'a mut [f32],
    log_prob: &'a mut [f32],
    log_std: &'a mut [f32],
    d_loc: &'a mut [f32],
    d_log_std: &'a mut [f32],
}

impl Head {
    /// Sized for `rows` rows of `d` actions, split after row `split`.
    fn halves(&mut self, rows: usize, d: usize, split: usize) -> (HeadRows<'_>, HeadRows<'_>) {
        for buf in [&mut self.action, &mut self.log_std, &mut self.d_loc, &mut self.d_log_std] {
            buf.resize(rows * d, 0.0);
        }
        self.log_prob.resize(rows, 0.0);
        let (a0, a1) = self.action.split_at_mut(split * d);
        let (p0, p1) = self.log_prob.split_at_mut(split);
        let (s0, s1) = self.log_std.split_at_mut(split * d);
        let (l0, l1) = self.d_loc.split_at_mut(split * d);
        let (g0, g1) = self.d_log_std.split_at_mut(split * d);
        (
            HeadRows { action: a0, log_prob: p0, log_std: s0, d_loc: l0, d_log_std: g0 },
            HeadRows { action: a1, log_prob: p1, log_std: s1, d_loc: l1, d_log_std: g1 },
        )
    }
}

/// The actor's buffers for one half of a batch.
#[derive(Debug, Default, Clone)]
struct ActorHalf {
    trace: Trace,
    scratch: Scratch,
    grads: Vec<f32>,
    grad_out: Vec<f32>,
}

/// Buffers every update reuses.
#[derive(Debug, Default, Clone)]
struct Workspace {
    actor: [ActorHalf; 2],
    critic: [Trace; 2],
    critic_scratch: [Scratch; 2],
    critic_grads: [Vec<f32>; 2],
    critic_grad_out: [Vec<f32>; 2],
    critic_grad_in: [Vec<f32>; 2],
    input: Vec<f32>,
    target_q: Vec<f32>,
    head: Head,
}

/// A SAC or SAC-ERA agent on the fast CPU path.
#[derive(Debug, Clone)]
pub struct Sac {
    cfg: SacConfig,
    obs_dim: usize,
    act_dim: usize,
    era: Option<EraHead>,
    target_entropy: f64,
    actor: Mlp,
    critics: [Mlp; 2],
    targets: [Mlp; 2],
    /// SAC: `log α`. SAC-ERA: δ.
    scalar: f32,
    actor_adam: Adam,
    critic_adams: [Adam; 2],
    scalar_adam: Adam,
    ws: Workspace,
}

/// `[obs, action]` rows (`o` and `d` wide), the critics' input, written into `input`.
fn critic_input(input: &mut Vec<f32>, obs: &[f32], actions: &[f32], rows: usize, (o, d): (usize, usize)) {
    input.clear();
    for r in 0..rows {
        input.extend_from_slice(&obs[r * o..(r + 1) * o]);
        input.extend_from_slice(&actions[r * d..(r + 1) * d]);
    }
}

/// Where a batch of `rows` is split between the two threads: halves from 64 rows on, else all on one.
fn split(rows: usize) -> usize {
    if rows >= 64 { rows / 2 } else { rows }
}

impl Sac {
    /// A fresh agent for `obs_dim` observations and `act_dim` actions, initialised from `rng` exactly
    /// as [`crate::control::sac::Sac::new`] initialises its networks.
    pub fn new(cfg: SacConfig, obs_dim: usize, act_dim: usize, rng: &mut AgentRng) -> Result<Self, AgentError> {
        let era = cfg.checked(act_dim)?;
        let actor = Mlp::new(&[&[obs_dim][..], &cfg.hidden, &[2 * act_dim]].concat(), cfg.activation, 1.0, rng);
        let critic_sizes = [&[obs_dim + act_dim][..], &cfg.hidden, &[1]].concat();
        let critics = [
            Mlp::new(&critic_sizes, cfg.activation, 1.0, rng),
            Mlp::new(&critic_sizes, cfg.activation, 1.0, rng),
        ];
        let scalar = match &era {
            Some(_) => cfg.era.delta as f32,
            None => cfg.init_alpha.ln() as f32,
        };
        Ok(Self {
            target_entropy: cfg.target_entropy.unwrap_or(-(act_dim as f64)),
            actor_adam: Adam::new(actor.len()),
            critic_adams: [Adam::new(critics[0].len()), Adam::new(critics[1].len())],
            scalar_adam: Adam::new(1),
            targets: critics.clone(),
            critics,
            actor,
            scalar,
            era,
            obs_dim,
            act_dim,
            cfg,
            ws: Workspace::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &SacConfig {
        &self.cfg
    }

    /// The keys of [`Sac::update`]'s statistics (see [`stat_keys`]).
    pub fn stat_keys(&self) -> [&'static str; 10] {
        stat_keys(self.era.is_some())
    }

    /// Moves the ERA target to `h0` nats (whole action) mid-run, as [`crate::control::sac::Sac::set_h0`].
    pub fn set_h0(&mut self, h0: f64) -> Result<(), AgentError> {
        let (era, head) = self.cfg.era.retargeted(h0, self.act_dim)?;
        self.cfg.era = era;
        self.era = Some(head);
        Ok(())
    }

    /// The learned δ clamped into its range (SAC-ERA), the compensation the activation adds.
    fn delta(&self, head: &EraHead) -> f32 {
        self.scalar.clamp(0.0, head.delta_max as f32)
    }

    /// The policy head on the actor's output `out` (`[rows, 2D]`: means, then raw log-std scores) with
    /// `noise` from [`draw_noise`]: samples and log-std, and with `grads` (SAC: always) the
    /// log-densities and what the actor's gradient needs.
    fn head(&self, out: &[f32], noise: &[f32], grads: bool, h: HeadRows<'_>) {
        let d = self.act_dim;
        let scale = (0.5 * (LOG_STD_MAX - LOG_STD_MIN)) as f32;
        for r in 0..h.log_prob.len() {
            let (mu, raw) = out[r * 2 * d..(r + 1) * 2 * d].split_at(d);
            let at = r * d..(r + 1) * d;
            let log_std = &mut h.log_std[at.clone()];
            match &self.era {
                Some(era) => {
                    era.era.apply_row_learned(raw, self.delta(era), log_std).expect("rows of D raw scores");
                    let mut lp = 0.0f32;
                    for j in 0..d {
                        let (loc, ls, u) = (f64::from(mu[j].tanh()), f64::from(log_std[j]), f64::from(noise[r * d + j]));
                        if grads {
                            let draw = truncated_normal_draw(loc, ls, u);
                            h.action[r * d + j] = draw.action as f32;
                            h.d_loc[r * d + j] = draw.d_loc as f32;
                            h.d_log_std[r * d + j] = draw.d_log_scale as f32;
                            lp += draw.log_prob as f32;
                        } else {
                            h.action[r * d + j] = truncated_normal_quantile(loc, ls, u) as f32;
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

    /// The actor's forward pass and the policy head on `rows` observations, the batch's two halves side
    /// by side (each half's products on one thread, so the split, and with it every rounding, is the
    /// same whatever the pool's size).
    fn actor_pass(&self, obs: &[f32], rows: usize, noise: &[f32], grads: bool, ws: &mut Workspace) {
        let (o, d, at) = (self.obs_dim, self.act_dim, split(rows));
        let (h0, h1) = ws.head.halves(rows, d, at);
        let [a0, a1] = &mut ws.actor;
        let first = || {
            self.actor.forward(&obs[..at * o], at, &mut a0.trace);
            self.head(a0.trace.output(), &noise[..at * d], grads, h0);
        };
        if at == rows {
            first();
            a1.trace = Trace::default();
            return;
        }
        rayon::join(first, || {
            self.actor.forward(&obs[at * o..rows * o], rows - at, &mut a1.trace);
            self.head(a1.trace.output(), &noise[at * d..rows * d], grads, h1);
        });
    }

    /// Actions in `[−1, 1]` for `[rows × obs_dim]` observations: sampled, or the mode `tanh μ` when
    /// `deterministic`.
    pub fn act(&mut self, obs: &[f32], rows: usize, deterministic: bool, rng: &mut AgentRng) -> Vec<f32> {
        let d = self.act_dim;
        let mut ws = std::mem::take(&mut self.ws);
        let actions = if deterministic {
            let [a0, _] = &mut ws.actor;
            self.actor.forward(obs, rows, &mut a0.trace);
            a0.trace.output().chunks_exact(2 * d).flat_map(|row| row[..d].iter().map(|m| m.tanh())).collect()
        } else {
            let noise = draw_noise(self.era.is_some(), rows * d, rng);
            self.actor_pass(obs, rows, &noise, false, &mut ws);
            ws.head.action.clone()
        };
        self.ws = ws;
        actions
    }

    /// `∂L/∂(actor output)` for the rows of half `k` (starting at row `r0`) of the actor loss, from the
    /// critics' input gradients and what the head kept.
    fn actor_output_grad(&self, half: &mut ActorHalf, r0: usize, ws_head: &Head, grad_in: &[Vec<f32>; 2], alpha: f32, inv_n: f32) {
        let (o, d) = (self.obs_dim, self.act_dim);
        let out = half.trace.output();
        let rows = out.len() / (2 * d);
        half.grad_out.resize(rows * 2 * d, 0.0);
        let scale = (0.5 * (LOG_STD_MAX - LOG_STD_MIN)) as f32;
        let mut g_log_std = vec![0.0f32; d];
        for r in 0..rows {
            let out = &out[r * 2 * d..(r + 1) * 2 * d];
            let (g_mu, g_raw) = half.grad_out[r * 2 * d..(r + 1) * 2 * d].split_at_mut(d);
            for j in 0..d {
                let at = (r0 + r) * d + j;
                let col = (r0 + r) * (o + d) + o + j;
                let g_a = grad_in[0][col] + grad_in[1][col];
                match self.era {
                    Some(_) => {
                        let loc = out[j].tanh();
                        g_mu[j] = g_a * ws_head.d_loc[at] * (1.0 - loc * loc);
                        g_log_std[j] = g_a * ws_head.d_log_std[at];
                    }
                    None => {
                        // log π's gradient: 2·tanh(u) through the squash's log-determinant in u, and −1
                        // per dimension in log σ (the Gaussian term's u- and μ/σ-paths cancel).
                        let (u, a) = (ws_head.d_loc[at], ws_head.action[at]);
                        let g_u = g_a * (1.0 - a * a) + alpha * inv_n * 2.0 * u.tanh();
                        g_mu[j] = g_u;
                        let g_ls = g_u * (u - out[j]) - alpha * inv_n;
                        let t = out[d + j].tanh();
                        g_raw[j] = g_ls * scale * (1.0 - t * t);
                    }
                }
            }
            if let Some(era) = &self.era {
                era.era.backward_row(&out[d..], self.delta(era), &g_log_std, g_raw);
            }
        }
    }

    /// One gradient step of the critics, the actor and α or δ, then the target update, as
    /// [`crate::control::sac::Sac::update`]. With `stats`, also returns the statistics named by
    /// [`Sac::stat_keys`].
    pub fn update(&mut self, batch: &Batch, rng: &mut AgentRng, stats: bool) -> Option<Vec<f32>> {
        let n = batch.rewards.len();
        let (o, d) = (self.obs_dim, self.act_dim);
        let era = self.era.is_some();
        let inv_n = 1.0 / n as f32;
        let alpha = self.scalar.exp();
        let mut ws = std::mem::take(&mut self.ws);

        // Critic target, without gradients.
        let noise = draw_noise(era, n * d, rng);
        self.actor_pass(&batch.next_obs, n, &noise, !era, &mut ws);
        critic_input(&mut ws.input, &batch.next_obs, &ws.head.action, n, (o, d));
        {
            let [t0, t1] = &mut ws.critic;
            let (targets, input) = (&self.targets, &ws.input);
            rayon::join(|| targets[0].forward(input, n, t0), || targets[1].forward(input, n, t1));
        }
        ws.target_q.resize(n, 0.0);
        let gamma = self.cfg.gamma as f32;
        for r in 0..n {
            let (q1, q2) = (ws.critic[0].output()[r], ws.critic[1].output()[r]);
            let mut v = if q2 < q1 { q2 } else { q1 };
            if !era {
                v -= ws.head.log_prob[r] * alpha;
            }
            ws.target_q[r] = batch.rewards[r] + (1.0 - batch.terminated[r]) * v * gamma;
        }

        // Critics: regress both on the target, side by side.
        critic_input(&mut ws.input, &batch.obs, &batch.actions, n, (o, d));
        let critic_lr = self.cfg.critic_lr;
        let losses = {
            let [c0, c1] = &mut self.critics;
            let [a0, a1] = &mut self.critic_adams;
            let [t0, t1] = &mut ws.critic;
            let [s0, s1] = &mut ws.critic_scratch;
            let [g0, g1] = &mut ws.critic_grads;
            let [go0, go1] = &mut ws.critic_grad_out;
            let (input, y) = (&ws.input, &ws.target_q);
            let step = |c: &mut Mlp, a: &mut Adam, t: &mut Trace, s: &mut Scratch, g: &mut Vec<f32>, go: &mut Vec<f32>| {
                c.forward(input, n, t);
                let q = t.output();
                let (mut loss, mut sum) = (0.0f32, 0.0f32);
                go.resize(n, 0.0);
                for r in 0..n {
                    let e = q[r] - y[r];
                    loss += e * e;
                    sum += q[r];
                    go[r] = 2.0 * e * inv_n;
                }
                g.resize(c.len(), 0.0);
                c.backward(t, go, Some(g), None, s);
                a.step(&mut c.params, g, critic_lr);
                (loss * inv_n, sum * inv_n)
            };
            let (l0, l1) = rayon::join(|| step(c0, a0, t0, s0, g0, go0), || step(c1, a1, t1, s1, g1, go1));
            [l0, l1]
        };

        // Actor: push sampled actions up the updated, fixed critics.
        let noise = draw_noise(era, n * d, rng);
        self.actor_pass(&batch.obs, n, &noise, true, &mut ws);
        critic_input(&mut ws.input, &batch.obs, &ws.head.action, n, (o, d));
        let mut q_sum = 0.0f32;
        {
            let [t0, t1] = &mut ws.critic;
            let (critics, input) = (&self.critics, &ws.input);
            rayon::join(|| critics[0].forward(input, n, t0), || critics[1].forward(input, n, t1));
            for k in 0..2 {
                ws.critic_grad_out[k].resize(n, 0.0);
            }
            for r in 0..n {
                let (q1, q2) = (t0.output()[r], t1.output()[r]);
                // min_pair keeps Q₁ on ties.
                let second = q2 < q1;
                q_sum += if second { q2 } else { q1 };
                ws.critic_grad_out[0][r] = if second { 0.0 } else { -inv_n };
                ws.critic_grad_out[1][r] = if second { -inv_n } else { 0.0 };
            }
            let [s0, s1] = &mut ws.critic_scratch;
            let [gi0, gi1] = &mut ws.critic_grad_in;
            let [go0, go1] = &ws.critic_grad_out;
            rayon::join(
                || critics[0].backward(t0, go0, None, Some(gi0), s0),
                || critics[1].backward(t1, go1, None, Some(gi1), s1),
            );
        }
        let log_prob_sum = ws.head.log_prob.iter().sum::<f32>();
        let actor_loss = match self.era {
            Some(_) => -q_sum * inv_n,
            None => (log_prob_sum * alpha - q_sum) * inv_n,
        };
        {
            let at = split(n);
            let [h0, h1] = &mut ws.actor;
            let (head, grad_in, actor) = (&ws.head, &ws.critic_grad_in, &self.actor);
            let half = |h: &mut ActorHalf, r0: usize| {
                self.actor_output_grad(h, r0, head, grad_in, alpha, inv_n);
                h.grads.resize(actor.len(), 0.0);
                actor.backward(&h.trace, &h.grad_out, Some(&mut h.grads), None, &mut h.scratch);
            };
            if at == n {
                half(h0, 0);
            } else {
                rayon::join(|| half(h0, 0), || half(h1, at));
                // The whole batch's gradient: the halves' sums, added in a fixed order.
                h0.grads.iter_mut().zip(&h1.grads).for_each(|(a, b)| *a += b);
            }
            self.actor_adam.step(&mut self.actor.params, &h0.grads, self.cfg.actor_lr);
        }

        // α (SAC) or δ (SAC-ERA) from the same samples' log-densities.
        let scalar_before = self.scalar;
        let scalar_loss = match &self.era {
            Some(head) if head.delta_auto => {
                let h0 = head.era.h0() as f32;
                let gap = ws.head.log_prob.iter().map(|&lp| -lp - h0).sum::<f32>() * inv_n;
                self.scalar_adam.step(std::slice::from_mut(&mut self.scalar), &[gap], self.cfg.era.delta_lr);
                self.scalar = self.scalar.clamp(0.0, head.delta_max as f32);
                Some(scalar_before * gap)
            }
            Some(_) => None,
            None => {
                let mean = ws.head.log_prob.iter().map(|&lp| lp + self.target_entropy as f32).sum::<f32>() * inv_n;
                self.scalar_adam.step(std::slice::from_mut(&mut self.scalar), &[-mean], self.cfg.alpha_lr);
                Some(-(scalar_before * mean))
            }
        };

        {
            let ([t0, t1], [c0, c1], tau) = (&mut self.targets, &self.critics, self.cfg.tau);
            rayon::join(|| polyak(&mut t0.params, &c0.params, tau), || polyak(&mut t1.params, &c1.params, tau));
        }

        let result = stats.then(|| {
            let (mut h, mut s_mean, mut s_min, mut s_max) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for row in ws.head.log_std.chunks_exact(d) {
                h += row.iter().sum::<f32>() + d as f32 * LOG_SQRT_2PI_E as f32;
                let s = row.iter().map(|v| v.exp());
                s_mean += s.clone().sum::<f32>();
                s_min += s.clone().fold(f32::INFINITY, f32::min);
                s_max += s.fold(f32::NEG_INFINITY, f32::max);
            }
            let scalar_now = match &self.era {
                Some(head) => scalar_before.clamp(0.0, head.delta_max as f32),
                None => scalar_before.exp(),
            };
            vec![
                losses[0].0 + losses[1].0,
                actor_loss,
                losses[0].1,
                -log_prob_sum * inv_n,
                h * inv_n,
                s_mean * inv_n / d as f32,
                s_min * inv_n,
                s_max * inv_n,
                scalar_now,
                scalar_loss.unwrap_or(0.0),
            ]
        });
        self.ws = ws;
        result
    }

    /// The named tensors of the agent's state, in checkpoint order.
    fn tensors(&self) -> Vec<(String, &[f32])> {
        let mut out: Vec<(String, &[f32])> = vec![
            ("actor".into(), &self.actor.params),
            ("actor.adam.m".into(), &self.actor_adam.m),
            ("actor.adam.v".into(), &self.actor_adam.v),
            ("scalar".into(), std::slice::from_ref(&self.scalar)),
            ("scalar.adam.m".into(), &self.scalar_adam.m),
            ("scalar.adam.v".into(), &self.scalar_adam.v),
        ];
        for k in 0..2 {
            out.push((format!("critic{}", k + 1), &self.critics[k].params));
            out.push((format!("critic{}.adam.m", k + 1), &self.critic_adams[k].m));
            out.push((format!("critic{}.adam.v", k + 1), &self.critic_adams[k].v));
            out.push((format!("target{}", k + 1), &self.targets[k].params));
        }
        out
    }

    /// The networks, optimiser states and the learned scalar as one checkpoint part ([`PART`]).
    pub fn save(&self) -> Result<Vec<Part>, AgentError> {
        let bad = |e: safetensors::SafeTensorError| AgentError::Checkpoint(format!("{PART}: {e}"));
        let bytes: Vec<(String, Vec<u8>)> = self
            .tensors()
            .into_iter()
            .map(|(name, values)| (name, values.iter().flat_map(|v| v.to_le_bytes()).collect()))
            .collect();
        let views = bytes
            .iter()
            .map(|(name, b)| Ok((name.as_str(), TensorView::new(Dtype::F32, vec![b.len() / 4], b)?)))
            .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
            .map_err(bad)?;
        let meta = [
            ("actor.adam.t", self.actor_adam.t),
            ("critic1.adam.t", self.critic_adams[0].t),
            ("critic2.adam.t", self.critic_adams[1].t),
            ("scalar.adam.t", self.scalar_adam.t),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Ok(vec![(PART.to_string(), safetensors::serialize(views, Some(meta)).map_err(bad)?)])
    }

    /// Restores what [`Sac::save`] wrote, checking every tensor's length against this agent's.
    pub fn load(&mut self, parts: &[Part]) -> Result<(), AgentError> {
        let bytes = crate::control::part(parts, PART).map_err(|_| {
            AgentError::Checkpoint(format!(
                "part `{PART}` is missing: the checkpoint was not written by the fast CPU path (resume it with the backend that wrote it)"
            ))
        })?;
        let bad = |what: String| AgentError::Checkpoint(format!("{PART}: {what}"));
        let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        let mut values = std::collections::HashMap::new();
        for (name, want) in self.tensors().into_iter().map(|(n, v)| (n, v.len())) {
            let t = st.tensor(&name).map_err(|_| bad(format!("tensor `{name}` is missing")))?;
            if t.dtype() != Dtype::F32 || t.data().len() != want * 4 {
                return Err(bad(format!(
                    "tensor `{name}` has {} values of {:?}, this agent needs {want} of F32 (different network sizes?)",
                    t.data().len() / 4,
                    t.dtype()
                )));
            }
            let v: Vec<f32> =
                t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            values.insert(name, v);
        }
        let step = |key: &str| -> Result<u32, AgentError> {
            meta.get(key).and_then(|v| v.parse().ok()).ok_or_else(|| bad(format!("metadata `{key}` missing")))
        };
        let mut take = |name: &str| values.remove(name).unwrap_or_default();
        self.actor.params = take("actor");
        self.actor_adam = Adam { m: take("actor.adam.m"), v: take("actor.adam.v"), t: step("actor.adam.t")? };
        self.scalar = take("scalar")[0];
        self.scalar_adam = Adam { m: take("scalar.adam.m"), v: take("scalar.adam.v"), t: step("scalar.adam.t")? };
        for k in 0..2 {
            let name = format!("critic{}", k + 1);
            self.critics[k].params = take(&name);
            self.critic_adams[k] = Adam {
                m: take(&format!("{name}.adam.m")),
                v: take(&format!("{name}.adam.v")),
                t: step(&format!("{name}.adam.t"))?,
            };
            self.targets[k].params = take(&format!("target{}", k + 1));
        }
        Ok(())
    }
}

//! One optimiser step of the LLM on the fast path: the token loss on the logits with its gradient,
//! the passes over the shards, burn's per-tensor gradient clipping and AdamW.
//!
//! The losses are [`crate::llm::grpo`]'s, per token `t` of row `r` where the mask is set, with `N` the
//! count of such tokens in the whole batch:
//! - likelihood (the warm-up): `L = −(1/N) Σ log softmax(z)_{a}`;
//! - GRPO: `ℓ = log softmax(s_r·z)_{a}` (ERA's scale `s_r`, [`crate::llm_scaling::scale_logits`]),
//!   `ρ = e^{ℓ − ℓ_old}`, `L = −(1/N) Σ min(ρA, clip(ρ, 1−ε_low, 1+ε_high)A) + β/N Σ (e^{d} − d − 1)`
//!   with `d = log π_ref − log softmax(z)_{a}`. Where the clipped side is the smaller one and `ρ` is
//!   outside the clip range the token passes no gradient (burn's `min_pair` and `clamp` do the same).
//!
//! `∂ log softmax(s·z)_a / ∂z = s·(e_a − softmax(s·z))`, the gradient every term passes to the logits.

use rayon::prelude::*;

use super::model::{FastQwen2, Trace};
use super::rows::{Rows, shards, split_for};
use crate::cpu::adam::Adam;
use crate::cpu::kernels::with_product_threads;
use crate::llm::grpo::LossSettings;
use crate::train::TrainError;

/// What the step minimises.
#[derive(Debug, Clone, Copy)]
pub enum Objective<'a> {
    /// The mean negative log-likelihood of the masked tokens (the supervised warm-up).
    Likelihood,
    /// GRPO's clipped token-mean loss.
    Grpo {
        /// ERA's logit scale per row (absent: 1).
        scale: Option<&'a [f32]>,
        /// `log π'_old` per position `[rows, width − 1]`.
        old: &'a [f32],
        /// `A'` per row.
        advantages: &'a [f32],
        /// `log π_ref` per position when `β > 0`.
        reference: Option<&'a [f32]>,
        /// Clip range and `β`.
        settings: LossSettings,
    },
}

/// What a step reports: the loss, its policy part, the clipped share and the approximate KL to the
/// rollout policy (the last three are 0 for the likelihood).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepStats {
    /// The loss minimised.
    pub loss: f64,
    /// The policy part alone.
    pub policy: f64,
    /// Share of tokens whose ratio was clipped.
    pub clip_frac: f64,
    /// Mean `log π'_old − log π'_θ`.
    pub approx_kl: f64,
}

/// One shard: its rows' range, its activations and its gradient.
#[derive(Debug, Default, Clone)]
struct Shard {
    rows: std::ops::Range<usize>,
    trace: Trace,
    grads: Vec<f32>,
    stats: [f64; 4],
}

/// The decoder with its AdamW state and per-thread buffers.
#[derive(Debug, Clone)]
pub struct FastUpdate {
    /// The decoder's weights.
    pub model: FastQwen2,
    /// AdamW as the burn trainer sets it (ε 10⁻⁵, no weight decay).
    pub adam: Adam,
    shards: Vec<Shard>,
    threads: usize,
    spans: Vec<(usize, usize)>,
}

/// The gradient-norm bound of each tensor (the burn trainer's `GradientClippingConfig::Norm(1.0)`).
const CLIP_NORM: f64 = 1.0;

/// AdamW's ε in the burn trainer (`AdamWConfig`'s default).
const ADAM_EPSILON: f32 = 1e-5;

impl FastUpdate {
    /// A fresh optimiser over `model`, splitting batches over up to 8 of rayon's threads.
    pub fn new(model: FastQwen2) -> Self {
        let len = model.params.len();
        let spans = model.spans();
        Self {
            model,
            adam: Adam::with_epsilon(len, ADAM_EPSILON),
            shards: Vec::new(),
            threads: rayon::current_num_threads().clamp(1, 8),
            spans,
        }
    }

    /// Splits each batch into at most `threads` shards (results depend on it by rounding only).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Starts the AdamW state afresh (as GRPO does when it begins).
    pub fn reset_optimizer(&mut self) {
        self.adam = Adam::with_epsilon(self.model.params.len(), ADAM_EPSILON);
    }

    /// Lays out one shard per thread over `count` rows.
    fn split(&mut self, count: usize) {
        let ranges = shards(count, split_for(self.model.params.len(), self.threads).0);
        self.shards.resize_with(ranges.len(), Shard::default);
        for (s, r) in self.shards.iter_mut().zip(ranges) {
            s.rows = r;
        }
    }

    /// The logits `[rows, width − 1, vocab]` of `rows` (no gradient).
    pub fn logits(&self, rows: &Rows<'_>) -> Result<Vec<f32>, TrainError> {
        super::decode::logits(&self.model, rows, self.threads)
    }

    /// A decoder for sampling from the current weights.
    pub fn decoder(&self) -> super::decode::FastDecoder<'_> {
        super::decode::FastDecoder { model: &self.model, threads: self.threads }
    }

    /// One AdamW step at learning rate `lr` on `objective` over `rows`: the gradient, each tensor's
    /// clipped to norm 1 as the burn trainer does, then AdamW.
    pub fn step(&mut self, rows: &Rows<'_>, objective: &Objective<'_>, lr: f64) -> Result<StepStats, TrainError> {
        let stats = self.gradient(rows, objective)?;
        let grads = &mut self.shards[0].grads;
        clip_each(grads, &self.spans, CLIP_NORM);
        self.adam.step(&mut self.model.params, grads, lr);
        Ok(stats)
    }

    /// The loss's gradient with respect to [`FastQwen2::params`] (unclipped), and the loss's figures.
    pub fn gradient(&mut self, rows: &Rows<'_>, objective: &Objective<'_>) -> Result<StepStats, TrainError> {
        let tokens = rows.inputs(self.model.config().vocab_size)?;
        let (t, vocab) = (rows.len(), self.model.config().vocab_size);
        let count = rows.mask.iter().filter(|&&m| m).count().max(1) as f64;
        self.split(rows.count());
        let model = &self.model;
        let len = model.params.len();
        let (_, products) = split_for(len, self.threads);
        self.shards.par_iter_mut().for_each(|s| {
            with_product_threads(products, || {
                let r = s.rows.clone();
                model.forward(&tokens[r.start * t..r.end * t], &rows.pads[r.clone()], t, &mut s.trace);
                s.trace.d_logits.resize(s.trace.logits.len(), 0.0);
                s.stats = token_loss(&s.trace.logits, &mut s.trace.d_logits, rows, r, vocab, objective, count);
                s.grads.clear();
                s.grads.resize(len, 0.0);
                model.backward(&mut s.trace, &mut s.grads);
            })
        });
        // Shard 0 gathers the others' gradients, in shard order (deterministic for a thread count).
        let (first, rest) = self.shards.split_at_mut(1);
        let grads = &mut first[0].grads;
        for s in rest.iter() {
            grads.iter_mut().zip(&s.grads).for_each(|(g, o)| *g += o);
        }
        if grads.iter().any(|g| !g.is_finite()) {
            return Err(TrainError::Diverged("a gradient of the LLM update is not finite".into()));
        }
        let stats = self.shards.iter().fold([0.0; 4], |acc, s| std::array::from_fn(|i| acc[i] + s.stats[i]));
        Ok(StepStats { loss: stats[0], policy: stats[1], clip_frac: stats[2], approx_kl: stats[3] })
    }

    /// The gradient the last [`Self::gradient`] or [`Self::step`] computed (clipped after a step).
    pub fn last_gradient(&self) -> &[f32] {
        self.shards.first().map_or(&[], |s| &s.grads)
    }
}

/// Scales each tensor's gradient to an L2 norm of at most `max` (burn's `clip_by_norm`, tensor by tensor).
fn clip_each(grads: &mut [f32], spans: &[(usize, usize)], max: f64) {
    for &(a, b) in spans {
        let g = &mut grads[a..b];
        let norm = g.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        let coef = (max / (norm + f64::from(f32::MIN_POSITIVE))).min(1.0) as f32;
        if coef < 1.0 {
            g.iter_mut().for_each(|x| *x *= coef);
        }
    }
}

/// `log softmax(s_r·z)_{a}` of every masked position of `rows` from their logits `[rows, width − 1,
/// vocab]` and one scale per row (0 where the mask is not set): the rollout policy's log-probabilities.
pub fn scaled_log_probs(logits: &[f32], rows: &Rows<'_>, scale: &[f32]) -> Vec<f32> {
    let t = rows.len();
    let vocab = if t == 0 || rows.count() == 0 { 0 } else { logits.len() / (rows.count() * t) };
    let mut p = vec![0.0f32; vocab];
    (0..rows.count() * t)
        .map(|k| {
            let (r, i) = (k / t, k % t);
            if !rows.mask[k] {
                return 0.0;
            }
            let a = rows.ids[r * rows.width + i + 1] as usize;
            scaled_log_prob(&logits[k * vocab..(k + 1) * vocab], scale[r], a, &mut p)
        })
        .collect()
}

/// `log softmax(s·z)_a` of one position and `softmax(s·z)` in `p`.
fn scaled_log_prob(z: &[f32], s: f32, a: usize, p: &mut [f32]) -> f32 {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(s * v));
    let mut sum = 0.0f64;
    for (p, &v) in p.iter_mut().zip(z) {
        *p = (s * v - max).exp();
        sum += f64::from(*p);
    }
    let inv = (1.0 / sum) as f32;
    p.iter_mut().for_each(|p| *p *= inv);
    s * z[a] - max - sum.ln() as f32
}

/// Fills the logits' gradient of `rows` `range` (whose logits are `logits`) for `objective`, and
/// returns the shard's sums of `[loss, policy, clipped share, approximate KL]` (each already divided by
/// the batch's token count `count`).
fn token_loss(
    logits: &[f32],
    d_logits: &mut [f32],
    rows: &Rows<'_>,
    range: std::ops::Range<usize>,
    vocab: usize,
    objective: &Objective<'_>,
    count: f64,
) -> [f64; 4] {
    let t = rows.len();
    let mut p = vec![0.0f32; vocab];
    let mut plain = vec![0.0f32; vocab];
    let mut sums = [0.0f64; 4];
    d_logits.iter_mut().for_each(|g| *g = 0.0);
    for (local, r) in range.enumerate() {
        for i in 0..t {
            if !rows.mask[r * t + i] {
                continue;
            }
            let at = (local * t + i) * vocab;
            let (z, dz) = (&logits[at..at + vocab], &mut d_logits[at..at + vocab]);
            let a = rows.ids[r * rows.width + i + 1] as usize;
            match objective {
                Objective::Likelihood => {
                    let lp = scaled_log_prob(z, 1.0, a, &mut p);
                    sums[0] -= f64::from(lp) / count;
                    add_log_prob_grad(dz, &p, a, 1.0, -1.0 / count as f32);
                }
                Objective::Grpo { scale, old, advantages, reference, settings } => {
                    let s = scale.map_or(1.0, |s| s[r]);
                    let adv = advantages[r];
                    let lp = scaled_log_prob(z, s, a, &mut p);
                    let log_ratio = lp - old[r * t + i];
                    let ratio = log_ratio.exp();
                    let (lo, hi) = ((1.0 - settings.clip_low) as f32, (1.0 + settings.clip_high) as f32);
                    let unclipped = ratio * adv;
                    let clipped = ratio.clamp(lo, hi) * adv;
                    // min_pair keeps the unclipped side unless the clipped one is smaller.
                    let (surrogate, passes) =
                        if clipped < unclipped { (clipped, (lo..=hi).contains(&ratio)) } else { (unclipped, true) };
                    sums[1] -= f64::from(surrogate) / count;
                    sums[2] += f64::from(u8::from(unclipped != clipped)) / count;
                    sums[3] -= f64::from(log_ratio) / count;
                    if passes {
                        add_log_prob_grad(dz, &p, a, s, -(ratio * adv) / count as f32);
                    }
                    if let Some(reference) = reference.filter(|_| settings.kl_coef > 0.0) {
                        let current = scaled_log_prob(z, 1.0, a, &mut plain);
                        let d = reference[r * t + i] - current;
                        sums[0] += settings.kl_coef * f64::from(d.exp() - d - 1.0) / count;
                        let g = (settings.kl_coef / count) as f32 * (1.0 - d.exp());
                        add_log_prob_grad(dz, &plain, a, 1.0, g);
                    }
                }
            }
        }
    }
    if matches!(objective, Objective::Grpo { .. }) {
        sums[0] += sums[1];
    }
    sums
}

/// Adds `g · ∂ log softmax(s·z)_a / ∂z = g·s·(e_a − p)` to `dz`.
fn add_log_prob_grad(dz: &mut [f32], p: &[f32], a: usize, s: f32, g: f32) {
    let gs = g * s;
    dz.iter_mut().zip(p).for_each(|(d, p)| *d -= gs * p);
    dz[a] += gs;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::fast::fixtures::{batch, config, rel, rows, weights};
    use crate::llm::grpo::{policy_loss, taken_log_probs};
    use crate::llm::hf_weights::Weights;
    use crate::llm::packing::Packed;
    use crate::llm::qwen2::Qwen2;
    use crate::llm::qwen2::Qwen2Config;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::{AutodiffModule, Module, ModuleMapper, Param};
    use burn::optim::GradientsParams;
    use burn::tensor::backend::Backend;
    use burn::tensor::{Tensor, TensorData};

    type I = NdArray<f64>;
    type A = Autodiff<I>;

    /// Replaces every parameter by its gradient (zero where it has none), so that `to_weights`
    /// gives the gradient in the checkpoint's names and layouts.
    struct ToGrad<'a>(&'a GradientsParams);

    impl<B: Backend> ModuleMapper<B> for ToGrad<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, tensor, mapper) = param.consume();
            let grad = self.0.get::<B, D>(id).unwrap_or_else(|| tensor.zeros_like());
            Param::from_mapped_value(id, grad, mapper)
        }
    }

    #[test]
    fn logits_match_the_burn_model() {
        for tied in [true, false] {
            let c = config(tied);
            let w = weights(&c);
            let p = batch();
            let burn = Qwen2::<I>::from_weights(&c, &w, &Default::default()).unwrap();
            let (_, inputs, _) = p.tensors::<I>(&Default::default());
            let want = burn.forward(inputs, &p.pads, None).into_data().convert::<f32>().into_vec::<f32>().unwrap();
            let fast = FastUpdate::new(FastQwen2::from_weights(&c, &w).unwrap()).with_threads(2);
            let got = fast.logits(&rows(&p)).unwrap();
            // Padding positions are not computed on the fast path; every other one is compared.
            let (t, v) = (p.width - 1, c.vocab_size);
            let real = |x: &[f32]| -> Vec<f32> {
                (0..p.rows())
                    .flat_map(|r| (p.pads[r]..t).flat_map(move |i| (r * t + i) * v..(r * t + i + 1) * v))
                    .map(|k| x[k])
                    .collect()
            };
            let d = rel(&real(&got), &real(&want));
            assert!(d < 1e-5, "tied {tied}: logits differ by {d}");
        }
    }

    /// The burn trainer's loss on `p` for `objective`, its gradient in checkpoint layout, and its value.
    fn burn_gradient(c: &Qwen2Config, w: &Weights, p: &Packed, objective: &Objective<'_>) -> (Weights, f64) {
        let dev = Default::default();
        let model = Qwen2::<A>::from_weights(c, w, &dev).unwrap();
        let (ids, inputs, mask) = p.tensors::<A>(&dev);
        let logits = model.forward(inputs, &p.pads, None);
        let (n, t) = (p.rows(), p.width - 1);
        let loss = match objective {
            Objective::Likelihood => {
                let lp = taken_log_probs(logits, ids, None, None);
                let m = mask.float();
                (lp * m.clone()).sum().neg() / m.sum()
            }
            Objective::Grpo { scale, old, advantages, reference, settings } => {
                let up1 = |v: &[f32]| Tensor::<A, 1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &dev);
                let up2 = |v: &[f32]| Tensor::<A, 2>::from_data(TensorData::new(v.to_vec(), [n, t]), &dev);
                let lp = taken_log_probs(logits.clone(), ids.clone(), scale.map(up1), None);
                let kl = reference.map(|r| (taken_log_probs(logits, ids, None, None), up2(r)));
                policy_loss(lp, up2(old), kl, up1(advantages), mask, settings).loss
            }
        };
        let value = loss.clone().into_data().convert::<f64>().into_vec::<f64>().unwrap()[0];
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (model.valid().map(&mut ToGrad(&grads)).to_weights().unwrap(), value)
    }

    fn compare_gradients(c: &Qwen2Config, objective: &Objective<'_>, p: &Packed, what: &str) {
        let w = weights(c);
        let (want, want_loss) = burn_gradient(c, &w, p, objective);
        for threads in [1, 2, 3] {
            let mut fast = FastUpdate::new(FastQwen2::from_weights(c, &w).unwrap()).with_threads(threads);
            let stats = fast.gradient(&rows(p), objective).unwrap();
            assert!(
                (stats.loss - want_loss).abs() <= 1e-5 * want_loss.abs().max(1e-3),
                "{what}: loss {stats:?} vs {want_loss}"
            );
            let mut got = fast.model.clone();
            got.params = fast.last_gradient().to_vec();
            let got = got.to_weights();
            for (name, g) in got.iter() {
                let b = want.get(name).unwrap();
                let d = rel(&g.values, &b.values);
                assert!(d < 1e-4, "{what}, {threads} shards: gradient of {name} differs by {d}");
            }
        }
    }

    #[test]
    fn the_likelihood_gradient_matches_burn() {
        compare_gradients(&config(true), &Objective::Likelihood, &batch(), "likelihood");
        compare_gradients(&config(false), &Objective::Likelihood, &batch(), "likelihood, untied");
    }

    #[test]
    fn the_grpo_gradient_matches_burn_with_era_scales_clipping_and_kl() {
        let c = config(true);
        let p = batch();
        let w = weights(&c);
        let t = p.width - 1;
        // Old and reference log-probs near the current ones, so ratios land inside and outside the
        // clip range: the current model's log-probs moved by a fixed pattern of ±0.4.
        let fast = FastUpdate::new(FastQwen2::from_weights(&c, &w).unwrap());
        let logits = fast.logits(&rows(&p)).unwrap();
        let v = c.vocab_size;
        let mut probs = vec![0.0; v];
        let current: Vec<f32> = (0..p.rows() * t)
            .map(|k| {
                let (r, i) = (k / t, k % t);
                let a = p.ids[r * p.width + i + 1] as usize;
                if i < p.pads[r] { 0.0 } else { scaled_log_prob(&logits[k * v..(k + 1) * v], 1.0, a, &mut probs) }
            })
            .collect();
        let shift = |k: usize, amp: f32| amp * [(-1.0), -0.3, 0.0, 0.15, 0.6][k % 5];
        let old: Vec<f32> = current.iter().enumerate().map(|(k, c)| c + shift(k, 0.4)).collect();
        let reference: Vec<f32> = current.iter().enumerate().map(|(k, c)| c - shift(k + 2, 0.3)).collect();
        let scale = [1.5f32, 1.0 / 1.5, 1.0, 1.5, 1.0];
        let advantages = [0.9f32, -1.2, 0.4, 1.1, -0.7];
        let settings = LossSettings { clip_low: 0.2, clip_high: 0.28, kl_coef: 0.05 };
        for (what, scale, reference) in [
            ("ERA scales and KL", Some(&scale[..]), Some(&reference[..])),
            ("ERA scales", Some(&scale[..]), None),
            ("plain GRPO", None, None),
        ] {
            let objective = Objective::Grpo { scale, old: &old, advantages: &advantages, reference, settings };
            compare_gradients(&c, &objective, &p, what);
        }
    }
}

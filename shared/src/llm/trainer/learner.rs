//! What the LLM loop asks of the engine that computes its updates, and the one constructor that
//! builds either.
//!
//! The loop ([`super::LlmTrainer`]) owns everything engine-neutral: the task, the generator, the
//! warm-up and rollout schedule, ERA's per-response decisions, the KL reference, the window means.
//! A [`Learner`] owns the policy and its optimiser: [`BurnLearner`] on any burn backend, and with
//! feature `fast` [`crate::llm::fast::FastLearner`] on the CPU's matrix kernels. Both take the same
//! steps for the same inputs (the fast path's tests compare them update by update).

use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{AdamW, AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::llm::config::LlmConfig;
use crate::llm::generate::{Sampling, generate};
use crate::llm::grpo::{LossSettings, policy_loss, taken_log_probs};
use crate::llm::packing::Packed;
use crate::llm::qwen2::Qwen2;
use crate::llm::source::ModelSource;
use crate::tensor::llm_scaling::token_entropy;
use crate::train::{
    Engine, Part, Pending, Readback, TrainError, TrainRng, load_module, load_record, part, read, record_bytes, upload,
};

/// A batch's logits `[rows, width − 1, vocab]` and each position's entropy.
pub type Logits<B> =
    (Tensor<<B as AutodiffBackend>::InnerBackend, 3>, Readback<<B as AutodiffBackend>::InnerBackend, 1>);

/// One GRPO update's inputs, decided by the loop.
pub struct GrpoBatch<'a, B: AutodiffBackend> {
    /// The kept responses (dynamic sampling may drop groups), packed.
    pub kept: &'a Packed,
    /// Which rollout rows they are.
    pub keep: &'a [usize],
    /// The rollout policy's logits of every rollout row `[rows, width − 1, vocab]`.
    pub logits: Tensor<B::InnerBackend, 3>,
    /// ERA's logit scale per kept response (1 where ERA is off or keeps the response).
    pub scales: &'a [f32],
    /// The (rescaled) advantage per kept response.
    pub advantages: &'a [f32],
    /// Whether ERA scales the logits (else `scales` is ignored).
    pub era: bool,
    /// The KL term's reference model, when `kl_coef > 0`.
    pub reference: Option<&'a crate::llm::qwen2::Qwen2<B::InnerBackend>>,
    /// The run's settings (epochs, minibatch, clip range, learning rate…).
    pub config: &'a LlmConfig,
}

/// What one GRPO update reports, averaged over its minibatch steps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GrpoStats {
    /// The clipped policy loss.
    pub policy: f64,
    /// The approximate KL to the rollout policy.
    pub approx_kl: f64,
    /// Share of tokens whose ratio was clipped.
    pub clip_frac: f64,
    /// Tokens trained on.
    pub tokens: u64,
}

impl<B: AutodiffBackend> GrpoBatch<'_, B> {
    /// The minibatches of every epoch, in order: rows of `kept`, `minibatch` at a time (all at once
    /// when 0).
    pub(crate) fn minibatches(&self) -> Vec<Vec<usize>> {
        let n = self.keep.len();
        let per = if self.config.minibatch == 0 { n } else { self.config.minibatch.min(n) }.max(1);
        let all: Vec<usize> = (0..n).collect();
        (0..self.config.epochs).flat_map(|_| all.chunks(per).map(<[usize]>::to_vec).collect::<Vec<_>>()).collect()
    }

    /// The clipped loss's settings.
    pub(crate) fn settings(&self) -> LossSettings {
        let c = self.config;
        LossSettings { clip_low: c.clip_low, clip_high: c.clip_high, kl_coef: c.kl_coef }
    }
}

/// [`GrpoStats`] summed over minibatch steps.
#[derive(Debug, Default)]
pub(crate) struct GrpoSums {
    sums: GrpoStats,
    steps: u32,
}

impl GrpoSums {
    /// Adds one minibatch step's figures and the tokens it trained on.
    pub(crate) fn add(&mut self, policy: f64, approx_kl: f64, clip_frac: f64, tokens: usize) {
        let s = &mut self.sums;
        (s.policy, s.approx_kl, s.clip_frac) = (s.policy + policy, s.approx_kl + approx_kl, s.clip_frac + clip_frac);
        s.tokens += tokens as u64;
        self.steps += 1;
    }

    /// The means over the steps (the tokens summed).
    pub(crate) fn mean(self) -> GrpoStats {
        let (s, n) = (self.sums, f64::from(self.steps.max(1)));
        GrpoStats { policy: s.policy / n, approx_kl: s.approx_kl / n, clip_frac: s.clip_frac / n, tokens: s.tokens }
    }
}

/// The policy and its optimiser on one engine: what [`super::LlmTrainer`] drives.
pub trait Learner<B: AutodiffBackend> {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// The policy as a burn model without autodiff (export, the KL reference, evaluation on burn).
    /// On the fast path a copy of the fast weights, made when asked.
    fn model(&self) -> Result<Qwen2<B::InnerBackend>, TrainError>;

    /// One likelihood step (the supervised warm-up) on `packed`'s response tokens at `lr`; its loss.
    fn likelihood_step(&mut self, packed: &Packed, lr: f64) -> Result<f64, TrainError>;

    /// Starts the optimiser's state afresh (when GRPO begins).
    fn reset_optimizer(&mut self);

    /// The current policy's logits `[rows, width − 1, vocab]` of `packed`, and each position's entropy.
    fn logits(&self, packed: &Packed) -> Result<Logits<B>, TrainError>;

    /// Continues `prompts` from the current policy with up to `max_new` tokens each.
    fn sample<'a>(
        &'a self,
        prompts: &'a [Vec<u32>],
        max_new: usize,
        stop: &'a [u32],
        sampling: &'a Sampling,
        rng: &'a mut TrainRng,
    ) -> Pending<'a, Vec<Vec<u32>>>;

    /// `epochs` passes of minibatch GRPO steps on `batch`.
    fn grpo<'a>(&'a mut self, batch: GrpoBatch<'a, B>) -> Pending<'a, GrpoStats>;

    /// The policy's and the optimiser's checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError>;

    /// Continues from [`Learner::save`]'s parts.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError>;
}

/// The learner for `engine`, starting from `source`'s weights.
pub fn learner<B: AutodiffBackend>(
    engine: Engine,
    config: &LlmConfig,
    source: &ModelSource,
    device: &B::Device,
) -> Result<Box<dyn Learner<B>>, TrainError> {
    match engine {
        Engine::Burn => {
            let model = Qwen2::from_weights(&source.config, &source.weights, device)?;
            Ok(Box::new(BurnLearner { model, optim: adamw(), device: device.clone() }))
        }
        #[cfg(feature = "fast")]
        Engine::Fast => Ok(Box::new(crate::llm::fast::FastLearner::new(config, source, device)?)),
        #[cfg(not(feature = "fast"))]
        Engine::Fast => {
            let _ = config;
            Err(TrainError::no_fast_path())
        }
    }
}

/// burn's AdamW state in a checkpoint.
const OPTIM_PART: &str = "optim.mpk";
/// The fast path's AdamW state in a checkpoint.
pub(crate) const FAST_OPTIM_PART: &str = "adamw.safetensors";

/// The engine whose learner wrote checkpoint `parts`: the fast path when its AdamW state is there,
/// burn otherwise (burn's own load then names what is missing).
pub fn written_by(parts: &[Part]) -> Engine {
    if part(parts, FAST_OPTIM_PART).is_ok() { Engine::Fast } else { Engine::Burn }
}

/// AdamW without weight decay, gradients clipped to norm 1 per tensor (burn's clipping).
fn adamw<B: AutodiffBackend>() -> OptimizerAdaptor<AdamW, Qwen2<B>, B> {
    AdamWConfig::new()
        .with_weight_decay(0.0)
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
        .init()
}

/// The policy as a burn module with burn's AdamW, on any backend.
pub struct BurnLearner<B: AutodiffBackend> {
    model: Qwen2<B>,
    optim: OptimizerAdaptor<AdamW, Qwen2<B>, B>,
    device: B::Device,
}

impl<B: AutodiffBackend> Learner<B> for BurnLearner<B> {
    fn engine(&self) -> Engine {
        Engine::Burn
    }

    fn model(&self) -> Result<Qwen2<B::InnerBackend>, TrainError> {
        Ok(self.model.valid())
    }

    fn likelihood_step(&mut self, packed: &Packed, lr: f64) -> Result<f64, TrainError> {
        let (ids, inputs, mask) = packed.tensors::<B>(&self.device);
        let logits = self.model.forward(inputs, &packed.pads, None);
        let log_probs = taken_log_probs(logits, ids, None, None);
        let m = mask.float();
        let count = m.clone().sum();
        let loss = (log_probs * m).sum().neg() / count;
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let loss_value =
            loss.into_data().convert::<f64>().into_vec::<f64>().map_err(|e| TrainError::Device(format!("{e:?}")))?[0];
        self.model = self.optim.step(lr, self.model.clone(), grads);
        Ok(loss_value)
    }

    fn reset_optimizer(&mut self) {
        self.optim = adamw();
    }

    fn logits(&self, packed: &Packed) -> Result<Logits<B>, TrainError> {
        let (_, inputs, _) = packed.tensors::<B::InnerBackend>(&self.device);
        let logits = self.model.valid().forward(inputs, &packed.pads, None);
        let [n, t, _] = logits.dims();
        let entropy = token_entropy(logits.clone()).reshape([n * t]);
        Ok((logits, Readback::Device(entropy)))
    }

    fn sample<'a>(
        &'a self,
        prompts: &'a [Vec<u32>],
        max_new: usize,
        stop: &'a [u32],
        sampling: &'a Sampling,
        rng: &'a mut TrainRng,
    ) -> Pending<'a, Vec<Vec<u32>>> {
        Box::pin(async move {
            let model = self.model.valid();
            generate(&model, prompts, max_new, stop, sampling, rng, &self.device).await
        })
    }

    fn grpo<'a>(&'a mut self, batch: GrpoBatch<'a, B>) -> Pending<'a, GrpoStats> {
        Box::pin(async move {
            let (minibatches, settings) = (batch.minibatches(), batch.settings());
            let GrpoBatch { kept, keep, logits, scales, advantages, era, reference, config: c } = batch;
            let dev = self.device.clone();
            let rows_tensor = |rows: &[usize]| {
                Tensor::<B::InnerBackend, 1, Int>::from_data(
                    TensorData::new(rows.iter().map(|&k| k as i64).collect::<Vec<_>>(), [rows.len()]),
                    &dev,
                )
            };
            let scale_of = |rows: &[usize]| -> Option<Tensor<B::InnerBackend, 1>> {
                era.then(|| upload(&rows.iter().map(|&r| scales[r]).collect::<Vec<_>>(), [rows.len()], &dev))
            };
            let all: Vec<usize> = (0..keep.len()).collect();
            let (kept_ids, kept_inputs, _) = kept.tensors::<B::InnerBackend>(&dev);
            let reference = reference
                .map(|m| taken_log_probs(m.forward(kept_inputs, &kept.pads, None), kept_ids.clone(), None, None));
            let old_scale = if c.ratio_to_rollout { None } else { scale_of(&all) };
            let old = taken_log_probs(logits.select(0, rows_tensor(keep)), kept_ids, old_scale, c.top_k_logprobs);
            let mut sums = GrpoSums::default();
            for chunk in &minibatches {
                let mb = kept.select(chunk);
                let rows = rows_tensor(chunk);
                let (ids, inputs, mask) = mb.tensors::<B>(&dev);
                let logits = self.model.forward(inputs, &mb.pads, None);
                let scale = scale_of(chunk).map(Tensor::from_inner);
                let log_probs = taken_log_probs(logits.clone(), ids.clone(), scale, c.top_k_logprobs);
                let kl_terms = reference.as_ref().map(|r| {
                    (taken_log_probs(logits, ids, None, None), Tensor::from_inner(r.clone().select(0, rows.clone())))
                });
                let old_mb = Tensor::from_inner(old.clone().select(0, rows));
                let a = Tensor::from_inner(upload(
                    &chunk.iter().map(|&r| advantages[r]).collect::<Vec<_>>(),
                    [chunk.len()],
                    &dev,
                ));
                let l = policy_loss(log_probs, old_mb, kl_terms, a, mask, &settings);
                let logged = Tensor::cat(vec![l.policy.clone(), l.approx_kl.clone(), l.clip_frac.clone()], 0);
                let grads = GradientsParams::from_grads(l.loss.backward(), &self.model);
                self.model = self.optim.step(c.lr, self.model.clone(), grads);
                let v = read(logged).await?;
                sums.add(v[0] as f64, v[1] as f64, v[2] as f64, mb.ids.len());
            }
            Ok(sums.mean())
        })
    }

    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![
            record_bytes::<B, _>(self.model.clone().into_record(), "model.mpk")?,
            record_bytes::<B, _>(self.optim.to_record(), OPTIM_PART)?,
        ])
    }

    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        self.model = load_module(self.model.clone(), parts, "model.mpk", &self.device)?;
        if part(parts, OPTIM_PART).is_err() {
            return Err(TrainError::Checkpoint(
                "this checkpoint was written by --backend fast: resume it with --backend fast".into(),
            ));
        }
        self.optim = self.optim.clone().load_record(load_record::<B, _>(parts, OPTIM_PART, &self.device)?);
        Ok(())
    }
}

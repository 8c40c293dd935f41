//! The fast path as the LLM loop's [`Learner`]: updates (warm-up and GRPO) by hand on the CPU's
//! matrix kernels, with the same losses, clipping and AdamW as [`BurnLearner`](crate::llm::trainer::learner::BurnLearner).
//! Sampling uses the fast decoder. The weights live here once: a burn copy (for export, checkpoints
//! and the KL reference) is made from them when asked, so that a 0.5 B-parameter model is not held
//! twice.

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::AutodiffBackend;

use super::{FastQwen2, FastUpdate, Objective, Rows, scaled_log_probs};
use crate::cpu::parts::{State, read_part, write_part};
use crate::llm::config::LlmConfig;
use crate::llm::generate::{Sampling, sample};
use crate::llm::packing::Packed;
use crate::llm::qwen2::{Qwen2, Qwen2Config};
use crate::llm::source::ModelSource;
use crate::llm::trainer::learner::{FAST_OPTIM_PART as OPTIM_PART, GrpoBatch, GrpoStats, GrpoSums, Learner, Logits};
use crate::llm_scaling;
use crate::train::{Engine, Part, Pending, Readback, TrainError, TrainRng, load_module, read, record_bytes, upload};

/// The fast decoder and AdamW; burn copies of the model are made on `device` when asked.
pub struct FastLearner<B: AutodiffBackend> {
    fast: FastUpdate,
    config: Qwen2Config,
    device: B::Device,
}

impl<B: AutodiffBackend> FastLearner<B> {
    /// The fast path starting from `source`'s weights; burn copies live on `device`.
    pub fn new(llm: &LlmConfig, source: &ModelSource, device: &B::Device) -> Result<Self, TrainError> {
        if llm.top_k_logprobs.is_some() {
            return Err(TrainError::Config(
                "top_k_logprobs is not on the fast CPU path: use --backend ndarray (or leave top_k_logprobs unset)"
                    .into(),
            ));
        }
        let fast = FastUpdate::new(FastQwen2::from_weights(&source.config, &source.weights)?);
        Ok(Self { fast, config: source.config.clone(), device: device.clone() })
    }

    /// A burn copy of the fast weights.
    fn burn<C: burn::tensor::backend::Backend<Device = B::Device>>(&self) -> Result<Qwen2<C>, TrainError> {
        Qwen2::from_weights(&self.config, &self.fast.model.to_weights(), &self.device)
    }
}

impl<B: AutodiffBackend> Learner<B> for FastLearner<B> {
    fn engine(&self) -> Engine {
        Engine::Fast
    }

    fn model(&self) -> Result<Qwen2<B::InnerBackend>, TrainError> {
        self.burn()
    }

    fn likelihood_step(&mut self, packed: &Packed, lr: f64) -> Result<f64, TrainError> {
        let stats = self.fast.step(&Rows::of(packed), &Objective::Likelihood, lr)?;
        Ok(stats.loss)
    }

    fn reset_optimizer(&mut self) {
        self.fast.reset_optimizer();
    }

    fn logits(&self, packed: &Packed) -> Result<Logits<B>, TrainError> {
        let logits = self.fast.logits(&Rows::of(packed))?;
        let (n, t) = (packed.rows(), packed.width - 1);
        let vocab = logits.len() / (n * t).max(1);
        let entropy = logits.chunks_exact(vocab.max(1)).map(llm_scaling::token_entropy).collect();
        Ok((upload(&logits, [n, t, vocab], &self.device), Readback::Host(entropy)))
    }

    fn sample<'a>(
        &'a self,
        prompts: &'a [Vec<u32>],
        max_new: usize,
        stop: &'a [u32],
        sampling: &'a Sampling,
        rng: &'a mut TrainRng,
    ) -> Pending<'a, Vec<Vec<u32>>> {
        Box::pin(async move { sample(&self.fast.decoder(), prompts, max_new, stop, sampling, rng).await })
    }

    /// The rollout's (scaled) log-probabilities and the reference's are read once, then `epochs`
    /// passes of minibatch steps.
    fn grpo<'a>(&'a mut self, batch: GrpoBatch<'a, B>) -> Pending<'a, GrpoStats> {
        Box::pin(async move {
            let (minibatches, settings) = (batch.minibatches(), batch.settings());
            let GrpoBatch { kept, keep, logits, scales, advantages, era, reference, config: c } = batch;
            let [_, t, vocab] = logits.dims();
            let rollout = read(logits).await?;
            let kept_logits: Vec<f32> =
                keep.iter().flat_map(|&r| rollout[r * t * vocab..(r + 1) * t * vocab].iter().copied()).collect();
            let ones = vec![1.0f32; keep.len()];
            let old_scale = if era && !c.ratio_to_rollout { scales } else { &ones[..] };
            let old = scaled_log_probs(&kept_logits, &Rows::of(kept), old_scale);
            let reference = match reference {
                Some(m) => {
                    let (_, inputs, _) = kept.tensors::<B::InnerBackend>(&self.device);
                    let lp = read(m.forward(inputs, &kept.pads, None)).await?;
                    Some(scaled_log_probs(&lp, &Rows::of(kept), &ones))
                }
                None => None,
            };
            let rows_of = |v: &[f32], chunk: &[usize]| -> Vec<f32> {
                chunk.iter().flat_map(|&r| v[r * t..(r + 1) * t].iter().copied()).collect()
            };
            let pick = |v: &[f32], chunk: &[usize]| -> Vec<f32> { chunk.iter().map(|&r| v[r]).collect() };
            let mut sums = GrpoSums::default();
            for chunk in &minibatches {
                let mb = kept.select(chunk);
                let (scale, old_mb, a) = (pick(scales, chunk), rows_of(&old, chunk), pick(advantages, chunk));
                let reference_mb = reference.as_ref().map(|r| rows_of(r, chunk));
                let objective = Objective::Grpo {
                    scale: era.then_some(&scale[..]),
                    old: &old_mb,
                    advantages: &a,
                    reference: reference_mb.as_deref(),
                    settings,
                };
                let s = self.fast.step(&Rows::of(&mb), &objective, c.lr)?;
                sums.add(s.policy, s.approx_kl, s.clip_frac, mb.ids.len());
            }
            Ok(sums.mean())
        })
    }

    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![
            record_bytes::<B, _>(self.burn::<B>()?.into_record(), "model.mpk")?,
            write_part(OPTIM_PART, &State::default().adam("decoder", &self.fast.adam))?,
        ])
    }

    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        let model: Qwen2<B> = load_module(self.burn()?, parts, "model.mpk", &self.device)?;
        let mut read = read_part(parts, OPTIM_PART, &State::default().adam("decoder", &self.fast.adam))?;
        self.fast.adam = read.adam("decoder", &self.fast.adam)?;
        self.fast.model = FastQwen2::from_weights(&self.config, &model.valid().to_weights()?)?;
        Ok(())
    }
}

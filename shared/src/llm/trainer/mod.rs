//! The LLM training loop: a supervised warm-up on worked answers, then GRPO with or without ERA.
//!
//! Steps `1..=warmup_steps` are warm-up steps (teacher forcing on prompt → worked response, loss on the
//! response tokens); the next `grpo_steps` are GRPO steps, each sampling `group` responses to each of
//! `prompts` training problems, rewarding exact answers and updating `epochs` times. The Adam state is
//! started afresh when GRPO begins. pass@k on the test split is measured after the warm-up, every
//! `eval_every` GRPO steps and at the end, from its own generator (evaluating never changes training).

use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{AdamW, AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::arithmetic::{Arithmetic, Problem};
use super::generate::{Sampling, generate};
use super::grpo::{LossSettings, group_advantages, informative_groups, policy_loss, taken_log_probs};
use super::qwen2::Qwen2;
use super::tokenizer::LlmTokenizer;
use crate::llm_scaling::{self, LlmEra, Regime};
use crate::metrics;
use crate::runlog::EraTargets;
use crate::tensor::llm_scaling::token_entropy;
use crate::train::{
    Logged, Part, TrainError, TrainRng, check_records, load_module, load_record, loop_part, part, read, read_loop,
    record_bytes, upload,
};
use crate::train::{Trainer, schedule};

mod evaluate;
mod window;

pub use evaluate::Evaluation;
pub use window::Window;

use super::config::LlmConfig;
use super::packing::Packed;
use super::source::ModelSource;

/// What the loop stores in its checkpoint's loop part.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LoopState {
    step: u64,
    rng: TrainRng,
    tokens: u64,
    /// Absent in checkpoints written before the window means were logged: an empty window.
    #[serde(default)]
    window: Window,
}

/// One GRPO step's sampled responses, their rewards and the rollout policy's view of them.
#[derive(Debug, Clone)]
pub struct Rollout<B: Backend> {
    /// Response token ids (ending with a stop token unless cut at the length limit).
    pub responses: Vec<Vec<u32>>,
    /// Reward of each response.
    pub rewards: Vec<f64>,
    /// Prompts and responses packed.
    pub packed: Packed,
    /// Per response: mean token entropy and `H_resp`.
    pub entropy: Vec<(f64, f64)>,
    /// The rollout policy's logits `[responses, width − 1, vocab]`.
    pub logits: Tensor<B, 3>,
}

/// Trains one model on the arithmetic task.
pub struct LlmTrainer<B: AutodiffBackend> {
    config: LlmConfig,
    source: ModelSource,
    task: Arithmetic,
    era: Option<LlmEra>,
    model: Qwen2<B>,
    optim: OptimizerAdaptor<AdamW, Qwen2<B>, B>,
    reference: Option<Qwen2<B::InnerBackend>>,
    rng: TrainRng,
    step: u64,
    tokens: u64,
    window: Window,
    max_new: usize,
    device: B::Device,
    /// The fast CPU path's decoder and AdamW, when updates run there (`self.model` then follows its
    /// weights after every update, for generation and checkpoints).
    #[cfg(feature = "fast")]
    fast: Option<crate::llm::fast::FastUpdate>,
}

/// The fast path's AdamW state in its checkpoints.
#[cfg(feature = "fast")]
const FAST_OPTIM_PART: &str = "adamw.safetensors";

fn adam<B: AutodiffBackend>() -> OptimizerAdaptor<AdamW, Qwen2<B>, B> {
    AdamWConfig::new()
        .with_weight_decay(0.0)
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
        .init()
}

impl<B: AutodiffBackend> LlmTrainer<B> {
    /// A trainer at step 0 with `source`'s weights.
    pub fn new(config: LlmConfig, source: ModelSource, device: &B::Device) -> Result<Self, TrainError> {
        let task = config.task_for(&source.tokenizer)?;
        let max_new = if config.max_new_tokens == 0 {
            source.tokenizer.encode(&task.longest().worked()).map_or(16, |t| t.len()) + 4
        } else {
            config.max_new_tokens
        };
        let model = Qwen2::from_weights(&source.config, &source.weights, device)?;
        Ok(Self {
            era: config.llm_era()?,
            rng: TrainRng::seed_from_u64(config.seed),
            config,
            source,
            task,
            model,
            optim: adam(),
            reference: None,
            step: 0,
            tokens: 0,
            window: Window::default(),
            max_new,
            device: device.clone(),
            #[cfg(feature = "fast")]
            fast: None,
        })
    }

    /// The same trainer with its updates (warm-up and GRPO) on the fast CPU path
    /// ([`crate::llm::fast`]): the same losses, clipping and AdamW by hand on the CPU's matrix
    /// kernels. Generation stays on the burn model, which follows the fast path's weights.
    #[cfg(feature = "fast")]
    pub fn with_fast_update(mut self) -> Result<Self, TrainError> {
        if self.config.top_k_logprobs.is_some() {
            return Err(TrainError::Config(
                "top_k_logprobs is not on the fast CPU path: use --backend ndarray (or leave top_k_logprobs unset)"
                    .into(),
            ));
        }
        let weights = self.model.valid().to_weights()?;
        self.fast = Some(crate::llm::fast::FastUpdate::new(crate::llm::fast::FastQwen2::from_weights(
            &self.source.config,
            &weights,
        )?));
        Ok(self)
    }

    /// Whether `parts` were written by a trainer on the fast CPU path (its AdamW state in place of burn's).
    pub fn fast_checkpoint(parts: &[Part]) -> bool {
        #[cfg(feature = "fast")]
        return part(parts, FAST_OPTIM_PART).is_ok();
        #[cfg(not(feature = "fast"))]
        {
            let _ = parts;
            false
        }
    }

    /// Whether updates run on the fast CPU path.
    pub fn is_fast(&self) -> bool {
        #[cfg(feature = "fast")]
        return self.fast.is_some();
        #[cfg(not(feature = "fast"))]
        false
    }

    /// Rebuilds the burn model from the fast path's weights (after an update there).
    #[cfg(feature = "fast")]
    fn follow_fast(&mut self) -> Result<(), TrainError> {
        if let Some(fast) = &self.fast {
            self.model = Qwen2::from_weights(&self.source.config, &fast.model.to_weights(), &self.device)?;
        }
        Ok(())
    }

    /// The settings.
    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Steps taken (warm-up and GRPO).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Warm-up plus GRPO steps.
    pub fn total_steps(&self) -> u64 {
        self.config.warmup_steps + self.config.grpo_steps
    }

    /// Whether every step has been taken.
    pub fn is_done(&self) -> bool {
        self.step >= self.total_steps()
    }

    /// Whether the next step is a warm-up step.
    pub fn in_warmup(&self) -> bool {
        self.step < self.config.warmup_steps
    }

    /// Tokens generated or trained on so far (for throughput).
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// The model's tokenizer.
    pub fn tokenizer(&self) -> &LlmTokenizer {
        &self.source.tokenizer
    }

    /// The task.
    pub fn task(&self) -> &Arithmetic {
        &self.task
    }

    /// The model, without autodiff.
    pub fn model(&self) -> Qwen2<B::InnerBackend> {
        self.model.valid()
    }

    /// The warm-up learning rate at (0-based) `step`: linear ramp over 10 %, then cosine to 10 %.
    pub fn warmup_lr(&self, step: u64) -> f64 {
        let total = self.config.warmup_steps.max(1) as f64;
        schedule::warmup_cosine(self.config.warmup_lr, step, (0.1 * total).max(1.0), total, 0.1)
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, TrainError> {
        self.source.tokenizer.encode(text).map_err(TrainError::Config)
    }

    fn stop(&self) -> u32 {
        self.source.tokenizer.stop_ids()[0]
    }

    /// Takes one step (warm-up or GRPO) and returns what is logged after it.
    pub async fn advance(&mut self) -> Result<Vec<Logged>, TrainError> {
        if self.is_done() {
            return Ok(Vec::new());
        }
        let mut metrics = if self.in_warmup() { self.warmup_step()? } else { self.grpo_step().await? };
        self.window.add(&metrics);
        self.step += 1;
        let s = self.step;
        let w = self.config.warmup_steps;
        let log = s.is_multiple_of(self.config.log_every) || s == w || self.is_done();
        let eval = s == w || (s > w && (s - w).is_multiple_of(self.config.eval_every)) || self.is_done();
        if log || eval {
            metrics.extend(self.window.take());
        }
        if eval {
            metrics.extend(self.evaluate().await?.metrics());
        }
        Ok(if log || eval { vec![Logged { step: s, metrics }] } else { Vec::new() })
    }

    fn warmup_step(&mut self) -> Result<Vec<(&'static str, f64)>, TrainError> {
        let problems: Vec<Problem> = (0..self.config.warmup_batch).map(|_| self.task.train(&mut self.rng)).collect();
        let mut prompts = Vec::with_capacity(problems.len());
        let mut responses = Vec::with_capacity(problems.len());
        for p in &problems {
            prompts.push(self.encode(&p.prompt())?);
            let mut r = self.encode(&p.worked())?;
            r.push(self.stop());
            responses.push(r);
        }
        let packed = Packed::new(&prompts, &responses, self.stop());
        #[cfg(feature = "fast")]
        let lr = self.warmup_lr(self.step);
        #[cfg(feature = "fast")]
        if let Some(fast) = &mut self.fast {
            let rows = crate::llm::fast::Rows::of(&packed);
            let stats = fast.step(&rows, &crate::llm::fast::Objective::Likelihood, lr)?;
            self.follow_fast()?;
            self.tokens += packed.ids.len() as u64;
            return Ok(vec![(metrics::TRAIN_LOSS, stats.loss), (metrics::LEARNING_RATE, lr)]);
        }
        let (ids, inputs, mask) = packed.tensors::<B>(&self.device);
        let logits = self.model.forward(inputs, &packed.pads, None);
        let log_probs = taken_log_probs(logits, ids, None, None);
        let m = mask.float();
        let count = m.clone().sum();
        let loss = (log_probs * m).sum().neg() / count;
        let lr = self.warmup_lr(self.step);
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let loss_value =
            loss.into_data().convert::<f64>().into_vec::<f64>().map_err(|e| TrainError::Device(format!("{e:?}")))?[0];
        self.model = self.optim.step(lr, self.model.clone(), grads);
        self.tokens += packed.ids.len() as u64;
        Ok(vec![(metrics::TRAIN_LOSS, loss_value), (metrics::LEARNING_RATE, lr)])
    }

    /// Mean token entropy and `H_resp` of every row of `packed` under `model`'s unscaled policy (the
    /// fast path's weights when updates run there), and the logits they came from.
    async fn rollout_stats(
        &self,
        model: &Qwen2<B::InnerBackend>,
        packed: &Packed,
    ) -> Result<(Vec<(f64, f64)>, Tensor<B::InnerBackend, 3>), TrainError> {
        let (logits, ent) = self.rollout_logits(model, packed).await?;
        let [n, t, _] = logits.dims();
        let fraction = self.config.top_fraction;
        let entropy = (0..n)
            .map(|r| {
                let row: Vec<f64> = ent[r * t..(r + 1) * t].iter().map(|&e| e as f64).collect();
                let mask = &packed.mask[r * t..(r + 1) * t];
                let len = mask.iter().filter(|&&m| m).count().max(1) as f64;
                let mean = row.iter().zip(mask).filter(|(_, m)| **m).map(|(e, _)| e).sum::<f64>() / len;
                let h = llm_scaling::h_resp(&row, Some(mask), fraction).unwrap_or(0.0);
                (mean, h)
            })
            .collect();
        Ok((entropy, logits))
    }

    /// The logits `[rows, width − 1, vocab]` of `packed` and the entropy of each position.
    async fn rollout_logits(
        &self,
        model: &Qwen2<B::InnerBackend>,
        packed: &Packed,
    ) -> Result<(Tensor<B::InnerBackend, 3>, Vec<f32>), TrainError> {
        #[cfg(feature = "fast")]
        if let Some(fast) = &self.fast {
            let logits = fast.logits(&crate::llm::fast::Rows::of(packed))?;
            let (n, t) = (packed.rows(), packed.width - 1);
            let vocab = logits.len() / (n * t).max(1);
            let ent = logits.chunks_exact(vocab.max(1)).map(llm_scaling::token_entropy).collect();
            return Ok((upload(&logits, [n, t, vocab], &self.device), ent));
        }
        let (_, inputs, _) = packed.tensors::<B::InnerBackend>(&self.device);
        let logits = model.forward(inputs, &packed.pads, None);
        let [n, t, _] = logits.dims();
        let ent = read(token_entropy(logits.clone()).reshape([n, t])).await?;
        Ok((logits, ent))
    }

    /// Continues `prompts` from the current policy (`model`, or the fast path's weights when updates
    /// run there) with up to `max_new` tokens each.
    pub(crate) async fn sample(
        &self,
        model: &Qwen2<B::InnerBackend>,
        prompts: &[Vec<u32>],
        sampling: &Sampling,
        rng: &mut TrainRng,
    ) -> Result<Vec<Vec<u32>>, TrainError> {
        let stop = self.source.tokenizer.stop_ids();
        #[cfg(feature = "fast")]
        if let Some(fast) = &self.fast {
            return super::generate::sample(&fast.decoder(), prompts, self.max_new, stop, sampling, rng).await;
        }
        generate(model, prompts, self.max_new, stop, sampling, rng, &self.device).await
    }

    async fn grpo_step(&mut self) -> Result<Vec<(&'static str, f64)>, TrainError> {
        if self.step == self.config.warmup_steps {
            // GRPO starts: fresh Adam state, and the reference model for the KL term.
            self.optim = adam();
            #[cfg(feature = "fast")]
            if let Some(fast) = &mut self.fast {
                fast.reset_optimizer();
            }
            if self.config.kl_coef > 0.0 {
                self.reference = Some(self.model.valid());
            }
        }
        let rollout = self.rollout().await?;
        self.update(&rollout).await
    }

    /// Samples `group` responses to each of `prompts` fresh training problems from the current policy,
    /// rewards them, and measures their entropies (one forward pass without autodiff).
    pub async fn rollout(&mut self) -> Result<Rollout<B::InnerBackend>, TrainError> {
        let c = self.config.clone();
        let problems: Vec<Problem> = (0..c.prompts).map(|_| self.task.train(&mut self.rng)).collect();
        let mut prompts = Vec::with_capacity(c.prompts * c.group);
        for p in &problems {
            let ids = self.encode(&p.prompt())?;
            prompts.extend(std::iter::repeat_n(ids, c.group));
        }
        let inner = self.model.valid();
        let sampling = Sampling { temperature: c.temperature, ..Sampling::default() };
        let stop = self.source.tokenizer.stop_ids().to_vec();
        let mut rng = self.rng.clone();
        let responses = self.sample(&inner, &prompts, &sampling, &mut rng).await?;
        self.rng = rng;
        let rewards: Vec<f64> = responses
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let text_ids: Vec<u32> = r.iter().copied().filter(|t| !stop.contains(t)).collect();
                problems[i / c.group].reward(&self.source.tokenizer.decode(&text_ids))
            })
            .collect();
        let packed = Packed::new(&prompts, &responses, self.stop());
        let (entropy, logits) = self.rollout_stats(&inner, &packed).await?;
        self.tokens += packed.ids.len() as u64;
        Ok(Rollout { responses, rewards, packed, entropy, logits })
    }

    /// One GRPO update on `rollout`: advantages, dynamic sampling, ERA's scales, `epochs` passes.
    /// Returns the rollout's and the update's statistics.
    pub async fn update(&mut self, rollout: &Rollout<B::InnerBackend>) -> Result<Vec<(&'static str, f64)>, TrainError> {
        let c = self.config.clone();
        let Rollout { responses, rewards, packed, entropy, logits } = rollout;
        let logits = logits.clone();
        let advantages: Vec<f64> =
            group_advantages(rewards, c.group).into_iter().map(|a| c.advantage_sign.apply(a)).collect();
        let groups: Vec<usize> =
            if c.dynamic_sampling { informative_groups(rewards, c.group) } else { (0..c.prompts).collect() };
        let keep: Vec<usize> = groups.iter().flat_map(|g| g * c.group..(g + 1) * c.group).collect();
        let n = responses.len() as f64;
        let mut out = vec![
            (metrics::ROLLOUT_REWARD_MEAN, rewards.iter().sum::<f64>() / n),
            (metrics::ROLLOUT_ENTROPY_MEAN, entropy.iter().map(|e| e.0).sum::<f64>() / n),
            (metrics::ROLLOUT_H_RESP_MEAN, entropy.iter().map(|e| e.1).sum::<f64>() / n),
            (metrics::ROLLOUT_RESPONSE_LEN, responses.iter().map(Vec::len).sum::<usize>() as f64 / n),
            (metrics::ROLLOUT_KEPT_FRAC, groups.len() as f64 / c.prompts as f64),
            (metrics::LEARNING_RATE, c.lr),
        ];
        if keep.is_empty() {
            out.extend([(metrics::FRAC_SHARPEN, 0.0), (metrics::FRAC_SOFTEN, 0.0)]);
            return Ok(out);
        }
        // ERA decides each kept response's logit scale and advantage from the rollout policy.
        let (mut scales, mut adv, mut regimes) = (Vec::new(), Vec::new(), [0usize; 2]);
        for &r in &keep {
            let (scale, a) = match &self.era {
                Some(era) => {
                    let adj = era.adjust(entropy[r].1, advantages[r]);
                    match adj.regime {
                        Regime::Sharpen => regimes[0] += 1,
                        Regime::Soften => regimes[1] += 1,
                        Regime::Keep => {}
                    }
                    (adj.logit_scale, adj.advantage)
                }
                None => (1.0, advantages[r]),
            };
            scales.push(scale as f32);
            adv.push(a as f32);
        }
        out.extend([
            (metrics::FRAC_SHARPEN, regimes[0] as f64 / keep.len() as f64),
            (metrics::FRAC_SOFTEN, regimes[1] as f64 / keep.len() as f64),
        ]);
        let kept = packed.select(&keep);
        #[cfg(feature = "fast")]
        if self.fast.is_some() {
            out.extend(self.update_fast(&kept, &keep, logits, &scales, &adv).await?);
            return Ok(out);
        }
        let idx = Tensor::<B::InnerBackend, 1, Int>::from_data(
            TensorData::new(keep.iter().map(|&k| k as i64).collect::<Vec<_>>(), [keep.len()]),
            &self.device,
        );
        let scale_of = |rows: &[usize]| -> Option<Tensor<B::InnerBackend, 1>> {
            self.era.map(|_| upload(&rows.iter().map(|&r| scales[r]).collect::<Vec<_>>(), [rows.len()], &self.device))
        };
        let all: Vec<usize> = (0..keep.len()).collect();
        let (kept_ids, kept_inputs, _) = kept.tensors::<B::InnerBackend>(&self.device);
        let reference = match &self.reference {
            Some(m) if c.kl_coef > 0.0 => {
                Some(taken_log_probs(m.forward(kept_inputs, &kept.pads, None), kept_ids.clone(), None, None))
            }
            _ => None,
        };
        let old_scale = if c.ratio_to_rollout { None } else { scale_of(&all) };
        let old = taken_log_probs(logits.select(0, idx), kept_ids, old_scale, c.top_k_logprobs);
        let settings = LossSettings { clip_low: c.clip_low, clip_high: c.clip_high, kl_coef: c.kl_coef };
        let per = if c.minibatch == 0 { keep.len() } else { c.minibatch.min(keep.len()) };
        let (mut policy, mut kl, mut clip, mut updates) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..c.epochs {
            for chunk in all.chunks(per) {
                let mb = kept.select(chunk);
                let rows = Tensor::<B::InnerBackend, 1, Int>::from_data(
                    TensorData::new(chunk.iter().map(|&k| k as i64).collect::<Vec<_>>(), [chunk.len()]),
                    &self.device,
                );
                let (ids, inputs, mask) = mb.tensors::<B>(&self.device);
                let logits = self.model.forward(inputs, &mb.pads, None);
                let scale = scale_of(chunk).map(Tensor::from_inner);
                let log_probs = taken_log_probs(logits.clone(), ids.clone(), scale, c.top_k_logprobs);
                let kl_terms = reference.as_ref().map(|r| {
                    (taken_log_probs(logits, ids, None, None), Tensor::from_inner(r.clone().select(0, rows.clone())))
                });
                let old_mb = Tensor::from_inner(old.clone().select(0, rows));
                let a = Tensor::from_inner(upload(
                    &chunk.iter().map(|&r| adv[r]).collect::<Vec<_>>(),
                    [chunk.len()],
                    &self.device,
                ));
                let l = policy_loss(log_probs, old_mb, kl_terms, a, mask, &settings);
                let logged = Tensor::cat(vec![l.policy.clone(), l.approx_kl.clone(), l.clip_frac.clone()], 0);
                let grads = GradientsParams::from_grads(l.loss.backward(), &self.model);
                self.model = self.optim.step(c.lr, self.model.clone(), grads);
                let v = read(logged).await?;
                policy += v[0] as f64;
                kl += v[1] as f64;
                clip += v[2] as f64;
                updates += 1.0;
                self.tokens += mb.ids.len() as u64;
            }
        }
        out.extend([
            (metrics::POLICY_LOSS, policy / updates),
            (metrics::APPROX_KL, kl / updates),
            (metrics::CLIP_FRAC, clip / updates),
        ]);
        Ok(out)
    }

    /// [`Self::update`]'s passes on the fast path: the rollout's (scaled) log-probabilities and the
    /// reference's read once, then `epochs` passes of minibatch steps.
    #[cfg(feature = "fast")]
    async fn update_fast(
        &mut self,
        kept: &Packed,
        keep: &[usize],
        logits: Tensor<B::InnerBackend, 3>,
        scales: &[f32],
        adv: &[f32],
    ) -> Result<Vec<(&'static str, f64)>, TrainError> {
        use crate::llm::fast::{Objective, Rows, scaled_log_probs};
        let c = self.config.clone();
        let [_, t, vocab] = logits.dims();
        let rollout = read(logits).await?;
        let kept_logits: Vec<f32> =
            keep.iter().flat_map(|&r| rollout[r * t * vocab..(r + 1) * t * vocab].iter().copied()).collect();
        let era = self.era.is_some();
        let ones = vec![1.0f32; keep.len()];
        let old_scale = if era && !c.ratio_to_rollout { scales } else { &ones[..] };
        let old = scaled_log_probs(&kept_logits, &Rows::of(kept), old_scale);
        let reference = match &self.reference {
            Some(m) if c.kl_coef > 0.0 => {
                let (_, inputs, _) = kept.tensors::<B::InnerBackend>(&self.device);
                let lp = read(m.forward(inputs, &kept.pads, None)).await?;
                Some(scaled_log_probs(&lp, &Rows::of(kept), &ones))
            }
            _ => None,
        };
        let settings = LossSettings { clip_low: c.clip_low, clip_high: c.clip_high, kl_coef: c.kl_coef };
        let per = if c.minibatch == 0 { keep.len() } else { c.minibatch.min(keep.len()) };
        let all: Vec<usize> = (0..keep.len()).collect();
        let rows_of = |v: &[f32], chunk: &[usize]| -> Vec<f32> {
            chunk.iter().flat_map(|&r| v[r * t..(r + 1) * t].iter().copied()).collect()
        };
        let pick = |v: &[f32], chunk: &[usize]| -> Vec<f32> { chunk.iter().map(|&r| v[r]).collect() };
        let (mut policy, mut kl, mut clip, mut updates) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..c.epochs {
            for chunk in all.chunks(per) {
                let mb = kept.select(chunk);
                let (scale, old_mb, a) = (pick(scales, chunk), rows_of(&old, chunk), pick(adv, chunk));
                let reference_mb = reference.as_ref().map(|r| rows_of(r, chunk));
                let objective = Objective::Grpo {
                    scale: era.then_some(&scale[..]),
                    old: &old_mb,
                    advantages: &a,
                    reference: reference_mb.as_deref(),
                    settings,
                };
                let Some(fast) = &mut self.fast else { unreachable!("called on the fast path only") };
                let s = fast.step(&Rows::of(&mb), &objective, c.lr)?;
                policy += s.policy;
                kl += s.approx_kl;
                clip += s.clip_frac;
                updates += 1.0;
                self.tokens += mb.ids.len() as u64;
            }
        }
        self.follow_fast()?;
        Ok(vec![
            (metrics::POLICY_LOSS, policy / updates),
            (metrics::APPROX_KL, kl / updates),
            (metrics::CLIP_FRAC, clip / updates),
        ])
    }

    /// The model as a Hugging Face directory's files (`config.json`, `model.safetensors`,
    /// `tokenizer.json`): what `era generate --model` reads.
    pub fn export(&self) -> Result<Vec<Part>, TrainError> {
        let weights = self.model.valid().to_weights()?;
        let st = weights.to_safetensors().map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        let config =
            serde_json::to_vec_pretty(&self.source.config).map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        Ok(vec![
            ("config.json".into(), config),
            ("model.safetensors".into(), st),
            ("tokenizer.json".into(), self.source.tokenizer.to_json().into_bytes()),
        ])
    }

    /// The checkpoint: [`Self::export`]'s files plus the model's and optimiser's records, the
    /// reference model when there is one, and the loop's position and generator.
    pub fn save(&self) -> Result<Vec<Part>, TrainError> {
        let mut parts = self.export()?;
        parts.push(record_bytes::<B, _>(self.model.clone().into_record(), "model.mpk")?);
        #[cfg(feature = "fast")]
        if let Some(fast) = &self.fast {
            use crate::cpu::parts::{State, write_part};
            parts.push(write_part(FAST_OPTIM_PART, &State::default().adam("decoder", &fast.adam))?);
        }
        if !self.is_fast() {
            parts.push(record_bytes::<B, _>(self.optim.to_record(), "optim.mpk")?);
        }
        if let Some(r) = &self.reference {
            parts.push(record_bytes::<B::InnerBackend, _>(r.clone().into_record(), "reference.mpk")?);
        }
        parts.push(loop_part(&LoopState {
            step: self.step,
            rng: self.rng.clone(),
            tokens: self.tokens,
            window: self.window.clone(),
        })?);
        Ok(parts)
    }

    /// Restores what [`Self::save`] wrote (into a trainer built with the same settings).
    pub fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        check_records(parts)?;
        let state: LoopState = read_loop(parts, |s: &LoopState| s.step, Some(self.total_steps()))?;
        self.model = load_module(self.model.clone(), parts, "model.mpk", &self.device)?;
        #[cfg(feature = "fast")]
        if let Some(fast) = &mut self.fast {
            use crate::cpu::parts::{State, read_part};
            let mut read = read_part(parts, FAST_OPTIM_PART, &State::default().adam("decoder", &fast.adam))?;
            fast.adam = read.adam("decoder", &fast.adam)?;
            let weights = self.model.valid().to_weights()?;
            fast.model = crate::llm::fast::FastQwen2::from_weights(&self.source.config, &weights)?;
        }
        if !self.is_fast() {
            if part(parts, "optim.mpk").is_err() {
                return Err(TrainError::Checkpoint(
                    "this checkpoint was written by --backend fast: resume it with --backend fast".into(),
                ));
            }
            self.optim = self.optim.clone().load_record(load_record::<B, _>(parts, "optim.mpk", &self.device)?);
        }
        self.reference = match part(parts, "reference.mpk") {
            Ok(_) => Some(load_module::<B::InnerBackend, _>(self.model.valid(), parts, "reference.mpk", &self.device)?),
            Err(_) => None,
        };
        self.step = state.step;
        self.rng = state.rng;
        self.tokens = state.tokens;
        self.window = state.window;
        Ok(())
    }
}

impl<B: AutodiffBackend> Trainer for LlmTrainer<B> {
    fn advance(&mut self) -> impl Future<Output = Result<Vec<Logged>, TrainError>> {
        LlmTrainer::advance(self)
    }

    fn position(&self) -> u64 {
        self.step
    }

    fn total(&self) -> u64 {
        self.total_steps()
    }

    /// The warm-up's end (the model every GRPO arm of a seed starts from).
    fn at_milestone(&self) -> bool {
        self.step == self.config.warmup_steps
    }

    fn save(&self) -> Result<Vec<Part>, TrainError> {
        LlmTrainer::save(self)
    }

    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        LlmTrainer::load(self, parts)
    }

    fn era_targets(&self) -> EraTargets {
        self.config.era_targets()
    }
}

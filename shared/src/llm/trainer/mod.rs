//! The LLM training loop: a supervised warm-up on worked answers, then GRPO with or without ERA.
//!
//! Steps `1..=warmup_steps` are warm-up steps (teacher forcing on prompt → worked response, loss on the
//! response tokens); the next `grpo_steps` are GRPO steps, each sampling `group` responses to each of
//! `prompts` training problems, rewarding exact answers and updating `epochs` times. The Adam state is
//! started afresh when GRPO begins. pass@k on the test split is measured after the warm-up, every
//! `eval_every` GRPO steps and at the end, from its own generator (evaluating never changes training).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::generate::Sampling;
use super::grpo::{group_advantages, informative_groups};
use super::qwen2::{Qwen2, Qwen2Config};
use super::task::{Item, Task};
use super::tokenizer::LlmTokenizer;
use crate::llm_scaling::{self, LlmEra, Regime};
use crate::metrics;
use crate::runlog::EraTargets;
use crate::train::{
    Engine, Logged, Part, TrainError, TrainRng, check_records, load_module, loop_part, part, read_loop, record_bytes,
};
use crate::train::{Trainer, schedule};

mod evaluate;
pub mod learner;
mod window;

pub use evaluate::Evaluation;
use learner::{GrpoBatch, Learner};
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
    /// Seconds spent sampling the responses (the rest of a rollout is scoring them and the forward
    /// pass for their log-probabilities and entropies), for throughput figures.
    pub sampling_seconds: f64,
}

/// Trains one model on a task (arithmetic or the user's problems): the loop's state, with the policy and its optimiser in a
/// [`Learner`] of either engine.
pub struct LlmTrainer<B: AutodiffBackend> {
    config: LlmConfig,
    /// The architecture (the weights live in the learner only).
    model_config: Qwen2Config,
    tokenizer: LlmTokenizer,
    task: Task,
    era: Option<LlmEra>,
    learner: Box<dyn Learner<B>>,
    reference: Option<Qwen2<B::InnerBackend>>,
    rng: TrainRng,
    step: u64,
    tokens: u64,
    window: Window,
    max_new: usize,
    device: B::Device,
}

impl<B: AutodiffBackend> LlmTrainer<B> {
    /// A trainer at step 0 with `source`'s weights, its updates on burn.
    pub fn new(config: LlmConfig, source: ModelSource, device: &B::Device) -> Result<Self, TrainError> {
        Self::with_engine(config, source, device, Engine::Burn)
    }

    /// [`LlmTrainer::new`] with its updates (warm-up and GRPO) on `engine`. On [`Engine::Fast`] the
    /// same losses, clipping and AdamW run by hand on the CPU's matrix kernels
    /// ([`crate::llm::fast::FastLearner`]).
    pub fn with_engine(
        config: LlmConfig,
        source: ModelSource,
        device: &B::Device,
        engine: Engine,
    ) -> Result<Self, TrainError> {
        let context = source.config.max_position_embeddings;
        let task = config.task_for(&source.tokenizer, context)?;
        let max_new = config.max_new(&task, &source.tokenizer, context);
        let learner = learner::learner(engine, &config, &source, device)?;
        // The starting weights are the learner's now; a second copy would double a large model's memory.
        let ModelSource { config: model_config, tokenizer, .. } = source;
        Ok(Self {
            era: config.llm_era()?,
            rng: TrainRng::seed_from_u64(config.seed),
            config,
            model_config,
            tokenizer,
            task,
            learner,
            reference: None,
            step: 0,
            tokens: 0,
            window: Window::default(),
            max_new,
            device: device.clone(),
        })
    }

    /// The engine computing the updates.
    pub fn engine(&self) -> Engine {
        self.learner.engine()
    }

    /// The settings.
    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Turns ERA's scaling on or off from the next update, the policy and optimiser kept: what
    /// `era bench llm` times both arms with, on one model's memory.
    pub fn set_era(&mut self, on: bool) -> Result<(), TrainError> {
        let config = LlmConfig { era: on, ..self.config.clone() };
        self.era = config.llm_era()?;
        self.config = config;
        Ok(())
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
        &self.tokenizer
    }

    /// The task.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// The model, without autodiff (on the fast path a burn copy of its weights, made when asked).
    pub fn model(&self) -> Result<Qwen2<B::InnerBackend>, TrainError> {
        self.learner.model()
    }

    /// The warm-up learning rate at (0-based) `step`: linear ramp over 10 %, then cosine to 10 %.
    pub fn warmup_lr(&self, step: u64) -> f64 {
        let total = self.config.warmup_steps.max(1) as f64;
        schedule::warmup_cosine(self.config.warmup_lr, step, (0.1 * total).max(1.0), total, 0.1)
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, TrainError> {
        self.tokenizer.encode(text).map_err(TrainError::Config)
    }

    fn stop(&self) -> u32 {
        self.tokenizer.stop_ids()[0]
    }

    fn warmup_step(&mut self) -> Result<Vec<(&'static str, f64)>, TrainError> {
        let problems: Vec<Item> = (0..self.config.warmup_batch).map(|_| self.task.train(&mut self.rng)).collect();
        let mut prompts = Vec::with_capacity(problems.len());
        let mut responses = Vec::with_capacity(problems.len());
        for p in &problems {
            prompts.push(self.encode(&p.prompt())?);
            let mut r = self.encode(&p.worked())?;
            r.push(self.stop());
            responses.push(r);
        }
        let packed = Packed::new(&prompts, &responses, self.stop());
        let lr = self.warmup_lr(self.step);
        let loss = self.learner.likelihood_step(&packed, lr)?;
        self.tokens += packed.ids.len() as u64;
        Ok(vec![(metrics::TRAIN_LOSS, loss), (metrics::LEARNING_RATE, lr)])
    }

    /// Mean token entropy and `H_resp` of every row of `packed` under the current unscaled policy,
    /// and the logits they came from.
    async fn rollout_stats(
        &self,
        packed: &Packed,
    ) -> Result<(Vec<(f64, f64)>, Tensor<B::InnerBackend, 3>), TrainError> {
        let (logits, ent) = self.learner.logits(packed)?;
        let ent = ent.read().await?;
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

    /// Continues `prompts` from the current policy with up to `max_new` tokens each.
    pub(crate) async fn sample(
        &self,
        prompts: &[Vec<u32>],
        sampling: &Sampling,
        rng: &mut TrainRng,
    ) -> Result<Vec<Vec<u32>>, TrainError> {
        self.learner.sample(prompts, self.max_new, self.tokenizer.stop_ids(), sampling, rng).await
    }

    async fn grpo_step(&mut self) -> Result<Vec<(&'static str, f64)>, TrainError> {
        if self.step == self.config.warmup_steps {
            // GRPO starts: fresh Adam state, and the reference model for the KL term.
            self.learner.reset_optimizer();
            if self.config.kl_coef > 0.0 {
                self.reference = Some(self.model()?);
            }
        }
        let rollout = self.rollout().await?;
        self.update(&rollout).await
    }

    /// Samples `group` responses to each of `prompts` fresh training problems from the current policy,
    /// rewards them, and measures their entropies (one forward pass without autodiff).
    pub async fn rollout(&mut self) -> Result<Rollout<B::InnerBackend>, TrainError> {
        let c = self.config.clone();
        let problems: Vec<Item> = (0..c.prompts).map(|_| self.task.train(&mut self.rng)).collect();
        let mut prompts = Vec::with_capacity(c.prompts * c.group);
        for p in &problems {
            let ids = self.encode(&p.prompt())?;
            prompts.extend(std::iter::repeat_n(ids, c.group));
        }
        let sampling = Sampling { temperature: c.temperature, ..Sampling::default() };
        let stop = self.tokenizer.stop_ids().to_vec();
        let mut rng = self.rng.clone();
        let began = std::time::Instant::now();
        let responses = self.sample(&prompts, &sampling, &mut rng).await?;
        let sampling_seconds = began.elapsed().as_secs_f64();
        self.rng = rng;
        let rewards: Vec<f64> = responses
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let text_ids: Vec<u32> = r.iter().copied().filter(|t| !stop.contains(t)).collect();
                self.task.reward(&problems[i / c.group], &self.tokenizer.decode(&text_ids))
            })
            .collect();
        let packed = Packed::new(&prompts, &responses, self.stop());
        let (entropy, logits) = self.rollout_stats(&packed).await?;
        self.tokens += packed.ids.len() as u64;
        Ok(Rollout { responses, rewards, packed, entropy, logits, sampling_seconds })
    }

    /// One GRPO update on `rollout`: advantages, dynamic sampling, ERA's scales, `epochs` passes.
    /// Returns the rollout's and the update's statistics.
    pub async fn update(&mut self, rollout: &Rollout<B::InnerBackend>) -> Result<Vec<(&'static str, f64)>, TrainError> {
        let c = self.config.clone();
        let Rollout { responses, rewards, packed, entropy, logits, .. } = rollout;
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
        let reference = self.reference.as_ref().filter(|_| c.kl_coef > 0.0);
        let batch = GrpoBatch {
            kept: &kept,
            keep: &keep,
            logits,
            scales: &scales,
            advantages: &adv,
            era: self.era.is_some(),
            reference,
            config: &c,
        };
        let stats = self.learner.grpo(batch).await?;
        self.tokens += stats.tokens;
        out.extend([
            (metrics::POLICY_LOSS, stats.policy),
            (metrics::APPROX_KL, stats.approx_kl),
            (metrics::CLIP_FRAC, stats.clip_frac),
        ]);
        Ok(out)
    }

    /// The model as a Hugging Face directory's files (`config.json`, `model.safetensors`,
    /// `tokenizer.json`, and `tokenizer_config.json` with the chat template when the model has one):
    /// what `era generate --model` reads.
    pub fn export(&self) -> Result<Vec<Part>, TrainError> {
        let weights = self.model()?.to_weights()?;
        let st = weights.to_safetensors().map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        let config = serde_json::to_vec_pretty(&self.model_config.to_hf_json())
            .map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        let mut files = vec![
            ("config.json".into(), config),
            ("model.safetensors".into(), st),
            ("tokenizer.json".into(), self.tokenizer.to_json().into_bytes()),
        ];
        if let Some(chat) = self.tokenizer.chat_template() {
            files.push((super::chat::TOKENIZER_CONFIG.into(), chat.to_tokenizer_config().into_bytes()));
        }
        Ok(files)
    }
}

impl<B: AutodiffBackend> Trainer for LlmTrainer<B> {
    /// Takes one step (warm-up or GRPO) and returns what is logged after it.
    async fn advance(&mut self) -> Result<Vec<Logged>, TrainError> {
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

    /// The checkpoint: [`Self::export`]'s files plus the model's and optimiser's records, the
    /// reference model when there is one, and the loop's position and generator.
    fn save(&self) -> Result<Vec<Part>, TrainError> {
        let mut parts = self.export()?;
        parts.extend(self.learner.save()?);
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
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        check_records(parts)?;
        let state: LoopState = read_loop(parts, |s: &LoopState| s.step, Some(self.total_steps()))?;
        self.learner.load(parts)?;
        self.reference = match part(parts, "reference.mpk") {
            Ok(_) => Some(load_module::<B::InnerBackend, _>(self.model()?, parts, "reference.mpk", &self.device)?),
            Err(_) => None,
        };
        self.step = state.step;
        self.rng = state.rng;
        self.tokens = state.tokens;
        self.window = state.window;
        Ok(())
    }

    fn era_targets(&self) -> EraTargets {
        self.config.era_targets()
    }
}

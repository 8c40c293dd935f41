//! Options of `era train|eval|bench llm` and `era generate`. The training options overlay the shared
//! config (see [`crate::overlay`]): each is named like the field it sets, and `--help` reads its
//! default there.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use era_shared::llm::grpo::AdvantageSign;
use era_shared::llm::reward::Reward;
use serde::Serialize;

use crate::backend::BackendChoice;
use crate::run_args::{OnOff, RunArgs};

/// `--era-ratio scaled|rollout`: the denominator of GRPO-ERA's importance ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EraRatio {
    /// The old policy under ERA's scale: the ratio is 1 before the first update.
    Scaled,
    /// The rollout policy that sampled the tokens (the authors' verl code).
    Rollout,
}

/// As `LlmConfig::ratio_to_rollout`, which `--era-ratio` overlays.
impl Serialize for EraRatio {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*self == Self::Rollout)
    }
}

/// `era train llm --preset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmPreset {
    /// The authors' released ERA-LLM settings (`LlmConfig::released`).
    Released,
}

/// The task of `era train llm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmTask {
    /// Multi-digit addition with a worked answer; reward 1 for the exact sum.
    Arithmetic,
}

/// Options of `era train llm`. Each one that is given replaces the field of its name in
/// `LlmConfig`'s defaults (or in the run `--config` names); the rest stay as `config.json` shows them.
#[derive(Debug, Args, Serialize)]
pub struct TrainLlmArgs {
    /// The built-in task, when there is no --data.
    #[arg(long, value_enum, default_value_t = LlmTask::Arithmetic)]
    #[serde(skip)]
    pub task: LlmTask,
    /// Train on these problems instead: a JSON Lines (.jsonl), JSON (.json, an array of objects) or
    /// Parquet (.parquet, as Hugging Face hosts datasets) file whose rows hold a prompt and a reference answer.
    #[arg(long, value_name = "FILE")]
    pub data: Option<String>,
    /// The field of each row holding the prompt.
    #[arg(long, value_name = "NAME")]
    pub prompt_field: Option<String>,
    /// The field of each row holding the reference answer.
    #[arg(long, value_name = "NAME")]
    pub answer_field: Option<String>,
    /// Held-out problems for pass@k, in the same format (instead of --eval-fraction of --data).
    #[arg(long, value_name = "FILE")]
    pub eval_data: Option<String>,
    /// The share of --data's rows held out for pass@k when there is no --eval-data (the same rows for
    /// every seed).
    #[arg(long)]
    pub eval_fraction: Option<f64>,
    /// How a response to a --data problem is scored: exact, numeric (GSM8K's `#### N`, a final
    /// `\boxed{…}` or the last number, compared by value), contains, or regex:PATTERN (the last match,
    /// its first group if any, equals the answer).
    #[arg(long, value_name = "RULE")]
    pub reward: Option<Reward>,
    /// Add this to the reward of a response that gives its answer in the rule's explicit format
    /// (numeric: `####` or `\boxed{}`; regex: a match).
    #[arg(long, value_name = "W")]
    pub format_reward: Option<f64>,
    /// A system turn before each --data prompt, written through the model's chat template.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Give --data's prompts to the model as written instead of through its chat template (the
    /// `chat_template` of the model's tokenizer_config.json, used by default when there is one).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_chat_template: bool,
    /// `tiny` (the embedded 0.99 M-parameter model, trained from scratch), a Hugging Face Qwen2
    /// directory (config.json, model.safetensors or shards, tokenizer.json), or `random:SHAPE`
    /// (random weights of a published shape such as `qwen2.5-0.5b` with the tiny model's tokenizer,
    /// for measuring speed and memory at real sizes) [default: tiny, or the --config run's].
    #[arg(long, value_name = "tiny|DIR|random:SHAPE")]
    #[serde(skip)]
    pub model: Option<String>,
    /// Start from a named set of settings instead of the defaults (the flags still override it):
    /// `released`, the authors' ERA-LLM script for Qwen2.5-Math-7B (ω 0.45–3.0, k 2, no advantage
    /// rescale, top-20 log-probs, clip 1.0/1.0, lr 1e-6, 256 prompts × 8; docs/cli.md lists each value).
    #[arg(long, value_enum)]
    #[serde(skip)]
    pub preset: Option<LlmPreset>,
    /// ERA on (GRPO-ERA; the default) or off (plain GRPO).
    #[arg(long, value_enum)]
    pub era: Option<OnOff>,
    /// ERA ω_low in nats (chosen for the tiny model; the authors' 0.45 was tuned for a 7B model).
    #[arg(long)]
    pub omega_low: Option<f64>,
    /// ERA ω_high in nats (the authors': 3.0).
    #[arg(long)]
    pub omega_high: Option<f64>,
    /// ERA logit scaling factor k ≥ 1.
    #[arg(long)]
    pub era_k: Option<f64>,
    /// Share of highest token entropies averaged into H_resp.
    #[arg(long)]
    pub top_fraction: Option<f64>,
    /// Keep the advantage when ERA scales the logits (the authors rescale it by 1/k or k).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_advantage_rescale: bool,
    /// Compute log π' over this many largest logits only (the authors' "top-k log-probs", e.g. 20).
    #[arg(long)]
    pub top_k_logprobs: Option<usize>,
    /// What the importance ratio divides by: the old policy under ERA's scale (`scaled`: the ratio
    /// starts at 1; the default) or the rollout policy that sampled the tokens (`rollout`, as the
    /// authors' code).
    #[arg(long, value_enum)]
    #[serde(rename = "ratio_to_rollout")]
    pub era_ratio: Option<EraRatio>,
    /// both (GRPO), positive or negative: learn from both advantage signs, or only from the rewarded
    /// (`max(A, 0)`) or unrewarded (`min(A, 0)`) responses, to see which side moves the entropy.
    #[arg(long)]
    pub advantage_sign: Option<AdvantageSign>,
    /// GRPO steps.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Supervised warm-up steps before GRPO.
    #[arg(long)]
    pub warmup_steps: Option<u64>,
    /// Responses per prompt G.
    #[arg(long)]
    pub group: Option<usize>,
    /// Prompts per GRPO step.
    #[arg(long)]
    pub prompts: Option<usize>,
    /// GRPO learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Update epochs per GRPO batch.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Responses per minibatch (0: the whole batch).
    #[arg(long)]
    pub minibatch: Option<usize>,
    /// Lower ratio clip ε_low.
    #[arg(long)]
    pub clip_low: Option<f64>,
    /// Upper ratio clip ε_high.
    #[arg(long)]
    pub clip_high: Option<f64>,
    /// KL coefficient to the model as GRPO began (0: no reference model).
    #[arg(long)]
    pub kl_coef: Option<f64>,
    /// Keep groups whose rewards are all equal (they have zero advantage).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_dynamic_sampling: bool,
    /// Rollout sampling temperature.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Longest response in tokens (0: the task's longest worked answer + 4).
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// Operand digits of the arithmetic problems, 1–9.
    #[arg(long)]
    pub digits: Option<usize>,
    /// Evaluate pass@k every this many GRPO steps.
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Test problems per evaluation.
    #[arg(long)]
    pub eval_prompts: Option<usize>,
    /// Log every this many steps.
    #[arg(long)]
    pub log_every: Option<u64>,
    /// Seeds, output, resume, backend, checkpoints, progress.
    #[command(flatten)]
    #[serde(skip)]
    pub run: RunArgs,
}

/// Options named otherwise than the fields they set: `--steps` is `grpo_steps`.
pub const ALIASES: crate::overlay::Aliases = &[("steps", &["grpo_steps"])];

/// Options of `era eval llm`.
#[derive(Debug, Args)]
pub struct EvalLlmArgs {
    /// The run directory (or a multi-seed run's directory: every seed is evaluated).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Samples per test problem; pass@k is reported for k = 1, 2, 4, 8, 16 up to this.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=16))]
    pub pass_k: u64,
    /// Test problems to use [default: the whole test split].
    #[arg(long)]
    pub prompts: Option<usize>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
}

/// Options of `era generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// A Hugging Face Qwen2 directory, or an `era train llm` run (its last checkpoint).
    #[arg(long, value_name = "DIR|RUN_DIR")]
    pub model: PathBuf,
    /// The text to continue (with --chat: the user's turn).
    #[arg(long)]
    pub prompt: String,
    /// Send --prompt as a user turn through the model's own chat template (`chat_template` in its
    /// tokenizer_config.json), with the generation prompt, as `era train llm` renders problems.
    #[arg(long)]
    pub chat: bool,
    /// With --chat: a system turn before the user's.
    #[arg(long, requires = "chat")]
    pub system: Option<String>,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Sampling temperature (> 0).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Sample among the k most likely tokens only (0: all).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Sample among the most likely tokens whose probability reaches p (1: all).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// Take the most likely token every time.
    #[arg(long)]
    pub greedy: bool,
    /// Continuations to sample (in one batch).
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
}

/// Options of `era bench llm`.
#[derive(Debug, Args)]
pub struct BenchLlmArgs {
    /// `tiny`, a Hugging Face Qwen2 directory, or `random:SHAPE`: random weights of a published
    /// shape (`random:qwen2.5-0.5b`), written as a bf16 checkpoint and read back, no download.
    #[arg(long, default_value = "tiny", value_name = "tiny|DIR|random:SHAPE")]
    pub model: String,
    /// Prompts per batch (each answered by --group responses).
    #[arg(long, default_value_t = 16)]
    pub prompts: usize,
    /// Responses per prompt.
    #[arg(long, default_value_t = 8)]
    pub group: usize,
    /// Updates per measurement.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Alternating measurements of ERA on and off (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
    /// With `--backend fast`: also time burn's update and sampler on ndarray (`auto`: for models up
    /// to 50 M parameters).
    #[arg(long, value_enum, default_value_t = NdarrayReference::Auto)]
    pub ndarray: NdarrayReference,
    /// PyTorch beside era, and the JSON record.
    #[command(flatten)]
    pub peer: crate::peer::TorchPeerArgs,
}

/// `era bench llm --ndarray`: whether burn's ndarray reference is timed beside the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NdarrayReference {
    /// For models up to 50 M parameters.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

//! Options of `era train|eval|bench llm` and `era generate`, with their documented defaults.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use era_shared::llm::grpo::AdvantageSign;

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

/// The task of `era train llm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmTask {
    /// Multi-digit addition with a worked answer; reward 1 for the exact sum.
    Arithmetic,
}

/// Options of `era train llm`. Unset options take the documented defaults of `LlmConfig` (see the
/// `config.json` each run writes).
#[derive(Debug, Args)]
pub struct TrainLlmArgs {
    /// The task.
    #[arg(long, value_enum, default_value_t = LlmTask::Arithmetic)]
    pub task: LlmTask,
    /// `tiny` (the embedded 0.99 M-parameter model, trained from scratch) or a Hugging Face Qwen2
    /// directory (config.json, model.safetensors or shards, tokenizer.json).
    #[arg(long, default_value = "tiny", value_name = "tiny|DIR")]
    pub model: String,
    /// ERA on (GRPO-ERA) or off (plain GRPO).
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub era: OnOff,
    /// ERA ω_low in nats [default: 1.2, chosen for the tiny model; the authors' 0.45 was tuned for a 7B model].
    #[arg(long)]
    pub omega_low: Option<f64>,
    /// ERA ω_high in nats [default: 3.0, the authors'].
    #[arg(long)]
    pub omega_high: Option<f64>,
    /// ERA logit scaling factor k ≥ 1 [default: 2].
    #[arg(long)]
    pub era_k: Option<f64>,
    /// Share of highest token entropies averaged into H_resp [default: 0.2].
    #[arg(long)]
    pub top_fraction: Option<f64>,
    /// Keep the advantage when ERA scales the logits (the authors rescale it by 1/k or k).
    #[arg(long)]
    pub no_advantage_rescale: bool,
    /// Compute log π' over this many largest logits only (the authors' "top-k log-probs", e.g. 20).
    #[arg(long)]
    pub top_k_logprobs: Option<usize>,
    /// What the importance ratio divides by: the old policy under ERA's scale (`scaled`: the ratio
    /// starts at 1) or the rollout policy that sampled the tokens (`rollout`, as the authors' code).
    #[arg(long, value_enum, default_value_t = EraRatio::Scaled)]
    pub era_ratio: EraRatio,
    /// both (GRPO), positive or negative: learn from both advantage signs, or only from the rewarded
    /// (`max(A, 0)`) or unrewarded (`min(A, 0)`) responses, to see which side moves the entropy.
    #[arg(long, default_value_t = AdvantageSign::Both)]
    pub advantage_sign: AdvantageSign,
    /// GRPO steps [default: 600].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Supervised warm-up steps before GRPO [default: 300 for the tiny model, 0 for a checkpoint].
    #[arg(long)]
    pub warmup_steps: Option<u64>,
    /// Responses per prompt G [default: 8].
    #[arg(long)]
    pub group: Option<usize>,
    /// Prompts per GRPO step [default: 16].
    #[arg(long)]
    pub prompts: Option<usize>,
    /// GRPO learning rate [default: 3e-5].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Update epochs per GRPO batch [default: 1].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Responses per minibatch [default: the whole batch].
    #[arg(long)]
    pub minibatch: Option<usize>,
    /// Lower ratio clip ε_low [default: 0.2].
    #[arg(long)]
    pub clip_low: Option<f64>,
    /// Upper ratio clip ε_high [default: 0.28].
    #[arg(long)]
    pub clip_high: Option<f64>,
    /// KL coefficient to the model as GRPO began [default: 0, no reference model].
    #[arg(long)]
    pub kl_coef: Option<f64>,
    /// Keep groups whose rewards are all equal (they have zero advantage).
    #[arg(long)]
    pub no_dynamic_sampling: bool,
    /// Rollout sampling temperature [default: 1].
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Longest response in tokens [default: the task's longest worked answer + 4].
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// Operand digits of the arithmetic problems, 1–9 [default: 3].
    #[arg(long)]
    pub digits: Option<usize>,
    /// Evaluate pass@k every this many GRPO steps [default: 100].
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Test problems per evaluation [default: 64].
    #[arg(long)]
    pub eval_prompts: Option<usize>,
    /// Log every this many steps [default: 5].
    #[arg(long)]
    pub log_every: Option<u64>,
    /// Seeds, output, resume, backend, checkpoints, progress.
    #[command(flatten)]
    pub run: RunArgs,
}

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
    /// The text to continue.
    #[arg(long)]
    pub prompt: String,
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
    /// PyTorch beside era, and the JSON record.
    #[command(flatten)]
    pub peer: crate::peer::TorchPeerArgs,
}

//! The command line: subcommands, options and their documented defaults.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use era_shared::control::Algo;
use era_shared::control::mlp::{Init, Nonlinearity, Norm};
use era_shared::data::DatasetKind;
use era_shared::gaussian::{DEFAULT_LOG_STD_MAX, DEFAULT_LOG_STD_MIN};
use era_shared::llm::grpo::AdvantageSign;
use era_shared::llm_scaling::{DEFAULT_K, DEFAULT_OMEGA_HIGH, DEFAULT_OMEGA_LOW, DEFAULT_TOP_FRACTION};
use era_shared::softmax_floor::{DEFAULT_TAU, FloorMode};
use era_shared::vision::{ModelKind, Regularizer};

use crate::backend::BackendChoice;

/// ERA (Entropy Regularizing Activation): keep a policy's entropy above a floor with an activation on
/// its outputs, in continuous control, image classification and LLM reinforcement learning.
#[derive(Debug, Parser)]
#[command(name = "era", version, propagate_version = true)]
pub struct Cli {
    /// Read options from this TOML file (keys are the long option names); command-line flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply an ERA activation to JSON on stdin and print the result as JSON on stdout.
    #[command(subcommand)]
    Activation(ActivationCommand),
    /// Print a table of final metrics of run logs, seeds of one setting as mean ± std.
    Compare(CompareArgs),
    /// List the environments or roll one out with given actions.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Train with or without ERA and write run logs.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Evaluate a trained run from its last checkpoint.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Measure speed: updates/s with and without ERA, environment steps/s.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Continue a prompt with a Qwen2-architecture model (a checkpoint directory or an `era train llm` run).
    Generate(GenerateArgs),
    /// Feed every reader of outside data mutated inputs (`scripts/fuzz.sh` runs it).
    #[command(hide = true)]
    Fuzz(FuzzArgs),
}

/// `era fuzz`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Only these targets (all by default).
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// Inputs per target at most.
    #[arg(long, default_value_t = 1_000_000)]
    pub inputs: u64,
    /// Seconds per target at most.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// The mutations' seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where inputs that panicked or hung are saved.
    #[arg(long, default_value = "fuzz-crashes")]
    pub crashes: PathBuf,
    /// Read these saved inputs with the one --target given, printing what it says (or its panic).
    #[arg(long, value_name = "FILE")]
    pub replay: Vec<PathBuf>,
}

/// `era train …`
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Continuous control: SAC-ERA, SAC, PPO-ERA or PPO on an environment of `era env list`.
    Control(Box<TrainControlArgs>),
    /// Image classification: a small CNN or ResNet with the ERA softmax floor, label smoothing,
    /// dropout or nothing, on the embedded MNIST digits or a dataset from a directory.
    Vision(Box<TrainVisionArgs>),
    /// LLM reinforcement learning: GRPO with or without ERA on a Qwen2-architecture model (the
    /// embedded tiny model, trained from scratch with a supervised warm-up, or a checkpoint directory).
    Llm(Box<TrainLlmArgs>),
}

/// `era eval …`
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Load a control run's last checkpoint and report its deterministic (mean-action) return.
    Control(EvalControlArgs),
    /// Load a vision run's last checkpoint and report top-1/top-5 accuracy on the test images.
    Vision(EvalVisionArgs),
    /// Load an LLM run's last checkpoint and report pass@k and greedy accuracy on the test problems.
    Llm(EvalLlmArgs),
}

/// `era bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// SAC-ERA vs SAC and PPO-ERA vs PPO updates/s on the same networks and batches, and every
    /// environment's steps/s.
    Control(BenchControlArgs),
    /// Training images/s with the ERA floor on vs off, and inference images/s, for the small CNN and ResNet-18.
    Vision(BenchVisionArgs),
    /// Generation tokens/s, and GRPO update time per token with ERA on vs off.
    Llm(BenchLlmArgs),
}

/// `--era on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// ERA on.
    On,
    /// ERA off: the baseline algorithm.
    Off,
}

/// `--era-ratio scaled|rollout`: the denominator of GRPO-ERA's importance ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EraRatio {
    /// The old policy under ERA's scale: the ratio is 1 before the first update.
    Scaled,
    /// The rollout policy that sampled the tokens (the authors' verl code).
    Rollout,
}

/// Options of `era train control`. Unset options take the algorithm's documented default (see
/// the `config.json` each run writes).
#[derive(Debug, Args)]
pub struct TrainControlArgs {
    /// Environment id (see `era env list`).
    #[arg(long, required_unless_present = "resume")]
    pub env: Option<String>,
    /// Algorithm family.
    #[arg(long, default_value = "sac")]
    pub algo: Algo,
    /// ERA on (SAC-ERA, PPO-ERA) or off (SAC, PPO).
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub era: OnOff,
    /// Target entropy per action dimension in nats [default: 0.25, the authors' script].
    #[arg(long, allow_hyphen_values = true, conflicts_with = "h0")]
    pub h0_per_dim: Option<f64>,
    /// Target entropy of the whole action in nats (instead of --h0-per-dim).
    #[arg(long, allow_hyphen_values = true)]
    pub h0: Option<f64>,
    /// Compensation δ: a constant ≥ 0 [default: 0, as the authors released SAC-ERA] or `auto`
    /// (learned towards H₀, the paper's option).
    #[arg(long, allow_hyphen_values = true)]
    pub delta: Option<DeltaArg>,
    /// Environment steps to train for [default: 100000].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Seeds, output, resume, backend, checkpoints, progress.
    #[command(flatten)]
    pub run: RunArgs,
    /// Hidden layer widths, comma-separated [default: SAC 512,512; PPO 64,64].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Hidden nonlinearity: relu, elu or tanh [default: SAC elu; PPO tanh].
    #[arg(long)]
    pub activation: Option<Nonlinearity>,
    /// SAC: the critics' normalisation, layer (a LayerNorm before each hidden nonlinearity) or none
    /// [default: layer].
    #[arg(long)]
    pub critic_norm: Option<Norm>,
    /// SAC: the critics' AdamW weight decay (0: Adam) [default: 1e-4].
    #[arg(long)]
    pub critic_weight_decay: Option<f64>,
    /// SAC: weight initialisation, orthogonal (gain √2, the log-std head 1, zero biases) or default
    /// (uniform ±1/√fan_in) [default: orthogonal].
    #[arg(long)]
    pub init: Option<Init>,
    /// Learning rate (SAC: actor and critic; PPO: Adam) [default: 3e-4].
    #[arg(long)]
    pub lr: Option<f64>,
    /// SAC: transitions per update [default: 256].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// SAC: random-action warm-up steps [default: 5000].
    #[arg(long)]
    pub learning_starts: Option<u64>,
    /// SAC: gradient updates per environment step, each on its own batch [default: 2].
    #[arg(long)]
    pub updates_per_step: Option<usize>,
    /// SAC: replay buffer capacity [default: 1000000].
    #[arg(long)]
    pub buffer_size: Option<usize>,
    /// PPO: steps per environment copy per rollout [default: 2048].
    #[arg(long)]
    pub num_steps: Option<usize>,
    /// PPO: a state-dependent log-std head instead of a parameter.
    #[arg(long)]
    pub state_dependent_std: bool,
    /// Environment copies stepped together [default: 1].
    #[arg(long)]
    pub num_envs: Option<usize>,
    /// Evaluate every this many steps [default: 5000].
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Episodes per evaluation [default: 10].
    #[arg(long)]
    pub eval_episodes: Option<usize>,
    /// Log training statistics every this many steps [default: 1000].
    #[arg(long)]
    pub log_every: Option<u64>,
}

/// Options of `era train vision`. Unset options take the dataset's and model's documented default
/// (see the `config.json` each run writes).
#[derive(Debug, Args)]
pub struct TrainVisionArgs {
    /// mnist-embedded (built in), mnist, fashion-mnist, cifar10, cifar100 or folder (these need --data).
    #[arg(long, required_unless_present = "resume")]
    pub dataset: Option<DatasetKind>,
    /// The folder holding the dataset's files (IDX files, CIFAR .bin files, or train/ and val/ class folders).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// small-cnn, resnet18, resnet34 or resnet50.
    #[arg(long, default_value = "small-cnn")]
    pub model: ModelKind,
    /// none, era, label-smoothing or dropout.
    #[arg(long, default_value = "era")]
    pub reg: Regularizer,
    /// Label smoothing's ε or dropout's p, in [0, 1).
    #[arg(long, default_value_t = 0.1)]
    pub strength: f64,
    /// ERA entropy floor in nats; valid: 1 + ln(ln τ/τ) < H₀ < 1 + ln(n·ln τ/τ).
    #[arg(long, default_value_t = era_shared::softmax_floor::DEFAULT_H0, allow_hyphen_values = true)]
    pub h0: f64,
    /// ERA τ > e.
    #[arg(long, default_value_t = DEFAULT_TAU)]
    pub tau: f64,
    /// ERA inverse: exact (floor guaranteed) or official (the authors' approximation, for parity).
    #[arg(long, default_value_t = FloorMode::Exact)]
    pub era_mode: FloorMode,
    /// Passes over the training images [default: 8 embedded digits, 20 MNIST/Fashion, 200 CIFAR, 90 folder].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Images per step [default: 64 small-cnn, 128 ResNets].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate of SGD [default: 0.05 small-cnn, 0.1 ResNets].
    #[arg(long)]
    pub lr: Option<f64>,
    /// SGD momentum [default: 0.9].
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay [default: 5e-4].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Linear warm-up in epochs before the cosine decay [default: 0.5 small-cnn, 1 ResNets].
    #[arg(long)]
    pub warmup_epochs: Option<f64>,
    /// No random crop and flip (they apply to CIFAR and image folders).
    #[arg(long)]
    pub no_augment: bool,
    /// Side that image-folder images are resized to [default: 224].
    #[arg(long)]
    pub image_size: Option<u32>,
    /// Log training statistics every this many steps [default: 25].
    #[arg(long)]
    pub log_every: Option<u64>,
    /// Seeds, output, resume, backend, checkpoints, progress.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Options of `era eval vision`.
#[derive(Debug, Args)]
pub struct EvalVisionArgs {
    /// The run directory (or a multi-seed run's directory: every seed is evaluated).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Read the test images from this folder instead of the one the run was trained from.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
}

/// Options of `era bench vision`.
#[derive(Debug, Args)]
pub struct BenchVisionArgs {
    /// Which models: small-cnn (1×28×28 images), resnet18 (3×32×32 images), or all.
    #[arg(long, default_value = "all")]
    pub model: String,
    /// Images per training step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Training steps per measurement.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Alternating measurements of ERA on and off (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
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
    /// `tiny` or a Hugging Face Qwen2 directory.
    #[arg(long, default_value = "tiny", value_name = "tiny|DIR")]
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
}

/// Options every `era train …` command shares.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Seed (the first seed with --seeds).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run this many seeds (seed, seed+1, …) in parallel threads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub seeds: u64,
    /// Where run directories are created.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// The run directory's name [default: the algorithm and task, e.g. sac-era-Pendulum-v1 or
    /// mnist-embedded-small-cnn-era, made unique].
    #[arg(long)]
    pub run_name: Option<String>,
    /// Continue the killed or stopped run in this directory from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// With --resume: continue from the checkpoint at this step instead of the newest (after a
    /// divergence; newer checkpoints are set aside, not deleted).
    #[arg(long, value_name = "STEP", requires = "resume")]
    pub from_step: Option<u64>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Write a checkpoint every this many steps, and at the end [default: control 10000 environment
    /// steps; vision at the end of every epoch].
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// No progress bars (one line per evaluation or epoch instead).
    #[arg(long)]
    pub quiet: bool,
}

/// `--delta auto|X`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeltaArg {
    /// Learned.
    Auto,
    /// A constant.
    Fixed(f64),
}

impl std::str::FromStr for DeltaArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(Self::Auto);
        }
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(Self::Fixed(x)),
            _ => Err(format!("`{s}` is neither `auto` nor a number ≥ 0")),
        }
    }
}

/// Options of `era eval control`.
#[derive(Debug, Args)]
pub struct EvalControlArgs {
    /// The run directory (or a multi-seed run's directory: every seed is evaluated).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Deterministic episodes.
    #[arg(long, default_value_t = 10)]
    pub episodes: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
}

/// Options of `era bench control`.
#[derive(Debug, Args)]
pub struct BenchControlArgs {
    /// Which agents.
    #[arg(long, value_enum, default_value_t = BenchAlgo::All)]
    pub algo: BenchAlgo,
    /// Hidden width of SAC's networks (two layers; PPO keeps 64).
    #[arg(long, default_value_t = 256)]
    pub width: usize,
    /// SAC updates per measurement.
    #[arg(long, default_value_t = 200)]
    pub updates: usize,
    /// Alternating measurements of each variant (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Environment steps per environment for the steps/s measurement.
    #[arg(long, default_value_t = 20_000)]
    pub env_steps: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
    /// What the fast path (`--backend fast`) is measured side by side with: the burn reference on
    /// ndarray, or the same SAC update in JAX, compiled end to end (`--algo sac` only; set it up with
    /// `eval "$(scripts/setup-jax.sh)"`).
    #[arg(long, value_enum, default_value_t = Against::Ndarray)]
    pub against: Against,
    /// The Python that has JAX, for `--against jax`.
    #[arg(long, env = "ERA_JAX_PYTHON", default_value = "python3", value_name = "PATH")]
    pub python: PathBuf,
}

/// `era bench control --against`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Against {
    /// The burn reference on ndarray.
    Ndarray,
    /// The same update in JAX (`scripts/jax_sac_update.py`).
    Jax,
}

/// `era bench control --algo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchAlgo {
    /// SAC-ERA vs SAC.
    Sac,
    /// PPO-ERA vs PPO.
    Ppo,
    /// Environments only.
    Env,
    /// Everything.
    All,
}

/// `era env …`
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Print every environment's id, observation and action dimensions, time limit and state layout.
    List {
        /// Print the full specs (bounds included) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply a list of actions and print one JSON object per step:
    /// {"obs": […], "reward": r, "terminated": b, "truncated": b}, stopping at termination or truncation.
    Rollout(RolloutArgs),
}

/// Options of `era env rollout`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// The environment id (see `era env list`).
    #[arg(long)]
    pub env: String,
    /// Reset seed (ignored with --state).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Start from this raw state instead, a JSON array (e.g. Pendulum `[θ, θ̇]`; layouts in `era env list`).
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    pub state: Option<String>,
    /// A JSON file holding an array of actions, each an array of the action's dimensions (environment units).
    #[arg(long, value_name = "FILE.json")]
    pub actions: PathBuf,
}

/// `era activation …`
#[derive(Debug, Subcommand)]
pub enum ActivationCommand {
    /// Gaussian log-std activation (continuous control).
    ///
    /// stdin: {"raw": [[…D scores…], …]}  →  stdout: {"log_std": [[…]], "std": [[…]], "entropy": […]}
    Gaussian(GaussianArgs),
    /// Softmax entropy floor (classification).
    ///
    /// stdin: {"logits": [[…n…], …]}  →  stdout: {"logits": [[…]], "probs": [[…]], "entropy": […]}
    Softmax(SoftmaxArgs),
    /// GRPO logit and advantage scaling (LLM RL).
    ///
    /// stdin: {"token_entropy": […], "advantage": A, "logits": [[…vocab…], …] (optional, one row per token)}
    /// → stdout: {"h_resp": …, "regime": "sharpen"|"keep"|"soften", "advantage": A′, "logits": [[…]]}
    Llm(LlmArgs),
}

/// Options of `era activation gaussian`.
#[derive(Debug, Args)]
pub struct GaussianArgs {
    /// Target entropy of the whole D-dimensional Gaussian, in nats.
    #[arg(long, allow_hyphen_values = true)]
    pub h0: f64,
    /// Compensation δ ≥ 0 for bounded actions; the Gaussian's entropy is H₀ + δ.
    #[arg(long, default_value_t = 0.0)]
    pub delta: f64,
    /// Lower log-std bound (the authors use −8).
    #[arg(long, default_value_t = DEFAULT_LOG_STD_MIN, allow_hyphen_values = true)]
    pub log_std_min: f64,
    /// Upper log-std bound (the authors use 0).
    #[arg(long, default_value_t = DEFAULT_LOG_STD_MAX, allow_hyphen_values = true)]
    pub log_std_max: f64,
}

/// Options of `era activation softmax`.
#[derive(Debug, Args)]
pub struct SoftmaxArgs {
    /// Entropy floor in nats; valid: 1 + ln(ln τ/τ) < H₀ < 1 + ln(n·ln τ/τ).
    #[arg(long, allow_hyphen_values = true)]
    pub h0: f64,
    /// τ > e (the authors use 4).
    #[arg(long, default_value_t = DEFAULT_TAU)]
    pub tau: f64,
    /// exact: Lambert W₋₁ solved to precision (the floor is guaranteed); official: the authors' approximation.
    #[arg(long, default_value_t = FloorMode::Exact)]
    pub mode: FloorMode,
}

/// Options of `era activation llm`.
#[derive(Debug, Args)]
pub struct LlmArgs {
    /// Responses with H_resp below this (and A > 0) are sharpened.
    #[arg(long, default_value_t = DEFAULT_OMEGA_LOW)]
    pub omega_low: f64,
    /// Responses with H_resp above this (and A > 0) are softened.
    #[arg(long, default_value_t = DEFAULT_OMEGA_HIGH)]
    pub omega_high: f64,
    /// The scaling factor k ≥ 1.
    #[arg(long, default_value_t = DEFAULT_K)]
    pub k: f64,
    /// Share of the highest token entropies averaged into H_resp, in (0, 1].
    #[arg(long, default_value_t = DEFAULT_TOP_FRACTION)]
    pub top_fraction: f64,
    /// Keep the advantage unchanged instead of dividing it by the logit scale.
    #[arg(long)]
    pub no_advantage_rescale: bool,
}

/// Options of `era compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run directories (holding run.jsonl, or seed-*/run.jsonl, or runs further down), or run.jsonl files.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Also write the table to this CSV file (one row per setting and metric, with the IQM and its
    /// interval; then one row per setting over tasks).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// The score whose interquartile mean (IQM) is reported per task and over tasks, with 95 %
    /// stratified-bootstrap intervals.
    #[arg(long, default_value = era_shared::metrics::EVAL_RETURN, value_name = "METRIC")]
    pub score: String,
    /// Normalisation bounds of a task's score for the aggregate over tasks, `TASK=LOW:HIGH`
    /// (repeatable) [default: the lowest and highest final score of any run of that task compared].
    #[arg(long, value_name = "TASK=LOW:HIGH")]
    pub bounds: Vec<String>,
    /// Also draw learning curves into this folder: one SVG per task for the score and for the
    /// entropy ERA acts on (policy/gaussian_entropy; the LLM's rollout/h_resp_window_mean and
    /// rollout/entropy_window_mean), each setting's mean over seeds with the seeds' range as a band.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// A metric for the paired comparison of each ERA setting with each baseline of the same task,
    /// seed by seed (ERA − baseline): `KEY` for its final value, `KEY@second-half` for its mean over
    /// the second half of the steps that logged it (repeatable) [default: the score; for LLM runs
    /// pass@1, pass@8 and pass@16 at the end and the second-half means of
    /// rollout/h_resp_window_mean, rollout/entropy_window_mean and rollout/reward_window_mean].
    #[arg(long, value_name = "METRIC[@second-half]")]
    pub paired: Vec<String>,
    /// Also write the paired comparison to this CSV file (one row per pairing and metric: the
    /// per-seed values and differences, their mean, sd and 95 % interval).
    #[arg(long, value_name = "FILE")]
    pub paired_csv: Option<PathBuf>,
}

/// The clap command with every subcommand letting a later flag override an earlier one, so flags
/// placed after the config file's options win.
pub fn command() -> clap::Command {
    fn override_self(cmd: clap::Command) -> clap::Command {
        let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        names.into_iter().fold(cmd.args_override_self(true), |c, n| c.mut_subcommand(n, override_self))
    }
    override_self(Cli::command())
}

/// A clap error as one line: its message and where to get help.
pub fn one_line(e: &clap::Error) -> String {
    // clap's message is its first paragraph (a required-argument error lists the arguments below it).
    let rendered = e.render().to_string();
    let paragraph: Vec<&str> = rendered
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let msg = paragraph.join(" ");
    let msg = msg.trim_start_matches("error: ");
    let msg = if msg.is_empty() { "invalid arguments" } else { msg };
    format!("{msg} (see `era --help`)")
}

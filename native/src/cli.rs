//! The command line: the subcommands and the options of the domain-free ones; each domain's options
//! are in its own `args` module (`control`, `vision`, `llm`), and what they share in [`crate::run_args`].

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};
use era_shared::gaussian::{DEFAULT_LOG_STD_MAX, DEFAULT_LOG_STD_MIN};
use era_shared::llm_scaling::{DEFAULT_K, DEFAULT_OMEGA_HIGH, DEFAULT_OMEGA_LOW, DEFAULT_TOP_FRACTION};
use era_shared::softmax_floor::{DEFAULT_TAU, FloorMode};

use crate::control::args::{BenchControlArgs, EvalControlArgs, TrainControlArgs};
use crate::llm::args::{BenchLlmArgs, EvalLlmArgs, GenerateArgs, TrainLlmArgs};
use crate::vision::args::{BenchVisionArgs, EvalVisionArgs, TrainVisionArgs};

/// ERA (Entropy Regularizing Activation): keep a policy's entropy above a floor with an activation on
/// its outputs, in continuous control, image classification and LLM reinforcement learning.
#[derive(Debug, Parser)]
#[command(name = "era", version, propagate_version = true)]
pub struct Cli {
    /// Read options from this TOML file (keys are the long option names), or, for `era train`, from a
    /// run's config.json (its settings become the new run's; `era train … --config RUN/config.json`
    /// repeats that run). Command-line flags override either.
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
    /// Write run logs as TensorBoard event files and/or CSV.
    Export(ExportArgs),
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
    /// Run a grid of `era train` runs from a spec file (tasks × seeds × ERA on/off × any option),
    /// here N at a time or as a Slurm job array; resumable. `era sweep status` shows each run's state.
    Sweep(Box<SweepArgs>),
    /// Feed every reader of outside data mutated inputs (`scripts/fuzz.sh` runs it; feature `fuzz`).
    #[cfg(feature = "fuzz")]
    #[command(hide = true)]
    Fuzz(FuzzArgs),
}

/// `era fuzz`.
#[cfg(feature = "fuzz")]
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
    /// An input whose reading grows the process's peak resident memory by more than this many MiB
    /// fails, and is saved (Linux; a claimed size allocated before it is checked against the data).
    #[arg(long, value_name = "MIB", default_value_t = 256.0)]
    pub rss_limit: f64,
    /// Where inputs that panicked, hung or took too much memory are saved.
    #[arg(long, default_value = "fuzz-crashes")]
    pub crashes: PathBuf,
    /// Read these saved inputs with the one --target given, printing what it says (or its panic).
    #[arg(long, value_name = "FILE")]
    pub replay: Vec<PathBuf>,
    /// Write each target's valid starting inputs to DIR/TARGET/ and stop (a coverage-guided fuzzer's
    /// starting corpus: `scripts/fuzz-afl.sh`).
    #[arg(long, value_name = "DIR")]
    pub write_seeds: Option<PathBuf>,
    /// Read inputs from AFL++ in its persistent mode with the one --target given (a build with
    /// `cargo afl build --features afl`; `scripts/fuzz-afl.sh` runs it).
    #[cfg(feature = "afl")]
    #[arg(long)]
    pub afl: bool,
}

/// `era sweep SPEC.toml [--local N | --slurm …] [-- OPTIONS…]` and `era sweep status`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    /// `status` (or the hidden `task`, which runs one run of a sweep).
    #[command(subcommand)]
    pub action: Option<SweepAction>,
    /// The sweep spec: TOML with `train`, `[options]` and `[grid]` (see docs/cli.md).
    #[arg(value_name = "SPEC.toml", required = true)]
    pub spec: Option<PathBuf>,
    /// The sweep folder: runs go to OUT/seed-S/NAME [default: the spec's `out`, else runs/<spec name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// List every run with its state and `era train` command line, and stop (nothing is written).
    #[arg(long)]
    pub dry_run: bool,
    /// Only the runs with one of these labels on this axis: `AXIS=LABEL[,LABEL…]` (repeatable;
    /// `seed=0,1` for seeds).
    #[arg(long, value_name = "AXIS=LABELS")]
    pub only: Vec<String>,
    /// Train here, N runs at a time, each pinned to its share of the cores [default: 1].
    #[arg(long, value_name = "N", conflicts_with = "slurm")]
    pub local: Option<usize>,
    /// Submit the runs left to do as one Slurm job array (`sbatch`), one run per array task.
    #[arg(long)]
    pub slurm: bool,
    /// sbatch's options.
    #[command(flatten)]
    pub sbatch: crate::sweep::slurm::SbatchArgs,
    /// `era train` options after `--`, appended to every run's (they override the spec's).
    #[arg(last = true, value_name = "OPTIONS")]
    pub extra: Vec<String>,
}

/// `era sweep …` subcommands.
#[derive(Debug, Subcommand)]
pub enum SweepAction {
    /// Each run's state: pending, queued, running (step), stopped at step N, done, failed (its error).
    Status(SweepStatusArgs),
    /// Start or continue one run of a sweep folder (what `--local` and every Slurm array task run).
    #[command(hide = true)]
    Task(SweepTaskArgs),
}

/// Options of `era sweep status`.
#[derive(Debug, Args)]
pub struct SweepStatusArgs {
    /// A sweep folder (every run in it), or a spec (its runs).
    #[arg(value_name = "SPEC.toml|OUT")]
    pub target: PathBuf,
    /// With a spec: its sweep folder, as given to `era sweep --out`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With a spec: only these runs, as `era sweep --only`.
    #[arg(long, value_name = "AXIS=LABELS")]
    pub only: Vec<String>,
    /// One JSON object per run (`run`, `state` and its fields) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `era sweep task`.
#[derive(Debug, Args)]
pub struct SweepTaskArgs {
    /// The sweep folder.
    pub out: PathBuf,
    /// The run, as `seed-S/NAME`.
    pub run: String,
    /// Pin to these cores first (comma-separated).
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<String>,
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

/// The run logs `era compare` and `era export` read ([`crate::compare::load`]).
#[derive(Debug, Args)]
pub struct RunLogs {
    /// Run directories (holding run.jsonl, or seed-*/run.jsonl, or runs further down), or run.jsonl files.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
}

/// Options of `era compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub logs: RunLogs,
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

/// `era export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub logs: RunLogs,
    /// Write TensorBoard event files into DIR/<run name>/seed-<S>/ (`tensorboard --logdir DIR`):
    /// every record's metrics as scalars at its step and wall time, the configuration as text.
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    /// Write one CSV row per record: run, seed, step, wall_s and a column per metric (empty where a
    /// record did not log it, `nan` where it was not finite).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// The clap command with every subcommand letting a later flag override an earlier one, so flags
/// placed after the config file's options win, and the training options' help showing the defaults
/// of the configs they set.
pub fn command() -> clap::Command {
    fn override_self(cmd: clap::Command) -> clap::Command {
        let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        names.into_iter().fold(cmd.args_override_self(true), |c, n| c.mut_subcommand(n, override_self))
    }
    use crate::overlay::annotate;
    override_self(Cli::command()).mut_subcommand("train", |train| {
        train
            .mut_subcommand("control", |c| {
                annotate(c, &crate::control::train::help_defaults(), crate::control::args::ALIASES)
            })
            .mut_subcommand("vision", |c| annotate(c, &crate::vision::train::help_defaults(), &[]))
            .mut_subcommand("llm", |c| annotate(c, &crate::llm::train::help_defaults(), crate::llm::args::ALIASES))
    })
}

/// A clap error as one line: its message, clap's tips ("a similar argument exists: '--env'") and the
/// help of the command it concerns.
pub fn one_line(e: &clap::Error) -> String {
    // clap renders paragraphs: the message (a required-argument error lists the arguments in it),
    // then tips, then the usage line, which names the (sub)command.
    let rendered = e.render().to_string();
    let mut paragraphs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in rendered.lines().map(str::trim) {
        match (line.is_empty(), paragraphs.last_mut()) {
            (true, Some(p)) if p.is_empty() => {}
            (true, _) => paragraphs.push(Vec::new()),
            (false, Some(p)) => p.push(line),
            (false, None) => {}
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let mut help = "era --help".to_string();
    for (i, p) in paragraphs.iter().filter(|p| !p.is_empty()).enumerate() {
        let text = p.join(" ");
        if i == 0 {
            parts.push(text.trim_start_matches("error: ").to_string());
        } else if text.starts_with("tip:") {
            parts.push(text);
        } else if let Some(usage) = text.strip_prefix("Usage: ") {
            let words: Vec<&str> = usage.split_whitespace().take_while(|w| !w.starts_with(['[', '<', '-'])).collect();
            if !words.is_empty() {
                help = format!("{} --help", words.join(" "));
            }
        }
    }
    let msg = parts.join("; ");
    let msg = if msg.is_empty() { "invalid arguments".to_string() } else { msg };
    format!("{msg} (see `{help}`)")
}

//! The command line: subcommands, options and their documented defaults.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};
use era_shared::gaussian::{DEFAULT_LOG_STD_MAX, DEFAULT_LOG_STD_MIN};
use era_shared::llm_scaling::{DEFAULT_K, DEFAULT_OMEGA_HIGH, DEFAULT_OMEGA_LOW, DEFAULT_TOP_FRACTION};
use era_shared::softmax_floor::{DEFAULT_TAU, FloorMode};

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
    /// Also write the table to this CSV file (one row per setting and metric).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
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

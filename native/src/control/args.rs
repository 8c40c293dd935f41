//! Options of `era train|eval|bench control`. The training options overlay the shared config (see
//! [`crate::overlay`]): each is named like the field it sets, and `--help` reads its default there.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use era_shared::control::Algo;
use era_shared::control::mlp::{Init, Nonlinearity, Norm};
use serde::Serialize;

use crate::backend::BackendChoice;
use crate::run_args::{OnOff, RunArgs};

/// Options of `era train control`. Each one that is given replaces the field of its name in the
/// algorithm's defaults (or in the run `--config` names); the rest stay as `config.json` shows them.
#[derive(Debug, Args, Serialize)]
pub struct TrainControlArgs {
    /// Environment id (see `era env list`) [default: the --config run's].
    #[arg(long, required_unless_present_any = ["resume", "config"])]
    #[serde(skip)]
    pub env: Option<String>,
    /// Algorithm family [default: sac, or the --config run's].
    #[arg(long)]
    #[serde(skip)]
    pub algo: Option<Algo>,
    /// ERA on (SAC-ERA, PPO-ERA; the default) or off (SAC, PPO).
    #[arg(long, value_enum)]
    #[serde(rename = "enabled")]
    pub era: Option<OnOff>,
    /// Target entropy per action dimension in nats (the authors' script's value).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "h0")]
    pub h0_per_dim: Option<f64>,
    /// Target entropy of the whole action in nats (instead of --h0-per-dim).
    #[arg(long, allow_hyphen_values = true)]
    pub h0: Option<f64>,
    /// Compensation δ: a constant ≥ 0 (the authors' released SAC-ERA: 0) or `auto` (learned towards
    /// H₀, the paper's option) [default: 0].
    #[arg(long, allow_hyphen_values = true)]
    #[serde(skip)]
    pub delta: Option<DeltaArg>,
    /// Environment steps to train for.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Seeds, output, resume, backend, checkpoints, progress.
    #[command(flatten)]
    #[serde(skip)]
    pub run: RunArgs,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Hidden nonlinearity: relu, elu or tanh.
    #[arg(long)]
    pub activation: Option<Nonlinearity>,
    /// SAC: the critics' normalisation, layer (a LayerNorm before each hidden nonlinearity) or none.
    #[arg(long)]
    pub critic_norm: Option<Norm>,
    /// SAC: the critics' AdamW weight decay (0: Adam).
    #[arg(long)]
    pub critic_weight_decay: Option<f64>,
    /// SAC: weight initialisation, orthogonal (gain √2, the log-std head 1, zero biases) or default
    /// (uniform ±1/√fan_in).
    #[arg(long)]
    pub init: Option<Init>,
    /// Learning rate (SAC: actor and critic; PPO: Adam).
    #[arg(long)]
    pub lr: Option<f64>,
    /// SAC: transitions per update.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// SAC: random-action warm-up steps.
    #[arg(long)]
    pub learning_starts: Option<u64>,
    /// SAC: gradient updates per environment step, each on its own batch.
    #[arg(long)]
    pub updates_per_step: Option<usize>,
    /// SAC: replay buffer capacity.
    #[arg(long)]
    pub buffer_size: Option<usize>,
    /// PPO: steps per environment copy per rollout.
    #[arg(long)]
    pub num_steps: Option<usize>,
    /// PPO: a state-dependent log-std head instead of a parameter.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub state_dependent_std: bool,
    /// Environment copies stepped together.
    #[arg(long)]
    pub num_envs: Option<usize>,
    /// Apply each action this many times, summing the rewards; the step counts count actions (the
    /// authors' released SAC-ERA: 1).
    #[arg(long)]
    pub action_repeat: Option<u32>,
    /// Evaluate every this many steps.
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Episodes per evaluation.
    #[arg(long)]
    pub eval_episodes: Option<usize>,
    /// Log training statistics every this many steps.
    #[arg(long)]
    pub log_every: Option<u64>,
}

/// Options named otherwise than the fields they set: `--steps` is `total_steps`, and SAC's `--lr`
/// sets both of its learning rates.
pub const ALIASES: crate::overlay::Aliases = &[("steps", &["total_steps"]), ("lr", &["lr", "actor_lr", "critic_lr"])];

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
    /// Write the first evaluation episode as an animated GIF (a run of several seeds writes
    /// FILE-seed-S.gif for each).
    #[arg(long, value_name = "FILE.gif")]
    pub video: Option<PathBuf>,
    /// Frame size of --video, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "320x240", value_parser = crate::video::parse_size)]
    pub video_size: (u32, u32),
    /// Frames per second of --video's playback.
    #[arg(long, default_value_t = 30.0)]
    pub video_fps: f64,
    /// Keep every n-th step in --video (1: every step).
    #[arg(long, default_value_t = 1)]
    pub video_every: usize,
    /// How --video's frames are drawn: auto is MuJoCo's offscreen renderer for MuJoCo tasks when era
    /// is built with `--features render`, the task's 2-D scene otherwise.
    #[arg(long, value_enum, default_value_t = crate::video::Renderer::Auto)]
    pub video_renderer: crate::video::Renderer,
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
    /// Only these environments for the steps/s measurement (repeat the option; default: every one).
    #[arg(long = "env", value_name = "ID")]
    pub envs: Vec<String>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Ndarray)]
    pub backend: BackendChoice,
    /// What the update is measured side by side with: on the fast path (`--backend fast`), the burn
    /// reference on ndarray; or, on the fast path or a GPU backend, the same SAC update in JAX compiled
    /// end to end, on the device JAX finds (`--algo sac` only; set it up with
    /// `eval "$(scripts/setup-jax.sh)"`, or point `--python` at a Python that has JAX).
    #[arg(long, value_enum, default_value_t = Against::Ndarray)]
    pub against: Against,
    /// The Python that has JAX, for `--against jax`.
    #[arg(long, env = "ERA_JAX_PYTHON", default_value = "python3", value_name = "PATH")]
    pub python: PathBuf,
    /// The Python that has dm_control, for `--against dm-control` (`eval "$(scripts/setup-mujoco.sh)"`
    /// sets it).
    #[arg(long, env = "ERA_GYMNASIUM_PYTHON", default_value = "python3", value_name = "PATH")]
    pub dmc_python: PathBuf,
    /// Also write the figures (and the checks made) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

/// `era bench control --against`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Against {
    /// The burn reference on ndarray.
    Ndarray,
    /// The same update in JAX (`native/peers/jax_sac_update.py`).
    Jax,
    /// `--algo env`: each `dmc/` task beside dm_control's own Python loop on the same task
    /// (`native/peers/dmc_steps.py`, through `--dmc-python`).
    DmControl,
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

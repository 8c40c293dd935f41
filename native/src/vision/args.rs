//! Options of `era train|eval|bench vision`. The training options overlay the shared config (see
//! [`crate::overlay`]): each is named like the field it sets, and `--help` reads its default there.

use std::path::PathBuf;

use clap::Args;
use era_shared::data::DatasetKind;
use era_shared::softmax_floor::FloorMode;
use era_shared::vision::{ModelKind, Regularizer};
use serde::Serialize;

use crate::backend::BackendChoice;
use crate::run_args::RunArgs;

/// Options of `era train vision`. Each one that is given replaces the field of its name in the
/// dataset's and model's defaults (or in the run `--config` names); the rest stay as `config.json`
/// shows them.
#[derive(Debug, Args, Serialize)]
pub struct TrainVisionArgs {
    /// mnist-embedded (built in), mnist, fashion-mnist, cifar10, cifar100 or folder (these need --data).
    #[arg(long, required_unless_present_any = ["resume", "config"])]
    pub dataset: Option<DatasetKind>,
    /// The folder holding the dataset's files (IDX files, CIFAR .bin files, or train/ and val/ class
    /// folders) [default: the --config run's].
    #[arg(long, value_name = "DIR")]
    #[serde(skip)]
    pub data: Option<PathBuf>,
    /// small-cnn, resnet18, resnet34 or resnet50 [default: small-cnn, or the --config run's].
    #[arg(long)]
    pub model: Option<ModelKind>,
    /// none, era, label-smoothing or dropout.
    #[arg(long)]
    pub reg: Option<Regularizer>,
    /// Label smoothing's ε or dropout's p, in [0, 1).
    #[arg(long)]
    pub strength: Option<f64>,
    /// ERA entropy floor in nats; valid: 1 + ln(ln τ/τ) < H₀ < 1 + ln(n·ln τ/τ).
    #[arg(long, allow_hyphen_values = true)]
    pub h0: Option<f64>,
    /// ERA τ > e.
    #[arg(long)]
    pub tau: Option<f64>,
    /// ERA inverse: exact (floor guaranteed) or official (the authors' approximation, for parity).
    #[arg(long)]
    pub era_mode: Option<FloorMode>,
    /// Passes over the training images.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Images per step.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate of SGD.
    #[arg(long)]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Linear warm-up in epochs before the cosine decay.
    #[arg(long)]
    pub warmup_epochs: Option<f64>,
    /// No random crop and flip (they apply to CIFAR and image folders).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_augment: bool,
    /// Side that image-folder images are resized to.
    #[arg(long)]
    pub image_size: Option<u32>,
    /// MiB of decoded image-folder images kept in memory (folders are decoded batch by batch on every
    /// core, the next batch while one trains; the rest are decoded again when needed).
    #[arg(long, value_name = "MIB")]
    pub cache_mb: Option<f64>,
    /// Decode an image folder whole into memory before training, instead of batch by batch.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub preload: bool,
    /// Log training statistics every this many steps.
    #[arg(long)]
    pub log_every: Option<u64>,
    /// Seeds, output, resume, backend, checkpoints, progress.
    #[command(flatten)]
    #[serde(skip)]
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
    /// PyTorch beside era, and the JSON record.
    #[command(flatten)]
    pub peer: crate::peer::TorchPeerArgs,
}

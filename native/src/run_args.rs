//! Options that several commands share: `--era on|off`, and those of every `era train …` (seeds,
//! output, resume, backend, checkpoints, progress).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::backend::BackendChoice;

/// `--era on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// ERA on.
    On,
    /// ERA off: the baseline algorithm.
    Off,
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

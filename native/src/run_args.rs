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

/// As the boolean the configs hold (`on` is `true`), so that `--era` overlays a config's switch.
impl serde::Serialize for OnOff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*self == Self::On)
    }
}

/// Options every `era train …` command shares.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Seed (the first seed with --seeds) [default: the --config run's, else 0].
    #[arg(long)]
    pub seed: Option<u64>,
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
    /// Compute backend [default: the --config run's, else auto].
    #[arg(long, value_enum)]
    pub backend: Option<BackendChoice>,
    /// Write a checkpoint every this many steps, and at the end [default: the --config run's, else
    /// control 10000 environment steps, vision the end of every epoch, llm 50 GRPO steps].
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// No progress bars (one line per evaluation or epoch instead, with the time spent and left).
    #[arg(long)]
    pub quiet: bool,
    /// Also write TensorBoard event files as the run trains, into DIR/<run name>/seed-<S>/
    /// (`tensorboard --logdir DIR`), as `era export --tensorboard` writes them; give it again with
    /// --resume to continue them.
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    /// Set any setting that config.json holds, flag or not: a dotted path (`agent.era.delta_lr`) or
    /// a field name found in one place (`delta_lr`), and a JSON value (`0.5`, `true`, `[256,256]`)
    /// or a word (`elu`); repeat for several. Applied after the flags.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the config.json each seed's run would get, one JSON line per seed, and stop: no run
    /// directory is created and nothing trains (settings are still checked).
    #[arg(long, conflicts_with = "resume")]
    pub print_config: bool,
}

impl RunArgs {
    /// How the runs are shown besides their folders.
    pub fn shown(&self) -> crate::run_loop::Shown {
        crate::run_loop::Shown { quiet: self.quiet, tensorboard: self.tensorboard.clone() }
    }

    /// The first seed: `--seed`, else the seed of the run `--config` names, else 0.
    pub fn first_seed(&self, base: Option<u64>) -> u64 {
        self.seed.or(base).unwrap_or(0)
    }

    /// The seeds to run: `seeds` of them from the first.
    pub fn seed_range(&self, base: Option<u64>) -> std::ops::Range<u64> {
        let first = self.first_seed(base);
        first..first + self.seeds
    }

    /// The backend: `--backend`, else the one of the run `--config` names, else `auto`.
    pub fn backend_or(&self, base: Option<BackendChoice>) -> BackendChoice {
        self.backend.or(base).unwrap_or(BackendChoice::Auto)
    }
}

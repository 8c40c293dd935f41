//! `era train vision` and `era eval vision`: image classifiers with the ERA softmax floor or the
//! usual regularisers, with run logs, checkpoints and resume.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::tensor::backend::AutodiffBackend;
use era_shared::data::{DatasetKind, ImageDataset, Split};
use era_shared::metrics;
use era_shared::runlog::{Domain, EraTargets, Header, StepUnit};
use era_shared::train::Logged;
use era_shared::vision::ModelKind;
use era_shared::vision::config::VisionConfig;
use era_shared::vision::trainer::VisionTrainer;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::args::{EvalVisionArgs, TrainVisionArgs};
use crate::backend::{self, BackendChoice, Compute, Cpu, Task};
use crate::checkpoint;
use crate::overlay;
use crate::run_loop::{self, Latest, Presented, Run, Shown};
use crate::runs::{self, Start};

/// What a vision config is called in errors.
const WHAT: &str = "era vision";

/// What `config.json` holds: the training settings plus where the data is and how the run executes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The training settings.
    #[serde(flatten)]
    pub vision: VisionConfig,
    /// The dataset's folder (absent for the embedded digits).
    pub data: Option<PathBuf>,
    /// Checkpoint cadence in optimiser steps (absent: at the end of every epoch).
    pub checkpoint_every: Option<u64>,
    /// The backend asked for.
    pub backend: BackendChoice,
    /// The run directory's name.
    pub run_name: String,
}

impl runs::SavedConfig for RunConfig {
    fn defaults(saved: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
        let kind = |k: &str| saved.get(k).cloned().unwrap_or_default();
        match (serde_json::from_value(kind("dataset")), serde_json::from_value(kind("model"))) {
            (Ok(dataset), Ok(model)) => {
                serde_json::to_value(VisionConfig::standard(dataset, model)).unwrap_or_default()
            }
            _ => serde_json::Value::Null,
        }
    }
}

/// The defaults `--help` shows: [`VisionConfig::standard`] for the usual pairs of dataset and model.
pub fn help_defaults() -> Vec<(&'static str, serde_json::Value)> {
    use era_shared::data::DatasetKind::*;
    use era_shared::vision::ModelKind::*;
    let shown = |d, m| {
        overlay::without(serde_json::to_value(VisionConfig::standard(d, m)).unwrap_or_default(), &["dataset", "model"])
    };
    vec![
        ("small-cnn on mnist-embedded", shown(MnistEmbedded, SmallCnn)),
        ("small-cnn on mnist", shown(Mnist, SmallCnn)),
        ("resnet18 on cifar10", shown(Cifar10, Resnet18)),
        ("resnet18 on folder", shown(Folder, Resnet18)),
    ]
}

/// The effective settings: the dataset's and model's defaults, or the settings of the run `--config`
/// names, with the command line's options laid over them (see [`crate::overlay`]).
pub fn vision_config(a: &TrainVisionArgs, base: Option<&VisionConfig>, seed: u64) -> anyhow::Result<VisionConfig> {
    let start = match base {
        Some(b) => b.clone(),
        None => VisionConfig::standard(
            a.dataset.unwrap_or(DatasetKind::MnistEmbedded),
            a.model.unwrap_or(ModelKind::SmallCnn),
        ),
    };
    let mut c: VisionConfig = overlay::overlay(&start, a, &[], &a.run.set, "vision")?;
    c.seed = seed;
    Ok(c)
}

/// Both splits of the dataset a config names.
fn load(config: &VisionConfig, dir: Option<&std::path::Path>) -> anyhow::Result<(ImageDataset, ImageDataset)> {
    let d = config.dataset;
    let (train, test) = if config.preload {
        (d.load(dir, Split::Train, config.image_size)?, d.load(dir, Split::Test, config.image_size)?)
    } else {
        (
            d.open(dir, Split::Train, config.image_size, config.cache_mb)?,
            d.open(dir, Split::Test, config.image_size, config.cache_mb)?,
        )
    };
    Ok((train, test))
}

/// One seed's run.
type Job = runs::Job<RunConfig>;

/// Runs `era train vision`; `config` is a run's `config.json` whose settings are the defaults.
pub fn run(args: &TrainVisionArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let (jobs, top, data) = match &args.run.resume {
        Some(dir) => {
            let jobs: Vec<Job> = runs::unfinished(dir, WHAT, args.run.from_step)?;
            let first = &jobs[0].config;
            let data = load(&first.vision, first.data.as_deref())?;
            (jobs, dir.clone(), data)
        }
        None => new_jobs(args, config)?,
    };
    if jobs.is_empty() {
        return Ok(()); // --print-config
    }
    let first = &jobs[0].config;
    runs::install_stop_handler();
    let outcome =
        backend::run(first.backend, Train { jobs: jobs.clone(), data, shown: args.run.shown() }).and_then(|r| r);
    runs::report(&jobs.iter().map(|j| j.dir.as_path()).collect::<Vec<_>>(), &top, "vision", outcome.is_ok());
    outcome
}

/// Reads the data and checks the settings against it, then creates the run directory and its configs.
fn new_jobs(
    args: &TrainVisionArgs,
    config: Option<&Path>,
) -> anyhow::Result<(Vec<Job>, PathBuf, (ImageDataset, ImageDataset))> {
    let saved: Option<RunConfig> = runs::base_config(config, WHAT)?;
    let backend = args.run.backend_or(saved.as_ref().map(|s| s.backend));
    backend::ensure_available(backend)?;
    let base = saved.as_ref().map(|s| &s.vision);
    let first = vision_config(args, base, args.run.first_seed(base.map(|b| b.seed)))?;
    let data = args.data.clone().or(saved.as_ref().and_then(|s| s.data.clone()));
    let (train, test) = load(&first, data.as_deref())?;
    // Build once on the CPU so a bad setting fails before anything is written.
    VisionTrainer::<Cpu>::new(first.clone(), train.clone(), test.clone(), &Default::default())?;
    let name = args.run.run_name.clone().unwrap_or_else(|| format!("{}-{}", first.dataset, first.algorithm_name()));
    let data = data.map(|d| std::path::absolute(&d).unwrap_or(d));
    let checkpoint_every = args.run.checkpoint_every.or(saved.as_ref().and_then(|s| s.checkpoint_every));
    let (top, created) =
        runs::create(&args.run, &name, args.run.seed_range(base.map(|b| b.seed)), |seed, run_name| RunConfig {
            vision: VisionConfig { seed, ..first.clone() },
            data: data.clone(),
            checkpoint_every: checkpoint_every.map(|n| n.max(1)),
            backend,
            run_name: run_name.to_string(),
        })?;
    let jobs = created.into_iter().map(|(dir, config)| Job { dir, config, start: Start::Fresh }).collect();
    Ok((jobs, top, (train, test)))
}

/// Training of every seed, one thread each, on one backend.
struct Train {
    jobs: Vec<Job>,
    data: (ImageDataset, ImageDataset),
    shown: Shown,
}

impl Task for Train {
    type Output = anyhow::Result<()>;
    const FAST: bool = true;
    const FAST_ON_CPU: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<()> {
        let shown = &self.shown;
        let data = &self.data;
        runs::in_parallel(&self.jobs, shown.quiet, |job, bar| {
            train_one::<B>(job, data, device.clone(), compute, bar, shown)
        })
    }
}

/// The header of a run's log.
fn header(job: &Job, era: EraTargets) -> anyhow::Result<Header> {
    let c = &job.config.vision;
    Ok(Header::new(
        Domain::Vision,
        c.algorithm_name(),
        c.dataset.to_string(),
        job.config.run_name.clone(),
        c.seed,
        StepUnit::OptimizerSteps,
        era,
        serde_json::to_value(&job.config)?,
        runs::now(),
    ))
}

/// Trains one seed to its last epoch, writing its log and checkpoints.
fn train_one<B: AutodiffBackend>(
    job: &Job,
    (train, test): &(ImageDataset, ImageDataset),
    device: B::Device,
    compute: Compute,
    bar: &ProgressBar,
    shown: &Shown,
) -> anyhow::Result<()> {
    let (config, every) = (job.config.vision.clone(), job.config.checkpoint_every);
    let mut trainer = VisionTrainer::<B>::with_engine(config, train.clone(), test.clone(), &device, compute.engine())?;
    // Every epoch's end is a checkpoint too (a milestone of the trainer).
    let every = every.unwrap_or(trainer.steps_per_epoch()).max(1);
    let run = Run { dir: &job.dir, start: job.start, every, compute, bar, shown };
    run_loop::drive(&mut trainer, run, |era| header(job, era))
}

impl<B: AutodiffBackend> Presented for VisionTrainer<B> {
    const RATE: &'static str = metrics::IMAGES_PER_SEC;

    fn algorithm(&self) -> String {
        self.config().algorithm_name()
    }

    fn title(&self) -> String {
        let c = self.config();
        format!("{} {} seed {}", c.algorithm_name(), c.dataset, c.seed)
    }

    fn rate_on(&self, record: &Logged) -> bool {
        record.metrics.iter().any(|(k, _)| *k == metrics::TRAIN_LOSS)
    }

    fn units(&self, step: u64) -> u64 {
        step * self.batch_size() as u64
    }

    fn progress(&self, latest: &Latest) -> String {
        format!(
            "epoch {}/{} · loss {:.3} · H min {:.3} · test top-1 {:.2} % · {:.0} images/s",
            self.epoch(),
            self.config().epochs,
            latest.get(metrics::TRAIN_LOSS),
            latest.get(metrics::PRED_ENTROPY_MIN),
            100.0 * latest.get(metrics::EVAL_TOP1),
            latest.get(metrics::IMAGES_PER_SEC)
        )
    }

    fn quiet_line(&self, record: &Logged, latest: &Latest) -> Option<String> {
        let c = self.config();
        record.metrics.iter().any(|(k, _)| *k == metrics::EVAL_TOP1).then(|| {
            format!(
                "{} {} seed {} epoch {}: test top-1 {:.2} %",
                c.dataset,
                c.algorithm_name(),
                c.seed,
                record.step / self.steps_per_epoch(),
                100.0 * latest.get(metrics::EVAL_TOP1)
            )
        })
    }
}

/// Runs `era eval vision`.
pub fn eval(args: &EvalVisionArgs) -> anyhow::Result<()> {
    let dirs = runs::run_dirs(&args.run)?;
    backend::run(args.backend, Eval { dirs, data: args.data.clone() })?
}

struct Eval {
    dirs: Vec<PathBuf>,
    data: Option<PathBuf>,
}

impl Task for Eval {
    type Output = anyhow::Result<()>;
    // Evaluation reads the network part, which both engines write in burn's format: `fast` evaluates on ndarray.
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, _compute: Compute) -> anyhow::Result<()> {
        for dir in &self.dirs {
            let config: RunConfig = runs::read_config(dir, WHAT)?;
            let Some(ckpt) = checkpoint::latest(dir)? else {
                anyhow::bail!("{}: no checkpoint yet", dir.display());
            };
            let (train, test) = load(&config.vision, self.data.as_deref().or(config.data.as_deref()))?;
            let mut trainer = VisionTrainer::<B>::new(config.vision.clone(), train, test, &device)?;
            trainer.load_net(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
            let e = pollster::block_on(trainer.evaluate())?;
            println!(
                "{}: {} on {} seed {}, checkpoint at step {}: test top-1 {:.2} %, top-5 {:.2} %, loss {:.4}, \
                 prediction entropy mean {:.4} min {:.4} nats ({} images)",
                dir.display(),
                config.vision.algorithm_name(),
                config.vision.dataset,
                config.vision.seed,
                ckpt.meta.step,
                100.0 * e.top1,
                100.0 * e.top5,
                e.loss,
                e.entropy_mean,
                e.entropy_min,
                e.images
            );
        }
        Ok(())
    }
}

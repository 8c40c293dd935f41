//! `era train vision` and `era eval vision`: image classifiers with the ERA softmax floor or the
//! usual regularisers, with run logs, checkpoints and resume.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::tensor::backend::AutodiffBackend;
use era_shared::data::{ImageDataset, Split};
use era_shared::metrics;
use era_shared::runlog::{Domain, Header, RUN_LOG_FILE, StepUnit};
use era_shared::vision::trainer::{VisionConfig, VisionTrainer};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::backend::{self, BackendChoice, Cpu, Task};
use crate::checkpoint;
use crate::cli::{EvalVisionArgs, TrainVisionArgs};
use crate::runs::{self, stopping};

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

impl runs::SavedConfig for RunConfig {}

/// The effective settings: the dataset's and model's defaults with the command line's options applied.
pub fn vision_config(a: &TrainVisionArgs, seed: u64) -> VisionConfig {
    let dataset = a.dataset.unwrap_or(era_shared::data::DatasetKind::MnistEmbedded);
    let mut c = VisionConfig::standard(dataset, a.model);
    c.reg = a.reg;
    c.strength = a.strength;
    c.h0 = a.h0;
    c.tau = a.tau;
    c.era_mode = a.era_mode;
    c.epochs = a.epochs.unwrap_or(c.epochs);
    c.batch_size = a.batch_size.unwrap_or(c.batch_size);
    c.lr = a.lr.unwrap_or(c.lr);
    c.momentum = a.momentum.unwrap_or(c.momentum);
    c.weight_decay = a.weight_decay.unwrap_or(c.weight_decay);
    c.warmup_epochs = a.warmup_epochs.unwrap_or(c.warmup_epochs);
    c.augment = !a.no_augment;
    c.image_size = a.image_size.unwrap_or(c.image_size);
    c.log_every = a.log_every.unwrap_or(c.log_every);
    c.seed = seed;
    c
}

/// Both splits of the dataset a config names.
fn load(config: &VisionConfig, dir: Option<&std::path::Path>) -> anyhow::Result<(ImageDataset, ImageDataset)> {
    let d = config.dataset;
    let train = d.load(dir, Split::Train, config.image_size)?;
    let test = d.load(dir, Split::Test, config.image_size)?;
    Ok((train, test))
}

/// One seed's run.
#[derive(Debug, Clone)]
struct Job {
    dir: PathBuf,
    config: RunConfig,
    resume: bool,
}

/// Runs `era train vision`.
pub fn run(args: &TrainVisionArgs) -> anyhow::Result<()> {
    let (jobs, top, data) = match &args.run.resume {
        Some(dir) => {
            let jobs: Vec<Job> = runs::unfinished::<RunConfig>(dir, WHAT)?
                .into_iter()
                .map(|(dir, config)| Job { dir, config, resume: true })
                .collect();
            let first = &jobs[0].config;
            let data = load(&first.vision, first.data.as_deref())?;
            (jobs, dir.clone(), data)
        }
        None => new_jobs(args)?,
    };
    let first = &jobs[0].config;
    runs::install_stop_handler();
    let outcome =
        backend::run(first.backend, Train { jobs: jobs.clone(), data, quiet: args.run.quiet }).and_then(|r| r);
    runs::report(&jobs.iter().map(|j| j.dir.as_path()).collect::<Vec<_>>(), &top, "vision");
    outcome
}

/// Reads the data and checks the settings against it, then creates the run directory and its configs.
fn new_jobs(args: &TrainVisionArgs) -> anyhow::Result<(Vec<Job>, PathBuf, (ImageDataset, ImageDataset))> {
    backend::ensure_available(args.run.backend)?;
    let first = vision_config(args, args.run.seed);
    let (train, test) = load(&first, args.data.as_deref())?;
    // Build once on the CPU so a bad setting fails before anything is written.
    VisionTrainer::<Cpu>::new(first.clone(), train.clone(), test.clone(), &Default::default())?;
    let base = args.run.run_name.clone().unwrap_or_else(|| format!("{}-{}", first.dataset, first.algorithm_name()));
    let data = args.data.as_ref().map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()));
    let (top, created) =
        runs::create(&args.run.out, &base, args.run.seed..args.run.seed + args.run.seeds, |seed, run_name| {
            RunConfig {
                vision: vision_config(args, seed),
                data: data.clone(),
                checkpoint_every: args.run.checkpoint_every.map(|n| n.max(1)),
                backend: args.run.backend,
                run_name: run_name.to_string(),
            }
        })?;
    let jobs = created.into_iter().map(|(dir, config)| Job { dir, config, resume: false }).collect();
    Ok((jobs, top, (train, test)))
}

/// Training of every seed, one thread each, on one backend.
struct Train {
    jobs: Vec<Job>,
    data: (ImageDataset, ImageDataset),
    quiet: bool,
}

impl Task for Train {
    type Output = anyhow::Result<()>;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &str) -> anyhow::Result<()> {
        let quiet = self.quiet;
        let data = &self.data;
        runs::in_parallel(&self.jobs, quiet, |job, bar| train_one::<B>(job, data, device.clone(), backend, bar, quiet))
    }
}

/// The header of a run's log.
fn header(job: &Job) -> anyhow::Result<Header> {
    let c = &job.config.vision;
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    Ok(Header::new(
        Domain::Vision,
        c.algorithm_name(),
        c.dataset.to_string(),
        job.config.run_name.clone(),
        c.seed,
        StepUnit::OptimizerSteps,
        c.era_targets(),
        serde_json::to_value(&job.config)?,
        started,
    ))
}

/// Trains one seed to its last epoch, writing its log and checkpoints.
fn train_one<B: AutodiffBackend>(
    job: &Job,
    (train, test): &(ImageDataset, ImageDataset),
    device: B::Device,
    backend: &str,
    bar: &ProgressBar,
    quiet: bool,
) -> anyhow::Result<()> {
    let c = &job.config.vision;
    let shown = job.dir.join(RUN_LOG_FILE).display().to_string();
    let mut trainer = VisionTrainer::<B>::new(c.clone(), train.clone(), test.clone(), &device)?;
    let (mut writer, wall0, ckpt) = runs::open_log(&job.dir, job.resume, || header(job))?;
    if let Some(ckpt) = ckpt {
        trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
    }
    bar.set_style(runs::bar_style("steps"));
    bar.set_length(trainer.total_steps());
    bar.set_prefix(format!("{} {} seed {} ({backend})", c.algorithm_name(), c.dataset, c.seed));
    bar.set_position(trainer.step());
    let start = Instant::now();
    let wall = || wall0 + start.elapsed().as_secs_f64();
    let spe = trainer.steps_per_epoch();
    let every = job.config.checkpoint_every.unwrap_or(spe).max(1);
    let images_per_step = trainer.batch_size() as f64;
    let mut window = (Instant::now(), trainer.step());
    let (mut loss, mut h_min, mut eval_top1, mut ips) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    let result: anyhow::Result<()> = (|| {
        while !trainer.is_done() && !stopping() {
            for mut l in pollster::block_on(trainer.advance())? {
                if l.metrics.iter().any(|(k, _)| *k == metrics::TRAIN_LOSS) {
                    let (t, s) = window;
                    ips = (l.step - s) as f64 * images_per_step / t.elapsed().as_secs_f64().max(1e-9);
                    l.metrics.push((metrics::IMAGES_PER_SEC, ips));
                    window = (Instant::now(), l.step);
                }
                for &(k, v) in &l.metrics {
                    match k {
                        metrics::TRAIN_LOSS => loss = v,
                        metrics::PRED_ENTROPY_MIN => h_min = v,
                        metrics::EVAL_TOP1 => eval_top1 = v,
                        _ => {}
                    }
                }
                writer.record(l.step, wall(), &l.metrics).with_context(|| format!("{shown}: cannot write"))?;
                if quiet && l.metrics.iter().any(|(k, _)| *k == metrics::EVAL_TOP1) {
                    eprintln!(
                        "era: {} {} seed {} epoch {}: test top-1 {:.2} %",
                        c.dataset,
                        c.algorithm_name(),
                        c.seed,
                        l.step / spe,
                        100.0 * eval_top1
                    );
                }
            }
            bar.set_position(trainer.step());
            bar.set_message(format!(
                "epoch {}/{} · loss {loss:.3} · H min {h_min:.3} · test top-1 {:.2} % · {ips:.0} images/s",
                trainer.epoch(),
                c.epochs,
                100.0 * eval_top1
            ));
            let step = trainer.step();
            if step.is_multiple_of(every) || step.is_multiple_of(spe) || trainer.is_done() || stopping() {
                checkpoint::write(&job.dir, step, wall(), &c.algorithm_name(), &trainer.save()?)?;
            }
        }
        Ok(())
    })();
    writer
        .finish(runs::status(&result, trainer.is_done()), wall())
        .with_context(|| format!("{shown}: cannot write the footer"))?;
    bar.finish();
    result.with_context(|| format!("{} seed {}", c.dataset, c.seed))
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

    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: &str) -> anyhow::Result<()> {
        for dir in &self.dirs {
            let config: RunConfig = runs::read_config(dir, WHAT)?;
            let Some(ckpt) = checkpoint::latest(dir)? else {
                anyhow::bail!("{}: no checkpoint yet", dir.display());
            };
            let (train, test) = load(&config.vision, self.data.as_deref().or(config.data.as_deref()))?;
            let mut trainer = VisionTrainer::<B>::new(config.vision.clone(), train, test, &device)?;
            trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
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

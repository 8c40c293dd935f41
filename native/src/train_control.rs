//! `era train control` and `era eval control`: control runs with run logs, checkpoints and resume.

use std::fs::{self, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::backend::AutodiffBackend;
use era_shared::control::policy::EraConfig;
use era_shared::control::ppo::PpoConfig;
use era_shared::control::sac::SacConfig;
use era_shared::control::trainer::AgentConfig;
use era_shared::control::{Algo, ControlConfig, ControlTrainer};
use era_shared::metrics;
use era_shared::runlog::{CONFIG_FILE, Domain, Header, RUN_LOG_FILE, RunLog, RunLogWriter, Status, StepUnit, seed_dir};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::backend::{self, BackendChoice, Cpu, Task};
use crate::checkpoint;
use crate::cli::{DeltaArg, EvalControlArgs, OnOff, TrainControlArgs};

/// What `config.json` holds: the trainer's settings plus how the run is executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The training settings.
    #[serde(flatten)]
    pub control: ControlConfig,
    /// Checkpoint cadence in environment steps.
    pub checkpoint_every: u64,
    /// The backend asked for.
    pub backend: BackendChoice,
    /// The run directory's name.
    pub run_name: String,
}

/// The effective training settings: the algorithm's defaults with the command line's options applied.
pub fn control_config(a: &TrainControlArgs, env: &str, seed: u64) -> ControlConfig {
    let era_on = a.era == OnOff::On;
    let with_era_options = |era: &mut EraConfig| {
        era.h0 = a.h0;
        era.h0_per_dim = a.h0_per_dim.unwrap_or(era.h0_per_dim);
        match a.delta {
            Some(DeltaArg::Auto) => era.delta_auto = true,
            Some(DeltaArg::Fixed(x)) => {
                era.delta = x;
                era.delta_auto = false;
            }
            None => {}
        }
    };
    let agent = match a.algo {
        Algo::Sac => {
            let mut c = SacConfig::standard(era_on);
            with_era_options(&mut c.era);
            c.hidden = a.hidden.clone().unwrap_or(c.hidden);
            c.activation = a.activation.unwrap_or(c.activation);
            if let Some(lr) = a.lr {
                c.actor_lr = lr;
                c.critic_lr = lr;
            }
            c.batch_size = a.batch_size.unwrap_or(c.batch_size);
            c.learning_starts = a.learning_starts.unwrap_or(c.learning_starts);
            c.updates_per_step = a.updates_per_step.unwrap_or(c.updates_per_step);
            c.buffer_size = a.buffer_size.unwrap_or(c.buffer_size);
            AgentConfig::Sac(c)
        }
        Algo::Ppo => {
            let mut c = PpoConfig::standard(era_on).with_state_dependent_std(a.state_dependent_std);
            with_era_options(&mut c.era);
            c.hidden = a.hidden.clone().unwrap_or(c.hidden);
            c.activation = a.activation.unwrap_or(c.activation);
            c.lr = a.lr.unwrap_or(c.lr);
            c.num_steps = a.num_steps.unwrap_or(c.num_steps);
            AgentConfig::Ppo(c)
        }
    };
    let mut c = ControlConfig::new(env.to_string(), agent).with_seed(seed);
    c.total_steps = a.steps.unwrap_or(c.total_steps);
    c.num_envs = a.num_envs.unwrap_or(c.num_envs);
    c.eval_every = a.eval_every.unwrap_or(c.eval_every);
    c.eval_episodes = a.eval_episodes.unwrap_or(c.eval_episodes);
    c.log_every = a.log_every.unwrap_or(c.log_every);
    c
}

/// Set by Ctrl-C: every run checkpoints, writes a `stopped` footer and returns.
static STOP: AtomicBool = AtomicBool::new(false);

/// One seed's run: its directory and settings, and whether it continues from a checkpoint.
#[derive(Debug, Clone)]
struct Job {
    dir: PathBuf,
    config: RunConfig,
    resume: bool,
}

/// Runs `era train control`.
pub fn run(args: &TrainControlArgs) -> anyhow::Result<()> {
    let (jobs, backend_choice, top) = match &args.resume {
        Some(dir) => {
            let jobs = resume_jobs(dir)?;
            let choice = jobs[0].config.backend;
            (jobs, choice, dir.clone())
        }
        None => new_jobs(args)?,
    };
    // The first Ctrl-C stops cleanly (checkpoint + footer); a second one kills as usual.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nera: stopping after the current step (checkpoint and footer are written; Ctrl-C again to kill)");
    });
    let outcome = backend::run(backend_choice, Train { jobs: jobs.clone(), quiet: args.quiet }).and_then(|r| r);
    println!("era: run logs:");
    for job in &jobs {
        println!("  {}", job.dir.join(RUN_LOG_FILE).display());
    }
    outcome?;
    if STOP.load(Ordering::SeqCst) {
        println!("era: stopped; continue with: era train control --resume {}", top.display());
    } else {
        println!("era: compare with: era compare {}", top.display());
    }
    Ok(())
}

/// Creates the run directory (one per seed below it with several seeds) and its configs.
fn new_jobs(args: &TrainControlArgs) -> anyhow::Result<(Vec<Job>, BackendChoice, PathBuf)> {
    backend::ensure_available(args.backend)?;
    let env = args.env.clone().unwrap_or_default();
    let first = control_config(args, &env, args.seed);
    // Build once on the CPU so a bad setting fails before anything is written.
    ControlTrainer::<Cpu>::new(first.clone(), &Default::default()).map_err(anyhow::Error::from)?;
    let base = args.run_name.clone().unwrap_or_else(|| format!("{}-{env}", first.algorithm_name()));
    fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let top = unique_dir(&args.out, &base)?;
    let run_name = top.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or(base);
    let mut jobs = Vec::new();
    for seed in args.seed..args.seed + args.seeds {
        let dir = if args.seeds > 1 { top.join(seed_dir(seed)) } else { top.clone() };
        fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create the run folder", dir.display()))?;
        let config = RunConfig {
            control: control_config(args, &env, seed),
            checkpoint_every: args.checkpoint_every.unwrap_or(10_000).max(1),
            backend: args.backend,
            run_name: run_name.clone(),
        };
        let path = dir.join(CONFIG_FILE);
        fs::write(&path, serde_json::to_string_pretty(&config)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        jobs.push(Job { dir, config, resume: false });
    }
    Ok((jobs, args.backend, top))
}

/// `base`, or `base-2`, `base-3`, … : the first name not taken under `out` (never overwrite a run).
fn unique_dir(out: &Path, base: &str) -> anyhow::Result<PathBuf> {
    for i in 1..10_000 {
        let name = if i == 1 { base.to_string() } else { format!("{base}-{i}") };
        let dir = out.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot create the run folder", dir.display())),
        }
    }
    bail!("{}: no free run name `{base}-N`", out.display())
}

/// The run directories below `dir` (itself, or its `seed-*` folders) that have a config.
fn run_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.join(CONFIG_FILE).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the run folder", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(CONFIG_FILE).is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        bail!("{}: no {CONFIG_FILE} here or in its seed-* folders: not a run directory", dir.display());
    }
    Ok(dirs)
}

fn read_config(dir: &Path) -> anyhow::Result<RunConfig> {
    let path = dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("{}: cannot read", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not an era control config", path.display()))
}

/// The unfinished runs below `dir`, to continue from their checkpoints.
fn resume_jobs(dir: &Path) -> anyhow::Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for d in run_dirs(dir)? {
        let log_path = d.join(RUN_LOG_FILE);
        let finished = match fs::read_to_string(&log_path) {
            Ok(text) => RunLog::parse(&text, &log_path.display().to_string())?
                .footer
                .is_some_and(|f| f.status == Status::Completed),
            Err(_) => false,
        };
        if finished {
            eprintln!("era: {}: already completed, nothing to resume", d.display());
            continue;
        }
        jobs.push(Job { config: read_config(&d)?, dir: d, resume: true });
    }
    if jobs.is_empty() {
        bail!("{}: every run here has completed", dir.display());
    }
    Ok(jobs)
}

/// Training of every job, one thread per seed, on one backend.
struct Train {
    jobs: Vec<Job>,
    quiet: bool,
}

impl Task for Train {
    type Output = anyhow::Result<()>;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &str) -> anyhow::Result<()> {
        let bars = MultiProgress::with_draw_target(if self.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .jobs
                .iter()
                .map(|job| {
                    let bar = bars.add(ProgressBar::new(job.config.control.total_steps));
                    let device = device.clone();
                    let quiet = self.quiet;
                    scope.spawn(move || train_one::<B>(job, device, backend, &bar, quiet))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a training thread panicked"))))
                .collect()
        });
        let errors: Vec<String> = results.into_iter().filter_map(Result::err).map(|e| format!("{e:#}")).collect();
        if errors.is_empty() { Ok(()) } else { bail!("{}", errors.join("; ")) }
    }
}

/// The header of a run's log.
fn header(job: &Job, trainer_era: era_shared::runlog::EraTargets) -> anyhow::Result<Header> {
    let c = &job.config.control;
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    Ok(Header::new(
        Domain::Control,
        c.algorithm_name(),
        c.env.clone(),
        job.config.run_name.clone(),
        c.seed,
        StepUnit::EnvSteps,
        trainer_era,
        serde_json::to_value(&job.config)?,
        started,
    ))
}

/// Trains one seed to the end of its budget, writing its log and checkpoints.
fn train_one<B: AutodiffBackend>(
    job: &Job,
    device: B::Device,
    backend: &str,
    bar: &ProgressBar,
    quiet: bool,
) -> anyhow::Result<()> {
    let c = &job.config.control;
    let log_path = job.dir.join(RUN_LOG_FILE);
    let shown = log_path.display().to_string();
    let mut trainer = ControlTrainer::<B>::new(c.clone(), &device)?;
    let (mut writer, wall0) = if job.resume {
        let Some(ckpt) = checkpoint::latest(&job.dir)? else {
            bail!(
                "{}: no checkpoint to resume from (the run stopped before its first one); start it again",
                job.dir.display()
            );
        };
        trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
        let text = fs::read_to_string(&log_path).with_context(|| format!("{shown}: cannot read"))?;
        let existing = RunLog::parse(&text, &shown)?;
        let file =
            OpenOptions::new().append(true).open(&log_path).with_context(|| format!("{shown}: cannot append"))?;
        let rel = ckpt.dir.strip_prefix(&job.dir).unwrap_or(&ckpt.dir).display().to_string();
        let writer =
            RunLogWriter::resume(BufWriter::new(file), &existing, ckpt.meta.step, ckpt.meta.wall_s, Some(rel))?;
        (writer, ckpt.meta.wall_s)
    } else {
        let file = fs::File::create(&log_path).with_context(|| format!("{shown}: cannot create"))?;
        let writer = RunLogWriter::new(BufWriter::new(file), &header(job, trainer.era_targets())?)?;
        (writer, 0.0)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:24}] {pos}/{len} steps {per_sec:>12} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{} {} seed {} ({backend})", c.algorithm_name(), c.env, c.seed));
    bar.set_position(trainer.step());
    let start = Instant::now();
    let wall = || wall0 + start.elapsed().as_secs_f64();
    let mut window = (Instant::now(), trainer.step());
    let every = job.config.checkpoint_every;
    let mut next_checkpoint = (trainer.step() / every + 1) * every;
    let (mut last_return, mut last_eval, mut last_entropy) = (f64::NAN, f64::NAN, f64::NAN);
    let result: anyhow::Result<()> = (|| {
        while !trainer.is_done() && !STOP.load(Ordering::SeqCst) {
            for mut l in pollster::block_on(trainer.advance())? {
                for &(k, v) in &l.metrics {
                    match k {
                        metrics::EPISODIC_RETURN => last_return = v,
                        metrics::EVAL_RETURN => last_eval = v,
                        metrics::POLICY_ENTROPY => last_entropy = v,
                        _ => {}
                    }
                }
                if l.metrics.iter().any(|(k, _)| *k == metrics::UPDATES) {
                    let (t, s) = window;
                    let sps = (l.step - s) as f64 / t.elapsed().as_secs_f64().max(1e-9);
                    l.metrics.push((metrics::STEPS_PER_SEC, sps));
                    window = (Instant::now(), l.step);
                }
                writer.record(l.step, wall(), &l.metrics).with_context(|| format!("{shown}: cannot write"))?;
                if quiet && l.metrics.iter().any(|(k, _)| *k == metrics::EVAL_RETURN) {
                    eprintln!("era: {} seed {} step {}: eval return {last_eval:.1}", c.env, c.seed, l.step);
                }
            }
            bar.set_position(trainer.step());
            bar.set_message(format!("return {last_return:.1} · eval {last_eval:.1} · entropy {last_entropy:.3}"));
            if trainer.step() >= next_checkpoint || trainer.is_done() || STOP.load(Ordering::SeqCst) {
                checkpoint::write(&job.dir, trainer.step(), wall(), c.algorithm_name(), &trainer.save()?)?;
                while next_checkpoint <= trainer.step() {
                    next_checkpoint += every;
                }
            }
        }
        Ok(())
    })();
    let status = match &result {
        Err(_) => Status::Failed,
        Ok(()) if trainer.is_done() => Status::Completed,
        Ok(()) => Status::Stopped,
    };
    writer.finish(status, wall()).with_context(|| format!("{shown}: cannot write the footer"))?;
    bar.finish();
    result.with_context(|| format!("{} seed {}", c.env, c.seed))
}

/// Runs `era eval control`.
pub fn eval(args: &EvalControlArgs) -> anyhow::Result<()> {
    let dirs = run_dirs(&args.run)?;
    backend::run(args.backend, Eval { dirs, episodes: args.episodes.max(1) })?
}

struct Eval {
    dirs: Vec<PathBuf>,
    episodes: usize,
}

impl Task for Eval {
    type Output = anyhow::Result<()>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: &str) -> anyhow::Result<()> {
        for dir in &self.dirs {
            let config = read_config(dir)?;
            let Some(ckpt) = checkpoint::latest(dir)? else {
                bail!("{}: no checkpoint yet", dir.display());
            };
            let mut trainer = ControlTrainer::<B>::new(config.control.clone(), &device)?;
            trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
            let ret = pollster::block_on(trainer.evaluate(self.episodes))?;
            println!(
                "{}: {} on {} seed {}, checkpoint at step {}: mean return {ret:.2} over {} deterministic episodes",
                dir.display(),
                config.control.algorithm_name(),
                config.control.env,
                config.control.seed,
                ckpt.meta.step,
                self.episodes
            );
        }
        Ok(())
    }
}

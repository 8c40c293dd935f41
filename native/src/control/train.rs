//! `era train control` and `era eval control`: control runs with run logs, checkpoints and resume.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::backend::AutodiffBackend;
use era_shared::control::AgentConfig;
use era_shared::control::ppo::PpoConfig;
use era_shared::control::sac::SacConfig;
use era_shared::control::{Algo, ControlConfig, ControlTrainer};
use era_shared::metrics;
use era_shared::runlog::{Domain, EraTargets, Header, StepUnit};
use era_shared::train::{Logged, Trainer};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::args::{ALIASES, DeltaArg, EvalControlArgs, TrainControlArgs};
use crate::backend::{self, BackendChoice, Compute, Cpu, Task};
use crate::checkpoint;
use crate::overlay;
use crate::run_loop::{self, Latest, Presented, Run, Shown};
use crate::runs::{self, Start};
use crate::video::{Recorder, VideoSpec};

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

impl runs::SavedConfig for RunConfig {
    fn defaults(saved: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
        let algo = saved.get("agent").and_then(|a| a.get("algo")).cloned().unwrap_or_default();
        let (Ok(algo), Some(env)) = (serde_json::from_value(algo), saved.get("env").and_then(|e| e.as_str())) else {
            return serde_json::Value::Null;
        };
        serde_json::to_value(defaults(algo, env)).unwrap_or_default()
    }

    fn upgrade(saved: &mut serde_json::Map<String, serde_json::Value>) {
        // SAC runs saved before the network and optimiser options existed used CleanRL's networks
        // and Adam: they resume with those, not with today's defaults.
        let Some(agent) = saved.get_mut("agent").and_then(|a| a.as_object_mut()) else { return };
        if agent.get("algo").and_then(|a| a.as_str()) != Some("sac") {
            return;
        }
        let legacy = serde_json::to_value(SacConfig::cleanrl(true)).unwrap_or_default();
        for key in era_shared::control::sac::ADDED_SETTINGS {
            if let Some(value) = legacy.get(key) {
                agent.entry(key).or_insert(value.clone());
            }
        }
    }
}

/// The algorithm's defaults on `env`, ERA on: what the command line's options are laid over.
pub fn defaults(algo: Algo, env: &str) -> ControlConfig {
    let agent = match algo {
        Algo::Sac => AgentConfig::Sac(SacConfig::standard(true)),
        Algo::Ppo => AgentConfig::Ppo(PpoConfig::standard(true)),
    };
    ControlConfig::new(env.to_string(), agent).with_suite_defaults()
}

/// The defaults `--help` shows, read from [`defaults`].
pub fn help_defaults() -> Vec<(&'static str, serde_json::Value)> {
    let shown = |c: ControlConfig| overlay::without(serde_json::to_value(c).unwrap_or_default(), &["env", "algo"]);
    vec![
        ("SAC", shown(defaults(Algo::Sac, "Pendulum-v1"))),
        ("SAC on dmc/ (as released)", shown(defaults(Algo::Sac, "dmc/walker-run"))),
        ("PPO", shown(defaults(Algo::Ppo, "Pendulum-v1"))),
    ]
}

/// The effective training settings: the algorithm's defaults, or the settings of the run `--config`
/// names, with the command line's options laid over them (see [`crate::overlay`]).
pub fn control_config(a: &TrainControlArgs, base: Option<&ControlConfig>, seed: u64) -> anyhow::Result<ControlConfig> {
    let mut c = match base {
        Some(b) => {
            if let Some(algo) = a.algo.filter(|algo| *algo != b.agent.algo()) {
                bail!("--algo {algo}: the --config run is {}; its settings are not {algo}'s", b.agent.algo());
            }
            let mut c = b.clone();
            c.env = a.env.clone().unwrap_or(c.env);
            c
        }
        None => defaults(a.algo.unwrap_or(Algo::Sac), a.env.as_deref().unwrap_or_default()),
    };
    if let Some(delta) = a.delta {
        let era = match &mut c.agent {
            AgentConfig::Sac(s) => &mut s.era,
            AgentConfig::Ppo(p) => &mut p.era,
        };
        (era.delta, era.delta_auto) = match delta {
            DeltaArg::Auto => (era.delta, true),
            DeltaArg::Fixed(x) => (x, false),
        };
    }
    let what = c.agent.algo().to_string();
    let mut c: ControlConfig = overlay::overlay(&c, a, ALIASES, &a.run.set, &what)?;
    c.seed = seed;
    Ok(c)
}

/// One seed's run.
type Job = runs::Job<RunConfig>;

/// What a control config is called in errors.
const WHAT: &str = "era control";

/// Runs `era train control`; `config` is a run's `config.json` whose settings are the defaults.
pub fn run(args: &TrainControlArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let (jobs, backend_choice, top) = match &args.run.resume {
        Some(dir) => {
            let jobs: Vec<Job> = runs::unfinished(dir, WHAT, args.run.from_step)?;
            let choice = jobs[0].config.backend;
            (jobs, choice, dir.clone())
        }
        None => new_jobs(args, config)?,
    };
    if jobs.is_empty() {
        return Ok(()); // --print-config
    }
    runs::install_stop_handler();
    let outcome = backend::run(backend_choice, Train { jobs: jobs.clone(), shown: args.run.shown() }).and_then(|r| r);
    runs::report(&jobs.iter().map(|j| j.dir.as_path()).collect::<Vec<_>>(), &top, "control", outcome.is_ok());
    outcome
}

/// Creates the run directory (one per seed below it with several seeds) and its configs.
fn new_jobs(args: &TrainControlArgs, config: Option<&Path>) -> anyhow::Result<(Vec<Job>, BackendChoice, PathBuf)> {
    let saved: Option<RunConfig> = runs::base_config(config, WHAT)?;
    let backend = args.run.backend_or(saved.as_ref().map(|s| s.backend));
    backend::ensure_available(backend)?;
    let base = saved.as_ref().map(|s| &s.control);
    let first = control_config(args, base, args.run.first_seed(base.map(|b| b.seed)))?;
    // Build once on the CPU so a bad setting fails before anything is written.
    ControlTrainer::<Cpu>::with_engine(first.clone(), &Default::default(), backend.engine())
        .map_err(anyhow::Error::from)?;
    // `dmc/walker-run` names the run `sac-era-dmc-walker-run`: one folder, not two.
    let name = args
        .run
        .run_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}", first.algorithm_name(), first.env.replace('/', "-")));
    let checkpoint_every = args.run.checkpoint_every.or(saved.as_ref().map(|s| s.checkpoint_every));
    let (top, created) =
        runs::create(&args.run, &name, args.run.seed_range(base.map(|b| b.seed)), |seed, run_name| RunConfig {
            control: ControlConfig { seed, ..first.clone() },
            checkpoint_every: checkpoint_every.unwrap_or(10_000).max(1),
            backend,
            run_name: run_name.to_string(),
        })?;
    let jobs = created.into_iter().map(|(dir, config)| Job { dir, config, start: Start::Fresh }).collect();
    Ok((jobs, backend, top))
}

/// Training of every job, one thread per seed, on one backend.
struct Train {
    jobs: Vec<Job>,
    shown: Shown,
}

impl Task for Train {
    type Output = anyhow::Result<()>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<()> {
        let shown = &self.shown;
        runs::in_parallel(&self.jobs, shown.quiet, |job, bar| train_one::<B>(job, device.clone(), compute, bar, shown))
    }
}

/// The header of a run's log.
fn header(job: &Job, era: EraTargets) -> anyhow::Result<Header> {
    let c = &job.config.control;
    Ok(Header::new(
        Domain::Control,
        c.algorithm_name(),
        c.env.clone(),
        job.config.run_name.clone(),
        c.seed,
        StepUnit::EnvSteps,
        era,
        serde_json::to_value(&job.config)?,
        runs::now(),
    ))
}

/// Trains one seed to the end of its budget, writing its log and checkpoints.
fn train_one<B: AutodiffBackend>(
    job: &Job,
    device: B::Device,
    compute: Compute,
    bar: &ProgressBar,
    shown: &Shown,
) -> anyhow::Result<()> {
    let mut trainer = ControlTrainer::<B>::with_engine(job.config.control.clone(), &device, compute.engine())?;
    let run = Run { dir: &job.dir, start: job.start, every: job.config.checkpoint_every, compute, bar, shown };
    run_loop::drive(&mut trainer, run, |era| header(job, era))
}

impl<B: AutodiffBackend> Presented for ControlTrainer<B> {
    const RATE: &'static str = metrics::STEPS_PER_SEC;

    fn algorithm(&self) -> String {
        self.config().algorithm_name().to_string()
    }

    fn title(&self) -> String {
        let c = self.config();
        format!("{} {} seed {}", c.algorithm_name(), c.env, c.seed)
    }

    fn rate_on(&self, record: &Logged) -> bool {
        record.metrics.iter().any(|(k, _)| *k == metrics::UPDATES)
    }

    fn units(&self, step: u64) -> u64 {
        step
    }

    fn progress(&self, latest: &Latest) -> String {
        format!(
            "return {:.1} · eval {:.1} · entropy {:.3}",
            latest.get(metrics::EPISODIC_RETURN),
            latest.get(metrics::EVAL_RETURN),
            latest.get(metrics::POLICY_ENTROPY)
        )
    }

    fn quiet_line(&self, record: &Logged, latest: &Latest) -> Option<String> {
        let c = self.config();
        record.metrics.iter().any(|(k, _)| *k == metrics::EVAL_RETURN).then(|| {
            format!(
                "{} seed {} step {}: eval return {:.1}",
                c.env,
                c.seed,
                record.step,
                latest.get(metrics::EVAL_RETURN)
            )
        })
    }
}

/// Runs `era eval control`.
pub fn eval(args: &EvalControlArgs) -> anyhow::Result<()> {
    let video = args.video.as_ref().map(|path| VideoSpec {
        path: path.clone(),
        size: args.video_size,
        fps: args.video_fps,
        every: args.video_every,
        renderer: args.video_renderer,
    });
    if let Some(v) = &video {
        v.check()?;
    }
    let dirs = runs::run_dirs(&args.run)?;
    backend::run(args.backend, Eval { dirs, episodes: args.episodes.max(1), video })?
}

struct Eval {
    dirs: Vec<PathBuf>,
    episodes: usize,
    video: Option<VideoSpec>,
}

/// `--video FILE.gif` for one seed of a run of `seeds` seeds: `FILE-seed-S.gif` when there are several.
fn video_path(path: &std::path::Path, seed: u64, seeds: usize) -> PathBuf {
    if seeds <= 1 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    path.with_file_name(format!("{stem}-seed-{seed}.gif"))
}

impl Task for Eval {
    type Output = anyhow::Result<()>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, _compute: Compute) -> anyhow::Result<()> {
        for dir in &self.dirs {
            let config: RunConfig = runs::read_config(dir, WHAT)?;
            let Some(ckpt) = checkpoint::latest(dir)? else {
                bail!("{}: no checkpoint yet", dir.display());
            };
            // A checkpoint is read by the engine that wrote it (the fast path's is its own format;
            // burn's reads on any backend).
            let engine = config.backend.engine();
            let mut trainer = ControlTrainer::<B>::with_engine(config.control.clone(), &device, engine)?;
            trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
            let ret = match &self.video {
                None => pollster::block_on(trainer.evaluate(self.episodes))?,
                Some(spec) => {
                    let path = video_path(&spec.path, config.control.seed, self.dirs.len());
                    let mut recorder =
                        Recorder::new(trainer.eval_env(), VideoSpec { path: path.clone(), ..spec.clone() })?;
                    let ret =
                        pollster::block_on(trainer.evaluate_watched(self.episodes, &mut |env| recorder.capture(env)))?;
                    let renderer = recorder.renderer_name();
                    let frames = recorder.finish()?;
                    let (w, h) = spec.size;
                    eprintln!("era: {}: {frames} frames of {w}x{h} drawn by {renderer}", path.display());
                    ret
                }
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use era_shared::control::mlp::{Init, Nonlinearity, Norm};

    #[test]
    fn a_config_saved_before_a_setting_existed_reads_with_its_default() {
        let dir = tempfile::tempdir().unwrap();
        let control = defaults(Algo::Ppo, "Hopper-v5").with_total_steps(7);
        let run = RunConfig { control, checkpoint_every: 10, backend: BackendChoice::Fast, run_name: "old".into() };
        let mut value = serde_json::to_value(&run).unwrap();
        value.as_object_mut().unwrap().remove("action_repeat");
        value["agent"].as_object_mut().unwrap().remove("gae_lambda");
        value["agent"]["era"].as_object_mut().unwrap().remove("delta_lr");
        std::fs::write(dir.path().join("config.json"), value.to_string()).unwrap();
        let read: RunConfig = runs::read_config(dir.path(), WHAT).unwrap();
        assert_eq!(read, run);
    }

    #[test]
    fn a_sac_config_saved_before_the_network_options_resumes_with_cleanrl_networks() {
        let dir = tempfile::tempdir().unwrap();
        // Today's config, then the keys that older runs lack removed.
        let fresh = SacConfig::cleanrl(true).with_updates_per_step(2);
        let control = ControlConfig::new("Pendulum-v1".into(), AgentConfig::Sac(fresh.clone()));
        let run =
            RunConfig { control, checkpoint_every: 1000, backend: BackendChoice::Ndarray, run_name: "old".into() };
        let mut value = serde_json::to_value(&run).unwrap();
        for key in era_shared::control::sac::ADDED_SETTINGS {
            value["agent"].as_object_mut().unwrap().remove(key);
        }
        std::fs::write(dir.path().join("config.json"), value.to_string()).unwrap();
        let read: RunConfig = runs::read_config(dir.path(), WHAT).unwrap();
        let AgentConfig::Sac(sac) = &read.control.agent else { panic!("not SAC") };
        assert_eq!((sac.critic_norm, sac.init, sac.critic_weight_decay), (Norm::None, Init::Default, 0.0));
        assert_eq!((sac.activation, &sac.hidden), (Nonlinearity::Relu, &vec![256, 256]));
        assert_eq!(sac, &fresh);
    }
}

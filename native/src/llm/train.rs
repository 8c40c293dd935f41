//! `era train llm`, `era eval llm` and `era generate`: GRPO with or without ERA on Qwen2-architecture
//! models, with run logs, checkpoints (each one a loadable Hugging Face directory) and resume.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::tensor::backend::AutodiffBackend;
use era_shared::llm::config::LlmConfig;
use era_shared::llm::fast::{FastDecoder, FastQwen2};
use era_shared::llm::generate::{self as sampler, Sampling};
use era_shared::llm::qwen2::Qwen2;
use era_shared::llm::source::ModelSource;
use era_shared::llm::trainer::{LlmTrainer, learner};
use era_shared::metrics;
use era_shared::runlog::{Domain, EraTargets, Header, RUN_LOG_FILE, StepUnit};
use era_shared::train::{Engine, Logged, Trainer};
use indicatif::ProgressBar;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::args::{EraRatio, EvalLlmArgs, GenerateArgs, TrainLlmArgs};
use crate::backend::{self, BackendChoice, Compute, Task};
use crate::checkpoint;
use crate::run_args::OnOff;
use crate::run_loop::{self, Latest, Presented, Run};
use crate::runs::{self, Start};

/// What an LLM run's config is called in errors.
const WHAT: &str = "era llm";

/// Checkpoint cadence when `--checkpoint-every` is not given (steps), besides the end of the warm-up
/// and the end of the run.
const DEFAULT_CHECKPOINT_EVERY: u64 = 50;

/// What `config.json` holds: the training settings plus the model and how the run executes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The training settings.
    #[serde(flatten)]
    pub llm: LlmConfig,
    /// `tiny` or the checkpoint directory the run started from.
    pub model: String,
    /// Checkpoint cadence in steps.
    pub checkpoint_every: Option<u64>,
    /// The backend asked for.
    pub backend: BackendChoice,
    /// The run directory's name.
    pub run_name: String,
}

impl runs::SavedConfig for RunConfig {
    fn added_settings() -> serde_json::Map<String, serde_json::Value> {
        // `--era-ratio` and `--advantage-sign` came after the first LLM runs, which did what their
        // defaults do (the scaled old policy; both signs).
        let defaults = serde_json::to_value(LlmConfig::new()).unwrap_or_default();
        ["ratio_to_rollout", "advantage_sign"]
            .into_iter()
            .filter_map(|k| Some((k.to_string(), defaults.get(k)?.clone())))
            .collect()
    }
}

/// The model a run starts from: the tiny model initialised from the seed, or a checkpoint directory.
fn source(model: &str, seed: u64) -> anyhow::Result<ModelSource> {
    if model == "tiny" {
        return Ok(ModelSource::tiny(seed));
    }
    let dir = Path::new(model);
    if !dir.is_dir() {
        anyhow::bail!("--model {model}: neither `tiny` nor a directory");
    }
    Ok(ModelSource::from_dir(dir)?)
}

/// The effective settings: the defaults with the command line's options applied.
pub fn llm_config(a: &TrainLlmArgs, seed: u64) -> LlmConfig {
    let mut c = LlmConfig::new();
    if a.model != "tiny" {
        // A checkpoint brings its own skills: no warm-up unless asked for.
        c.warmup_steps = 0;
    }
    c.era = a.era == OnOff::On;
    c.omega_low = a.omega_low.unwrap_or(c.omega_low);
    c.omega_high = a.omega_high.unwrap_or(c.omega_high);
    c.era_k = a.era_k.unwrap_or(c.era_k);
    c.top_fraction = a.top_fraction.unwrap_or(c.top_fraction);
    c.advantage_rescale = !a.no_advantage_rescale;
    c.top_k_logprobs = a.top_k_logprobs;
    c.ratio_to_rollout = a.era_ratio == EraRatio::Rollout;
    c.advantage_sign = a.advantage_sign;
    c.grpo_steps = a.steps.unwrap_or(c.grpo_steps);
    c.warmup_steps = a.warmup_steps.unwrap_or(c.warmup_steps);
    c.group = a.group.unwrap_or(c.group);
    c.prompts = a.prompts.unwrap_or(c.prompts);
    c.lr = a.lr.unwrap_or(c.lr);
    c.epochs = a.epochs.unwrap_or(c.epochs);
    c.minibatch = a.minibatch.unwrap_or(c.minibatch);
    c.clip_low = a.clip_low.unwrap_or(c.clip_low);
    c.clip_high = a.clip_high.unwrap_or(c.clip_high);
    c.kl_coef = a.kl_coef.unwrap_or(c.kl_coef);
    c.dynamic_sampling = !a.no_dynamic_sampling;
    c.temperature = a.temperature.unwrap_or(c.temperature);
    c.max_new_tokens = a.max_new_tokens.unwrap_or(c.max_new_tokens);
    c.digits = a.digits.unwrap_or(c.digits);
    c.eval_every = a.eval_every.unwrap_or(c.eval_every);
    c.eval_prompts = a.eval_prompts.unwrap_or(c.eval_prompts);
    c.log_every = a.log_every.unwrap_or(c.log_every);
    c.seed = seed;
    c
}

/// One seed's run.
type Job = runs::Job<RunConfig>;

/// Runs `era train llm`.
pub fn run(args: &TrainLlmArgs) -> anyhow::Result<()> {
    let (jobs, top, loaded) = match &args.run.resume {
        Some(dir) => {
            let jobs: Vec<Job> = runs::unfinished(dir, WHAT, args.run.from_step)?;
            (jobs, dir.clone(), None)
        }
        None => new_jobs(args)?,
    };
    let first = &jobs[0].config;
    runs::install_stop_handler();
    let task = Train { jobs: jobs.clone(), loaded, quiet: args.run.quiet };
    let outcome = backend::run(first.backend, task).and_then(|r| r);
    runs::report(&jobs.iter().map(|j| j.dir.as_path()).collect::<Vec<_>>(), &top, "llm", outcome.is_ok());
    outcome
}

/// Checks the settings against the model, then creates the run directory and its configs. Returns
/// the checkpoint read for the check, so that the seeds do not read it again (the tiny model is
/// drawn per seed instead).
fn new_jobs(args: &TrainLlmArgs) -> anyhow::Result<(Vec<Job>, PathBuf, Option<ModelSource>)> {
    backend::ensure_available(args.run.backend)?;
    let first = llm_config(args, args.run.seed);
    if args.model != "tiny" && !Path::new(&args.model).is_dir() {
        anyhow::bail!("--model {}: neither `tiny` nor a directory", args.model);
    }
    let model = if args.model == "tiny" {
        "tiny".to_string()
    } else {
        std::path::absolute(&args.model).unwrap_or_else(|_| PathBuf::from(&args.model)).display().to_string()
    };
    // A bad setting or checkpoint fails before anything is written.
    let checked = source(&model, first.seed)?;
    first.task_for(&checked.tokenizer)?;
    let base = args.run.run_name.clone().unwrap_or_else(|| format!("{}-arithmetic", first.algorithm_name()));
    let (top, created) =
        runs::create(&args.run.out, &base, args.run.seed..args.run.seed + args.run.seeds, |seed, run_name| {
            RunConfig {
                llm: llm_config(args, seed),
                model: model.clone(),
                checkpoint_every: args.run.checkpoint_every.map(|n| n.max(1)),
                backend: args.run.backend,
                run_name: run_name.to_string(),
            }
        })?;
    let jobs = created.into_iter().map(|(dir, config)| Job { dir, config, start: Start::Fresh }).collect();
    Ok((jobs, top, (model != "tiny").then_some(checked)))
}

/// Training of every seed, one thread each, on one backend.
struct Train {
    jobs: Vec<Job>,
    /// The checkpoint every seed starts from, when already read.
    loaded: Option<ModelSource>,
    quiet: bool,
}

impl Task for Train {
    type Output = anyhow::Result<()>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<()> {
        let quiet = self.quiet;
        let loaded = &self.loaded;
        runs::in_parallel(&self.jobs, quiet, |job, bar| {
            let start = match loaded {
                Some(s) => s.clone(),
                None => source(&job.config.model, job.config.llm.seed)?,
            };
            train_one::<B>(job, start, device.clone(), compute, bar, quiet)
        })
    }
}

/// The header of a run's log.
fn header(job: &Job, era: EraTargets) -> anyhow::Result<Header> {
    let c = &job.config.llm;
    Ok(Header::new(
        Domain::Llm,
        c.algorithm_name(),
        "arithmetic",
        job.config.run_name.clone(),
        c.seed,
        StepUnit::GrpoSteps,
        era,
        serde_json::to_value(&job.config)?,
        runs::now(),
    ))
}

/// Trains one seed to its last step, writing its log and checkpoints.
fn train_one<B: AutodiffBackend>(
    job: &Job,
    start_from: ModelSource,
    device: B::Device,
    compute: Compute,
    bar: &ProgressBar,
    quiet: bool,
) -> anyhow::Result<()> {
    let mut trainer = LlmTrainer::<B>::with_engine(job.config.llm.clone(), start_from, &device, compute.engine())?;
    let every = job.config.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY);
    let run = Run { dir: &job.dir, start: job.start, every, compute, bar, quiet };
    run_loop::drive(&mut trainer, run, |era| header(job, era))
}

impl<B: AutodiffBackend> Presented for LlmTrainer<B> {
    const RATE: &'static str = metrics::TOKENS_PER_SEC;

    fn algorithm(&self) -> String {
        self.config().algorithm_name().to_string()
    }

    fn title(&self) -> String {
        format!("{} arithmetic seed {}", self.config().algorithm_name(), self.config().seed)
    }

    fn rate_on(&self, _record: &Logged) -> bool {
        true
    }

    /// Tokens generated or trained on so far, whatever the step.
    fn units(&self, _step: u64) -> u64 {
        self.tokens()
    }

    fn progress(&self, latest: &Latest) -> String {
        let pass1 = latest.get(metrics::PASS_AT_KEYS[0]);
        if self.in_warmup() {
            format!("warm-up · loss {:.3} · pass@1 {pass1:.3}", latest.get(metrics::TRAIN_LOSS))
        } else {
            format!(
                "GRPO · reward {:.3} · H_resp {:.3} · pass@1 {pass1:.3}",
                latest.get(metrics::ROLLOUT_REWARD_MEAN),
                latest.get(metrics::ROLLOUT_H_RESP_MEAN)
            )
        }
    }

    fn quiet_line(&self, record: &Logged, _latest: &Latest) -> Option<String> {
        let pass: Vec<String> = record
            .metrics
            .iter()
            .filter(|(k, _)| k.starts_with(metrics::PASS_AT_PREFIX))
            .map(|(k, v)| format!("{} {v:.3}", k.strip_prefix("eval/").unwrap_or(k)))
            .collect();
        let c = self.config();
        (!pass.is_empty())
            .then(|| format!("{} seed {} step {}: {}", c.algorithm_name(), c.seed, record.step, pass.join(", ")))
    }
}

/// Runs `era eval llm`.
pub fn eval(args: &EvalLlmArgs) -> anyhow::Result<()> {
    let dirs = runs::run_dirs(&args.run)?;
    backend::run(args.backend, Eval { dirs, samples: args.pass_k as usize, prompts: args.prompts })?
}

struct Eval {
    dirs: Vec<PathBuf>,
    samples: usize,
    prompts: Option<usize>,
}

impl Task for Eval {
    type Output = anyhow::Result<()>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, _compute: Compute) -> anyhow::Result<()> {
        for dir in &self.dirs {
            let config: RunConfig = runs::read_config(dir, WHAT)?;
            let Some(ckpt) = checkpoint::latest(dir)? else {
                anyhow::bail!("{}: no checkpoint yet", dir.display());
            };
            let c = &config.llm;
            // A checkpoint is read by the engine that wrote it (evaluation only generates).
            let engine = learner::written_by(&ckpt.parts);
            let mut trainer = LlmTrainer::<B>::with_engine(c.clone(), source(&config.model, c.seed)?, &device, engine)?;
            trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
            let prompts = self.prompts.unwrap_or(c.test_size);
            if prompts == 0 || prompts > c.test_size {
                anyhow::bail!("--prompts {prompts} is outside 1..={} (the run's test split)", c.test_size);
            }
            let e = pollster::block_on(trainer.evaluate_with(prompts, self.samples))?;
            let pass: Vec<String> = e.pass.iter().map(|(k, v)| format!("pass@{k} {v:.4}")).collect();
            println!(
                "{}: {} seed {}, checkpoint at step {}: {}, greedy accuracy {:.4}, token entropy {:.4} nats \
                 ({} test problems × {} samples)",
                dir.display(),
                c.algorithm_name(),
                c.seed,
                ckpt.meta.step,
                pass.join(", "),
                e.greedy_accuracy,
                e.entropy_mean,
                e.problems,
                e.samples
            );
        }
        Ok(())
    }
}

/// The Hugging Face directory behind `--model`: the directory itself, or a run's last checkpoint.
fn model_dir(path: &Path) -> anyhow::Result<PathBuf> {
    if path.join("config.json").is_file() && path.join("tokenizer.json").is_file() {
        return Ok(path.to_path_buf());
    }
    if path.join(RUN_LOG_FILE).is_file() || path.join(era_shared::runlog::CHECKPOINT_DIR).is_dir() {
        return match checkpoint::latest(path)? {
            Some(c) => Ok(c.dir),
            None => anyhow::bail!("{}: the run has no checkpoint yet", path.display()),
        };
    }
    anyhow::bail!(
        "{}: not a model directory (config.json, model.safetensors, tokenizer.json) nor an `era train llm` run",
        path.display()
    )
}

/// Runs `era generate`.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let sampling =
        Sampling { temperature: args.temperature, top_k: args.top_k, top_p: args.top_p, greedy: args.greedy };
    sampling.check().map_err(|e| anyhow::anyhow!("--{}", e.replacen('_', "-", 1)))?;
    if args.samples == 0 || args.max_tokens == 0 {
        anyhow::bail!("--samples and --max-tokens must be ≥ 1");
    }
    let dir = model_dir(&args.model)?;
    let model = ModelSource::from_dir(&dir)?;
    let prompt = model.tokenizer.encode(&args.prompt).map_err(|e| anyhow::anyhow!("--prompt: {e}"))?;
    if prompt.is_empty() {
        anyhow::bail!("--prompt: no tokens");
    }
    let out = backend::run(args.backend, Generate { model, prompt, sampling, args })??;
    for text in out {
        println!("{text}");
    }
    Ok(())
}

struct Generate<'a> {
    model: ModelSource,
    prompt: Vec<u32>,
    sampling: Sampling,
    args: &'a GenerateArgs,
}

impl Task for Generate<'_> {
    type Output = anyhow::Result<Vec<String>>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<Vec<String>> {
        let m = &self.model;
        let mut rng = era_shared::train::TrainRng::seed_from_u64(self.args.seed);
        let prompts = vec![self.prompt.clone(); self.args.samples];
        let stop = m.tokenizer.stop_ids().to_vec();
        let max = self.args.max_tokens;
        let out = if compute.engine() == Engine::Fast {
            let fast = FastQwen2::from_weights(&m.config, &m.weights)?;
            let decoder = FastDecoder::new(&fast);
            pollster::block_on(sampler::sample(&decoder, &prompts, max, &stop, &self.sampling, &mut rng))?
        } else {
            let net = Qwen2::<B::InnerBackend>::from_weights(&m.config, &m.weights, &device)?;
            pollster::block_on(sampler::generate(&net, &prompts, max, &stop, &self.sampling, &mut rng, &device))?
        };
        Ok(out
            .iter()
            .map(|r| {
                let ids: Vec<u32> = r.iter().copied().filter(|t| !stop.contains(t)).collect();
                m.tokenizer.decode(&ids)
            })
            .collect())
    }
}

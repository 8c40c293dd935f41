//! `era train llm`, `era eval llm` and `era generate`: GRPO with or without ERA on Qwen2-architecture
//! models, with run logs, checkpoints (each one a loadable Hugging Face directory) and resume.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::tensor::backend::AutodiffBackend;
use era_shared::llm::config::LlmConfig;
use era_shared::llm::fast::{FastDecoder, FastQwen2};
use era_shared::llm::generate::{self as sampler, Sampling};
use era_shared::llm::qwen2::Qwen2;
use era_shared::llm::source::{ModelSource, PUBLISHED_SHAPES};
use era_shared::llm::trainer::{LlmTrainer, learner};
use era_shared::metrics;
use era_shared::runlog::{Domain, EraTargets, Header, RUN_LOG_FILE, StepUnit};
use era_shared::train::{Engine, Logged, Trainer};
use indicatif::ProgressBar;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::args::{ALIASES, EvalLlmArgs, GenerateArgs, LlmPreset, TrainLlmArgs};
use crate::backend::{self, BackendChoice, Compute, Task};
use crate::checkpoint;
use crate::overlay;
use crate::run_loop::{self, Latest, Presented, Run, Shown};
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
    fn defaults(saved: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
        // E.g. `--era-ratio` and `--advantage-sign` came after the first LLM runs, which did what
        // their defaults do (the scaled old policy; both signs).
        let model = saved.get("model").and_then(|m| m.as_str()).unwrap_or("tiny");
        serde_json::to_value(defaults(model)).unwrap_or_default()
    }
}

/// The model a run with settings `c` starts from: the tiny model initialised from the seed (over the
/// characters of the problem files when it trains on them), random weights of a published shape, or
/// a checkpoint directory.
fn source(model: &str, c: &LlmConfig) -> anyhow::Result<ModelSource> {
    let seed = c.seed;
    if model == "tiny" {
        return Ok(match c.file_alphabet()? {
            Some(alphabet) => ModelSource::tiny_text(&alphabet, seed),
            None => ModelSource::tiny(seed),
        });
    }
    if let Some(shape) = model.strip_prefix("random:") {
        return ModelSource::random(shape, seed)
            .with_context(|| format!("--model {model}: unknown shape (known: {})", PUBLISHED_SHAPES.join(", ")));
    }
    let dir = Path::new(model);
    if !dir.is_dir() {
        anyhow::bail!("--model {model}: neither `tiny`, `random:SHAPE` nor a directory");
    }
    Ok(ModelSource::from_dir(dir)?)
}

/// The defaults for `model` (`tiny` or a checkpoint directory): a checkpoint brings its own skills,
/// so no warm-up unless asked for.
pub fn defaults(model: &str) -> LlmConfig {
    let c = LlmConfig::new();
    if model == "tiny" { c } else { c.with_warmup_steps(0) }
}

/// The defaults `--help` shows, read from [`defaults`].
pub fn help_defaults() -> Vec<(&'static str, serde_json::Value)> {
    let shown = |m| serde_json::to_value(defaults(m)).unwrap_or_default();
    vec![("tiny", shown("tiny")), ("a checkpoint", shown("DIR"))]
}

/// The effective settings: the defaults for `model`, or the settings of the run `--config` names,
/// then `--preset`, with the command line's options laid over them (see [`crate::overlay`]).
pub fn llm_config(a: &TrainLlmArgs, base: Option<&LlmConfig>, model: &str, seed: u64) -> anyhow::Result<LlmConfig> {
    let start = base.cloned().unwrap_or_else(|| defaults(model));
    let start = match a.preset {
        Some(LlmPreset::Released) => start.released(),
        None => start,
    };
    let mut c: LlmConfig = overlay::overlay(&start, a, ALIASES, &a.run.set, "llm")?;
    c.seed = seed;
    // The files are named as found from here, so the run can be repeated or resumed from anywhere.
    let absolute = |f: String| std::path::absolute(&f).map_or(f, |p| p.display().to_string());
    c.data = c.data.map(absolute);
    c.eval_data = c.eval_data.map(absolute);
    Ok(c)
}

/// One seed's run.
type Job = runs::Job<RunConfig>;

/// Runs `era train llm`; `config` is a run's `config.json` whose settings are the defaults.
pub fn run(args: &TrainLlmArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let (jobs, top, loaded) = match &args.run.resume {
        Some(dir) => {
            let jobs: Vec<Job> = runs::unfinished(dir, WHAT, args.run.from_step)?;
            (jobs, dir.clone(), None)
        }
        None => new_jobs(args, config)?,
    };
    if jobs.is_empty() {
        return Ok(()); // --print-config
    }
    let first = &jobs[0].config;
    runs::install_stop_handler();
    let task = Train { jobs: jobs.clone(), loaded, shown: args.run.shown() };
    let outcome = backend::run(first.backend, task).and_then(|r| r);
    runs::report(&jobs.iter().map(|j| j.dir.as_path()).collect::<Vec<_>>(), &top, "llm", outcome.is_ok());
    outcome
}

/// Checks the settings against the model, then creates the run directory and its configs. Returns
/// the checkpoint read for the check, so that the seeds do not read it again (the tiny model is
/// drawn per seed instead).
fn new_jobs(args: &TrainLlmArgs, config: Option<&Path>) -> anyhow::Result<(Vec<Job>, PathBuf, Option<ModelSource>)> {
    let saved: Option<RunConfig> = runs::base_config(config, WHAT)?;
    let backend = args.run.backend_or(saved.as_ref().map(|s| s.backend));
    backend::ensure_available(backend)?;
    let asked = args.model.clone().or(saved.as_ref().map(|s| s.model.clone())).unwrap_or_else(|| "tiny".into());
    let named = asked == "tiny" || asked.starts_with("random:");
    if !named && !Path::new(&asked).is_dir() {
        anyhow::bail!("--model {asked}: neither `tiny`, `random:SHAPE` nor a directory");
    }
    let model = if named {
        asked.clone()
    } else {
        std::path::absolute(&asked).unwrap_or_else(|_| PathBuf::from(&asked)).display().to_string()
    };
    let base = saved.as_ref().map(|s| &s.llm);
    let first = llm_config(args, base, &model, args.run.first_seed(base.map(|b| b.seed)))?;
    // A bad setting or checkpoint fails before anything is written.
    let checked = source(&model, &first)?;
    let task = first.task_for(&checked.tokenizer, checked.config.max_position_embeddings)?;
    if let Some(s) = task.skipped() {
        // Kept going: the rest of the file trains; the count and the first reason say what was lost.
        eprintln!("era: left out {} rows of the task's files (first: {})", s.count, s.first.as_deref().unwrap_or("?"));
    }
    let name = args.run.run_name.clone().unwrap_or_else(|| format!("{}-{}", first.algorithm_name(), first.task_name()));
    let checkpoint_every = args.run.checkpoint_every.or(saved.as_ref().and_then(|s| s.checkpoint_every));
    let (top, created) =
        runs::create(&args.run, &name, args.run.seed_range(base.map(|b| b.seed)), |seed, run_name| RunConfig {
            llm: LlmConfig { seed, ..first.clone() },
            model: model.clone(),
            checkpoint_every: checkpoint_every.map(|n| n.max(1)),
            backend,
            run_name: run_name.to_string(),
        })?;
    let jobs = created.into_iter().map(|(dir, config)| Job { dir, config, start: Start::Fresh }).collect();
    // The tiny model and random weights are drawn per seed; a checkpoint is read once.
    Ok((jobs, top, (!named).then_some(checked)))
}

/// Training of every seed, one thread each, on one backend.
struct Train {
    jobs: Vec<Job>,
    /// The checkpoint every seed starts from, when already read.
    loaded: Option<ModelSource>,
    shown: Shown,
}

impl Task for Train {
    type Output = anyhow::Result<()>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<()> {
        let shown = &self.shown;
        let loaded = &self.loaded;
        runs::in_parallel(&self.jobs, shown.quiet, |job, bar| {
            let start = match loaded {
                Some(s) => s.clone(),
                None => source(&job.config.model, &job.config.llm)?,
            };
            train_one::<B>(job, start, device.clone(), compute, bar, shown)
        })
    }
}

/// The header of a run's log.
fn header(job: &Job, era: EraTargets) -> anyhow::Result<Header> {
    let c = &job.config.llm;
    Ok(Header::new(
        Domain::Llm,
        c.algorithm_name(),
        c.task_name(),
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
    shown: &Shown,
) -> anyhow::Result<()> {
    let mut trainer = LlmTrainer::<B>::with_engine(job.config.llm.clone(), start_from, &device, compute.engine())?;
    let every = job.config.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY);
    let run = Run { dir: &job.dir, start: job.start, every, compute, bar, shown };
    run_loop::drive(&mut trainer, run, |era| header(job, era))
}

impl<B: AutodiffBackend> Presented for LlmTrainer<B> {
    const RATE: &'static str = metrics::TOKENS_PER_SEC;

    fn algorithm(&self) -> String {
        self.config().algorithm_name().to_string()
    }

    fn title(&self) -> String {
        format!("{} {} seed {}", self.config().algorithm_name(), self.config().task_name(), self.config().seed)
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
            let mut trainer = LlmTrainer::<B>::with_engine(c.clone(), source(&config.model, c)?, &device, engine)?;
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
    let text = if args.chat {
        let Some(template) = era_shared::llm::chat::ChatTemplate::from_dir(&dir)? else {
            anyhow::bail!(
                "--chat: {} has no chat template (no `chat_template` in its tokenizer_config.json)",
                dir.display()
            );
        };
        template.render(args.system.as_deref(), &args.prompt).map_err(|e| anyhow::anyhow!("--chat: {e}"))?
    } else {
        args.prompt.clone()
    };
    let prompt = model.tokenizer.encode(&text).map_err(|e| anyhow::anyhow!("--prompt: {e}"))?;
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

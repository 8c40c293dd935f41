//! What every `era train …` command shares: run directories that never overwrite each other, one
//! directory per seed, seeds trained in parallel threads with one progress bar each, run logs opened
//! fresh or appended to on `--resume`, and a clean stop on Ctrl-C.

use std::fs::{self, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use era_shared::runlog::{CONFIG_FILE, Header, RUN_LOG_FILE, RunLog, RunLogWriter, Status, seed_dir};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::checkpoint::{self, Checkpoint};
use crate::run_args::RunArgs;

/// Set by Ctrl-C: every run checkpoints, writes a `stopped` footer and returns.
static STOP: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C, SIGTERM or SIGHUP asked the runs to stop.
pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Makes the first Ctrl-C, SIGTERM (what `timeout`, schedulers and container stops send) or SIGHUP
/// stop cleanly (checkpoint + footer); a second one kills.
pub fn install_stop_handler() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\nera: stopping after the current step (checkpoint and footer are written; Ctrl-C or the signal again to kill)"
        );
    });
}

/// A new run directory `out/base` (made unique) with one folder per seed when there are several,
/// each holding `config_for(seed)` as `config.json`; returns the top directory and `(dir, config)` per seed.
///
/// With `--print-config` nothing is created: each seed's `config.json` is printed as one JSON line
/// (named as if `out/base` were free) and no runs are returned.
pub fn create<C: Serialize>(
    run: &RunArgs,
    base: &str,
    seeds: std::ops::Range<u64>,
    config_for: impl Fn(u64, &str) -> C,
) -> anyhow::Result<(PathBuf, Vec<(PathBuf, C)>)> {
    let out = run.out.as_path();
    if base.is_empty() || base == "." || base == ".." || base.contains(['/', '\\']) {
        bail!("--run-name {base:?}: a run name is one folder name, without / (--out says where runs go)");
    }
    if run.print_config {
        for seed in seeds {
            println!("{}", serde_json::to_string(&config_for(seed, base))?);
        }
        return Ok((out.join(base), Vec::new()));
    }
    fs::create_dir_all(out).with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    let top = unique_dir(out, base)?;
    let run_name = top.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| base.to_string());
    let several = seeds.end - seeds.start > 1;
    let mut runs = Vec::new();
    for seed in seeds {
        let dir = if several { top.join(seed_dir(seed)) } else { top.clone() };
        fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create the run folder", dir.display()))?;
        let config = config_for(seed, &run_name);
        let path = dir.join(CONFIG_FILE);
        fs::write(&path, serde_json::to_string_pretty(&config)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        runs.push((dir, config));
    }
    Ok((top, runs))
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
pub fn run_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
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

/// A run configuration as saved in `config.json`.
pub trait SavedConfig: DeserializeOwned {
    /// Today's defaults for the run `saved` describes (its algorithm, dataset or model), as the JSON
    /// `config.json` holds: every setting a file written before it existed lacks takes its value
    /// from here, so adding a setting whose default does what runs did before needs no other change.
    /// `Null` (the default) fills nothing.
    fn defaults(_saved: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Fills in settings a `config.json` written before they existed lacks, with the values that
    /// reproduce what such a run did, where those are not today's defaults (nothing by default).
    fn upgrade(_saved: &mut serde_json::Map<String, serde_json::Value>) {}
}

/// A run's `config.json`, as the config of `what` (e.g. "era control"); settings added since the run
/// was saved take their defaults.
pub fn read_config<C: SavedConfig>(dir: &Path, what: &str) -> anyhow::Result<C> {
    read_config_file(&dir.join(CONFIG_FILE), what)
}

/// The run config `--config FILE` names, if any: its settings are a new run's defaults.
pub fn base_config<C: SavedConfig>(file: Option<&Path>, what: &str) -> anyhow::Result<Option<C>> {
    file.map(|f| read_config_file(f, what)).transpose()
}

/// A `config.json` file, as the config of `what`; settings added since it was saved take their defaults.
pub fn read_config_file<C: SavedConfig>(path: &Path, what: &str) -> anyhow::Result<C> {
    let text = fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let not_one = || format!("{}: not an {what} config", path.display());
    let mut value: serde_json::Value = serde_json::from_str(&text).with_context(not_one)?;
    if let Some(saved) = value.as_object_mut() {
        C::upgrade(saved);
        let defaults = C::defaults(saved);
        crate::overlay::fill_missing(&mut value, &defaults);
    }
    crate::overlay::typed(value).with_context(not_one)
}

/// How a run starts: fresh, or continued from a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A new run: a new log with its header.
    Fresh,
    /// Continued from the newest checkpoint, or from the one at `from_step` (`--from-step`).
    Resume {
        /// The checkpoint's step; `None` for the newest.
        from_step: Option<u64>,
    },
}

/// One seed's run: its directory and settings, and how it starts.
#[derive(Debug, Clone)]
pub struct Job<C> {
    /// The run directory.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub config: C,
    /// Fresh or continued.
    pub start: Start,
}

/// The runs below `dir` that have not completed, with their configs, to continue from their newest
/// checkpoints, or from the one at `from_step`. A run that diverged is only continued from a step
/// the user names: its newest checkpoint would diverge again the same way.
pub fn unfinished<C: SavedConfig>(dir: &Path, what: &str, from_step: Option<u64>) -> anyhow::Result<Vec<Job<C>>> {
    let mut runs = Vec::new();
    for d in run_dirs(dir)? {
        let log_path = d.join(RUN_LOG_FILE);
        let footer = match fs::read(&log_path) {
            Ok(bytes) => RunLog::parse_bytes(&bytes, &log_path.display().to_string())?.footer,
            Err(_) => None,
        };
        match footer {
            Some(f) if f.status == Status::Completed && from_step.is_none() => {
                eprintln!("era: {}: already completed, nothing to resume", d.display());
                continue;
            }
            Some(f) if f.status == Status::Diverged && from_step.is_none() => {
                let steps: Vec<String> = checkpoint::steps(&d).iter().map(u64::to_string).collect();
                bail!(
                    "{}: the run diverged: {}. Continuing from its newest checkpoint would diverge again. \
                     Change a setting in its {CONFIG_FILE} (e.g. a lower learning rate) and continue from a \
                     checkpoint with --from-step STEP (checkpoints at steps: {})",
                    d.display(),
                    f.reason.as_deref().unwrap_or("a non-finite value"),
                    if steps.is_empty() { "none".to_string() } else { steps.join(", ") }
                );
            }
            _ => {}
        }
        runs.push(Job { config: read_config(&d, what)?, dir: d, start: Start::Resume { from_step } });
    }
    if runs.is_empty() {
        bail!("{}: every run here has completed", dir.display());
    }
    Ok(runs)
}

/// A run's log opened for writing, and what the run continues from.
pub struct OpenLog {
    /// Writes the log's next lines.
    pub writer: RunLogWriter<BufWriter<fs::File>>,
    /// Wall-clock seconds the run has already spent (0 for a fresh run).
    pub wall_s: f64,
    /// The checkpoint to restore, when resuming.
    pub checkpoint: Option<Checkpoint>,
    /// The log's header.
    pub header: Header,
}

/// A run's log, opened for writing: a new file with `header`, or, when resuming, the existing log
/// continued after the checkpoint it resumes from (records past it are superseded; with
/// `--from-step`, newer checkpoints are set aside as `checkpoints/superseded-step-…`, not deleted).
pub fn open_log(dir: &Path, start: Start, header: impl FnOnce() -> anyhow::Result<Header>) -> anyhow::Result<OpenLog> {
    let log_path = dir.join(RUN_LOG_FILE);
    let shown = log_path.display().to_string();
    let Start::Resume { from_step } = start else {
        let file = fs::File::create(&log_path).with_context(|| format!("{shown}: cannot create"))?;
        lock(&file, dir, &shown)?;
        let header = header()?;
        let writer = RunLogWriter::new(BufWriter::new(file), &header)?;
        return Ok(OpenLog { writer, wall_s: 0.0, checkpoint: None, header });
    };
    // Locked before anything is read, so that a second process never sees a half-written state.
    let file = OpenOptions::new().append(true).open(&log_path).with_context(|| format!("{shown}: cannot append"))?;
    lock(&file, dir, &shown)?;
    let ckpt = match from_step {
        None => checkpoint::latest(dir)?,
        Some(step) => Some(checkpoint::rewind_to(dir, step)?),
    };
    let Some(ckpt) = ckpt else {
        bail!("{}: no checkpoint to resume from (the run stopped before its first one); start it again", dir.display());
    };
    let mut text = fs::read_to_string(&log_path).with_context(|| format!("{shown}: cannot read"))?;
    // A line cut off by a crash or a full disk would be continued by the next line written and
    // corrupt the log: drop it first (the reader skips it anyway).
    if !text.is_empty() && !text.ends_with('\n') {
        let keep = text.rfind('\n').map_or(0, |i| i + 1);
        file.set_len(keep as u64).with_context(|| format!("{shown}: cannot drop its cut-off last line"))?;
        eprintln!("era: {shown}: dropped its cut-off last line ({} bytes)", text.len() - keep);
        text.truncate(keep);
    }
    let existing = RunLog::parse(&text, &shown)?;
    let rel = ckpt.dir.strip_prefix(dir).unwrap_or(&ckpt.dir).display().to_string();
    let writer = RunLogWriter::resume(BufWriter::new(file), &existing, ckpt.meta.step, ckpt.meta.wall_s, Some(rel))?;
    let wall = ckpt.meta.wall_s;
    Ok(OpenLog { writer, wall_s: wall, checkpoint: Some(ckpt), header: existing.header })
}

/// Where the process writing a run leaves its id, for the message that refuses a second writer.
pub const WRITER_PID_FILE: &str = ".writer.pid";

/// Takes the exclusive lock on a run's open log `file`, held until the file is closed (the run's
/// end, or its process's death: a lock is never left behind by a killed run), and notes this
/// process's id beside it. A run that another process is writing is refused, naming that process.
fn lock(file: &fs::File, dir: &Path, shown: &str) -> anyhow::Result<()> {
    let pid_file = dir.join(WRITER_PID_FILE);
    match file.try_lock() {
        Ok(()) => {
            // Only a message depends on it: a failure to write it does not stop the run.
            let _ = fs::write(&pid_file, std::process::id().to_string());
            Ok(())
        }
        Err(fs::TryLockError::WouldBlock) => {
            let other = fs::read_to_string(&pid_file).map(|p| p.trim().to_string()).unwrap_or_default();
            let (who, stop) = if other.is_empty() {
                ("another process".to_string(), "stop it".to_string())
            } else {
                (format!("process {other}"), format!("stop it (Ctrl-C, or kill -TERM {other})"))
            };
            bail!("{shown}: {who} is writing this run; wait for it to end or {stop}, then resume")
        }
        Err(fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("{shown}: cannot lock")),
    }
}

/// Runs `train(job, bar)` for every job in its own thread, each with its own progress bar (hidden
/// when `quiet`; `train` sets its length), and joins them; the error names every failed job.
pub fn in_parallel<J: Sync>(
    jobs: &[J],
    quiet: bool,
    train: impl Fn(&J, &ProgressBar) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<()> {
    let bars = MultiProgress::with_draw_target(if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let train = &train;
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|job| {
                let bar = bars.add(ProgressBar::new(0));
                scope.spawn(move || train(job, &bar))
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

/// The current time as RFC 3339 (a run log header's start time).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Time spent in this invocation and the estimate of what is left, for `--quiet` lines:
/// `elapsed 0:01:02, ETA 0:10:40`.
pub fn timing(bar: &ProgressBar) -> String {
    format!("elapsed {}, ETA {}", hms(bar.elapsed()), hms(bar.eta()))
}

/// A duration as `H:MM:SS`.
pub fn hms(d: std::time::Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Shows `bar` at `position` of `total` steps. A resumed run starts there: its rate, and so its ETA,
/// count only the steps made from here on.
pub fn start_bar(bar: &ProgressBar, prefix: String, position: u64, total: u64) {
    bar.set_style(bar_style("steps"));
    bar.set_length(total);
    bar.set_prefix(prefix);
    bar.set_position(position);
    bar.tick();
    bar.reset_eta();
}

/// A progress bar's style: `prefix [bar] pos/len unit rate [elapsed<remaining] message`.
pub fn bar_style(unit: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{{prefix}} [{{bar:24}}] {{pos}}/{{len}} {unit} {{per_sec:>12}} [{{elapsed_precise}}<{{eta_precise}}] {{msg}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// Prints where the logs are and what to do next (after a run that ended in an error, only where
/// the logs are: the error says what happened).
pub fn report(dirs: &[&Path], top: &Path, command: &str, ok: bool) {
    println!("era: run logs:");
    for dir in dirs {
        println!("  {}", dir.join(RUN_LOG_FILE).display());
    }
    if !ok {
        return;
    }
    if stopping() {
        println!("era: stopped; continue with: era train {command} --resume {}", top.display());
    } else {
        println!("era: compare with: era compare {}", top.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_bar_estimates_the_time_left_from_the_steps_made_since() {
        // Resumed at step 900 of 1000, then one step per ≥ 10 ms: ≈ 1 s is left. Had the jump to 900
        // counted as progress, the rate would be thousands of steps a second and the ETA ≈ 0.
        let bar = ProgressBar::hidden();
        start_bar(&bar, "run".into(), 900, 1000);
        for step in 901..=905 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            bar.set_position(step);
            bar.tick();
        }
        let eta = bar.eta().as_secs_f64();
        assert!(eta > 0.3, "95 steps at ≥ 10 ms each are left, the ETA says {eta} s");
        let line = timing(&bar);
        assert!(line.starts_with("elapsed 0:00:0") && line.contains(", ETA 0:0"), "{line}");
    }
}

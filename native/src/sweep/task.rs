//! One run of a sweep, as `--local` and every Slurm array task start it: fresh, continued from its
//! newest checkpoint, or not at all when it has completed. The process becomes `era train` (exec),
//! so that a scheduler's or a user's signal reaches the trainer itself, which checkpoints and stops.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use era_shared::runlog::{RUN_LOG_FILE, RunLog, Status};

use super::Manifest;
use super::state::console_log;

/// `era sweep task OUT DIR [--cpus LIST]`: trains run `DIR` (`seed-S/NAME`) of the sweep in `OUT`.
pub fn run(out: &Path, dir: &str, cpus: Option<&str>) -> anyhow::Result<()> {
    let manifest = Manifest::load(out)?;
    let Some(run) = manifest.runs.iter().find(|r| r.dir == dir) else {
        bail!("{}: the sweep has no run {dir}", out.display());
    };
    let out = std::path::absolute(out).with_context(|| format!("{}: cannot resolve", out.display()))?;
    let run_dir = out.join(&run.dir);
    let footer = std::fs::read(run_dir.join(RUN_LOG_FILE))
        .ok()
        .and_then(|b| RunLog::parse_bytes(&b, &run.dir).ok())
        .and_then(|l| l.footer);
    if footer.is_some_and(|f| f.status == Status::Completed) {
        eprintln!("era sweep: {dir}: already completed");
        return Ok(());
    }
    let (how, args): (String, Vec<std::ffi::OsString>) = if let Some(step) = crate::checkpoint::steps(&run_dir).last() {
        let args = ["train", run.train.as_str(), "--resume"].into_iter().map(Into::into);
        let args = args.chain([run_dir.clone().into_os_string(), "--quiet".into()]).collect();
        (format!("continued from its checkpoint at step {step}"), args)
    } else {
        if run_dir.exists() {
            set_aside(&out, &run.dir)?;
        }
        ("fresh".to_string(), run.fresh_args(&out))
    };

    let log_path = console_log(&out, run);
    if let Some(parent) = log_path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("{}: cannot open", log_path.display()))?;
    let slurm = match (std::env::var("SLURM_ARRAY_JOB_ID"), std::env::var("SLURM_ARRAY_TASK_ID")) {
        (Ok(j), Ok(t)) => format!(", slurm array task {j}_{t}"),
        _ => String::new(),
    };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    writeln!(log, "era sweep: {dir}: {how}, {} on {host}{slurm}", crate::runs::now())
        .with_context(|| format!("{}: cannot write", log_path.display()))?;

    if let Some(list) = cpus {
        super::local::pin_to(list)?;
    }
    let exe = std::env::current_exe().context("cannot find era's own executable")?;
    let mut cmd = std::process::Command::new(exe);
    if !run.cwd.as_os_str().is_empty() {
        cmd.current_dir(&run.cwd);
    }
    cmd.args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().with_context(|| format!("{}: cannot open", log_path.display()))?)
        .stderr(log);
    exec(cmd)
}

/// Replaces this process with `cmd` (Unix), or runs it and passes its exit status on.
fn exec(mut cmd: std::process::Command) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let e = cmd.exec();
        Err(e).context("cannot start era train")
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().context("cannot start era train")?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// Moves a run folder that cannot be continued (stopped before its first checkpoint) to
/// `OUT/.superseded/seed-S/NAME-<unix time>`: what it wrote is kept, and `era compare OUT` skips it.
fn set_aside(out: &Path, dir: &str) -> anyhow::Result<()> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let to = out.join(".superseded").join(format!("{dir}-{stamp}"));
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    std::fs::rename(out.join(dir), &to)
        .with_context(|| format!("{}: cannot move it aside", out.join(dir).display()))?;
    eprintln!("era sweep: {dir} stopped before its first checkpoint: moved to {} and started again", to.display());
    Ok(())
}

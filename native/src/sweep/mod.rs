//! `era sweep SPEC.toml`: a grid of `era train` runs (tasks × seeds × `--era` × H₀ × any option)
//! from one spec file, run here (`--local N`) or as a Slurm job array (`--slurm`), resumable.
//!
//! The spec ([`spec`]) expands into runs `OUT/seed-S/NAME`; `OUT/sweep.json` ([`Manifest`]) keeps
//! each run's command line and every Slurm submission (several specs may share a folder). A run is started or continued by
//! [`task`] (`era sweep task`), which both executors call; its state is read back by [`state`];
//! [`local`] runs N at a time on this machine's cores, [`slurm`] hands them to the scheduler.

pub mod local;
pub mod slurm;
pub mod spec;
pub mod state;
pub mod task;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use self::slurm::Submission;
use self::spec::Planned;
use self::state::{Scheduled, State};
use crate::cli::{SweepAction, SweepArgs, SweepStatusArgs};

/// The file in a sweep folder that records its runs and submissions.
pub const MANIFEST_FILE: &str = "sweep.json";

/// A sweep folder's record: what every run in it is (from one spec or several: the reproduce
/// scripts put several specs' runs in one folder), and what was handed to Slurm.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The runs, each spec's in its order.
    pub runs: Vec<Planned>,
    /// Every Slurm array submitted, oldest first.
    #[serde(default)]
    pub submissions: Vec<Submission>,
}

impl Manifest {
    /// Reads `OUT/sweep.json`.
    pub fn load(out: &Path) -> anyhow::Result<Self> {
        let path = out.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("{}: cannot read (is {} a sweep folder? `era sweep SPEC` makes one)", path.display(), out.display())
        })?;
        serde_json::from_str(&text).with_context(|| format!("{}: not a sweep record", path.display()))
    }

    /// Writes `OUT/sweep.json` whole or not at all.
    pub fn save(&self, out: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create the sweep folder", out.display()))?;
        let path = out.join(MANIFEST_FILE);
        let tmp = out.join(format!(".{MANIFEST_FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))
    }

    /// The record of `out` with `spec`'s runs in it (each replacing the entry of its folder, if any),
    /// and `spec`'s runs as recorded. A run that already has a folder but now gets other options is
    /// refused: its folder would hold a run of another setting under this name.
    fn with(spec: &spec::Spec, out: &Path) -> anyhow::Result<(Self, Vec<Planned>)> {
        let mut m = if out.join(MANIFEST_FILE).is_file() { Self::load(out)? } else { Self::default() };
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let mut mine = Vec::new();
        for run in &spec.runs {
            let run = Planned { cwd: cwd.clone(), ..run.clone() };
            match m.runs.iter_mut().find(|r| r.dir == run.dir) {
                Some(was) => {
                    if (was.args != run.args || was.train != run.train) && out.join(&run.dir).exists() {
                        bail!(
                            "{}: started with other options (era train {} {}); the spec now gives it (era train {} {}). \
                             Give the sweep another --out, or move that run away",
                            out.join(&run.dir).display(),
                            was.train,
                            was.args.join(" "),
                            run.train,
                            run.args.join(" ")
                        );
                    }
                    *was = run.clone();
                }
                None => m.runs.push(run.clone()),
            }
            mine.push(run);
        }
        Ok((m, mine))
    }

    /// The state of each of `runs` (from this folder), and a note when the scheduler could not say everything.
    pub fn states(&self, out: &Path, runs: &[Planned]) -> (Vec<State>, Option<String>) {
        let (scheduled, note) = slurm::states(&self.submissions);
        let states =
            runs.iter().map(|r| state::of(out, r, scheduled.get(&r.dir).unwrap_or(&Scheduled::Unknown))).collect();
        (states, note)
    }
}

/// Runs `era sweep …`.
pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    match &args.action {
        Some(SweepAction::Status(a)) => status(a),
        Some(SweepAction::Task(a)) => task::run(&a.out, &a.run, a.cpus.as_deref()),
        None => {
            let Some(path) = &args.spec else {
                bail!("era sweep needs a spec file: era sweep SPEC.toml (see docs/cli.md)")
            };
            sweep(path, args)
        }
    }
}

/// Where a spec's runs go: `--out`, else the spec's `out`, else `runs/<spec file name>`.
fn out_of(spec: &spec::Spec, flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf).or_else(|| spec.out.clone()).unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(spec.path.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned()))
    })
}

fn sweep(path: &Path, args: &SweepArgs) -> anyhow::Result<()> {
    let spec = spec::read(path, &args.extra, &args.only)?;
    let out = out_of(&spec, args.out.as_deref());
    let (mut manifest, runs) = Manifest::with(&spec, &out)?;
    let (states, note) = manifest.states(&out, &runs);
    if let Some(n) = &note {
        eprintln!("era sweep: note: {n}");
    }
    if args.dry_run {
        println!("{} runs in {}:", runs.len(), out.display());
        for (r, s) in runs.iter().zip(&states) {
            let argv: Vec<String> = r.fresh_args(&out).iter().map(|a| shell_word(&a.to_string_lossy())).collect();
            println!("  {:<8} {}  era {}", s.word(), r.dir, argv.join(" "));
        }
        return Ok(());
    }
    manifest.save(&out)?;
    let todo: Vec<&Planned> = runs.iter().zip(&states).filter(|(_, s)| s.to_run()).map(|(r, _)| r).collect();
    let busy = states.iter().filter(|s| matches!(s, State::Running { .. } | State::Queued { .. })).count();
    let done = states.iter().filter(|s| matches!(s, State::Done { .. })).count();
    eprintln!(
        "era sweep: {} runs in {}: {done} done, {busy} running or queued, {} to run",
        runs.len(),
        out.display(),
        todo.len()
    );
    if todo.is_empty() {
        return Ok(());
    }
    if args.slurm {
        let out_abs = std::path::absolute(&out).with_context(|| format!("{}: cannot resolve", out.display()))?;
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let exe = std::env::current_exe().context("cannot find era's own executable")?;
        let dirs: Vec<String> = todo.iter().map(|r| r.dir.clone()).collect();
        let stem = spec.path.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned());
        let text = slurm::script(&stem, &out_abs, &cwd, &exe, &dirs, &args.sbatch)?;
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string().replace(':', "");
        let script = PathBuf::from("slurm").join(format!("{stem}-{stamp}.sbatch"));
        for sub in ["slurm", "logs"] {
            std::fs::create_dir_all(out.join(sub))
                .with_context(|| format!("{}: cannot create", out.join(sub).display()))?;
        }
        std::fs::write(out.join(&script), text)
            .with_context(|| format!("{}: cannot write", out.join(&script).display()))?;
        let job = slurm::submit(&out.join(&script))?;
        let submitted = crate::runs::now();
        manifest.submissions.push(Submission {
            job: job.clone(),
            runs: dirs,
            script: script.display().to_string(),
            submitted,
        });
        manifest.save(&out)?;
        let tasks = if todo.len() == 1 { "1 array task".to_string() } else { format!("{} array tasks", todo.len()) };
        println!("era sweep: submitted job {job}: {tasks} ({})", out.join(&script).display());
        println!("era sweep: follow it with: era sweep status {}", out.display());
        return Ok(());
    }
    let failed = local::run(&out, &todo, args.local.unwrap_or(1))?;
    if failed > 0 {
        bail!("{failed} of {} runs failed (era sweep status {} shows their errors)", todo.len(), out.display());
    }
    eprintln!("era sweep: every run is done; compare them with: era compare {}", out.display());
    Ok(())
}

/// `era sweep status SPEC|OUT`: every run of the folder, or the spec's runs.
fn status(a: &SweepStatusArgs) -> anyhow::Result<()> {
    let (manifest, out, runs) = if a.target.join(MANIFEST_FILE).is_file() {
        let m = Manifest::load(&a.target)?;
        let runs = m.runs.clone();
        (m, a.target.clone(), runs)
    } else if a.target.is_dir() {
        bail!("{}: no {MANIFEST_FILE} here: not a sweep folder", a.target.display());
    } else if !a.target.exists() {
        bail!(
            "{}: no such sweep folder or spec file (a sweep folder appears when `era sweep SPEC` first runs)",
            a.target.display()
        );
    } else {
        let spec = spec::read(&a.target, &[], &a.only)?;
        let out = out_of(&spec, a.out.as_deref());
        let m = if out.join(MANIFEST_FILE).is_file() { Manifest::load(&out)? } else { Manifest::default() };
        // The spec's runs as recorded (or as the spec gives them, when never run).
        let runs = spec.runs.iter().map(|r| m.runs.iter().find(|x| x.dir == r.dir).unwrap_or(r).clone()).collect();
        (m, out, runs)
    };
    let (states, note) = manifest.states(&out, &runs);
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if a.json {
        for (r, s) in runs.iter().zip(&states) {
            let mut v = serde_json::to_value(s)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("run".into(), r.dir.clone().into());
            }
            writeln!(w, "{v}")?;
        }
    } else {
        let mut rows = vec![vec!["run".to_string(), "state".into(), "step".into(), "detail".into()]];
        for (r, s) in runs.iter().zip(&states) {
            let (step, detail) = s.columns();
            rows.push(vec![r.dir.clone(), s.word().into(), step, detail]);
        }
        write!(w, "{}", crate::compare::aligned(&rows))?;
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &states {
            *counts.entry(s.word()).or_default() += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(w, "{} runs: {}", states.len(), counts.join(", "))?;
    }
    if let Some(n) = note {
        eprintln!("era sweep: note: {n}");
    }
    Ok(())
}

/// `s` as one shell word (quoted when it needs to be), for command lines shown to copy.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./,=:@+%".contains(c)) {
        s.to_string()
    } else {
        slurm::quote(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("--hidden"), "--hidden");
        assert_eq!(shell_word("256,256"), "256,256");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}

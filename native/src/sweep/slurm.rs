//! `era sweep SPEC --slurm`: the runs left to do as one Slurm job array, one run per array task.
//!
//! era writes the batch script (`OUT/slurm/<time>.sbatch`, kept), submits it with `sbatch`, and
//! reads the array's state back with `squeue` and, where the cluster keeps accounting, `sacct`.
//! Each array task execs `era sweep task OUT RUN`, which starts its run or continues it from its
//! newest checkpoint; `--signal=B:TERM@S` makes Slurm ask the run to stop S seconds before the time
//! limit, so it checkpoints, and submitting the sweep again continues it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::bail;
use clap::Args;
use serde::{Deserialize, Serialize};

use super::state::Scheduled;

/// The `sbatch` options `era sweep --slurm` passes through.
#[derive(Debug, Clone, Default, Args)]
pub struct SbatchArgs {
    /// Slurm partition (`sbatch --partition`).
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// Time limit of each array task (`sbatch --time`, e.g. 2-00:00:00); a run stopped by it
    /// continues from its checkpoint when the sweep is submitted again.
    #[arg(long, requires = "slurm", value_name = "TIME")]
    pub time: Option<String>,
    /// Cores per array task (`sbatch --cpus-per-task`).
    #[arg(long, requires = "slurm", value_name = "N")]
    pub cpus_per_task: Option<u32>,
    /// Generic resources per array task (`sbatch --gres`, e.g. gpu:1).
    #[arg(long, requires = "slurm")]
    pub gres: Option<String>,
    /// Account to charge (`sbatch --account`).
    #[arg(long, requires = "slurm")]
    pub account: Option<String>,
    /// Array tasks running at once at most (`--array=…%N`).
    #[arg(long, requires = "slurm", value_name = "N")]
    pub max_concurrent: Option<u32>,
    /// Seconds before the time limit at which Slurm sends the run SIGTERM, so that it checkpoints
    /// and stops cleanly (`sbatch --signal=B:TERM@S`).
    #[arg(long, requires = "slurm", value_name = "S", default_value_t = 120)]
    pub stop_before: u32,
    /// Any other sbatch option, as written (repeatable): `--sbatch=--mem=16G`.
    #[arg(long = "sbatch", requires = "slurm", value_name = "OPTION", allow_hyphen_values = true)]
    pub options: Vec<String>,
}

/// One submitted array: its job id and the run of each array index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Slurm's job id of the array.
    pub job: String,
    /// Array index i runs `runs[i]` (`seed-S/NAME`).
    pub runs: Vec<String>,
    /// The batch script, relative to the sweep folder.
    pub script: String,
    /// When it was submitted (RFC 3339).
    pub submitted: String,
}

/// The batch script of an array over `runs` of the sweep in `out` (absolute), started in `cwd`.
pub fn script(
    name: &str,
    out: &Path,
    cwd: &Path,
    era: &Path,
    runs: &[String],
    o: &SbatchArgs,
) -> anyhow::Result<String> {
    for (what, p) in [("the sweep folder", out), ("the working folder", cwd), ("era", era)] {
        let s = p.to_string_lossy();
        if s.chars().any(|c| c.is_whitespace() || c == '\'' || c == '"') {
            bail!(
                "{}: {what} has a space or quote in its path, which #SBATCH lines cannot hold: use another --out or folder",
                p.display()
            );
        }
    }
    let mut s = String::from("#!/bin/bash\n");
    s += &format!(
        "# era sweep: {} runs, one per array task. Written and submitted by `era sweep --slurm`;\n",
        runs.len()
    );
    s += "# submitting the sweep again continues stopped runs from their checkpoints.\n";
    let mut opt = |o: String| s += &format!("#SBATCH {o}\n");
    opt(format!("--job-name=era-{name}"));
    let throttle = o.max_concurrent.map(|m| format!("%{m}")).unwrap_or_default();
    opt(format!("--array=0-{}{throttle}", runs.len().saturating_sub(1)));
    opt(format!("--output={}/logs/slurm-%A_%a.out", out.display()));
    opt("--open-mode=append".into());
    opt(format!("--chdir={}", cwd.display()));
    opt(format!("--signal=B:TERM@{}", o.stop_before));
    let named = [
        ("partition", o.partition.clone()),
        ("time", o.time.clone()),
        ("cpus-per-task", o.cpus_per_task.map(|c| c.to_string())),
        ("gres", o.gres.clone()),
        ("account", o.account.clone()),
    ];
    for (k, v) in named {
        if let Some(v) = v {
            opt(format!("--{k}={v}"));
        }
    }
    for e in &o.options {
        opt(e.clone());
    }
    s += "runs=(\n";
    for r in runs {
        s += &format!("  {}\n", quote(r));
    }
    s += ")\n";
    s += &format!(
        "exec {} sweep task {} \"${{runs[$SLURM_ARRAY_TASK_ID]}}\"\n",
        quote(&era.to_string_lossy()),
        quote(&out.to_string_lossy())
    );
    Ok(s)
}

/// `s` single-quoted for bash.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Submits `script_path` with `sbatch --parsable`; returns the job id.
pub fn submit(script_path: &Path) -> anyhow::Result<String> {
    let out = Command::new("sbatch").arg("--parsable").arg(script_path).output().map_err(|e| {
        anyhow::anyhow!("cannot run sbatch ({e}): --slurm needs Slurm's commands on PATH (a cluster's login node)")
    })?;
    if !out.status.success() {
        bail!("sbatch refused {}: {}", script_path.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints `JOBID` or `JOBID;CLUSTER`.
    let job = text.trim().split(';').next().unwrap_or("").to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed {:?}, not a job id", text.trim());
    }
    Ok(job)
}

/// What Slurm says of each run of `submissions` (the newest submission of a run wins), and a note
/// when accounting (`sacct`) is not available.
pub fn states(submissions: &[Submission]) -> (BTreeMap<String, Scheduled>, Option<String>) {
    let mut by_run = BTreeMap::new();
    if submissions.is_empty() {
        return (by_run, None);
    }
    let jobs: Vec<&str> = submissions.iter().map(|s| s.job.as_str()).collect();
    let queue = run_tool("squeue", &["-h", "-r", "-o", "%i|%T|%r", "-j", &jobs.join(",")]);
    let accounting = run_tool("sacct", &["-n", "-P", "-X", "-o", "JobID,State", "-j", &jobs.join(",")]);
    let mut note = None;
    let queued = match &queue {
        Ok(text) => parse_squeue(text),
        // squeue refuses a list whose jobs have all left the queue: nothing is queued then.
        Err(e) if e.contains("Invalid job id") => BTreeMap::new(),
        Err(e) => {
            note = Some(format!("squeue failed ({e}); states come from the run folders alone"));
            BTreeMap::new()
        }
    };
    let ended = match &accounting {
        Ok(text) => parse_sacct(text),
        Err(e) => {
            note.get_or_insert(format!("sacct: {e}; a run's state comes from squeue and its folder"));
            BTreeMap::new()
        }
    };
    for sub in submissions {
        for (i, run) in sub.runs.iter().enumerate() {
            let task = format!("{}_{i}", sub.job);
            let s = if let Some((state, reason)) = queued.get(&task) {
                match state.as_str() {
                    "PENDING" | "CONFIGURING" | "REQUEUED" => Scheduled::Queued(format!("{task} ({reason})")),
                    _ => Scheduled::Running(task),
                }
            } else if let Some(state) = ended.get(&task) {
                Scheduled::Ended(format!("{task} {state}"))
            } else {
                Scheduled::Unknown
            };
            by_run.insert(run.clone(), s);
        }
    }
    (by_run, note)
}

fn run_tool(tool: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(tool).args(args).output().map_err(|e| format!("cannot run {tool}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// `squeue -h -r -o "%i|%T|%r"` lines: array task → (state, reason).
pub fn parse_squeue(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split('|');
            Some((f.next()?.to_string(), (f.next()?.to_string(), f.next().unwrap_or("").to_string())))
        })
        .collect()
}

/// `sacct -n -P -X -o JobID,State` lines: array task → state, ranges of pending tasks
/// (`12_[3-5%2]`) expanded.
pub fn parse_sacct(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for l in text.lines() {
        let mut f = l.trim().split('|');
        let (Some(id), Some(state)) = (f.next(), f.next()) else { continue };
        let state = state.to_string();
        match id.split_once("_[") {
            Some((job, range)) => {
                let range = range.trim_end_matches(']');
                let range = range.split('%').next().unwrap_or("");
                for part in range.split(',') {
                    let (a, b) = part.split_once('-').unwrap_or((part, part));
                    if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                        for i in a..=b.min(a + 100_000) {
                            out.insert(format!("{job}_{i}"), state.clone());
                        }
                    }
                }
            }
            None => {
                out.insert(id.to_string(), state);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_script_passes_every_option_through_and_runs_one_run_per_task() {
        let o = SbatchArgs {
            partition: Some("gpu".into()),
            time: Some("1-00:00:00".into()),
            cpus_per_task: Some(8),
            gres: Some("gpu:1".into()),
            account: Some("lab".into()),
            max_concurrent: Some(4),
            stop_before: 300,
            options: vec!["--mem=16G".into()],
        };
        let runs = vec!["seed-0/a".to_string(), "seed-0/it's".to_string(), "seed-1/a".to_string()];
        let s = script("grid", Path::new("/s/out"), Path::new("/s"), Path::new("/b/era"), &runs, &o).unwrap();
        for line in [
            "#SBATCH --job-name=era-grid",
            "#SBATCH --array=0-2%4",
            "#SBATCH --output=/s/out/logs/slurm-%A_%a.out",
            "#SBATCH --chdir=/s",
            "#SBATCH --signal=B:TERM@300",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=1-00:00:00",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --gres=gpu:1",
            "#SBATCH --account=lab",
            "#SBATCH --mem=16G",
            "  'seed-0/it'\\''s'",
            "exec '/b/era' sweep task '/s/out' \"${runs[$SLURM_ARRAY_TASK_ID]}\"",
        ] {
            assert!(s.lines().any(|l| l == line), "{line:?} missing from\n{s}");
        }
        let e = script("g", Path::new("/my runs"), Path::new("/s"), Path::new("/b/era"), &runs, &o).unwrap_err();
        assert!(e.to_string().contains("/my runs: the sweep folder has a space"), "{e}");
    }

    #[test]
    fn squeue_and_sacct_lines_are_read_per_array_task() {
        let q = parse_squeue("12_0|RUNNING|None\n12_3|PENDING|JobArrayTaskLimit\n");
        assert_eq!(q["12_3"], ("PENDING".to_string(), "JobArrayTaskLimit".to_string()));
        let a = parse_sacct("12_0|COMPLETED\n12_1|CANCELLED by 0\n12_[4-6%2]|PENDING\n13_2|TIMEOUT\n");
        assert_eq!(a["12_1"], "CANCELLED by 0");
        assert_eq!(a["12_5"], "PENDING");
        assert_eq!(a["13_2"], "TIMEOUT");
        assert!(!a.contains_key("12_7"));
    }
}

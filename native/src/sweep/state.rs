//! Where each run of a sweep stands, read from its folder, its log and, for Slurm, the scheduler.
//!
//! | state   | when                                                                                   |
//! |---------|----------------------------------------------------------------------------------------|
//! | done    | its run log's footer says completed                                                     |
//! | running | a live process writes it (its `.writer.pid`), or Slurm runs its array task              |
//! | queued  | Slurm holds its array task pending                                                      |
//! | stopped | it has a folder but no completed footer, nobody writes it, and its last line is no error |
//! | failed  | its footer says failed or diverged, or the last line of its console log is an error     |
//! | pending | nothing of it exists yet                                                                |

use std::path::Path;

use era_shared::runlog::{RUN_LOG_FILE, RunLog, Status};
use serde::Serialize;

use super::spec::Planned;

/// A run's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Not started.
    Pending,
    /// Waiting in Slurm's queue.
    Queued {
        /// The array task (`JOB_INDEX`) and Slurm's reason.
        detail: String,
    },
    /// Being trained.
    Running {
        /// The last step its log holds.
        step: Option<u64>,
        /// Which process or array task.
        detail: String,
    },
    /// Stopped (Ctrl-C, a signal, a time limit, a kill) before its end; the next sweep continues it.
    Stopped {
        /// The step it continues from (its newest checkpoint), if it wrote one.
        step: Option<u64>,
        /// The last step its log holds.
        logged: Option<u64>,
        /// What Slurm's accounting says of its last array task, when known.
        detail: String,
    },
    /// Completed.
    Done {
        /// Its final step.
        step: u64,
    },
    /// Ended by an error.
    Failed {
        /// The error's line.
        error: String,
    },
}

impl State {
    /// The one word `era sweep status` shows.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued { .. } => "queued",
            Self::Running { .. } => "running",
            Self::Stopped { .. } => "stopped",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
        }
    }

    /// Whether a sweep should (re)start it: not done, and nobody trains or holds it.
    pub fn to_run(&self) -> bool {
        matches!(self, Self::Pending | Self::Stopped { .. } | Self::Failed { .. })
    }

    /// The step column and the detail column of the status table.
    pub fn columns(&self) -> (String, String) {
        let step = |s: &Option<u64>| s.map_or_else(String::new, |s| s.to_string());
        match self {
            Self::Pending => (String::new(), String::new()),
            Self::Queued { detail } => (String::new(), detail.clone()),
            Self::Running { step: s, detail } => (step(s), detail.clone()),
            Self::Stopped { step: Some(s), detail, .. } => {
                let why = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
                (s.to_string(), format!("continues from its checkpoint at step {s}{why}"))
            }
            Self::Stopped { step: None, logged, detail } => {
                let why = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
                (step(logged), format!("stopped before its first checkpoint: starts again{why}"))
            }
            Self::Done { step } => (step.to_string(), String::new()),
            Self::Failed { error } => (String::new(), error.clone()),
        }
    }
}

/// What the scheduler says of a run's latest array task, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheduled {
    /// Nothing: not submitted, or the scheduler has forgotten it.
    Unknown,
    /// Pending in the queue.
    Queued(String),
    /// Running.
    Running(String),
    /// Ended, with accounting's state (`TIMEOUT`, `CANCELLED`, …).
    Ended(String),
}

/// The console log of run `dir` (`seed-S/NAME`) below a sweep folder: `logs/seed-S-NAME.log`.
pub fn console_log(out: &Path, run: &Planned) -> std::path::PathBuf {
    out.join("logs").join(format!("{}.log", run.dir.replace('/', "-")))
}

/// The state of `run` below the sweep folder `out`, given what the scheduler says of it.
pub fn of(out: &Path, run: &Planned, scheduled: &Scheduled) -> State {
    let dir = out.join(&run.dir);
    let log = RunLog::parse_bytes(&std::fs::read(dir.join(RUN_LOG_FILE)).unwrap_or_default(), &run.dir).ok();
    let logged = log.as_ref().and_then(|l| l.records.last().map(|r| r.step));
    if let Some(footer) = log.as_ref().and_then(|l| l.footer.as_ref()) {
        match footer.status {
            Status::Completed => return State::Done { step: footer.final_step },
            Status::Failed | Status::Diverged => {
                let why = footer.reason.clone().or_else(|| last_error(&console_log(out, run)));
                let word = if footer.status == Status::Diverged { "diverged" } else { "failed" };
                return State::Failed { error: why.map_or_else(|| word.to_string(), |w| format!("{word}: {w}")) };
            }
            Status::Stopped => {}
        }
    }
    match scheduled {
        Scheduled::Running(task) => return State::Running { step: logged, detail: format!("slurm {task}") },
        Scheduled::Queued(detail) => return State::Queued { detail: format!("slurm {detail}") },
        _ => {}
    }
    if let Some(pid) = writer(&dir) {
        return State::Running { step: logged, detail: format!("process {pid}") };
    }
    if let Some(error) = last_error(&console_log(out, run)) {
        return State::Failed { error };
    }
    let ended = match scheduled {
        Scheduled::Ended(s) => format!("slurm: {s}"),
        _ => String::new(),
    };
    if dir.exists() {
        let step = crate::checkpoint::steps(&dir).last().copied();
        return State::Stopped { step, logged, detail: ended };
    }
    State::Pending
}

/// The live process writing the run in `dir`, if any (Linux: its `.writer.pid` names a live `era train`).
fn writer(dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join(crate::runs::WRITER_PID_FILE)).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.iter().any(|a| *a == b"train").then_some(pid)
}

/// The last line of a console log, if it is era's error line (`era: error: …`).
pub fn last_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    last.contains("error:").then(|| last.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned() -> Planned {
        Planned {
            dir: "seed-0/a".into(),
            name: "a".into(),
            seed: 0,
            train: "control".into(),
            point: vec![],
            args: vec![],
            cwd: Default::default(),
        }
    }

    #[test]
    fn states_follow_the_folder_the_log_and_the_scheduler() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        let run = planned();
        assert_eq!(of(out, &run, &Scheduled::Unknown), State::Pending);
        assert_eq!(
            of(out, &run, &Scheduled::Queued("7_0 (Priority)".into())),
            State::Queued { detail: "slurm 7_0 (Priority)".into() }
        );
        // A folder without a log or checkpoint: killed before its first checkpoint.
        std::fs::create_dir_all(out.join("seed-0/a")).unwrap();
        let s = of(out, &run, &Scheduled::Ended("TIMEOUT".into()));
        assert_eq!(s, State::Stopped { step: None, logged: None, detail: "slurm: TIMEOUT".into() });
        assert!(s.to_run() && s.columns().1.contains("starts again (slurm: TIMEOUT)"));
        // Its console log ends with era's error line: failed, with that line.
        std::fs::create_dir_all(out.join("logs")).unwrap();
        std::fs::write(console_log(out, &run), "era sweep: start\nera: error: --env Nope: unknown environment\n\n")
            .unwrap();
        assert_eq!(
            of(out, &run, &Scheduled::Unknown),
            State::Failed { error: "era: error: --env Nope: unknown environment".into() }
        );
        assert_eq!(console_log(out, &run), out.join("logs/seed-0-a.log"));
        // Slurm running it wins over the log of an earlier attempt.
        assert!(matches!(of(out, &run, &Scheduled::Running("7_0".into())), State::Running { .. }));
    }

    #[test]
    fn only_an_error_line_at_the_end_counts() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("x.log");
        std::fs::write(&f, "era: error: old\nera sweep: continued\n").unwrap();
        assert_eq!(last_error(&f), None);
        assert_eq!(last_error(&tmp.path().join("none.log")), None);
    }
}

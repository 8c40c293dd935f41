//! `era compare`'s IQM section: the score's interquartile mean with its 95 % stratified-bootstrap
//! interval per task, and over tasks on min–max normalised scores (`rliable`, Agarwal et al. 2021).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::bail;
use era_shared::runlog::Header;
use era_shared::stats::{self, Estimate};

use super::{Group, aligned, interval, num};

/// `--bounds TASK=LOW:HIGH` options as a map; an error names the malformed one.
pub fn parse_bounds(given: &[String]) -> anyhow::Result<BTreeMap<String, (f64, f64)>> {
    let mut out = BTreeMap::new();
    for b in given {
        let parsed = b.split_once('=').and_then(|(task, range)| {
            let (lo, hi) = range.split_once(':')?;
            Some((task.to_string(), lo.trim().parse::<f64>().ok()?, hi.trim().parse::<f64>().ok()?))
        });
        match parsed {
            Some((task, lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi => {
                out.insert(task, (lo, hi));
            }
            _ => bail!("--bounds `{b}`: expected TASK=LOW:HIGH with finite LOW < HIGH, e.g. Hopper-v5=0:3500"),
        }
    }
    Ok(out)
}

/// Settings that are equal but for the task are one arm across tasks (the target is left out: it
/// scales with the task's action dimensions).
fn arm_key(h: &Header) -> String {
    format!("{}|{}|{}", h.domain, h.algorithm, h.config_without(era_shared::runlog::TASK_KEYS))
}

/// One setting's score on one task.
#[derive(Debug)]
pub struct TaskScore {
    /// The task.
    pub task: String,
    /// The setting's label.
    pub label: String,
    /// Final scores, one per run that has one.
    pub scores: Vec<f64>,
    /// Their IQM and interval.
    pub iqm: Option<Estimate>,
}

/// One arm over every task it ran.
#[derive(Debug)]
pub struct ArmScore {
    /// The arm's label (the run name without the task).
    pub label: String,
    /// The header of one of its runs.
    pub domain: String,
    /// Its algorithm.
    pub algorithm: String,
    /// Tasks it ran.
    pub tasks: usize,
    /// Normalised final scores of all its runs, by task.
    pub normalised: Vec<Vec<f64>>,
    /// Their IQM and interval.
    pub iqm: Option<Estimate>,
}

/// The score's statistics per task and over tasks.
#[derive(Debug)]
pub struct Aggregate {
    /// The score's metric key.
    pub score: String,
    /// Per setting (a setting runs one task).
    pub per_task: Vec<TaskScore>,
    /// Each task's normalisation bounds and whether they were given (else the runs' min and max).
    pub bounds: BTreeMap<String, ((f64, f64), bool)>,
    /// Per arm, over the tasks it ran; only when some arm ran more than one task.
    pub over_tasks: Vec<ArmScore>,
}

/// The IQM of `score` per setting, and over tasks per arm on min–max normalised scores.
pub fn aggregate(groups: &[Group<'_>], score: &str, given: &BTreeMap<String, (f64, f64)>) -> Aggregate {
    let boot = |tasks: &[Vec<f64>]| stats::iqm_stratified_bootstrap(tasks, stats::BOOTSTRAP_RESAMPLES, 0);
    let per_task: Vec<TaskScore> = groups
        .iter()
        .filter_map(|g| {
            let scores = g.values(score);
            let h = g.header()?;
            Some(TaskScore { task: h.task(), label: g.label.clone(), iqm: boot(std::slice::from_ref(&scores)), scores })
        })
        .collect();
    let mut bounds: BTreeMap<String, ((f64, f64), bool)> = BTreeMap::new();
    for t in &per_task {
        for &x in &t.scores {
            let e = bounds.entry(t.task.clone()).or_insert(((x, x), false));
            e.0 = (e.0.0.min(x), e.0.1.max(x));
        }
    }
    for (task, b) in given {
        bounds.insert(task.clone(), (*b, true));
    }
    let mut arms: Vec<(String, ArmScore)> = Vec::new();
    for (g, t) in groups.iter().zip(&per_task) {
        let (Some(h), Some(&((lo, hi), _))) = (g.header(), bounds.get(&t.task)) else { continue };
        let key = arm_key(h);
        let normalised: Vec<f64> = t.scores.iter().map(|&x| stats::normalise(x, (lo, hi))).collect();
        match arms.iter_mut().find(|(k, _)| *k == key) {
            Some((_, arm)) => {
                arm.tasks += 1;
                arm.normalised.push(normalised);
            }
            None => {
                let suffix = format!("-{}", t.task);
                let label = g.label.replace(&suffix, "");
                let arm = ArmScore {
                    label,
                    domain: h.domain.to_string(),
                    algorithm: h.algorithm.clone(),
                    tasks: 1,
                    normalised: vec![normalised],
                    iqm: None,
                };
                arms.push((key, arm));
            }
        }
    }
    let mut over_tasks: Vec<ArmScore> = arms.into_iter().map(|(_, a)| a).collect();
    if over_tasks.iter().all(|a| a.tasks < 2) {
        over_tasks.clear();
    }
    for a in &mut over_tasks {
        a.iqm = boot(&a.normalised);
    }
    Aggregate { score: score.to_string(), per_task, bounds, over_tasks }
}

/// The IQM section printed after the table.
pub fn summary(agg: &Aggregate, score: &str) -> String {
    let mut out = String::new();
    if agg.per_task.iter().all(|t| t.scores.is_empty()) {
        let _ = writeln!(out, "\n(no run has a final `{score}`: no IQM)");
        return out;
    }
    let _ = writeln!(
        out,
        "\nIQM of the final `{score}` per task, with the 95 % stratified-bootstrap interval ({} resamples, seed 0):",
        stats::BOOTSTRAP_RESAMPLES
    );
    let mut rows = vec![["task", "setting", "runs", "IQM", "95 % CI"].map(String::from).to_vec()];
    for t in &agg.per_task {
        let [v, ci] = interval(&t.iqm);
        rows.push(vec![t.task.clone(), t.label.clone(), t.scores.len().to_string(), v, ci]);
    }
    out.push_str(&aligned(&rows));
    if !agg.over_tasks.is_empty() {
        let _ = writeln!(
            out,
            "\nOver tasks: IQM of min–max normalised scores, `(x − low)/(high − low)` with these bounds:"
        );
        for (task, ((lo, hi), given)) in &agg.bounds {
            let whence = if *given { "given" } else { "lowest and highest final score of the runs here" };
            let _ = writeln!(out, "  {task}: [{}, {}] ({whence})", num(*lo), num(*hi));
        }
        let mut rows = vec![["setting", "tasks", "runs", "IQM", "95 % CI"].map(String::from).to_vec()];
        for a in &agg.over_tasks {
            let [v, ci] = interval(&a.iqm);
            let runs: usize = a.normalised.iter().map(Vec::len).sum();
            rows.push(vec![a.label.clone(), a.tasks.to_string(), runs.to_string(), v, ci]);
        }
        out.push_str(&aligned(&rows));
    }
    out
}

//! `era compare RUN_DIR…`: final metrics of run logs side by side, seeds of one setting as mean ± std;
//! then the score's interquartile mean (IQM) with its 95 % stratified-bootstrap interval per task, and
//! over tasks on min–max normalised scores (the `rliable` convention, Agarwal et al. 2021).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use era_shared::runlog::{Domain, Header, RUN_LOG_FILE, RunLog};
use era_shared::stats::{self, Estimate};

use crate::cli::CompareArgs;

/// How deep below a given directory run logs are searched for.
const MAX_DEPTH: usize = 4;

/// Runs `era compare`.
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let bounds = parse_bounds(&args.bounds)?;
    let chosen = args.paired.iter().map(|m| PairedMetric::parse(m)).collect::<anyhow::Result<Vec<_>>>()?;
    let logs = load(&args.runs)?;
    for log in &logs {
        if let Some(line) = log.truncated_at {
            eprintln!(
                "era: note: {}: line {line} was cut off (the run crashed or is still writing); kept the {} complete records",
                log.source_name,
                log.records.len()
            );
        }
    }
    let groups = group(&logs);
    print!("{}", table(&groups));
    let agg = aggregate(&groups, &args.score, &bounds);
    print!("{}", summary(&agg, &args.score));
    let pairs = pairings(&groups, &chosen, &args.score);
    print!("{}", paired(&pairs));
    if let Some(dir) = &args.plot {
        use era_shared::metrics::{GAUSSIAN_ENTROPY, ROLLOUT_ENTROPY_WINDOW, ROLLOUT_H_RESP_WINDOW};
        let keys = [args.score.as_str(), GAUSSIAN_ENTROPY, ROLLOUT_H_RESP_WINDOW, ROLLOUT_ENTROPY_WINDOW];
        for file in crate::plot::write(&groups, &keys, dir)? {
            eprintln!("era: wrote {}", file.display());
        }
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, csv(&groups, &agg))
            .with_context(|| format!("{}: cannot write the CSV file", path.display()))?;
    }
    if let Some(path) = &args.paired_csv {
        std::fs::write(path, paired_csv(&pairs))
            .with_context(|| format!("{}: cannot write the paired CSV file", path.display()))?;
    }
    Ok(())
}

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

fn interval(e: &Option<Estimate>) -> [String; 2] {
    match e {
        Some(e) => [num(e.value), format!("[{}, {}]", num(e.low), num(e.high))],
        None => ["–".into(), "–".into()],
    }
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

/// How the paired comparison summarises one run's metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// The run's final value.
    Final,
    /// The mean over the second half of the steps that logged it ([`RunLog::second_half_mean`]).
    SecondHalf,
}

/// A metric of the paired comparison and how each run's value of it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedMetric {
    /// The metric key.
    pub key: String,
    /// Final value or second-half mean.
    pub summary: Summary,
}

impl PairedMetric {
    /// Parses `KEY`, `KEY@final` or `KEY@second-half` (pass@k keys keep their own `@`).
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        let (key, summary) = match (s.strip_suffix("@second-half"), s.strip_suffix("@final")) {
            (Some(k), _) => (k, Summary::SecondHalf),
            (_, Some(k)) => (k, Summary::Final),
            _ => (s, Summary::Final),
        };
        if key.is_empty() {
            bail!("--paired `{s}`: expected METRIC, METRIC@final or METRIC@second-half, e.g. eval/pass@1");
        }
        Ok(Self { key: key.to_string(), summary })
    }

    fn new(key: &str, summary: Summary) -> Self {
        Self { key: key.to_string(), summary }
    }

    /// What the comparison reports for a domain when no `--paired` is given.
    pub fn defaults(domain: Domain, score: &str) -> Vec<Self> {
        use era_shared::metrics::{LLM_PAIRED_FINAL, LLM_PAIRED_SECOND_HALF};
        if domain == Domain::Llm {
            let finals = LLM_PAIRED_FINAL.iter().map(|k| Self::new(k, Summary::Final));
            finals.chain(LLM_PAIRED_SECOND_HALF.iter().map(|k| Self::new(k, Summary::SecondHalf))).collect()
        } else {
            vec![Self::new(score, Summary::Final)]
        }
    }

    /// The value of the run of `seed` in `g`: its final value (from the group's final metrics, read
    /// once) or its second-half mean; `None` when the group has no such run or it has no value.
    fn of(&self, g: &Group<'_>, seed: u64) -> Option<f64> {
        let i = g.runs.iter().position(|r| r.header.seed == seed)?;
        match self.summary {
            Summary::Final => g.finals[i].get(&self.key).copied().flatten(),
            Summary::SecondHalf => g.runs[i].second_half_mean(&self.key),
        }
    }

    fn label(&self) -> String {
        match self.summary {
            Summary::Final => format!("{} (final)", self.key),
            Summary::SecondHalf => format!("{} (second-half mean)", self.key),
        }
    }
}

/// One metric of a [`Pairing`]: each setting's value per seed and their differences.
#[derive(Debug)]
pub struct PairedRow {
    /// The metric and how it was read.
    pub metric: PairedMetric,
    /// The ERA setting's value at each seed (`None` where its run has none).
    pub era: Vec<Option<f64>>,
    /// The baseline's value at each seed.
    pub baseline: Vec<Option<f64>>,
    /// ERA − baseline at each seed where both have a value.
    pub differences: Vec<f64>,
    /// The differences' mean and sample standard deviation.
    pub mean_std: Option<(f64, Option<f64>)>,
    /// The 95 % bootstrap interval of their mean.
    pub interval: Option<Estimate>,
}

/// An ERA setting against a baseline (ERA off) of the same domain and task, at the seeds both ran.
#[derive(Debug)]
pub struct Pairing {
    /// The ERA setting's label.
    pub era: String,
    /// The baseline's label.
    pub baseline: String,
    /// The task both ran.
    pub task: String,
    /// The seeds both ran, in order.
    pub seeds: Vec<u64>,
    /// Seeds that only one of the two ran (left out).
    pub alone: Vec<u64>,
    /// One row per metric (none when no seed is shared).
    pub rows: Vec<PairedRow>,
}

/// Each ERA setting paired with each baseline of the same domain and task, run by run at the seeds
/// both have: per metric the two settings' values seed by seed, the differences ERA − baseline,
/// their mean, standard deviation and 95 % bootstrap interval. `chosen` empty: the domain's defaults.
pub fn pairings(groups: &[Group<'_>], chosen: &[PairedMetric], score: &str) -> Vec<Pairing> {
    let mut out = Vec::new();
    let era_of = |g: &Group<'_>| g.header().map(|h| h.era.enabled);
    for e in groups.iter().filter(|g| era_of(g) == Some(true)) {
        for b in groups.iter().filter(|g| era_of(g) == Some(false)) {
            let (Some(he), Some(hb)) = (e.header(), b.header()) else { continue };
            if he.domain != hb.domain || he.task() != hb.task() {
                continue;
            }
            let seeds_of = |g: &Group<'_>| g.runs.iter().map(|r| r.header.seed).collect::<BTreeSet<u64>>();
            let (se, sb) = (seeds_of(e), seeds_of(b));
            let seeds: Vec<u64> = se.intersection(&sb).copied().collect();
            let metrics = if chosen.is_empty() { PairedMetric::defaults(he.domain, score) } else { chosen.to_vec() };
            let rows = if seeds.is_empty() { Vec::new() } else { metrics };
            let rows = rows
                .into_iter()
                .map(|metric| {
                    let values =
                        |g: &Group<'_>| -> Vec<Option<f64>> { seeds.iter().map(|&s| metric.of(g, s)).collect() };
                    let (era, baseline) = (values(e), values(b));
                    let differences: Vec<f64> =
                        era.iter().zip(&baseline).filter_map(|(x, y)| Some((*x)? - (*y)?)).collect();
                    let mean_std = mean_std(&differences);
                    let interval = stats::mean_bootstrap(&differences, stats::BOOTSTRAP_RESAMPLES, 0);
                    PairedRow { metric, era, baseline, differences, mean_std, interval }
                })
                .collect();
            out.push(Pairing {
                era: e.label.clone(),
                baseline: b.label.clone(),
                task: he.task(),
                alone: se.symmetric_difference(&sb).copied().collect(),
                seeds,
                rows,
            });
        }
    }
    out
}

fn join<T>(items: &[T], show: impl Fn(&T) -> String, sep: &str) -> String {
    items.iter().map(show).collect::<Vec<_>>().join(sep)
}

/// The pairings as printed after the IQM section.
pub fn paired(pairings: &[Pairing]) -> String {
    let mut out = String::new();
    for p in pairings {
        let _ = writeln!(out, "\nPaired by seed, {} − {} ({}):", p.era, p.baseline, p.task);
        if p.seeds.is_empty() {
            let _ = writeln!(
                out,
                "  no seed in common (seeds {} are in one setting only)",
                join(&p.alone, u64::to_string, ", ")
            );
            continue;
        }
        if !p.alone.is_empty() {
            let _ =
                writeln!(out, "  left out, run in one setting only: seeds {}", join(&p.alone, u64::to_string, ", "));
        }
        let head =
            [format!("metric (seeds {})", join(&p.seeds, u64::to_string, ", ")), p.era.clone(), p.baseline.clone()];
        let mut rows =
            vec![[head.to_vec(), ["difference", "mean", "sd", "95 % CI"].map(String::from).to_vec()].concat()];
        for r in &p.rows {
            let show = |v: &Option<f64>| v.map_or("–".into(), num);
            let signed = |d: &f64| format!("{}{}", if *d >= 0.0 { "+" } else { "" }, num(*d));
            let (mean, sd) = match r.mean_std {
                Some((m, s)) => (num(m), s.map_or("–".into(), num)),
                None => ("–".into(), "–".into()),
            };
            let ci = r.interval.map_or("–".into(), |c| format!("[{}, {}]", num(c.low), num(c.high)));
            rows.push(vec![
                r.metric.label(),
                join(&r.era, show, ", "),
                join(&r.baseline, show, ", "),
                join(&r.differences, signed, ", "),
                mean,
                sd,
                ci,
            ]);
        }
        out.push_str(&aligned(&rows));
        if p.seeds.len() < 5 {
            let _ = writeln!(
                out,
                "  ({} seed{}: a bootstrap over so few seeds is narrower than the real uncertainty; read it as a \
                 description of these seeds, not a test)",
                p.seeds.len(),
                if p.seeds.len() == 1 { "" } else { "s" }
            );
        }
    }
    out
}

/// The CSV written by `--paired-csv`: `era_setting,baseline,task,metric,summary,seeds,era_values,
/// baseline_values,differences,mean,sd,ci_low,ci_high`, one row per pairing and metric; the per-seed
/// columns list values in the order of `seeds`, separated by `;` (empty where a run has none).
pub fn paired_csv(pairings: &[Pairing]) -> String {
    let mut out = String::from(
        "era_setting,baseline,task,metric,summary,seeds,era_values,baseline_values,differences,mean,sd,ci_low,ci_high\n",
    );
    let opt = |v: &Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for p in pairings {
        for r in &p.rows {
            let summary = match r.metric.summary {
                Summary::Final => "final",
                Summary::SecondHalf => "second-half",
            };
            let (mean, sd) = match r.mean_std {
                Some((m, s)) => (m.to_string(), opt(&s)),
                None => Default::default(),
            };
            let (lo, hi) = r.interval.map(|c| (c.low.to_string(), c.high.to_string())).unwrap_or_default();
            let fields = [
                p.era.clone(),
                p.baseline.clone(),
                p.task.clone(),
                r.metric.key.clone(),
                summary.to_string(),
                join(&p.seeds, u64::to_string, ";"),
                join(&r.era, opt, ";"),
                join(&r.baseline, opt, ";"),
                join(&r.differences, f64::to_string, ";"),
                mean,
                sd,
                lo,
                hi,
            ];
            let _ = writeln!(out, "{}", join(&fields, |f| csv_field(f), ","));
        }
    }
    out
}

/// Rows as left-aligned columns, a rule under the first.
fn aligned(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> =
            r.iter().zip(&widths).map(|(s, w)| format!("{s}{}", " ".repeat(w - s.chars().count()))).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if i == 0 {
            let _ = writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        }
    }
    out
}

/// Finds and parses every run log under the given paths.
pub fn load(paths: &[PathBuf]) -> anyhow::Result<Vec<RunLog>> {
    let mut files = Vec::new();
    for p in paths {
        let before = files.len();
        if p.is_file() {
            files.push(p.clone());
        } else if p.is_dir() {
            find_logs(p, 0, &mut files)?;
        } else {
            bail!("{}: no such file or directory", p.display());
        }
        if files.len() == before {
            bail!(
                "{}: no {RUN_LOG_FILE} found (expected {0}/{RUN_LOG_FILE}, {0}/seed-<S>/{RUN_LOG_FILE} or runs further down)",
                p.display()
            );
        }
    }
    files.sort();
    files.dedup();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).with_context(|| format!("{}: cannot read", f.display()))?;
            Ok(RunLog::parse(&text, &f.display().to_string())?)
        })
        .collect()
}

fn find_logs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let direct = dir.join(RUN_LOG_FILE);
    if direct.is_file() {
        out.push(direct);
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for e in entries {
        find_logs(&e, depth + 1, out)?;
    }
    Ok(())
}

/// Runs of one setting (same configuration but the seed).
#[derive(Debug)]
pub struct Group<'a> {
    /// Column label: the run name, numbered if two settings share one.
    pub label: String,
    /// The runs, one per seed.
    pub runs: Vec<&'a RunLog>,
    /// Each run's final metrics, read once (a log without a footer is scanned to find them).
    finals: Vec<BTreeMap<String, Option<f64>>>,
}

impl Group<'_> {
    /// Finite final values of `metric` across the group's runs.
    fn values(&self, metric: &str) -> Vec<f64> {
        self.finals.iter().filter_map(|f| f.get(metric).copied().flatten()).collect()
    }

    /// The header of the group's first run (all share the setting).
    fn header(&self) -> Option<&Header> {
        self.runs.first().map(|r| &r.header)
    }
}

/// Groups runs by [`era_shared::runlog::Header::setting_key`], in order of first appearance.
pub fn group(logs: &[RunLog]) -> Vec<Group<'_>> {
    let mut order: Vec<String> = Vec::new();
    let mut by_key: BTreeMap<String, Vec<&RunLog>> = BTreeMap::new();
    for log in logs {
        let key = log.header.setting_key();
        if !by_key.contains_key(&key) {
            order.push(key.clone());
        }
        by_key.entry(key).or_default().push(log);
    }
    let mut name_count: BTreeMap<String, usize> = BTreeMap::new();
    for key in &order {
        *name_count.entry(by_key[key][0].header.run_name.clone()).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    order
        .into_iter()
        .map(|key| {
            let runs = by_key.remove(&key).unwrap_or_default();
            let name = runs.first().map(|r| r.header.run_name.clone()).unwrap_or_default();
            let label = if name_count.get(&name).copied().unwrap_or(0) > 1 {
                let i = seen.entry(name.clone()).or_default();
                *i += 1;
                format!("{name} #{i}")
            } else {
                name
            };
            let finals = runs.iter().map(|r| r.final_metrics()).collect();
            Group { label, runs, finals }
        })
        .collect()
}

/// Mean and sample standard deviation (`None` for fewer than two values).
pub fn mean_std(v: &[f64]) -> Option<(f64, Option<f64>)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = (v.len() > 1).then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((mean, std))
}

fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-3..1e5).contains(&a) { format!("{x:.4}") } else { format!("{x:.3e}") }
}

fn cell(v: &[f64]) -> String {
    match mean_std(v) {
        None => "–".into(),
        Some((m, None)) => num(m),
        Some((m, Some(s))) => format!("{} ± {}", num(m), num(s)),
    }
}

fn metrics(groups: &[Group<'_>]) -> BTreeSet<String> {
    groups.iter().flat_map(|g| g.finals.iter().flat_map(|f| f.keys().cloned())).collect()
}

/// The table printed on stdout: one column per setting, one row per metric.
pub fn table(groups: &[Group<'_>]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let col = |f: &dyn Fn(&Group<'_>) -> String| groups.iter().map(f).collect::<Vec<_>>();
    rows.push([vec!["setting".to_string()], col(&|g| g.label.clone())].concat());
    rows.push(
        [vec!["domain".to_string()], col(&|g| g.header().map(|h| h.domain.to_string()).unwrap_or_default())].concat(),
    );
    rows.push(
        [vec!["algorithm".to_string()], col(&|g| g.header().map(|h| h.algorithm.clone()).unwrap_or_default())].concat(),
    );
    rows.push(
        [vec!["target".to_string()], col(&|g| g.header().map(|h| h.target.clone()).unwrap_or_default())].concat(),
    );
    rows.push([vec!["seeds".to_string()], col(&|g| g.runs.len().to_string())].concat());
    rows.push(
        [
            vec!["final step".to_string()],
            col(&|g| cell(&g.runs.iter().map(|r| r.final_step() as f64).collect::<Vec<_>>())),
        ]
        .concat(),
    );
    rows.push(
        [
            vec!["status".to_string()],
            col(&|g| {
                let s: BTreeSet<&str> = g.runs.iter().map(|r| r.status_label()).collect();
                s.into_iter().collect::<Vec<_>>().join("/")
            }),
        ]
        .concat(),
    );
    for m in metrics(groups) {
        rows.push([vec![m.clone()], col(&|g| cell(&g.values(&m)))].concat());
    }
    aligned(&rows)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The CSV written by `--csv`: `setting,domain,algorithm,target,seeds,metric,mean,std,n,iqm,iqm_low,iqm_high`,
/// one row per setting and metric (the IQM and its 95 % stratified-bootstrap interval over the runs'
/// final values), then one row per arm over tasks for the normalised score (`setting` the arm,
/// `target` empty, `metric` `<score> normalised over <N> tasks`).
pub fn csv(groups: &[Group<'_>], agg: &Aggregate) -> String {
    let mut out = String::from("setting,domain,algorithm,target,seeds,metric,mean,std,n,iqm,iqm_low,iqm_high\n");
    let line = |out: &mut String, fields: [String; 12]| {
        let _ = writeln!(out, "{}", fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
    };
    let stats_of = |v: &[f64], boot: Option<Estimate>| {
        let (mean, std) = match mean_std(v) {
            Some((m, s)) => (m.to_string(), s.map(|s| s.to_string()).unwrap_or_default()),
            None => (String::new(), String::new()),
        };
        let [i, lo, hi] = match boot {
            Some(e) => [e.value, e.low, e.high].map(|x| x.to_string()),
            None => Default::default(),
        };
        [mean, std, v.len().to_string(), i, lo, hi]
    };
    for m in metrics(groups) {
        for g in groups {
            let Some(h) = g.header() else { continue };
            let v = g.values(&m);
            let boot = stats::iqm_stratified_bootstrap(std::slice::from_ref(&v), stats::BOOTSTRAP_RESAMPLES, 0);
            let [mean, std, n, i, lo, hi] = stats_of(&v, boot);
            let fields = [
                g.label.clone(),
                h.domain.to_string(),
                h.algorithm.clone(),
                h.target.clone(),
                g.runs.len().to_string(),
                m.clone(),
                mean,
                std,
                n,
                i,
                lo,
                hi,
            ];
            line(&mut out, fields);
        }
    }
    for a in &agg.over_tasks {
        let all: Vec<f64> = a.normalised.iter().flatten().copied().collect();
        let [mean, std, n, i, lo, hi] = stats_of(&all, a.iqm);
        let metric = format!("{} normalised over {} tasks", agg.score, a.tasks);
        line(
            &mut out,
            [
                a.label.clone(),
                a.domain.clone(),
                a.algorithm.clone(),
                String::new(),
                n.clone(),
                metric,
                mean,
                std,
                n,
                i,
                lo,
                hi,
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_golden() {
        // (1, 2, 3): mean 2, sample std √((1 + 0 + 1)/2) = 1.
        assert_eq!(mean_std(&[1.0, 2.0, 3.0]), Some((2.0, Some(1.0))));
        assert_eq!(mean_std(&[4.0]), Some((4.0, None)));
        assert_eq!(mean_std(&[]), None);
    }

    #[test]
    fn number_format() {
        assert_eq!(num(0.12345), "0.1235");
        assert_eq!(num(123456.0), "1.235e5");
        assert_eq!(num(0.0), "0.0000");
        assert_eq!(cell(&[1.0, 3.0]), "2.0000 ± 1.4142");
    }

    #[test]
    fn csv_quotes_fields() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}

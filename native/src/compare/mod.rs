//! `era compare RUN_DIR…`: final metrics of run logs side by side, seeds of one setting as mean ± std;
//! then the score's interquartile mean (IQM) with its 95 % stratified-bootstrap interval per task, and
//! over tasks on min–max normalised scores (the `rliable` convention, Agarwal et al. 2021).
//!
//! The IQM section is in [`iqm`], the paired one in [`paired`], the SVG curves of `--plot` in [`plot`].

mod iqm;
mod paired;
mod plot;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use era_shared::runlog::{Header, RUN_LOG_FILE, RunLog};
use era_shared::stats::{self, Estimate};

pub use self::iqm::{Aggregate, aggregate, parse_bounds, summary};
pub use self::paired::{PairedMetric, paired, paired_csv, pairings};
use crate::cli::CompareArgs;

/// How deep below a given directory run logs are searched for.
const MAX_DEPTH: usize = 4;

/// Runs `era compare`.
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let bounds = parse_bounds(&args.bounds)?;
    let chosen = args.paired.iter().map(|m| PairedMetric::parse(m)).collect::<anyhow::Result<Vec<_>>>()?;
    let logs = load(&args.logs.runs)?;
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
        for file in plot::write(&groups, &keys, dir)? {
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

/// An estimate as its value and `[low, high]`, or dashes.
fn interval(e: &Option<Estimate>) -> [String; 2] {
    match e {
        Some(e) => [num(e.value), format!("[{}, {}]", num(e.low), num(e.high))],
        None => ["–".into(), "–".into()],
    }
}

/// `items` shown and joined with `sep`.
fn join<T>(items: &[T], show: impl Fn(&T) -> String, sep: &str) -> String {
    items.iter().map(show).collect::<Vec<_>>().join(sep)
}

/// Rows as left-aligned columns, a rule under the first.
pub fn aligned(rows: &[Vec<String>]) -> String {
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
            let bytes = std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?;
            Ok(RunLog::parse_bytes(&bytes, &f.display().to_string())?)
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
        // Hidden folders are skipped: `era sweep` keeps runs it set aside in `.superseded/`.
        .filter(|p| p.is_dir() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
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

//! `era compare`'s paired section: each ERA setting against its baseline seed by seed, per metric
//! (final value or second-half mean), with the mean, sd and 95 % bootstrap interval of the differences.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::bail;
use era_shared::runlog::Domain;
use era_shared::stats::{self, Estimate};

use super::{Group, aligned, csv_field, join, mean_std, num};

/// How the paired comparison summarises one run's metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// The run's final value.
    Final,
    /// The mean over the second half of the steps that logged it ([`RunLog::second_half_mean`](era_shared::runlog::RunLog::second_half_mean)).
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

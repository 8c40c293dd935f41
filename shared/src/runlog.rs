//! The run-log contract: what `era` writes for every training run and what the explorer reads.
//!
//! # Layout
//! `--out DIR` gives `DIR/<run-name>/` holding [`RUN_LOG_FILE`], [`CONFIG_FILE`] (the effective
//! configuration) and [`CHECKPOINT_DIR`]; a run with several seeds has one `DIR/<run-name>/seed-<S>/`
//! of that shape per seed ([`seed_dir`]).
//!
//! # `run.jsonl`
//! JSON Lines, one object per line, told apart by `"type"`:
//! 1. `header` (first line, exactly once): schema name and version, domain, algorithm, target
//!    (environment, dataset or task), run name, seed, the step unit, the `era` object with every
//!    target in force, the full configuration, start time and the writing crate's version.
//! 2. `record`: `step`, `wall_s` and any subset of metrics (`{"key": value}`, non-finite values as `null`).
//! 3. `resume`: the run continued from a checkpoint at `step`; records read before it with a larger
//!    step are superseded (nothing is ever deleted from the file). It may follow the footer of a
//!    `stopped`, `failed` or `diverged` run, which it then supersedes too.
//! 4. `footer` (last, on a clean finish): final step, wall time, status, the last value of every
//!    metric, how many non-finite values each metric had, and (for a `failed` or `diverged` run) the
//!    reason it ended.
//!
//! A file whose last line was cut off (a crash mid-write) keeps every complete record and reports the
//! truncation; any other malformed line is an error naming the file, line and reason.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::softmax_floor::FloorMode;

/// The schema name written in every header.
pub const SCHEMA: &str = "era-run";
/// The schema version this crate writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;
/// The run log's file name inside a run directory.
pub const RUN_LOG_FILE: &str = "run.jsonl";
/// The effective configuration's file name inside a run directory.
pub const CONFIG_FILE: &str = "config.json";
/// The checkpoint folder's name inside a run directory.
pub const CHECKPOINT_DIR: &str = "checkpoints";

/// The per-seed folder name in a multi-seed run: `seed-<S>`.
pub fn seed_dir(seed: u64) -> String {
    format!("seed-{seed}")
}

/// Configuration keys that do not define a setting: runs differing only in these are seeds of one setting.
pub const NON_SETTING_KEYS: &[&str] = &["seed", "seeds", "out", "run_name", "resume", "backend", "config"];

/// The configuration keys that name a run's task, in each domain.
pub const TASK_KEYS: &[&str] = &["env", "dataset", "task"];

/// Which of ERA's three domains a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Continuous control (Gaussian log-std activation).
    Control,
    /// Image classification (softmax entropy floor).
    Vision,
    /// LLM reinforcement learning (GRPO logit scaling).
    Llm,
}

/// What a record's `step` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepUnit {
    /// Environment steps (control).
    EnvSteps,
    /// Optimiser steps (vision).
    OptimizerSteps,
    /// GRPO steps, one per batch of prompts (LLM).
    GrpoSteps,
}

/// How a run ended, as written in its footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ran its whole budget.
    Completed,
    /// Stopped early on request (e.g. Ctrl-C), with everything so far written.
    Stopped,
    /// Ended by an error.
    Failed,
    /// Stopped because training produced a NaN or an infinity (the footer's `reason` says where);
    /// its newest checkpoint is the last one with finite weights.
    Diverged,
}

/// Every ERA target in force for a run; fields that do not apply to its domain are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraTargets {
    /// Whether ERA is on (baselines log `false`).
    pub enabled: bool,
    /// Target entropy `H₀` in nats (total over action dimensions, or of the class distribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h0: Option<f64>,
    /// Control: `H₀` per action dimension, when given that way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h0_per_dim: Option<f64>,
    /// Control: the compensation `δ` (its initial value when auto-tuned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// Control: whether `δ` is auto-tuned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_auto: Option<bool>,
    /// Control: `log σ_min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_std_min: Option<f64>,
    /// Control: `log σ_max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_std_max: Option<f64>,
    /// Vision: `τ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<f64>,
    /// Vision: how `W₋₁` is computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FloorMode>,
    /// LLM: `ω_low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omega_low: Option<f64>,
    /// LLM: `ω_high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omega_high: Option<f64>,
    /// LLM: the scaling factor `k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<f64>,
    /// LLM: share of highest token entropies averaged into `H_resp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_fraction: Option<f64>,
    /// LLM: whether the advantage is rescaled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advantage_rescale: Option<bool>,
    /// LLM: logits kept by the top-k log-probs (absent when off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k_logprobs: Option<usize>,
    /// LLM: whether the importance ratio divides by the rollout policy instead of the scaled old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_to_rollout: Option<bool>,
}

/// The first line of every run log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The schema version the file follows.
    pub schema_version: u32,
    /// The domain.
    pub domain: Domain,
    /// The algorithm, e.g. `sac-era`, `ppo`, `resnet18+era`, `grpo-era`.
    pub algorithm: String,
    /// The environment, dataset or task, e.g. `Pendulum-v1`, `cifar10`, `arithmetic`.
    pub target: String,
    /// The run's name (its folder name).
    pub run_name: String,
    /// The seed of this run.
    pub seed: u64,
    /// What `step` counts.
    pub step_unit: StepUnit,
    /// Every ERA target in force.
    pub era: EraTargets,
    /// The full effective configuration.
    pub config: serde_json::Value,
    /// Start time, RFC 3339 in UTC.
    pub started_at: String,
    /// Version of the crate that wrote the log.
    pub era_version: String,
}

impl Header {
    /// A header of the current schema, written by this crate's version.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        domain: Domain,
        algorithm: impl Into<String>,
        target: impl Into<String>,
        run_name: impl Into<String>,
        seed: u64,
        step_unit: StepUnit,
        era: EraTargets,
        config: serde_json::Value,
        started_at: impl Into<String>,
    ) -> Self {
        Self {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            domain,
            algorithm: algorithm.into(),
            target: target.into(),
            run_name: run_name.into(),
            seed,
            step_unit,
            era,
            config,
            started_at: started_at.into(),
            era_version: crate::VERSION.into(),
        }
    }

    /// The run's configuration without [`NON_SETTING_KEYS`] and without `also`.
    pub fn config_without(&self, also: &[&str]) -> serde_json::Value {
        let mut config = self.config.clone();
        if let serde_json::Value::Object(map) = &mut config {
            for key in NON_SETTING_KEYS.iter().chain(also) {
                map.remove(*key);
            }
        }
        config
    }

    /// A canonical string naming the run's setting: domain, algorithm, target and configuration
    /// without [`NON_SETTING_KEYS`]. Runs with equal keys are seeds of one setting.
    pub fn setting_key(&self) -> String {
        // serde_json's maps are ordered by key, so this string is canonical.
        let domain = serde_json::to_string(&self.domain).unwrap_or_default();
        format!("{domain}|{}|{}|{}", self.algorithm, self.target, self.config_without(&[]))
    }

    /// The task the run learns: its environment (control), dataset (vision) or task (LLM), from the
    /// first of [`TASK_KEYS`] its configuration has, else the header's target (the LLM's task).
    pub fn task(&self) -> String {
        TASK_KEYS
            .iter()
            .find_map(|k| self.config.get(*k).and_then(|v| v.as_str()).map(str::to_string))
            .unwrap_or_else(|| self.target.clone())
    }
}

/// One measurement: any subset of metrics at a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The step, in the header's unit.
    pub step: u64,
    /// Seconds since the run started (continuing across resumes).
    pub wall_s: f64,
    /// Metric values by key; `None` (`null`) for a non-finite value.
    pub metrics: BTreeMap<String, Option<f64>>,
}

/// The run continued from a checkpoint taken at `step`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// The checkpoint's step: records read before this line with a larger step are superseded.
    pub step: u64,
    /// Wall-clock seconds at the checkpoint.
    pub wall_s: f64,
    /// The checkpoint, relative to the run directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// The last line of a cleanly finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Footer {
    /// The last step reached.
    pub final_step: u64,
    /// Total wall-clock seconds.
    pub wall_s: f64,
    /// How the run ended.
    pub status: Status,
    /// The last value written for every metric (`null` if it was non-finite).
    pub last: BTreeMap<String, Option<f64>>,
    /// How many non-finite values each metric had (metrics with none are absent).
    #[serde(default)]
    pub non_finite: BTreeMap<String, u64>,
    /// Why the run ended, when it did not complete or stop on request (e.g. the metric that diverged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One line of a run log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// The first line (boxed: it is much larger than the other lines).
    Header(Box<Header>),
    /// A measurement.
    Record(Record),
    /// A continuation from a checkpoint.
    Resume(Resume),
    /// The last line of a clean finish.
    Footer(Footer),
}

/// Writes a run log line by line, flushing each so a crash loses at most the line being written.
#[derive(Debug)]
pub struct RunLogWriter<W: Write> {
    out: W,
    last: BTreeMap<String, Option<f64>>,
    non_finite: BTreeMap<String, u64>,
    step: u64,
}

impl<W: Write> RunLogWriter<W> {
    /// Starts a new log by writing its header.
    pub fn new(out: W, header: &Header) -> io::Result<Self> {
        let mut w = Self { out, last: BTreeMap::new(), non_finite: BTreeMap::new(), step: 0 };
        w.write(&Line::Header(Box::new(header.clone())))?;
        Ok(w)
    }

    /// Continues an existing log (`out` appends to it) from a checkpoint at `step`: writes a
    /// `resume` line and carries over the last values and non-finite counts up to that step.
    pub fn resume(out: W, existing: &RunLog, step: u64, wall_s: f64, checkpoint: Option<String>) -> io::Result<Self> {
        let mut w = Self { out, last: BTreeMap::new(), non_finite: BTreeMap::new(), step };
        for r in existing.records.iter().filter(|r| r.step <= step) {
            for (k, v) in &r.metrics {
                w.last.insert(k.clone(), *v);
                if v.is_none() {
                    *w.non_finite.entry(k.clone()).or_default() += 1;
                }
            }
        }
        w.write(&Line::Resume(Resume { step, wall_s, checkpoint }))?;
        Ok(w)
    }

    /// Writes a record; non-finite values become `null` and are counted for the footer.
    pub fn record(&mut self, step: u64, wall_s: f64, metrics: &[(&str, f64)]) -> io::Result<()> {
        let mut map = BTreeMap::new();
        for &(k, v) in metrics {
            let v = v.is_finite().then_some(v);
            if v.is_none() {
                *self.non_finite.entry(k.to_string()).or_default() += 1;
            }
            self.last.insert(k.to_string(), v);
            map.insert(k.to_string(), v);
        }
        self.step = self.step.max(step);
        self.write(&Line::Record(Record { step, wall_s: finite_or_zero(wall_s), metrics: map }))
    }

    /// Writes the footer and returns the underlying writer.
    pub fn finish(self, status: Status, wall_s: f64) -> io::Result<W> {
        self.finish_because(status, None, wall_s)
    }

    /// Writes the footer with the `reason` the run ended for (e.g. what diverged) and returns the sink.
    pub fn finish_because(mut self, status: Status, reason: Option<String>, wall_s: f64) -> io::Result<W> {
        let footer = Footer {
            final_step: self.step,
            wall_s: finite_or_zero(wall_s),
            status,
            last: std::mem::take(&mut self.last),
            non_finite: std::mem::take(&mut self.non_finite),
            reason,
        };
        self.write(&Line::Footer(footer))?;
        Ok(self.out)
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// A malformed run log: the file, the 1-based line and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}:{line}: {reason}")]
pub struct RunLogError {
    /// The file (or other source) read.
    pub source_name: String,
    /// The 1-based line number (0 for the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A run log as read: the header, the effective records (superseded ones removed) and the footer.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLog {
    /// Where the log was read from.
    pub source_name: String,
    /// The header.
    pub header: Header,
    /// Records in file order, without those superseded by a later `resume`.
    pub records: Vec<Record>,
    /// Every `resume` line.
    pub resumes: Vec<Resume>,
    /// The footer, if the run finished cleanly.
    pub footer: Option<Footer>,
    /// The line number of a final line cut off mid-write (a crash), if any.
    pub truncated_at: Option<usize>,
}

impl RunLog {
    /// Parses a run log's text; `source_name` is used in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, RunLogError> {
        let err = |line: usize, reason: String| RunLogError { source_name: source_name.to_string(), line, reason };
        if text.trim().is_empty() {
            return Err(err(0, "empty run log (no header)".into()));
        }
        let ends_cleanly = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut header = None;
        let mut records: Vec<Record> = Vec::new();
        let mut resumes = Vec::new();
        let mut footer: Option<Footer> = None;
        let mut truncated_at = None;
        let mut last_step: Option<u64> = None;
        for (i, raw) in lines.iter().enumerate() {
            let n = i + 1;
            let is_last = n == lines.len();
            if raw.trim().is_empty() {
                return Err(err(n, "blank line".into()));
            }
            let line: Line = match serde_json::from_str(raw) {
                Ok(l) => l,
                Err(e) if is_last && !ends_cleanly && header.is_some() && e.is_eof() => {
                    truncated_at = Some(n);
                    break;
                }
                Err(e) => return Err(err(n, format!("not a run-log line: {e}"))),
            };
            // A stopped or failed run may be resumed: its footer is then superseded by the resume line.
            if let Some(f) = &footer {
                let resumable = f.status != Status::Completed && matches!(line, Line::Resume(_));
                if !resumable {
                    return Err(err(n, "line after the footer".into()));
                }
                footer = None;
            }
            match line {
                Line::Header(h) => {
                    if header.is_some() {
                        return Err(err(n, "second header".into()));
                    }
                    if n != 1 {
                        return Err(err(n, "the header must be the first line".into()));
                    }
                    if h.schema != SCHEMA {
                        return Err(err(n, format!("schema `{}` is not `{SCHEMA}`", h.schema)));
                    }
                    if h.schema_version > SCHEMA_VERSION || h.schema_version == 0 {
                        return Err(err(
                            n,
                            format!(
                                "schema version {} is not supported (this reader knows 1 to {SCHEMA_VERSION})",
                                h.schema_version
                            ),
                        ));
                    }
                    header = Some(*h);
                }
                _ if header.is_none() => return Err(err(n, "the first line must be the header".into())),
                Line::Record(r) => {
                    if let Some(prev) = last_step
                        && r.step < prev
                    {
                        return Err(err(n, format!("step {} goes back from {prev} without a resume line", r.step)));
                    }
                    if !r.wall_s.is_finite() {
                        return Err(err(n, "wall_s is not finite".into()));
                    }
                    last_step = Some(r.step);
                    records.push(r);
                }
                Line::Resume(r) => {
                    records.retain(|rec| rec.step <= r.step);
                    last_step = Some(r.step);
                    resumes.push(r);
                }
                Line::Footer(f) => footer = Some(f),
            }
        }
        let header = header.ok_or_else(|| err(1, "no header".into()))?;
        Ok(Self { source_name: source_name.to_string(), header, records, resumes, footer, truncated_at })
    }

    /// Every metric key that appears in a record.
    pub fn metric_keys(&self) -> BTreeSet<String> {
        self.records.iter().flat_map(|r| r.metrics.keys().cloned()).collect()
    }

    /// The `(step, value)` series of one metric, in file order; `None` where it was non-finite.
    pub fn series(&self, key: &str) -> Vec<(u64, Option<f64>)> {
        self.records.iter().filter_map(|r| r.metrics.get(key).map(|v| (r.step, *v))).collect()
    }

    /// The mean of `key`'s finite values over the second half of the steps that logged it: records
    /// at steps ≥ the midpoint of its first and last step. `None` when it has no finite value.
    /// (For the LLM's rollout keys, which start after the warm-up, the second half of GRPO.)
    pub fn second_half_mean(&self, key: &str) -> Option<f64> {
        let values: Vec<(u64, f64)> =
            self.series(key).into_iter().filter_map(|(s, v)| v.filter(|v| v.is_finite()).map(|v| (s, v))).collect();
        let (first, last) = (values.first()?.0, values.last()?.0);
        // Twice the step against first + last keeps the midpoint exact in integers (in u128: a log
        // may claim steps near u64::MAX).
        let mid = u128::from(first) + u128::from(last);
        let late: Vec<f64> = values.iter().filter(|(s, _)| 2 * u128::from(*s) >= mid).map(|&(_, v)| v).collect();
        crate::stats::mean(&late)
    }

    /// The last value of every metric (from the footer when there is one), `None` if non-finite.
    pub fn final_metrics(&self) -> BTreeMap<String, Option<f64>> {
        if let Some(f) = &self.footer {
            return f.last.clone();
        }
        let mut last = BTreeMap::new();
        for r in &self.records {
            for (k, v) in &r.metrics {
                last.insert(k.clone(), *v);
            }
        }
        last
    }

    /// The last step reached.
    pub fn final_step(&self) -> u64 {
        match &self.footer {
            Some(f) => f.final_step,
            None => self.records.last().map(|r| r.step).unwrap_or(0),
        }
    }

    /// A short description of how the run stands: `completed`, `stopped`, `failed`, or
    /// `unfinished` (no footer: still running, or crashed).
    pub fn status_label(&self) -> &'static str {
        match self.footer.as_ref().map(|f| f.status) {
            Some(Status::Completed) => "completed",
            Some(Status::Stopped) => "stopped",
            Some(Status::Failed) => "failed",
            Some(Status::Diverged) => "diverged",
            None => "unfinished",
        }
    }
}

crate::choice::named_choice!(Domain, "domain", { Control => "control", Vision => "vision", Llm => "llm" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_half_of_steps_near_the_largest_step_does_not_overflow() {
        // Found by `era fuzz`: a log claiming steps near u64::MAX overflowed the midpoint.
        let h = r#"{"type":"header","schema":"era-run","schema_version":1,"domain":"control","algorithm":"sac","target":"T","run_name":"r","seed":0,"step_unit":"env_steps","era":{"enabled":false},"config":{},"started_at":"now","era_version":"0"}"#;
        let text = format!(
            "{h}\n{{\"type\":\"record\",\"step\":1,\"wall_s\":0,\"metrics\":{{\"m\":1}}}}\n\
             {{\"type\":\"record\",\"step\":{},\"wall_s\":0,\"metrics\":{{\"m\":3}}}}\n",
            u64::MAX
        );
        let log = RunLog::parse(&text, "run.jsonl").unwrap();
        assert_eq!(log.second_half_mean("m"), Some(3.0));
    }

    fn header() -> Header {
        let era = EraTargets { enabled: true, h0: Some(0.5), delta: Some(0.0), ..EraTargets::default() };
        Header::new(
            Domain::Control,
            "sac-era",
            "Pendulum-v1",
            "demo",
            1,
            StepUnit::EnvSteps,
            era,
            serde_json::json!({"seed": 1, "lr": 3e-4}),
            "2026-01-01T00:00:00Z",
        )
    }

    fn write_demo() -> String {
        let mut w = RunLogWriter::new(Vec::new(), &header()).unwrap();
        w.record(10, 0.5, &[("charts/episodic_return", -100.0), ("policy/gaussian_entropy", 0.5)]).unwrap();
        w.record(20, 1.0, &[("charts/episodic_return", f64::NAN)]).unwrap();
        w.record(30, 1.5, &[("eval/return", 3.0)]).unwrap();
        String::from_utf8(w.finish(Status::Completed, 2.0).unwrap()).unwrap()
    }

    #[test]
    fn round_trip() {
        let text = write_demo();
        assert_eq!(text.lines().count(), 5);
        assert!(text.contains(r#""charts/episodic_return":null"#));
        let log = RunLog::parse(&text, "run.jsonl").unwrap();
        assert_eq!(log.header, header());
        assert_eq!(log.records.len(), 3);
        let footer = log.footer.as_ref().unwrap();
        assert_eq!(footer.final_step, 30);
        assert_eq!(footer.non_finite.get("charts/episodic_return"), Some(&1));
        assert_eq!(log.final_metrics().get("policy/gaussian_entropy"), Some(&Some(0.5)));
        assert_eq!(log.series("charts/episodic_return"), vec![(10, Some(-100.0)), (20, None)]);
        assert_eq!(log.status_label(), "completed");
        assert!(log.truncated_at.is_none());
    }

    #[test]
    fn second_half_mean_golden() {
        let mut w = RunLogWriter::new(Vec::new(), &header()).unwrap();
        for (step, v) in [(10, 1.0), (20, f64::NAN), (30, 3.0), (40, 5.0), (50, 7.0)] {
            w.record(step, 0.0, &[("rollout/x", v)]).unwrap();
        }
        let log =
            RunLog::parse(&String::from_utf8(w.finish(Status::Completed, 1.0).unwrap()).unwrap(), "run.jsonl").unwrap();
        // Logged from step 10 to 50: the second half is steps ≥ 30, mean (3 + 5 + 7)/3 = 5.
        assert_eq!(log.second_half_mean("rollout/x"), Some(5.0));
        assert_eq!(log.second_half_mean("absent"), None);
    }

    #[test]
    fn a_stopped_run_resumes_after_its_footer_but_a_completed_one_does_not() {
        let mut w = RunLogWriter::new(Vec::new(), &header()).unwrap();
        w.record(10, 0.5, &[("charts/episodic_return", -100.0)]).unwrap();
        w.record(20, 1.0, &[("charts/episodic_return", -90.0)]).unwrap();
        let mut text = String::from_utf8(w.finish(Status::Stopped, 1.0).unwrap()).unwrap();
        let existing = RunLog::parse(&text, "run.jsonl").unwrap();
        let mut w = RunLogWriter::resume(Vec::new(), &existing, 20, 1.0, None).unwrap();
        w.record(30, 1.5, &[("charts/episodic_return", -80.0)]).unwrap();
        text.push_str(&String::from_utf8(w.finish(Status::Completed, 2.0).unwrap()).unwrap());
        let log = RunLog::parse(&text, "run.jsonl").unwrap();
        assert_eq!(log.status_label(), "completed");
        assert_eq!(log.records.iter().map(|r| r.step).collect::<Vec<_>>(), vec![10, 20, 30]);
        let again = format!(
            "{text}{}\n",
            serde_json::to_string(&Line::Resume(Resume { step: 30, wall_s: 2.0, checkpoint: None })).unwrap()
        );
        assert!(RunLog::parse(&again, "run.jsonl").unwrap_err().to_string().contains("line after the footer"));
    }

    #[test]
    fn truncated_last_line_keeps_complete_records() {
        let text = write_demo();
        let cut = text.find(r#"{"type":"record","step":30"#).unwrap() + 20;
        let log = RunLog::parse(&text[..cut], "run.jsonl").unwrap();
        assert_eq!(log.truncated_at, Some(4));
        assert_eq!(log.records.len(), 2);
        assert!(log.footer.is_none());
        assert_eq!(log.status_label(), "unfinished");
    }

    #[test]
    fn resume_supersedes_later_records() {
        let first = {
            let mut w = RunLogWriter::new(Vec::new(), &header()).unwrap();
            w.record(10, 1.0, &[("x", 1.0)]).unwrap();
            w.record(20, 2.0, &[("x", 2.0)]).unwrap();
            w.record(30, 3.0, &[("x", f64::INFINITY)]).unwrap();
            String::from_utf8(w.out).unwrap()
        };
        let crashed = RunLog::parse(&first, "a").unwrap();
        let mut w =
            RunLogWriter::resume(first.clone().into_bytes(), &crashed, 20, 2.0, Some("checkpoints/step-20".into()))
                .unwrap();
        w.record(30, 3.1, &[("x", 3.5)]).unwrap();
        let text = String::from_utf8(w.finish(Status::Completed, 4.0).unwrap()).unwrap();
        let log = RunLog::parse(&text, "a").unwrap();
        assert_eq!(log.series("x"), vec![(10, Some(1.0)), (20, Some(2.0)), (30, Some(3.5))]);
        assert_eq!(log.resumes.len(), 1);
        // The superseded ∞ at step 30 is not counted in the continued run's footer.
        assert!(log.footer.unwrap().non_finite.is_empty());
        // Every line is still in the file.
        assert_eq!(text.lines().count(), 7);
    }

    #[test]
    fn malformed_input_names_line_and_reason() {
        let text = write_demo();
        let lines: Vec<&str> = text.lines().collect();
        let cases: Vec<(String, usize, &str)> = vec![
            (String::new(), 0, "empty"),
            (format!("{}\n", lines[1]), 1, "first line must be the header"),
            (format!("{}\n{}\n", lines[0], lines[0]), 2, "second header"),
            (format!("{}\nnot json\n{}\n", lines[0], lines[1]), 2, "not a run-log line"),
            (format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1]), 3, "goes back"),
            (format!("{}\n{}\n{}\n", lines[0], lines[4], lines[1]), 3, "after the footer"),
            (format!("{}\n\n{}\n", lines[0], lines[1]), 2, "blank line"),
            (format!("{}\n", lines[0].replace("\"schema_version\":1", "\"schema_version\":9")), 1, "not supported"),
            (format!("{}\n{}\n", lines[0], lines[1].replace("\"step\"", "\"stepz\"")), 2, "unknown field"),
            // A broken line that is not the last one is an error, not a truncation.
            (format!("{}\n{}\n{}\n", lines[0], &lines[1][..15], lines[2]), 2, "not a run-log line"),
        ];
        for (text, line, reason) in cases {
            let e = RunLog::parse(&text, "f.jsonl").unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.reason.contains(reason), "{e}");
            assert!(e.to_string().starts_with(&format!("f.jsonl:{line}: ")));
        }
    }

    #[test]
    fn setting_key_ignores_seed_and_output() {
        let mut a = header();
        let mut b = header();
        a.config = serde_json::json!({"seed": 1, "out": "x", "lr": 3e-4});
        b.config = serde_json::json!({"lr": 3e-4, "seed": 2, "out": "y"});
        b.seed = 2;
        assert_eq!(a.setting_key(), b.setting_key());
        b.config = serde_json::json!({"lr": 1e-3, "seed": 2});
        assert_ne!(a.setting_key(), b.setting_key());
    }
}

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
//!
//! [`RunLogWriter`] writes it (in `writer.rs`), [`RunLog::parse`] reads it (in `reader.rs`).

mod reader;
mod writer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use reader::{
    Accepted, LineReader, LogFrame, MAX_LINE_BYTES, RunLog, RunLogError, lines_of, status_label, text_of,
};
pub use writer::RunLogWriter;

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

impl StepUnit {
    /// The x axis' title of a chart over these steps.
    pub fn axis_label(self) -> &'static str {
        match self {
            Self::EnvSteps => "environment steps",
            Self::OptimizerSteps => "optimizer steps",
            Self::GrpoSteps => "GRPO steps",
        }
    }
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
    fn binary_gzip_and_overlong_lines_are_refused_with_what_they_are() {
        let text = write_demo();
        assert_eq!(
            RunLog::parse_bytes(text.as_bytes(), "ok.jsonl").unwrap(),
            RunLog::parse(&text, "ok.jsonl").unwrap()
        );
        let e = RunLog::parse_bytes(&[0x1f, 0x8b, 8, 0], "run.jsonl.gz").unwrap_err();
        assert!(e.to_string().starts_with("run.jsonl.gz:0: a gzip file"), "{e}");
        // "ab" then 0xff: the first byte that is not UTF-8 is byte 2.
        let e = RunLog::parse_bytes(b"ab\xff\xfe", "x.jsonl").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.jsonl:0: not a text file: byte 2 is not UTF-8 (a run log is the run.jsonl that era train writes)"
        );
        let e = RunLog::parse_bytes(b"{\0}", "x.jsonl").unwrap_err();
        assert!(e.reason.contains("byte 1 is a NUL"), "{e}");
        // A record line one byte over the limit, after a good header.
        let head = text.lines().next().unwrap();
        let long = format!("{head}\n{}\n", "x".repeat(MAX_LINE_BYTES + 1));
        let e = RunLog::parse(&long, "long.jsonl").unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (2, "line of 1.0 MB; run-log lines are at most 1 MB (era writes a few kB per line)")
        );
    }

    #[test]
    fn the_line_reader_hands_over_records_and_resumes_for_the_caller_to_keep() {
        let text = write_demo();
        let mut reader = LineReader::new("run.jsonl");
        let got: Vec<Accepted> = lines_of(&text).map(|(l, cut)| reader.read(l, cut).unwrap()).collect();
        assert!(matches!(
            got[..],
            [Accepted::Header, Accepted::Record(_), Accepted::Record(_), Accepted::Record(_), Accepted::Footer]
        ));
        assert_eq!(reader.lines_read(), 5);
        let frame = reader.finish().unwrap();
        assert_eq!(frame.footer.map(|f| f.final_step), Some(30));
        // The last line without its newline: cut off when it breaks off mid-JSON.
        let cut = &text[..text.len() - 5];
        let flags: Vec<bool> = lines_of(cut).map(|(_, c)| c).collect();
        assert_eq!(flags, [false, false, false, false, true]);
        let mut reader = LineReader::new("run.jsonl");
        let last = lines_of(cut).map(|(l, c)| reader.read(l, c).unwrap()).last();
        assert_eq!(last, Some(Accepted::CutOff));
        assert_eq!(reader.finish().unwrap().truncated_at, Some(5));
        assert!(LineReader::new("e").finish().unwrap_err().reason.starts_with("empty run log"));
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

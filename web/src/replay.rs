//! Run logs written by `era` turned into charts: one chart per metric, one line per run, the ERA
//! targets the runs had drawn as reference lines, and a step cursor for the scrubber.

use era_shared::metrics;
use era_shared::runlog::RunLog;

/// The example runs bundled with the page (`assets/runs/`), produced by `era train`.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("Pendulum-v1: SAC-ERA vs SAC", "sac-era-pendulum.jsonl,sac-pendulum.jsonl"),
    ("Embedded MNIST: small CNN with the ERA floor vs plain", "vision-era.jsonl,vision-none.jsonl"),
    ("Tiny LLM on addition: GRPO-ERA vs GRPO", "grpo-era-arithmetic.jsonl,grpo-arithmetic.jsonl"),
    (
        "MuJoCo HalfCheetah-v5: SAC-ERA vs SAC, CleanRL networks and a learned δ",
        "sac-era-halfcheetah.jsonl,sac-halfcheetah.jsonl",
    ),
    (
        "MuJoCo HalfCheetah-v5: SAC-ERA vs SAC, the authors' released settings",
        "sac-era-released-halfcheetah.jsonl,sac-released-halfcheetah.jsonl",
    ),
];

/// A run log loaded in the page.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRun {
    /// How the run is named in legends: algorithm, task and seed.
    pub label: String,
    /// The parsed log.
    pub log: RunLog,
}

/// Parses the text of the file `name`; the error names the file, the line and why.
pub fn load(name: &str, text: &str) -> Result<LoadedRun, String> {
    let log = RunLog::parse(text, name).map_err(|e| e.to_string())?;
    let h = &log.header;
    let mut label = format!("{} · {} · seed {}", h.algorithm, h.target, h.seed);
    if log.truncated_at.is_some() {
        label.push_str(" (cut off)");
    }
    Ok(LoadedRun { label, log })
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The run's label.
    pub label: String,
    /// `(step, value)`, non-finite values left out.
    pub points: Vec<(f64, f64)>,
}

/// One metric's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The metric key, e.g. `policy/gaussian_entropy`.
    pub key: String,
    /// Its description from the metric registry.
    pub description: String,
    /// One series per run that logged it.
    pub series: Vec<Series>,
    /// Reference lines `(label, value)` from the runs' ERA targets, e.g. `H₀ + δ`.
    pub targets: Vec<(String, f64)>,
}

/// The charts of every metric the runs logged: known metrics in the registry's order, then the rest
/// alphabetically.
pub fn charts(runs: &[LoadedRun]) -> Vec<Chart> {
    let mut keys: Vec<String> = runs.iter().flat_map(|r| r.log.metric_keys()).collect();
    keys.sort_by_key(|k| (metrics::METRICS.iter().position(|m| m.key == k).unwrap_or(usize::MAX), k.clone()));
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let series = runs
                .iter()
                .filter_map(|r| {
                    let points: Vec<(f64, f64)> =
                        r.log.series(&key).into_iter().filter_map(|(s, v)| v.map(|v| (s as f64, v))).collect();
                    (!points.is_empty()).then(|| Series { label: r.label.clone(), points })
                })
                .collect();
            let mut targets: Vec<(String, f64)> = Vec::new();
            for r in runs {
                for (name, value) in metrics::target_lines(&key, &r.log.header.era) {
                    if !targets.iter().any(|(_, v)| (v - value).abs() < 1e-12) {
                        targets.push((name.to_string(), value));
                    }
                }
            }
            let description = metrics::lookup(&key).map(|m| m.description.to_string()).unwrap_or_default();
            Chart { key, description, series, targets }
        })
        .collect()
}

/// The last step any run reached.
pub fn max_step(runs: &[LoadedRun]) -> u64 {
    runs.iter().map(|r| r.log.final_step()).max().unwrap_or(0)
}

/// The series' value at `step`: its last point at or before it.
pub fn value_at(points: &[(f64, f64)], step: f64) -> Option<f64> {
    points.iter().take_while(|(s, _)| *s <= step).last().map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = concat!(
        r#"{"type":"header","schema":"era-run","schema_version":1,"domain":"vision","algorithm":"small-cnn-era","target":"mnist-embedded","run_name":"r","seed":3,"step_unit":"optimizer_steps","era":{"enabled":true,"h0":0.6,"tau":4.0,"mode":"exact"},"config":{},"started_at":"2026-01-01T00:00:00Z","era_version":"0.1.0"}"#,
        "\n",
        r#"{"type":"record","step":10,"wall_s":1.0,"metrics":{"pred/entropy_min":0.9,"train/loss":1.5}}"#,
        "\n",
        r#"{"type":"record","step":20,"wall_s":2.0,"metrics":{"pred/entropy_min":0.8,"train/loss":null}}"#,
        "\n"
    );

    #[test]
    fn charts_with_targets_and_the_cursor() {
        let run = load("a.jsonl", LOG).unwrap();
        assert_eq!(run.label, "small-cnn-era · mnist-embedded · seed 3");
        let charts = charts(std::slice::from_ref(&run));
        // Registry order: train/loss before pred/entropy_min.
        assert_eq!(charts.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["train/loss", "pred/entropy_min"]);
        assert_eq!(charts[0].series[0].points, vec![(10.0, 1.5)], "the null is left out");
        assert_eq!(charts[1].targets, vec![("H₀".to_string(), 0.6)]);
        assert_eq!(max_step(&[run]), 20);
        let pts = [(10.0, 1.0), (20.0, 2.0)];
        assert_eq!((value_at(&pts, 5.0), value_at(&pts, 15.0), value_at(&pts, 99.0)), (None, Some(1.0), Some(2.0)));
    }

    #[test]
    fn malformed_and_truncated_files() {
        let e = load("bad.jsonl", "{\"type\":\"record\"}\n").unwrap_err();
        assert!(e.starts_with("bad.jsonl:1:"), "{e}");
        let cut = &LOG[..LOG.len() - 10];
        let run = load("cut.jsonl", cut).unwrap();
        assert!(run.label.ends_with("(cut off)") && run.log.records.len() == 1);
    }
}

//! Run logs written by `era` turned into charts: one chart per metric, one line per run, the ERA
//! targets the runs had drawn as reference lines, and a step cursor for the scrubber.

use std::collections::BTreeMap;

use era_shared::metrics;

use crate::figure::{Line, Role};
use era_shared::runlog::{Accepted, LineReader, LogFrame, lines_of, status_label};

/// The most points a chart draws per run: longer series are reduced to each bucket's lowest and
/// highest point ([`downsample`]), which keeps spikes and the envelope of a million-record log.
pub const MAX_DRAWN_POINTS: usize = 2_000;

/// The most metrics a run may log: era logs a few dozen; a log with more is refused rather than
/// drawn as thousands of charts.
pub const MAX_METRICS: usize = 1_000;

/// A run log loaded in the page, kept as one column of points per metric (a million records with a
/// handful of metrics each take tens of MB, not the hundreds a map per record would).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRun {
    /// How the run is named in legends: algorithm, task and seed.
    pub label: String,
    /// The log's header, footer, resumes and cut-off line.
    pub frame: LogFrame,
    /// The effective records' steps, in order (superseded ones removed).
    pub steps: Vec<u64>,
    /// Each metric's finite `(step, value)` points, in step order.
    pub columns: BTreeMap<String, Vec<(f64, f64)>>,
}

impl LoadedRun {
    /// How the run stands: `completed`, `stopped`, `failed`, `diverged` or `unfinished`.
    pub fn status_label(&self) -> &'static str {
        status_label(self.frame.footer.as_ref())
    }

    /// The last step reached.
    pub fn final_step(&self) -> u64 {
        match &self.frame.footer {
            Some(f) => f.final_step,
            None => self.steps.last().copied().unwrap_or(0),
        }
    }
}

/// Reads a log line by line into columns: the page feeds it in slices and lets the browser paint
/// in between, so that a 50 MB log does not freeze the page.
#[derive(Debug)]
pub struct Loader {
    reader: LineReader,
    steps: Vec<u64>,
    columns: BTreeMap<String, Vec<(f64, f64)>>,
}

impl Loader {
    /// A loader for the file `name` (named in errors).
    pub fn new(name: &str) -> Self {
        Self { reader: LineReader::new(name), steps: Vec::new(), columns: BTreeMap::new() }
    }

    /// Reads one line (see [`lines_of`]).
    pub fn feed(&mut self, line: &str, unterminated: bool) -> Result<(), String> {
        match self.reader.read(line, unterminated).map_err(|e| e.to_string())? {
            Accepted::Record(r) => {
                for (key, value) in r.metrics {
                    if self.columns.len() >= MAX_METRICS && !self.columns.contains_key(&key) {
                        return Err(format!(
                            "{}:{}: more than {MAX_METRICS} different metrics (era logs a few dozen); not a run log to chart",
                            self.reader.source_name(),
                            self.reader.lines_read()
                        ));
                    }
                    let column = self.columns.entry(key).or_default();
                    if let Some(v) = value.filter(|v| v.is_finite()) {
                        column.push((r.step as f64, v));
                    }
                }
                self.steps.push(r.step);
            }
            Accepted::Resume(step) => {
                // Steps only grow between resumes, so what a resume supersedes is each column's tail.
                self.steps.truncate(self.steps.partition_point(|s| *s <= step));
                for column in self.columns.values_mut() {
                    column.truncate(column.partition_point(|(s, _)| *s <= step as f64));
                }
            }
            // A cut-off line is the log's unterminated last line: nothing follows it.
            Accepted::Header | Accepted::Footer | Accepted::CutOff => {}
        }
        Ok(())
    }

    /// The loaded run, or why the log is not one.
    pub fn finish(self) -> Result<LoadedRun, String> {
        let frame = self.reader.finish().map_err(|e| e.to_string())?;
        let h = &frame.header;
        let mut label = format!("{} · {} · seed {}", h.algorithm, h.target, h.seed);
        if frame.truncated_at.is_some() {
            label.push_str(" (cut off)");
        }
        let columns = self.columns.into_iter().filter(|(_, c)| !c.is_empty()).collect();
        Ok(LoadedRun { label, frame, steps: self.steps, columns })
    }
}

/// Parses the text of the file `name` at once; the error names the file, the line and why.
pub fn load(name: &str, text: &str) -> Result<LoadedRun, String> {
    let mut loader = Loader::new(name);
    for (line, unterminated) in lines_of(text) {
        loader.feed(line, unterminated)?;
    }
    loader.finish()
}

/// Reduces `points` to at most about `2 * buckets` by keeping, in each run of consecutive points,
/// the lowest and the highest (in their order), plus the first and the last point. Series that
/// already fit are returned whole.
pub fn downsample(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    let buckets = buckets.max(1);
    if points.len() <= 2 * buckets + 2 {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(2 * buckets + 2);
    out.push(points[0]);
    let inner = &points[1..points.len() - 1];
    let size = inner.len().div_ceil(buckets);
    for chunk in inner.chunks(size) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = i;
            }
            if p.1 > chunk[hi].1 {
                hi = i;
            }
        }
        out.push(chunk[lo.min(hi)]);
        if lo != hi {
            out.push(chunk[lo.max(hi)]);
        }
    }
    out.push(points[points.len() - 1]);
    out
}

/// The metrics that tell a run's story, shown by default: returns and accuracies, the entropy and
/// its target, σ, δ, pass@k. The rest appear under "all metrics".
pub const STORY_METRICS: &[&str] = &[
    metrics::EVAL_RETURN,
    metrics::EPISODIC_RETURN,
    metrics::GAUSSIAN_ENTROPY,
    metrics::POLICY_ENTROPY,
    metrics::STD_MEAN,
    metrics::DELTA,
    metrics::EVAL_TOP1,
    metrics::PRED_ENTROPY_MIN,
    metrics::PRED_ENTROPY_MEAN,
    metrics::ROLLOUT_H_RESP_WINDOW,
    metrics::ROLLOUT_H_RESP_MEAN,
    metrics::ROLLOUT_ENTROPY_WINDOW,
    metrics::ROLLOUT_REWARD_WINDOW,
];

/// Whether `key` is among the [`STORY_METRICS`] (pass@k included).
pub fn is_story(key: &str) -> bool {
    STORY_METRICS.contains(&key) || key.starts_with(metrics::PASS_AT_PREFIX)
}

/// Runs of one setting (equal [`Header::setting_key`](era_shared::runlog::Header::setting_key)):
/// seeds to be drawn as one mean line with a band.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Algorithm and task, e.g. `sac-era · HalfCheetah-v5`.
    pub label: String,
    /// Indices of its runs among the loaded ones, in load order.
    pub runs: Vec<usize>,
    /// Its colour and style: the first setting with ERA on is [`Role::Era`], the first without is
    /// [`Role::Baseline`], the others are numbered.
    pub role: Role,
}

/// The loaded runs grouped by setting, in the order each setting first appears.
pub fn groups(runs: &[LoadedRun]) -> Vec<Group> {
    let mut keys: Vec<String> = Vec::new();
    let mut out: Vec<Group> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let h = &r.frame.header;
        let key = format!("{}|era {}", h.setting_key(), h.era.enabled);
        match keys.iter().position(|k| *k == key) {
            Some(g) => out[g].runs.push(i),
            None => {
                keys.push(key);
                out.push(Group {
                    label: format!("{} · {}", h.algorithm, h.target),
                    runs: vec![i],
                    role: Role::Other(0),
                });
            }
        }
    }
    let (mut era, mut baseline, mut other) = (false, false, 0);
    for g in &mut out {
        let on = runs[g.runs[0]].frame.header.era.enabled;
        g.role = match on {
            true if !era => {
                era = true;
                Role::Era
            }
            false if !baseline => {
                baseline = true;
                Role::Baseline
            }
            _ => {
                other += 1;
                Role::Other(other - 1)
            }
        };
    }
    out
}

/// One line of a chart: what is drawn, and where its readout comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The line drawn: a run's column downsampled to [`MAX_DRAWN_POINTS`], labelled with the run;
    /// or the seeds' mean with their `(x, min, max)` band, labelled with the setting and its number
    /// of seeds; in its setting's role.
    pub line: Line,
    /// The run whose full-resolution column the readout uses; `None` for a mean over seeds (the
    /// readout then uses the line's points).
    pub run: Option<usize>,
}

/// One metric's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The metric key, e.g. `policy/gaussian_entropy`.
    pub key: String,
    /// Its description from the metric registry.
    pub description: String,
    /// What its values count (the y axis' title): the registry's unit, else the key.
    pub unit: String,
    /// One series per setting (the mean over its seeds), or per run when seeds are shown one by one.
    pub series: Vec<Series>,
    /// Reference lines `(label, value)` from the runs' ERA targets, e.g. `H₀ + δ`.
    pub targets: Vec<(String, f64)>,
}

/// What the charts show: which metrics, and seeds as a mean with a band or one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChartOptions {
    /// Every metric, not only the [`STORY_METRICS`].
    pub all_metrics: bool,
    /// Each seed as its own line instead of the setting's mean and band.
    pub each_seed: bool,
}

/// Every metric key the runs logged, known metrics in the registry's order, then the rest
/// alphabetically.
pub fn metric_keys(runs: &[LoadedRun]) -> Vec<String> {
    let mut keys: Vec<&String> = runs.iter().flat_map(|r| r.columns.keys()).collect();
    keys.sort_by_key(|k| (metrics::METRICS.iter().position(|m| m.key == k.as_str()).unwrap_or(usize::MAX), *k));
    keys.dedup();
    keys.into_iter().cloned().collect()
}

/// The charts to show: the story metrics the runs logged (all of them with `all_metrics`, or when
/// they logged none of the story's), each with one series per setting or per run.
pub fn charts(runs: &[LoadedRun], options: ChartOptions) -> Vec<Chart> {
    let keys = metric_keys(runs);
    let story = keys.iter().any(|k| is_story(k)) && !options.all_metrics;
    let groups = groups(runs);
    keys.into_iter()
        .filter(|k| !story || is_story(k))
        .map(|key| {
            let mut series = Vec::new();
            for g in &groups {
                let members: Vec<(usize, &Vec<(f64, f64)>)> =
                    g.runs.iter().filter_map(|&i| runs[i].columns.get(&key).map(|c| (i, c))).collect();
                if members.len() == 1 || (options.each_seed && !members.is_empty()) {
                    for (i, column) in members {
                        let points = downsample(column, MAX_DRAWN_POINTS / 2);
                        series.push(Series { line: Line::new(runs[i].label.clone(), g.role, points), run: Some(i) });
                    }
                } else if !members.is_empty() {
                    let columns: Vec<&[(f64, f64)]> = members.iter().map(|(_, c)| c.as_slice()).collect();
                    let agg = era_shared::stats::seed_band(&columns, MAX_DRAWN_POINTS / 2);
                    series.push(Series {
                        line: Line {
                            label: format!("{} · mean of {} seeds, band min–max", g.label, members.len()),
                            points: agg.iter().map(|&(x, m, _, _)| (x, m)).collect(),
                            role: g.role,
                            band: agg.iter().map(|&(x, _, lo, hi)| (x, lo, hi)).collect(),
                        },
                        run: None,
                    });
                }
            }
            let mut targets: Vec<(String, f64)> = Vec::new();
            for r in runs {
                for (name, value) in metrics::target_lines(&key, &r.frame.header.era) {
                    if !targets.iter().any(|(_, v)| (v - value).abs() < 1e-12) {
                        targets.push((name.to_string(), value));
                    }
                }
            }
            let spec = metrics::lookup(&key);
            let description = spec.map(|m| m.description.to_string()).unwrap_or_default();
            let unit = spec.map_or_else(|| key.clone(), |m| m.unit.to_string());
            Chart { key, description, unit, series, targets }
        })
        .collect()
}

/// The x axis' title: what the runs' steps count (the first run's unit).
pub fn step_label(runs: &[LoadedRun]) -> &'static str {
    runs.first().map_or("step", |r| r.frame.header.step_unit.axis_label())
}

/// The last step any run reached.
pub fn max_step(runs: &[LoadedRun]) -> u64 {
    runs.iter().map(LoadedRun::final_step).max().unwrap_or(0)
}

pub use era_shared::stats::value_at;

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
        // By default the story (the entropy floor); every metric on demand, in registry order.
        let story = charts(std::slice::from_ref(&run), ChartOptions::default());
        assert_eq!(story.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["pred/entropy_min"]);
        let charts = charts(std::slice::from_ref(&run), ChartOptions { all_metrics: true, each_seed: false });
        assert_eq!(charts.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["train/loss", "pred/entropy_min"]);
        assert_eq!(charts[0].series[0].line.points, vec![(10.0, 1.5)], "the null is left out");
        assert_eq!((run.steps.as_slice(), run.status_label()), (&[10, 20][..], "unfinished"));
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
        assert!(run.label.ends_with("(cut off)") && run.steps.len() == 1);
    }

    #[test]
    fn a_resume_drops_the_superseded_tail_of_every_column() {
        let header = LOG.lines().next().unwrap();
        let text = format!(
            "{header}\n{}\n{}\n{}\n{}\n",
            r#"{"type":"record","step":10,"wall_s":1.0,"metrics":{"a":1.0,"b":5.0}}"#,
            r#"{"type":"record","step":20,"wall_s":2.0,"metrics":{"a":2.0}}"#,
            r#"{"type":"resume","step":10,"wall_s":1.0}"#,
            r#"{"type":"record","step":20,"wall_s":2.5,"metrics":{"a":3.0}}"#,
        );
        let run = load("r.jsonl", &text).unwrap();
        assert_eq!(run.steps, [10, 20]);
        assert_eq!(run.columns["a"], [(10.0, 1.0), (20.0, 3.0)]);
        assert_eq!(run.columns["b"], [(10.0, 5.0)]);
        // The same as the native reader's records.
        let native = era_shared::runlog::RunLog::parse(&text, "r.jsonl").unwrap();
        assert_eq!(native.records.iter().map(|r| r.step).collect::<Vec<_>>(), run.steps);
    }

    #[test]
    fn a_log_with_more_metrics_than_a_run_logs_is_refused() {
        let header = LOG.lines().next().unwrap();
        let metrics: Vec<String> = (0..=MAX_METRICS).map(|i| format!("\"m{i}\":1.0")).collect();
        let text = format!(
            "{header}\n{{\"type\":\"record\",\"step\":1,\"wall_s\":0.0,\"metrics\":{{{}}}}}\n",
            metrics.join(",")
        );
        let e = load("many.jsonl", &text).unwrap_err();
        assert!(e.starts_with("many.jsonl:2: more than 1000 different metrics"), "{e}");
    }

    /// `LOG` with another seed, ERA switched on or off, and `pred/entropy_min` at steps 10 and 20.
    fn seed_of(seed: u64, era: bool, values: [f64; 2]) -> LoadedRun {
        let header = LOG.lines().next().unwrap().replace("\"seed\":3", &format!("\"seed\":{seed}"));
        let header = if era { header } else { header.replace("\"enabled\":true", "\"enabled\":false") };
        let text = format!(
            "{header}\n{{\"type\":\"record\",\"step\":10,\"wall_s\":1.0,\"metrics\":{{\"pred/entropy_min\":{}}}}}\n{{\"type\":\"record\",\"step\":20,\"wall_s\":2.0,\"metrics\":{{\"pred/entropy_min\":{}}}}}\n",
            values[0], values[1]
        );
        load("s.jsonl", &text).unwrap()
    }

    #[test]
    fn seeds_of_a_setting_are_one_mean_line_with_a_band() {
        let runs = [seed_of(0, true, [1.0, 2.0]), seed_of(1, false, [5.0, 5.0]), seed_of(1, true, [3.0, 6.0])];
        let g = groups(&runs);
        assert_eq!(
            g.iter().map(|g| (g.runs.clone(), g.role)).collect::<Vec<_>>(),
            [(vec![0, 2], Role::Era), (vec![1], Role::Baseline)]
        );
        let c = &charts(&runs, ChartOptions::default())[0];
        // ERA's two seeds: mean (1 + 3)/2 = 2 at step 10 and (2 + 6)/2 = 4 at step 20, band min–max.
        assert_eq!(c.series[0].line.points, [(10.0, 2.0), (20.0, 4.0)]);
        assert_eq!(c.series[0].line.band, [(10.0, 1.0, 3.0), (20.0, 2.0, 6.0)]);
        assert_eq!((c.series[0].run, c.series[1].run), (None, Some(1)));
        assert!(c.series[0].line.label.contains("mean of 2 seeds"), "{}", c.series[0].line.label);
        let each = &charts(&runs, ChartOptions { all_metrics: false, each_seed: true })[0];
        assert_eq!(
            each.series.iter().map(|s| (s.run, s.line.role)).collect::<Vec<_>>(),
            [(Some(0), Role::Era), (Some(2), Role::Era), (Some(1), Role::Baseline)]
        );
    }

    #[test]
    fn downsampling_golden() {
        // 1 + 6 + 1 points into 2 buckets of 3: first, (min, max) of [5, 9, 1] in order = 9 then 1,
        // (min, max) of [4, 4, 7] = 4 then 7, last.
        let ys = [0.0, 5.0, 9.0, 1.0, 4.0, 4.0, 7.0, 2.0];
        let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        assert_eq!(downsample(&pts, 2), vec![(0.0, 0.0), (2.0, 9.0), (3.0, 1.0), (4.0, 4.0), (6.0, 7.0), (7.0, 2.0)]);
        assert_eq!(downsample(&pts[..6], 2), pts[..6].to_vec(), "short series are kept whole");
    }

    /// A record's step increment and its metrics `a` and `b`: absent (outer `None`), `null` (inner
    /// `None`) or a value.
    type RecordOp = (u64, Option<Option<f64>>, Option<Option<f64>>);

    /// A log built from `ops`: `Some` a record, `None` a resume at the middle step so far.
    fn log_of(ops: &[Option<RecordOp>]) -> String {
        let mut text = format!("{}\n", LOG.lines().next().unwrap());
        let mut steps: Vec<u64> = Vec::new();
        for op in ops {
            match op {
                Some((inc, a, b)) => {
                    let step = steps.last().copied().unwrap_or(0) + inc;
                    let mut m = serde_json::Map::new();
                    for (k, v) in [("a", a), ("b", b)] {
                        if let Some(v) = v {
                            m.insert(k.into(), v.map_or(serde_json::Value::Null, serde_json::Value::from));
                        }
                    }
                    let line = serde_json::json!({"type": "record", "step": step, "wall_s": 0.0, "metrics": m});
                    text.push_str(&format!("{line}\n"));
                    steps.push(step);
                }
                None if !steps.is_empty() => {
                    let step = steps[steps.len() / 2];
                    steps.retain(|s| *s <= step);
                    text.push_str(&format!("{{\"type\":\"resume\",\"step\":{step},\"wall_s\":0.0}}\n"));
                }
                None => {}
            }
        }
        text
    }

    proptest::proptest! {
        /// Downsampled points are the input's own, in order, at most about twice the buckets, and
        /// keep the first and last point and the extremes, so no spike disappears from a chart.
        #[test]
        fn downsampling_keeps_order_ends_and_extremes(
            ys in proptest::collection::vec(-1e6f64..1e6, 1..3000),
            buckets in 1usize..300,
        ) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
            let out = downsample(&pts, buckets);
            proptest::prop_assert!(out.len() <= 2 * buckets + 2);
            proptest::prop_assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
            proptest::prop_assert!(out.iter().all(|p| pts[p.0 as usize] == *p));
            proptest::prop_assert_eq!((out[0], out[out.len() - 1]), (pts[0], pts[pts.len() - 1]));
            let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            proptest::prop_assert!(out.iter().any(|p| p.1 == lo) && out.iter().any(|p| p.1 == hi));
        }

        /// The replay's columns hold exactly the native reader's effective records, resumes and
        /// nulls included: the page charts what `era compare` reads.
        #[test]
        fn columns_equal_the_native_readers_records(
            ops in proptest::collection::vec(
                proptest::option::weighted(0.85, (0u64..5, proptest::option::of(proptest::option::of(-1e3f64..1e3)), proptest::option::of(proptest::option::of(-1e3f64..1e3)))),
                0..60,
            ),
        ) {
            let text = log_of(&ops);
            let run = load("p.jsonl", &text).unwrap();
            let native = era_shared::runlog::RunLog::parse(&text, "p.jsonl").unwrap();
            proptest::prop_assert_eq!(&run.steps, &native.records.iter().map(|r| r.step).collect::<Vec<_>>());
            for key in ["a", "b"] {
                let expected: Vec<(f64, f64)> =
                    native.series(key).into_iter().filter_map(|(s, v)| v.map(|v| (s as f64, v))).collect();
                proptest::prop_assert_eq!(run.columns.get(key).cloned().unwrap_or_default(), expected);
            }
        }
    }
}

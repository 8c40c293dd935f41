//! Reading a run log: the effective records, the cut-off last line of a crash, and errors that name
//! the line.

use std::collections::{BTreeMap, BTreeSet};

use super::{Footer, Header, Line, Record, Resume, SCHEMA, SCHEMA_VERSION, Status};

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

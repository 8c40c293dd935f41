//! Writing a run log: one line at a time, each flushed.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Footer, Header, Line, Record, Resume, RunLog, Status};

/// Writes a run log line by line, flushing each so a crash loses at most the line being written.
#[derive(Debug)]
pub struct RunLogWriter<W: Write> {
    pub(super) out: W,
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

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

/// The longest line a run log may hold. era's own lines are a few kB (the header, which carries the
/// whole configuration, is the largest); a longer line is refused before it is parsed, so that a
/// stray file cannot make a reader build a map of millions of metrics.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The text of a run log read as bytes: refused with a message when it is not UTF-8 text (a binary
/// file renamed `.jsonl`, a compressed log), naming the first offending byte.
pub fn text_of<'a>(bytes: &'a [u8], source_name: &str) -> Result<&'a str, RunLogError> {
    let err = |reason: String| RunLogError { source_name: source_name.to_string(), line: 0, reason };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(err("a gzip file, not a run log: decompress it first (gunzip)".into()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        err(format!(
            "not a text file: byte {} is not UTF-8 (a run log is the run.jsonl that era train writes)",
            e.valid_up_to()
        ))
    })?;
    if let Some(at) = text.find('\0') {
        return Err(err(format!(
            "not a text file: byte {at} is a NUL (a run log is the run.jsonl that era train writes)"
        )));
    }
    Ok(text)
}

/// One line accepted by a [`LineReader`], for the caller to keep.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// The header (also kept by the reader).
    Header,
    /// A measurement.
    Record(Record),
    /// A continuation from a checkpoint: records kept so far with a step above this one are
    /// superseded and must be dropped.
    Resume(u64),
    /// The footer (also kept by the reader).
    Footer,
    /// A final line cut off mid-write (a crash); the log ends before it.
    CutOff,
}

/// Reads a run log one line at a time, checking the schema, the order of lines and steps, and the
/// line length; the caller keeps what it needs of each accepted line ([`RunLog::parse`] keeps every
/// record; the browser's replay keeps columns and reads in slices so that the page stays responsive).
#[derive(Debug, Clone)]
pub struct LineReader {
    source_name: String,
    line: usize,
    header: Option<Header>,
    resumes: Vec<Resume>,
    footer: Option<Footer>,
    truncated_at: Option<usize>,
    last_step: Option<u64>,
}

/// What a [`LineReader`] kept of a log besides the records.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFrame {
    /// The header.
    pub header: Header,
    /// Every `resume` line.
    pub resumes: Vec<Resume>,
    /// The footer, if the run finished cleanly.
    pub footer: Option<Footer>,
    /// The line number of a final line cut off mid-write, if any.
    pub truncated_at: Option<usize>,
}

impl LineReader {
    /// A reader of the log named `source_name` (used in errors).
    pub fn new(source_name: &str) -> Self {
        Self {
            source_name: source_name.to_string(),
            line: 0,
            header: None,
            resumes: Vec::new(),
            footer: None,
            truncated_at: None,
            last_step: None,
        }
    }

    fn err(&self, line: usize, reason: String) -> RunLogError {
        RunLogError { source_name: self.source_name.clone(), line, reason }
    }

    /// The log's name, as errors give it.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> usize {
        self.line
    }

    /// Reads the next line (without its newline). `unterminated` says it is the file's last line
    /// and no newline follows it: such a line, when it breaks off mid-JSON, is a crash's cut-off
    /// write and ends the log instead of failing it.
    pub fn read(&mut self, raw: &str, unterminated: bool) -> Result<Accepted, RunLogError> {
        if self.truncated_at.is_some() {
            return Err(self.err(self.line + 1, "line after the cut-off last line".into()));
        }
        self.line += 1;
        let n = self.line;
        if raw.len() > MAX_LINE_BYTES {
            return Err(self.err(
                n,
                format!(
                    "line of {:.1} MB; run-log lines are at most {} MB (era writes a few kB per line)",
                    raw.len() as f64 / 1e6,
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        if raw.trim().is_empty() {
            return Err(self.err(n, "blank line".into()));
        }
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) if unterminated && self.header.is_some() && e.is_eof() => {
                self.truncated_at = Some(n);
                return Ok(Accepted::CutOff);
            }
            Err(e) => return Err(self.err(n, format!("not a run-log line: {e}"))),
        };
        // A stopped or failed run may be resumed: its footer is then superseded by the resume line.
        if let Some(f) = &self.footer {
            let resumable = f.status != Status::Completed && matches!(line, Line::Resume(_));
            if !resumable {
                return Err(self.err(n, "line after the footer".into()));
            }
            self.footer = None;
        }
        match line {
            Line::Header(h) => {
                if self.header.is_some() {
                    return Err(self.err(n, "second header".into()));
                }
                if n != 1 {
                    return Err(self.err(n, "the header must be the first line".into()));
                }
                if h.schema != SCHEMA {
                    return Err(self.err(n, format!("schema `{}` is not `{SCHEMA}`", h.schema)));
                }
                if h.schema_version > SCHEMA_VERSION || h.schema_version == 0 {
                    return Err(self.err(
                        n,
                        format!(
                            "schema version {} is not supported (this reader knows 1 to {SCHEMA_VERSION})",
                            h.schema_version
                        ),
                    ));
                }
                self.header = Some(*h);
                Ok(Accepted::Header)
            }
            _ if self.header.is_none() => Err(self.err(n, "the first line must be the header".into())),
            Line::Record(r) => {
                if let Some(prev) = self.last_step
                    && r.step < prev
                {
                    return Err(self.err(n, format!("step {} goes back from {prev} without a resume line", r.step)));
                }
                if !r.wall_s.is_finite() {
                    return Err(self.err(n, "wall_s is not finite".into()));
                }
                self.last_step = Some(r.step);
                Ok(Accepted::Record(r))
            }
            Line::Resume(r) => {
                self.last_step = Some(r.step);
                let step = r.step;
                self.resumes.push(r);
                Ok(Accepted::Resume(step))
            }
            Line::Footer(f) => {
                self.footer = Some(f);
                Ok(Accepted::Footer)
            }
        }
    }

    /// Ends the log: its header, resumes, footer and cut-off line. An empty log or one without a
    /// header is an error.
    pub fn finish(self) -> Result<LogFrame, RunLogError> {
        if self.line == 0 {
            return Err(self.err(0, "empty run log (no header)".into()));
        }
        let header = self.header.clone().ok_or_else(|| self.err(1, "no header".into()))?;
        Ok(LogFrame { header, resumes: self.resumes, footer: self.footer, truncated_at: self.truncated_at })
    }
}

/// The lines of a log's text, each with whether it is an unterminated last line (see
/// [`LineReader::read`]). Accepts `\n` and `\r\n` endings.
pub fn lines_of(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let ends_cleanly = text.ends_with('\n');
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        let line = lines.next()?;
        Some((line, !ends_cleanly && lines.peek().is_none()))
    })
}

impl RunLog {
    /// Parses a run log's text; `source_name` is used in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, RunLogError> {
        let mut reader = LineReader::new(source_name);
        let mut records: Vec<Record> = Vec::new();
        if !text.trim().is_empty() {
            for (raw, unterminated) in lines_of(text) {
                match reader.read(raw, unterminated)? {
                    Accepted::Record(r) => records.push(r),
                    Accepted::Resume(step) => records.retain(|rec| rec.step <= step),
                    Accepted::CutOff => break,
                    Accepted::Header | Accepted::Footer => {}
                }
            }
        }
        let LogFrame { header, resumes, footer, truncated_at } = reader.finish()?;
        Ok(Self { source_name: source_name.to_string(), header, records, resumes, footer, truncated_at })
    }

    /// Parses a run log read as bytes: [`text_of`], then [`RunLog::parse`].
    pub fn parse_bytes(bytes: &[u8], source_name: &str) -> Result<Self, RunLogError> {
        Self::parse(text_of(bytes, source_name)?, source_name)
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

    /// How the run stands; see [`status_label`].
    pub fn status_label(&self) -> &'static str {
        status_label(self.footer.as_ref())
    }
}

/// A short description of how a run stands, from its footer: `completed`, `stopped`, `failed`,
/// `diverged`, or `unfinished` (no footer: still running, or crashed).
pub fn status_label(footer: Option<&Footer>) -> &'static str {
    match footer.map(|f| f.status) {
        Some(Status::Completed) => "completed",
        Some(Status::Stopped) => "stopped",
        Some(Status::Failed) => "failed",
        Some(Status::Diverged) => "diverged",
        None => "unfinished",
    }
}

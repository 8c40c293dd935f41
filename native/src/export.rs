//! `era export`: run logs as TensorBoard event files and as CSV, for the tools that read those
//! (TensorBoard, W&B's `sync_tensorboard`, spreadsheets, pandas).
//!
//! Both hold every record the run log keeps: records a resume superseded are left out, as every
//! reader of the log leaves them out ([`RunLog::parse`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use era_shared::runlog::RunLog;

use crate::cli::ExportArgs;
use crate::tensorboard::{self, EventWriter};

/// `era export`.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    if args.tensorboard.is_none() && args.csv.is_none() {
        bail!("nothing to export to: give --tensorboard DIR, --csv FILE or both");
    }
    let logs = crate::compare::load(&args.logs.runs)?;
    if let Some(dir) = &args.tensorboard {
        for log in &logs {
            let file = write_tensorboard(log, dir)?;
            eprintln!("era: {} → {}", log.source_name, file.display());
        }
    }
    if let Some(file) = &args.csv {
        std::fs::write(file, csv(&logs)).with_context(|| format!("cannot write {}", file.display()))?;
        eprintln!("era: {} run(s) → {}", logs.len(), file.display());
    }
    Ok(())
}

/// Writes `log` as one event file in `root`'s folder for it; returns the file's path.
fn write_tensorboard(log: &RunLog, root: &Path) -> anyhow::Result<PathBuf> {
    let t0 = tensorboard::started_at(&log.header);
    let mut w = EventWriter::for_run(root, &log.header, None)?;
    for r in &log.records {
        w.scalars(r.step, t0 + r.wall_s, r.metrics.iter().map(|(k, v)| (k.as_str(), *v)))?;
    }
    w.flush()?;
    Ok(w.path().to_path_buf())
}

/// One row per record of every log: `run,seed,step,wall_s` and a column per metric any of them
/// logged (sorted); a cell is empty where the record did not log that metric and `nan` where the
/// value was not finite.
pub fn csv(logs: &[RunLog]) -> String {
    let keys: BTreeSet<String> = logs.iter().flat_map(RunLog::metric_keys).collect();
    let mut out = String::from("run,seed,step,wall_s");
    for k in &keys {
        out.push(',');
        out.push_str(&field(k));
    }
    out.push('\n');
    for log in logs {
        let run = field(&log.header.run_name);
        for r in &log.records {
            out.push_str(&format!("{run},{},{},{}", log.header.seed, r.step, r.wall_s));
            for k in &keys {
                out.push(',');
                match r.metrics.get(k) {
                    Some(Some(v)) => out.push_str(&v.to_string()),
                    Some(None) => out.push_str("nan"),
                    None => {}
                }
            }
            out.push('\n');
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_row_per_kept_record_and_marks_absent_and_non_finite_values_apart() {
        // Records at steps 1, 2 and 3, then a resume from step 1: only steps 1 and the new 2 remain.
        let text = [
            r#"{"type":"header","schema":"era-run","schema_version":1,"domain":"control","algorithm":"sac","target":"T","run_name":"a,b","seed":3,"step_unit":"env_steps","era":{"enabled":false},"config":{},"started_at":"2026-01-01T00:00:00Z","era_version":"0"}"#,
            r#"{"type":"record","step":1,"wall_s":0.5,"metrics":{"x":1.0}}"#,
            r#"{"type":"record","step":2,"wall_s":1.0,"metrics":{"y":null}}"#,
            r#"{"type":"record","step":3,"wall_s":1.5,"metrics":{"x":3.0}}"#,
            r#"{"type":"resume","step":1,"wall_s":1.5}"#,
            r#"{"type":"record","step":2,"wall_s":2.0,"metrics":{"x":2.5,"y":4.0}}"#,
        ]
        .join("\n");
        let log = RunLog::parse(&text, "t").unwrap();
        assert_eq!(csv(&[log]), "run,seed,step,wall_s,x,y\n\"a,b\",3,1,0.5,1,\n\"a,b\",3,2,2,2.5,4\n");
        let log = RunLog::parse(&text.replace(r#"{"x":2.5,"y":4.0}"#, r#"{"y":null}"#), "t").unwrap();
        assert!(csv(&[log]).ends_with("\"a,b\",3,2,2,,nan\n"));
    }
}

//! `era export`: the event files are read back with the `tensorboard` package's EventAccumulator (as
//! TensorBoard loads a log folder) and every value is compared with the run log; the CSV is compared
//! with the run log row by row.
//!
//! Needs `eval "$(scripts/setup-tensorboard.sh)"` (tensorboard 2.21.0, whose python is
//! `$ERA_TENSORBOARD_PYTHON`).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{era, kill_at_checkpoint, log, ok, refused, train_control_args};
use era_shared::runlog::RunLog;

/// What TensorBoard reads from the run folder `dir`.
fn tensorboard(dir: &Path) -> serde_json::Value {
    let python = std::env::var("ERA_TENSORBOARD_PYTHON")
        .expect("ERA_TENSORBOARD_PYTHON is not set: run `eval \"$(scripts/setup-tensorboard.sh)\"` first");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tensorboard_reference.py");
    let out = Command::new(python).arg(script).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Checks that TensorBoard's reading of `dir` holds exactly the records of `log`: each metric's
/// (step, wall time, value) in order, values as f32, non-finite ones as NaN; and the configuration.
fn assert_same(log: &RunLog, dir: &Path) {
    let tb = tensorboard(dir);
    let t0 = humantime::parse_rfc3339(&log.header.started_at)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let keys = log.metric_keys();
    let scalars = tb["scalars"].as_object().unwrap();
    assert_eq!(scalars.keys().cloned().collect::<std::collections::BTreeSet<_>>(), keys);
    for key in &keys {
        let want: Vec<(u64, f64, Option<f32>)> = log
            .records
            .iter()
            .filter_map(|r| r.metrics.get(key).map(|v| (r.step, t0 + r.wall_s, v.map(|v| v as f32))))
            .collect();
        let got: Vec<(u64, f64, Option<f32>)> = scalars[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_u64().unwrap(), e[1].as_f64().unwrap(), e[2].as_f64().map(|v| v as f32)))
            .collect();
        assert_eq!(got.len(), want.len(), "{key}: {got:?}\nrun log: {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.0, g.2), (w.0, w.2), "{key}");
            assert!((g.1 - w.1).abs() < 1e-6, "{key} at step {}: wall time {} vs {}", g.0, g.1, w.1);
        }
    }
    let config = tb["text"]["config/text_summary"].as_array().or_else(|| tb["text"]["config"].as_array()).unwrap();
    let shown = config[0][1].as_str().unwrap();
    let json = shown.trim_start_matches("```json\n").trim_end_matches("\n```");
    assert_eq!(serde_json::from_str::<serde_json::Value>(json).unwrap(), log.header.config);
}

#[test]
fn tensorboard_and_csv_hold_every_kept_record_of_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    // A real run of two seeds: evaluation, episode and update records.
    let extra = ["--env", "Pendulum-v1", "--steps", "700", "--eval-every", "300", "--seeds", "2"];
    ok(&era(&train_control_args(&runs, "pendulum", &extra)));
    // A log with a resume that supersedes two records, and a non-finite value.
    let resumed = runs.join("resumed");
    std::fs::create_dir_all(&resumed).unwrap();
    let header = r#"{"type":"header","schema":"era-run","schema_version":1,"domain":"control","algorithm":"sac","target":"T","run_name":"resumed","seed":7,"step_unit":"env_steps","era":{"enabled":false},"config":{"gamma":0.99},"started_at":"2026-01-01T00:00:00Z","era_version":"0"}"#;
    let lines = [
        header,
        r#"{"type":"record","step":100,"wall_s":1.25,"metrics":{"losses/critic":0.5}}"#,
        r#"{"type":"record","step":200,"wall_s":2.5,"metrics":{"losses/critic":null,"charts/episodic_return":-3.0}}"#,
        r#"{"type":"record","step":300,"wall_s":3.75,"metrics":{"losses/critic":0.25}}"#,
        r#"{"type":"resume","step":100,"wall_s":1.25}"#,
        r#"{"type":"record","step":200,"wall_s":4.0,"metrics":{"losses/critic":0.125}}"#,
    ];
    std::fs::write(resumed.join("run.jsonl"), lines.join("\n") + "\n").unwrap();

    let tb = dir.path().join("tb");
    let csv = dir.path().join("all.csv");
    ok(&era(&[
        "export",
        runs.to_str().unwrap(),
        "--tensorboard",
        tb.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]));
    let logs: Vec<RunLog> = ["pendulum/seed-0", "pendulum/seed-1", "resumed"]
        .iter()
        .map(|p| RunLog::parse(&std::fs::read_to_string(runs.join(p).join("run.jsonl")).unwrap(), p).unwrap())
        .collect();
    assert!(logs[0].records.len() > 5 && logs[0].metric_keys().contains("losses/critic"));
    for log in &logs {
        assert_same(log, &tb.join(&log.header.run_name).join(format!("seed-{}", log.header.seed)));
    }
    let kept: Vec<(u64, Option<f64>)> = logs[2].series("losses/critic");
    assert_eq!(kept, [(100, Some(0.5)), (200, Some(0.125))], "the superseded records are gone");

    // CSV: a header row, then one row per kept record of every run, in the runs' order.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut rows = text.lines();
    let columns: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(&columns[..4], ["run", "seed", "step", "wall_s"]);
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    let records: Vec<_> = logs.iter().flat_map(|l| l.records.iter().map(move |r| (l, r))).collect();
    assert_eq!(rows.len(), records.len());
    for (row, (log, r)) in rows.iter().zip(&records) {
        assert_eq!(row[..3], [log.header.run_name.as_str(), &log.header.seed.to_string(), &r.step.to_string()]);
        assert_eq!(row[3].parse::<f64>().unwrap(), r.wall_s);
        for (cell, key) in row[4..].iter().zip(&columns[4..]) {
            match r.metrics.get(*key) {
                None => assert_eq!(*cell, "", "{key} at step {}", r.step),
                Some(None) => assert_eq!(*cell, "nan"),
                Some(Some(v)) => assert_eq!(cell.parse::<f64>().unwrap(), *v, "{key} at step {}", r.step),
            }
        }
    }

    // Nothing to export to, or nothing to export: refused, naming what is missing.
    refused(&era(&["export", runs.to_str().unwrap()]), "give --tensorboard DIR, --csv FILE or both", "no target");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    refused(&era(&["export", empty.to_str().unwrap(), "--csv", "x.csv"]), "no run.jsonl found", "no logs");
}

#[test]
fn training_writes_tensorboard_as_it_goes_and_a_resume_supersedes_what_the_killed_run_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let tb = dir.path().join("tb");
    let tb_arg = tb.to_str().unwrap();
    let common = ["--env", "Pendulum-v1", "--steps", "3000", "--eval-every", "1000", "--checkpoint-every", "500"];
    let extra = [&common[..], &["--tensorboard", tb_arg]].concat();
    let run = dir.path().join("killed");
    kill_at_checkpoint(
        &train_control_args(dir.path(), "killed", &extra),
        &run.join("checkpoints/step-000000001500/meta.json"),
    );
    ok(&era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet", "--tensorboard", tb_arg]));
    let resumed = log(&run);
    assert!(!resumed.resumes.is_empty() && resumed.footer.is_some());
    let files = std::fs::read_dir(tb.join("killed/seed-0")).unwrap().count();
    assert_eq!(files, 2, "one event file per sitting");
    assert_same(&resumed, &tb.join("killed/seed-0"));
}

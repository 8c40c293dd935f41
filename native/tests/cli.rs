//! End-to-end tests of the `era` binary: stdin/stdout contracts, exit codes and error lines.

// Helpers outside `#[test]` functions set up fixtures: a failure there should panic the test.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use era_shared::metrics;
use era_shared::runlog::{Domain, EraTargets, Header, RUN_LOG_FILE, RunLogWriter, Status, StepUnit, seed_dir};

fn era(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_era"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // era may reject its arguments and exit before reading stdin: a broken pipe here is expected.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/examples").join(name)).unwrap()
}

/// Asserts exit status 2 and exactly one stderr line containing `needle`.
fn assert_bad(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "more than one line: {err}");
    assert!(err.starts_with("era: error: ") && err.contains(needle), "expected `{needle}` in: {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_mistyped_flag_or_command_keeps_clap_s_tip_and_names_the_help_to_read() {
    // Each error stays one line, with clap's suggestion and the help of the command it concerns.
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["train", "control", "--ennv", "Pendulum-v1"],
            &[
                "unexpected argument '--ennv'",
                "tip: a similar argument exists: '--env'",
                "see `era train control --help`",
            ],
        ),
        (
            &["trian"],
            &["unrecognized subcommand 'trian'", "tip: a similar subcommand exists: 'train'", "see `era --help`"],
        ),
        (&["activation", "softmax"], &["--h0", "see `era activation softmax --help`"]),
    ];
    for (args, needles) in cases {
        let out = era(args, "");
        for needle in *needles {
            assert_bad(&out, needle);
        }
    }
}

#[test]
fn a_closed_pipe_ends_era_quietly() {
    // 20 000 rows print far more than a pipe holds, so era writes after `head` has gone.
    let rows: Vec<String> = (0..20_000).map(|i| format!("[{}, -1.0, 2.0]", i % 7)).collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("raw.json");
    std::fs::write(&input, format!("{{\"raw\": [{}]}}", rows.join(","))).unwrap();
    let script =
        format!("{} activation gaussian --h0 0.5 < {} | head -c 10", env!("CARGO_BIN_EXE_era"), input.display());
    let out = Command::new("bash").args(["-o", "pipefail", "-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.stdout.len(), 10);
    assert!(!stderr.contains("panicked") && stderr.is_empty(), "{stderr}");
    // Killed by SIGPIPE, as `yes | head` is: the shell reports 128 + 13.
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

#[test]
fn bundled_examples_run() {
    let g = json(&era(&["activation", "gaussian", "--h0", "1.5"], &example("gaussian.json")));
    for h in g["entropy"].as_array().unwrap() {
        assert!((h.as_f64().unwrap() - 1.5).abs() < 1e-9);
    }
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/examples/softmax.toml");
    let s = json(&era(&["activation", "softmax", "--config", cfg.to_str().unwrap()], &example("softmax.json")));
    for h in s["entropy"].as_array().unwrap() {
        assert!(h.as_f64().unwrap() >= 0.6);
    }
    let l = json(&era(&["activation", "llm"], &example("llm.json")));
    assert_eq!(l["regime"], "sharpen");
    assert_eq!(l["advantage"], 0.6);
}

#[test]
fn softmax_output_contract() {
    // n = 2, H0 = 0.3, logits (0, 0): uniform stays uniform, entropy ln 2.
    let v = json(&era(&["activation", "softmax", "--h0", "0.3"], r#"{"logits": [[0, 0]]}"#));
    assert!((v["entropy"][0].as_f64().unwrap() - 2f64.ln()).abs() < 1e-12);
    assert_eq!(v["probs"][0][0], 0.5);
    let off = json(&era(&["activation", "softmax", "--h0", "0.3", "--mode", "official"], r#"{"logits": [[0, 20]]}"#));
    let exact = json(&era(&["activation", "softmax", "--h0", "0.3"], r#"{"logits": [[0, 20]]}"#));
    assert_ne!(off["logits"], exact["logits"]);
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["activation", "gaussian", "--h0", "1"], r#"{"raw": [[0, NaN]]}"#, "NaN and Infinity are not allowed"),
        (&["activation", "gaussian", "--h0", "1"], r#"{"raw": [[Infinity]]}"#, "NaN and Infinity are not allowed"),
        (&["activation", "gaussian", "--h0", "1"], r#"{"raw": [[0, 1], [2]]}"#, "ragged: row 2 has 1 values"),
        (&["activation", "gaussian", "--h0", "1"], r#"{"raw": [[]]}"#, "row 1 is empty"),
        (&["activation", "gaussian", "--h0", "1"], r#"{"raw": []}"#, "`raw` is empty"),
        (&["activation", "gaussian", "--h0", "1"], r#"{"raw": [[1]], "extra": 1}"#, "unknown field `extra`"),
        (
            &["activation", "gaussian", "--h0", "9"],
            r#"{"raw": [[1, 2]]}"#,
            "outside its valid range [-13.162123, 2.837877]",
        ),
        (&["activation", "gaussian", "--h0", "1"], "", "empty input"),
        (&["activation", "softmax", "--h0", "0.5"], r#"{"logits": [[1]]}"#, "at least 2 classes"),
        (&["activation", "softmax", "--h0", "0.7"], r#"{"logits": [[1, 2]]}"#, "(-0.059660, 0.633487) for n = 2"),
        (&["activation", "softmax", "--h0", "0.5", "--tau", "2"], r#"{"logits": [[1, 2]]}"#, "tau = 2 is outside"),
        (&["activation", "softmax", "--h0", "0.5", "--mode", "approx"], r#"{"logits": [[1, 2]]}"#, "approx"),
        (&["activation", "softmax"], r#"{"logits": [[1, 2]]}"#, "--h0"),
        (&["activation", "llm"], r#"{"token_entropy": [], "advantage": 1}"#, "`token_entropy` is empty"),
        (
            &["activation", "llm"],
            r#"{"token_entropy": [0.1], "advantage": -Infinity}"#,
            "NaN and Infinity are not allowed",
        ),
        (&["activation", "llm"], r#"{"token_entropy": [0.1], "advantage": 1e999}"#, "out of range"),
        (&["activation", "llm"], r#"{"token_entropy": [0.1, -0.5], "advantage": 1}"#, "token 2 of the response"),
        (&["activation", "llm", "--k", "0.5"], r#"{"token_entropy": [0.1], "advantage": 1}"#, "k = 0.5 is outside"),
        (
            &["activation", "llm"],
            r#"{"token_entropy": [0.1], "advantage": 1, "logits": [[1], [2]]}"#,
            "one row per token",
        ),
        (&["activation", "gaussian", "--h0", "1", "--bogus"], "{}", "unexpected argument '--bogus'"),
    ];
    for (args, stdin, needle) in cases {
        assert_bad(&era(args, stdin), needle);
    }
}

#[test]
fn config_file_is_overridden_by_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "h0 = 0.2\nmode = \"official\"\n").unwrap();
    let c = cfg.to_str().unwrap();
    let from_file = json(&era(&["activation", "softmax", "--config", c], r#"{"logits": [[0, 20]]}"#));
    let official =
        json(&era(&["activation", "softmax", "--h0", "0.2", "--mode", "official"], r#"{"logits": [[0, 20]]}"#));
    assert_eq!(from_file, official);
    let overridden =
        json(&era(&["activation", "softmax", "--config", c, "--mode", "exact"], r#"{"logits": [[0, 20]]}"#));
    let exact = json(&era(&["activation", "softmax", "--h0", "0.2"], r#"{"logits": [[0, 20]]}"#));
    assert_eq!(overridden, exact);
    std::fs::write(&cfg, "tau_x = 3\n").unwrap();
    assert_bad(&era(&["activation", "softmax", "--config", c], "{}"), "unknown option `tau_x`");
    assert_bad(
        &era(&["activation", "softmax", "--config", "/nonexistent/c.toml"], "{}"),
        "cannot read the config file",
    );
}

/// Writes a finished run log with one metric value per seed.
fn write_run(dir: &Path, name: &str, lr: f64, seed: u64, value: f64, finish: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let header = Header::new(
        Domain::Control,
        "sac-era",
        "Pendulum-v1",
        name,
        seed,
        StepUnit::EnvSteps,
        EraTargets { enabled: true, h0: Some(0.25), ..Default::default() },
        serde_json::json!({"lr": lr, "seed": seed, "out": "runs"}),
        "2026-01-01T00:00:00Z",
    );
    let file = std::fs::File::create(dir.join(RUN_LOG_FILE)).unwrap();
    let mut w = RunLogWriter::new(file, &header).unwrap();
    w.record(100, 1.0, &[("charts/episodic_return", value), ("policy/gaussian_entropy", 0.25)]).unwrap();
    if finish {
        w.finish(Status::Completed, 2.0).unwrap();
    }
}

#[test]
fn compare_groups_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let era_dir = dir.path().join("era");
    for (seed, v) in [(1, 1.0), (2, 2.0), (3, 3.0)] {
        write_run(&era_dir.join(seed_dir(seed)), "era", 3e-4, seed, v, true);
    }
    // Another setting (different lr), one seed, crashed mid-line.
    let base = dir.path().join("base");
    write_run(&base, "base", 1e-3, 1, -5.0, false);
    let mut f = std::fs::OpenOptions::new().append(true).open(base.join(RUN_LOG_FILE)).unwrap();
    f.write_all(br#"{"type":"record","step":200,"wall_s":1.5,"metr"#).unwrap();
    drop(f);

    let csv = dir.path().join("out.csv");
    let out = era(&["compare", era_dir.to_str().unwrap(), base.to_str().unwrap(), "--csv", csv.to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Seeds (1, 2, 3): mean 2, sample std 1.
    let row = stdout.lines().find(|l| l.starts_with("charts/episodic_return")).unwrap();
    assert!(row.contains("2.0000 ± 1.0000") && row.contains("-5.0000"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("seeds") && l.contains('3') && l.contains('1')), "{stdout}");
    assert!(stdout.contains("unfinished"), "{stdout}");
    assert!(stderr.contains("line 3 was cut off"), "{stderr}");
    let csv = std::fs::read_to_string(csv).unwrap();
    // Mean 2, sd 1, 3 values; IQM of three values is their mean, 2, and its bootstrap interval lies in [1, 3].
    let prefix = "era,control,sac-era,Pendulum-v1,3,charts/episodic_return,2,1,3,2,";
    let row = csv.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{csv}"));
    let ci: Vec<f64> = row[prefix.len()..].split(',').map(|v| v.parse().unwrap()).collect();
    assert!(ci.len() == 2 && 1.0 <= ci[0] && ci[0] < ci[1] && ci[1] <= 3.0, "{row}");

    // The parent directory finds all four runs.
    let all = era(&["compare", dir.path().to_str().unwrap()], "");
    assert!(all.status.success());
    let all = String::from_utf8_lossy(&all.stdout);
    assert!(all.lines().any(|l| l.starts_with("seeds") && l.contains('3') && l.contains('1')), "{all}");
}

/// A finished run of `arm` on `env` whose final `eval/return_mean` is `score`.
fn write_scored_run(dir: &Path, arm: &str, env: &str, seed: u64, score: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let header = Header::new(
        Domain::Control,
        arm,
        "H0 = 0.25·D",
        format!("{arm}-{env}"),
        seed,
        StepUnit::EnvSteps,
        EraTargets::default(),
        serde_json::json!({"env": env, "seed": seed, "run_name": format!("{arm}-{env}")}),
        "2026-01-01T00:00:00Z",
    );
    let mut w = RunLogWriter::new(std::fs::File::create(dir.join(RUN_LOG_FILE)).unwrap(), &header).unwrap();
    w.record(1000, 1.0, &[("eval/return_mean", score)]).unwrap();
    w.finish(Status::Completed, 2.0).unwrap();
}

#[test]
fn compare_reports_the_iqm_per_task_and_over_tasks() {
    let dir = tempfile::tempdir().unwrap();
    // Two arms on two tasks, 5 seeds each. Task A: arm x scores 10..50, arm y 0..4; task B: x 100..500,
    // y 600..1000. Bounds are each task's min and max: A [0, 50], B [100, 1000].
    for seed in 0..5u64 {
        let s = seed as f64;
        write_scored_run(&dir.path().join(format!("x-A/seed-{seed}")), "x", "A", seed, 10.0 * (s + 1.0));
        write_scored_run(&dir.path().join(format!("y-A/seed-{seed}")), "y", "A", seed, s);
        write_scored_run(&dir.path().join(format!("x-B/seed-{seed}")), "x", "B", seed, 100.0 * (s + 1.0));
        write_scored_run(&dir.path().join(format!("y-B/seed-{seed}")), "y", "B", seed, 600.0 + 100.0 * s);
    }
    let csv = dir.path().join("out.csv");
    let out = era(&["compare", dir.path().to_str().unwrap(), "--csv", csv.to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Per task: x on A is (10, 20, 30, 40, 50): one dropped at each end, IQM 30.
    let row = stdout.lines().find(|l| l.starts_with("A ") && l.contains("x-A")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("30.0000"), "{row}");
    assert!(stdout.contains("A: [0.0000, 50.0000]") && stdout.contains("B: [100.0000, 1000.0000]"), "{stdout}");
    // Over tasks, arm x: A normalised (0.2, 0.4, 0.6, 0.8, 1.0), B (0, 1/9, 2/9, 3/9, 4/9); the IQM of the
    // ten drops two at each end of (0, 1/9, 0.2, 2/9, 1/3, 0.4, 4/9, 0.6, 0.8, 1): (0.2 + 2/9 + 1/3 + 0.4 + 4/9 + 0.6)/6.
    let want = (0.2 + 2.0 / 9.0 + 1.0 / 3.0 + 0.4 + 4.0 / 9.0 + 0.6) / 6.0;
    let row = stdout.lines().find(|l| l.starts_with("x ") && l.contains(" 2 ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains(&format!("{want:.4}")), "{row} vs {want}");
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("x,control,x,,10,eval/return_mean normalised over 2 tasks,")), "{csv}");
    // --plot draws each task's curves as SVG.
    let plots = dir.path().join("plots");
    let out = era(&["compare", dir.path().to_str().unwrap(), "--plot", plots.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for task in ["A", "B"] {
        let svg = std::fs::read_to_string(plots.join(format!("{task}-eval_return_mean.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains(&format!("x-{task}")) && svg.contains(&format!("y-{task}")));
        assert!(svg.contains("<polygon") || svg.contains("<path"), "bands drawn");
    }
    // Bounds given for a task replace the runs' min and max; a malformed one is refused.
    let out = era(&["compare", dir.path().to_str().unwrap(), "--bounds", "A=0:100"], "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("A: [0.0000, 100.0000] (given)"));
    assert_bad(&era(&["compare", dir.path().to_str().unwrap(), "--bounds", "A=5"], ""), "--bounds `A=5`");
}

/// An LLM run: `rollout/h_resp_window_mean` `h` at steps 100, 200 and 300, `eval/pass@1` `pass` at 300.
fn write_llm_run(dir: &Path, era: bool, seed: u64, h: [f64; 3], pass: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let name = if era { "grpo-era-arithmetic" } else { "grpo-arithmetic" };
    let header = Header::new(
        Domain::Llm,
        if era { "grpo-era" } else { "grpo" },
        "arithmetic",
        name,
        seed,
        StepUnit::GrpoSteps,
        EraTargets { enabled: era, ..Default::default() },
        serde_json::json!({"era": era, "seed": seed, "run_name": name}),
        "2026-01-01T00:00:00Z",
    );
    let mut w = RunLogWriter::new(std::fs::File::create(dir.join(RUN_LOG_FILE)).unwrap(), &header).unwrap();
    for (step, h) in [100, 200, 300].into_iter().zip(h) {
        w.record(step, 1.0, &[(metrics::ROLLOUT_H_RESP_WINDOW, h)]).unwrap();
    }
    w.record(300, 1.0, &[(metrics::PASS_AT_KEYS[0], pass)]).unwrap();
    w.finish(Status::Completed, 2.0).unwrap();
}

#[test]
fn compare_pairs_era_with_its_baseline_seed_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 0..3u64 {
        let s = seed as f64;
        // Second half (steps ≥ 200): ERA's H_resp mean 1.5 + 0.1·s, the baseline's (1.0 + 1.2)/2 = 1.1,
        // differences 0.4, 0.5, 0.6 (mean 0.5, sd 0.1). pass@1: 0.5 against 0.25 + 0.125·s, differences
        // 0.25, 0.125, 0 (mean 0.125, sd 0.125).
        let h = 1.5 + 0.1 * s;
        write_llm_run(&dir.path().join(format!("era/seed-{seed}")), true, seed, [9.0, h, h], 0.5);
        write_llm_run(&dir.path().join(format!("base/seed-{seed}")), false, seed, [9.0, 1.0, 1.2], 0.25 + 0.125 * s);
    }
    // A baseline seed without its ERA run is left out of the pairs.
    write_llm_run(&dir.path().join("base/seed-3"), false, 3, [0.0; 3], 0.0);
    let out =
        era(&["compare", dir.path().join("era").to_str().unwrap(), dir.path().join("base").to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Paired by seed, grpo-era-arithmetic − grpo-arithmetic (arithmetic):"), "{stdout}");
    assert!(stdout.contains("left out, run in one setting only: seeds 3"), "{stdout}");
    let row = |key: &str| {
        stdout.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no row {key} in {stdout}")).to_string()
    };
    let h = row("rollout/h_resp_window_mean (second-half mean)");
    assert!(h.contains("1.5000, 1.6000, 1.7000") && h.contains("1.1000, 1.1000, 1.1000"), "{h}");
    assert!(h.contains("+0.4000, +0.5000, +0.6000  0.5000  0.1000  ["), "{h}");
    let p = row("eval/pass@1 (final)");
    assert!(p.contains("+0.2500, +0.1250, +0.0000  0.1250  0.1250"), "{p}");
    // The interval of the mean difference lies within the differences' range.
    let ci: Vec<f64> =
        h[h.rfind('[').unwrap() + 1..h.rfind(']').unwrap()].split(", ").map(|v| v.parse().unwrap()).collect();
    assert!(0.4 <= ci[0] && ci[0] < 0.5 && 0.5 < ci[1] && ci[1] <= 0.6, "{ci:?}");
    // --paired-csv writes the same figures, one row per metric.
    let paired_csv = dir.path().join("paired.csv");
    let out = era(&["compare", dir.path().to_str().unwrap(), "--paired-csv", paired_csv.to_str().unwrap()], "");
    assert!(out.status.success());
    let text = std::fs::read_to_string(&paired_csv).unwrap();
    assert!(text.starts_with("era_setting,baseline,task,metric,summary,seeds,era_values,"), "{text}");
    let want = "grpo-era-arithmetic,grpo-arithmetic,arithmetic,eval/pass@1,final,0;1;2,0.5;0.5;0.5,0.25;0.375;0.5,0.25;0.125;0,0.125,0.125,";
    assert!(text.lines().any(|l| l.starts_with(want)), "{text}");
    // --paired chooses the metrics; pass@k keys keep their own `@`.
    let only = era(&["compare", dir.path().to_str().unwrap(), "--paired", "eval/pass@1"], "");
    let only = String::from_utf8_lossy(&only.stdout);
    assert!(only.contains("eval/pass@1 (final)") && !only.contains("(second-half mean)"), "{only}");
    assert_bad(
        &era(&["compare", dir.path().to_str().unwrap(), "--paired", "@second-half"], ""),
        "--paired `@second-half`",
    );
}

#[test]
fn compare_rejects_malformed_logs() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), "r", 1e-3, 1, 0.0, true);
    let log = dir.path().join(RUN_LOG_FILE);
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"type\":\"record\"}");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    assert_bad(
        &era(&["compare", dir.path().to_str().unwrap()], ""),
        &format!("{}:3: not a run-log line", log.display()),
    );
    let empty = tempfile::tempdir().unwrap();
    assert_bad(&era(&["compare", empty.path().to_str().unwrap()], ""), "no run.jsonl found");
    assert_bad(&era(&["compare", "/nonexistent/run"], ""), "no such file or directory");
}

#[test]
fn env_rollout_reproduces_gymnasium_and_names_bad_input() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../../shared/tests/data/gymnasium_reference.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for case in reference.as_array().unwrap() {
        let actions = dir.path().join("actions.json");
        std::fs::write(&actions, case["actions"].to_string()).unwrap();
        let out = era(
            &[
                "env",
                "rollout",
                "--env",
                case["env"].as_str().unwrap(),
                "--state",
                &case["state"].to_string(),
                "--actions",
                actions.to_str().unwrap(),
            ],
            "",
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<serde_json::Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let want = case["steps"].as_array().unwrap();
        assert_eq!(lines.len(), want.len(), "stops at termination or truncation like Gymnasium");
        for (got, want) in lines.iter().zip(want) {
            assert_eq!(got["terminated"], want["terminated"]);
            assert_eq!(got["truncated"], want["truncated"]);
            assert!((got["reward"].as_f64().unwrap() - want["reward"].as_f64().unwrap()).abs() <= 1e-5);
            for (g, w) in got["obs"].as_array().unwrap().iter().zip(want["obs"].as_array().unwrap()) {
                assert!((g.as_f64().unwrap() - w.as_f64().unwrap()).abs() <= 1e-5);
            }
        }
    }
    let actions = dir.path().join("bad.json");
    std::fs::write(&actions, "[[0.1], [0.2, 0.3]]").unwrap();
    let a = actions.to_str().unwrap();
    assert_bad(&era(&["env", "rollout", "--env", "Pendulum-v1", "--actions", a], ""), "action 2 has 2 values");
    assert_bad(&era(&["env", "rollout", "--env", "Pendulum", "--actions", a], ""), "unknown environment `Pendulum`");
    std::fs::write(&actions, "[[0.1]]").unwrap();
    assert_bad(
        &era(&["env", "rollout", "--env", "MountainCarContinuous-v0", "--state", "[0.9, 0]", "--actions", a], ""),
        "state[0] (position) = 0.9 is outside [-1.2, 0.6]",
    );
    let list = era(&["env", "list", "--json"], "");
    let specs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let dims: Vec<u64> =
        specs.as_array().unwrap().iter().map(|s| s["action"]["low"].as_array().unwrap().len() as u64).collect();
    assert!(dims.iter().filter(|&&d| d >= 2).count() >= 2, "{dims:?}");
}

#[cfg(feature = "fuzz")]
#[test]
fn every_parser_survives_a_short_fuzzing_pass() {
    // The long runs are `scripts/fuzz.sh`; this is a second per reader of mutated inputs.
    let dir = tempfile::tempdir().unwrap();
    let crashes = dir.path().join("crashes");
    let out = era(&["fuzz", "--seconds", "1", "--crashes", crashes.to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 16, "{stdout}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let inputs: u64 = cols[1].parse().unwrap();
        assert!(inputs > 10 && cols[3] == "0" && cols[4] == "0", "{row}");
        if cfg!(target_os = "linux") {
            // The peak is the largest the target reached, never below one input's own growth.
            let (growth, peak): (f64, f64) = (cols[7].parse().unwrap(), cols[8].parse().unwrap());
            assert!(peak > 1.0 && peak >= growth, "{row}");
        }
    }
}

#[cfg(feature = "fuzz")]
#[test]
fn the_starting_inputs_for_a_coverage_guided_fuzzer_are_written_per_target_and_each_is_accepted() {
    // What scripts/fuzz-afl.sh hands AFL++ as its starting corpus.
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    let s = seeds.to_str().unwrap();
    let out = era(&["fuzz", "--write-seeds", s, "--target", "safetensors", "--target", "safetensors-index"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (target, files) in [("safetensors", 2), ("safetensors-index", 1)] {
        let written: Vec<_> = std::fs::read_dir(seeds.join(target)).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(written.len(), files, "{target}: {written:?}");
        for file in written {
            // A few kilobytes each (the micro model), so that mutations reach the header often.
            assert!(std::fs::metadata(&file).unwrap().len() < 16 << 10, "{}", file.display());
            let out = era(&["fuzz", "--target", target, "--replay", file.to_str().unwrap()], "");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success() && stdout.trim_end().ends_with(": accepted"), "{target}: {stdout}");
        }
    }
}

#[test]
fn bench_llm_with_an_unknown_published_shape_names_the_known_ones() {
    let out = era(&["bench", "llm", "--model", "random:gpt-5"], "");
    assert_bad(&out, "--model random:gpt-5: unknown shape (known: tiny, qwen2.5-0.5b)");
}

#[test]
fn bench_llm_writes_its_figures_as_json_from_a_random_checkpoint_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("llm.json");
    let args = ["bench", "llm", "--model", "random:tiny", "--prompts", "1", "--group", "2", "--steps", "1"];
    let out = era(&[&args[..], &["--repeats", "1", "--json", json.to_str().unwrap()]].concat(), "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["command"], "bench llm");
    assert_eq!(v["settings"]["parameters"], 987_136, "the tiny shape, read back from its checkpoint");
    for key in ["generation", "grpo_update_era", "grpo_update_plain", "grpo_update_era_time"] {
        let value = v["figures"][key]["value"].as_f64().unwrap_or(f64::NAN);
        assert!(value.is_finite() && value > 0.0, "{key}: {v}");
    }
    // The update's time and rate are one measurement seen two ways.
    let tokens = v["settings"]["update_tokens"].as_f64().unwrap();
    let (rate, time) = (
        v["figures"]["grpo_update_era"]["value"].as_f64().unwrap(),
        v["figures"]["grpo_update_era_time"]["value"].as_f64().unwrap(),
    );
    assert!((rate * time / tokens - 1.0).abs() < 1e-9, "{v}");
}

#[test]
fn bench_against_torch_without_pytorch_names_the_setup() {
    for domain in ["vision", "llm"] {
        let out =
            era(&["bench", domain, "--steps", "1", "--repeats", "1", "--against", "torch", "--python", "false"], "");
        assert_bad(&out, "--against torch: false failed");
        assert!(String::from_utf8_lossy(&out.stderr).contains("scripts/setup-torch.sh"), "{domain}");
    }
}

#[test]
fn backend_cuda_without_a_driver_or_the_feature_is_one_line_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("runs").display().to_string();
    let out =
        era(&["train", "control", "--env", "Pendulum-v1", "--steps", "10", "--backend", "cuda", "--out", &out_dir], "");
    // This machine has no NVIDIA driver: with the feature the probe finds none; without, the build
    // says so.
    let needle = if cfg!(feature = "cuda") {
        "--backend cuda: no NVIDIA GPU answers through CUDA"
    } else {
        "--backend cuda: this era was built without CUDA"
    };
    assert_bad(&out, needle);
}

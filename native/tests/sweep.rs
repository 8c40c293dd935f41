//! `era sweep`: a grid from a spec run here N at a time, resumed, and reported; and, with a Slurm
//! cluster to hand (`scripts/slurm-local.sh` starts one on loopback; `scripts/test.sh` runs the
//! ignored test below against it), the same grid as a job array with a task cancelled mid-run.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{era, log, ok, records, refused};
use era_shared::runlog::Status;

/// 2 tasks × 2 seeds × ERA on/off of tiny SAC runs with a checkpoint every 300 steps.
const GRID: &str = r#"train = "control"
name = "{era}-{env}"

[options]
steps = 900
eval-every = 300
checkpoint-every = 300
hidden = "16,16"
eval-episodes = 1
log-every = 100
backend = "ndarray"
batch-size = 16
learning-starts = 100

[grid]
seed = [0, 1]
env = ["Pendulum-v1", "MountainCarContinuous-v0"]
era = { sac-era = "on", sac = "off" }
"#;

const RUNS: [&str; 8] = [
    "seed-0/sac-era-Pendulum-v1",
    "seed-0/sac-Pendulum-v1",
    "seed-0/sac-era-MountainCarContinuous-v0",
    "seed-0/sac-MountainCarContinuous-v0",
    "seed-1/sac-era-Pendulum-v1",
    "seed-1/sac-Pendulum-v1",
    "seed-1/sac-era-MountainCarContinuous-v0",
    "seed-1/sac-MountainCarContinuous-v0",
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `era sweep status OUT --json`: each run's state word, in the spec's order.
fn states(out: &Path) -> Vec<(String, String)> {
    let text = ok(&era(&["sweep", "status", s(out), "--json"]));
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["run"].as_str().unwrap().to_string(), v["state"].as_str().unwrap().to_string())
        })
        .collect()
}

/// `era compare OUT` without the rows that measure time (they differ between two sittings).
fn table(out: &Path) -> String {
    let text = ok(&era(&["compare", s(out)]));
    text.lines().filter(|l| !l.starts_with("perf/")).collect::<Vec<_>>().join("\n")
}

/// The log of `era train control` run directly with GRID's options, ERA on, and these steps, env and seed.
fn train_directly(dir: &Path, steps: &str, env: &str, seed: &str) -> era_shared::runlog::RunLog {
    let out = dir.join(format!("direct-{env}-{seed}"));
    let options = GRID.split("[options]").nth(1).unwrap().split("[grid]").next().unwrap();
    let mut args: Vec<String> = vec!["train".into(), "control".into()];
    for line in options.lines().filter(|l| l.contains('=')) {
        let (k, v) = line.split_once('=').unwrap();
        let v = if k.trim() == "steps" { steps } else { v.trim().trim_matches('"') };
        args.extend([format!("--{}", k.trim()), v.to_string()]);
    }
    let rest = ["--env", env, "--era", "on", "--seed", seed, "--out", s(&out), "--run-name", "d", "--quiet"];
    args.extend(rest.iter().map(|a| a.to_string()));
    ok(&era(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    log(&out.join("d"))
}

#[test]
fn a_local_sweep_runs_the_grid_skips_what_is_done_and_sets_aside_what_cannot_continue() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("grid.toml");
    std::fs::write(&spec, GRID).unwrap();
    let out = dir.path().join("out");

    // --dry-run lists every run with its command line and writes nothing.
    let listed = ok(&era(&["sweep", s(&spec), "--out", s(&out), "--dry-run"]));
    for r in RUNS {
        assert!(listed.lines().any(|l| l.contains("pending") && l.contains(r)), "{r} missing from\n{listed}");
    }
    assert!(
        listed.contains("era train control --steps 900") && listed.contains("--env MountainCarContinuous-v0 --era off")
    );
    assert!(!out.exists(), "a dry run creates nothing");

    // A folder left by a run killed before its first checkpoint is moved aside, not overwritten.
    std::fs::create_dir_all(out.join("seed-0/sac-Pendulum-v1")).unwrap();
    std::fs::write(out.join("seed-0/sac-Pendulum-v1/partial.txt"), "kept").unwrap();

    let first = era(&["sweep", s(&spec), "--out", s(&out), "--local", "2"]);
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{err}");
    assert!(err.contains("2 at a time (cores "), "{err}");
    assert_eq!(states(&out), RUNS.map(|r| (r.to_string(), "done".to_string())));
    let aside: Vec<_> = std::fs::read_dir(out.join(".superseded/seed-0")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(std::fs::read_to_string(aside[0].join("partial.txt")).unwrap(), "kept");

    // What the sweep ran is what `era train` runs with the same options.
    let direct = train_directly(dir.path(), "900", "MountainCarContinuous-v0", "1");
    assert_eq!(records(&direct), records(&log(&out.join("seed-1/sac-era-MountainCarContinuous-v0"))));

    // `era compare` over the sweep folder: 4 settings of 2 seeds each, the set-aside folder skipped.
    let cmp = ok(&era(&["compare", s(&out)]));
    let seeds = cmp.lines().find(|l| l.starts_with("seeds")).unwrap();
    assert_eq!(seeds.split_whitespace().skip(1).collect::<Vec<_>>(), ["2", "2", "2", "2"], "{cmp}");

    // Again: nothing to run.
    let again = era(&["sweep", s(&spec), "--out", s(&out)]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success() && err.contains("8 done, 0 running or queued, 0 to run"), "{err}");

    // The same folder with other options for runs it already has is refused.
    let changed = era(&["sweep", s(&spec), "--out", s(&out), "--", "--steps", "1200"]);
    refused(&changed, "started with other options", "options changed");
}

#[test]
fn a_stopped_sweep_continues_its_runs_from_their_checkpoints_and_failures_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("one.toml");
    let text = GRID.replace("seed = [0, 1]", "seed = [0]").replace(", \"MountainCarContinuous-v0\"", "");
    let text = text.replace("era = { sac-era = \"on\", sac = \"off\" }", "era = { sac-era = \"on\" }");
    std::fs::write(&spec, text.replace("steps = 900", "steps = 3000")).unwrap();
    let out = dir.path().join("out");

    // SIGTERM to the sweep alone: it passes the stop on, the run checkpoints and stops.
    let sweep = Command::new(env!("CARGO_BIN_EXE_era"))
        .args(["sweep", s(&spec), "--out", s(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = out.join("seed-0/sac-era-Pendulum-v1/checkpoints/step-000000000300/meta.json");
    let start = Instant::now();
    while !first.exists() {
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(Command::new("kill").args(["-s", "TERM", &sweep.id().to_string()]).status().unwrap().success());
    let ended = sweep.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&ended.stderr);
    assert_eq!(ended.status.code(), Some(2), "{err}");
    assert!(err.contains("stopped: run `era sweep` again"), "{err}");
    let run = out.join("seed-0/sac-era-Pendulum-v1");
    assert_eq!(log(&run).footer.unwrap().status, Status::Stopped);
    let status = ok(&era(&["sweep", "status", s(&spec), "--out", s(&out)]));
    assert!(status.contains("stopped") && status.contains("continues from its checkpoint at step"), "{status}");

    ok(&era(&["sweep", s(&spec), "--out", s(&out)]));
    let whole = train_directly(dir.path(), "3000", "Pendulum-v1", "0");
    assert_eq!(records(&whole), records(&log(&run)), "stopped and continued equals uninterrupted");

    // A run that fails is reported with its error line, and the sweep exits with an error.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "train = \"vision\"\n[options]\ndataset = \"mnist\"\ndata = \"no-such-folder\"\nepochs = 1\n")
        .unwrap();
    let failed = era(&["sweep", s(&bad), "--out", s(&dir.path().join("bad"))]);
    refused(&failed, "1 of 1 runs failed", "failing run");
    let status = ok(&era(&["sweep", "status", s(&dir.path().join("bad"))]));
    assert!(status.contains("failed") && status.contains("no-such-folder"), "{status}");
}

#[test]
fn bad_specs_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.toml");
    std::fs::write(&spec, GRID.replace("log-every = 100", "log-evry = 100")).unwrap();
    let e = era(&["sweep", s(&spec), "--dry-run"]);
    refused(&e, "bad.toml line 10: unknown option `log-evry` for `era train control`", "unknown option");
    let e = era(&["sweep", s(&dir.path().join("none.toml"))]);
    refused(&e, "none.toml: cannot read the sweep spec", "missing spec");
    let e = era(&["sweep", "status", s(dir.path())]);
    refused(&e, "not a sweep folder", "not a sweep folder");
}

#[test]
fn the_bundled_specs_expand_to_the_runs_their_tables_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Each spec: its run count and runs that scripts/reproduce-*.sh's tables name.
    let specs: [(&str, usize, &[&str]); 8] = [
        ("control-sac", 12, &["seed-2/sac-era-HalfCheetah-v5", "seed-0/sac-Hopper-v5"]),
        ("control-sac-delta", 3, &["seed-1/sac-era-delta-auto-HalfCheetah-v5"]),
        ("control-ppo", 40, &["seed-4/ppo-era-Ant-v5", "seed-0/ppo-Walker2d-v5"]),
        ("control-ppo-h0", 12, &["seed-0/ppo-era-h0--0.5-Hopper-v5", "seed-2/ppo-era-h0-0.25-Hopper-v5"]),
        ("control-dmc", 30, &["seed-0/sac-era-dmc-walker-run", "seed-2/sac-dmc-dog-walk"]),
        ("control-dmc-paper", 60, &["seed-4/sac-era-dmc-dog-run", "seed-0/sac-dmc-humanoid-stand"]),
        ("llm-seeds", 9, &["seed-0/grpo-era", "seed-2/grpo", "seed-1/grpo-era-released"]),
        ("llm-long", 2, &["seed-0/grpo-era-long", "seed-0/grpo-long"]),
    ];
    let out = tempfile::tempdir().unwrap();
    for (name, count, runs) in specs {
        let spec = root.join(format!("assets/sweeps/{name}.toml"));
        let listed = ok(&era(&["sweep", s(&spec), "--out", s(out.path()), "--dry-run"]));
        assert!(listed.starts_with(&format!("{count} runs in ")), "{name}: {listed}");
        for r in runs {
            assert!(listed.contains(&format!(" {r}  era train ")), "{name}: {r} missing from\n{listed}");
        }
    }
    // The reproduce script's DMC choice of tasks and seeds.
    let spec = root.join("assets/sweeps/control-dmc.toml");
    let only = ["--only", "env=dmc/walker-run,dmc/cheetah-run", "--only", "seed=0,1"];
    let listed = ok(&era(&[&["sweep", s(&spec), "--dry-run"][..], &only].concat()));
    assert!(listed.starts_with("8 runs in runs/control-dmc:"), "{listed}");
    // The README's sweep lines, listed rather than submitted.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().filter(|l| l.starts_with("era sweep ") && !l.contains(" status ")).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let mut args: Vec<&str> = line.split_whitespace().skip(1).collect();
        args.push("--dry-run");
        let out = Command::new(env!("CARGO_BIN_EXE_era")).args(&args).current_dir(&root).output().unwrap();
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let e = era(&["sweep", "status", s(&out.path().join("nothing"))]);
    refused(&e, "no such sweep folder or spec file", "missing folder");
}

/// A loopback Slurm's `squeue` lines for `job` (`JOBID_INDEX STATE`).
fn squeue(job: &str) -> Vec<String> {
    let out = Command::new("squeue").args(["-h", "-r", "-j", job, "-o", "%i %T"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn job_of(submitted: &Output) -> String {
    let text = ok(submitted);
    let line = text.lines().find(|l| l.contains("submitted job")).unwrap_or_else(|| panic!("{text}"));
    line.split_whitespace().nth(4).unwrap().trim_end_matches(':').to_string()
}

/// Needs a Slurm cluster (`SLURM_CONF`): `scripts/test.sh` starts one on loopback with
/// `scripts/slurm-local.sh` and runs this with `--ignored`, or says why it could not.
#[test]
#[ignore = "needs a Slurm cluster: scripts/test.sh starts one (scripts/slurm-local.sh) and runs this"]
fn a_slurm_array_runs_the_grid_and_a_cancelled_task_continues_when_resubmitted() {
    assert!(std::env::var_os("SLURM_CONF").is_some(), "SLURM_CONF is not set: start Slurm with scripts/slurm-local.sh");
    // Under the target folder, which the cluster's jobs (this machine) can read and write.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let spec = dir.path().join("grid.toml");
    // Longer runs, so that one is still running when it is cancelled.
    std::fs::write(&spec, GRID.replace("steps = 900", "steps = 2400")).unwrap();
    let on_slurm = dir.path().join("slurm");

    let job = job_of(&era(&[
        "sweep",
        s(&spec),
        "--out",
        s(&on_slurm),
        "--slurm",
        "--max-concurrent",
        "2",
        "--cpus-per-task",
        "1",
    ]));
    let script = std::fs::read_dir(on_slurm.join("slurm")).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-7%2") && text.contains("#SBATCH --cpus-per-task=1"), "{text}");

    // Cancel array task 1 (seed-0/sac-Pendulum-v1) once it has written its first checkpoint.
    let victim = on_slurm.join(RUNS[1]);
    wait_for("task 1's first checkpoint", Duration::from_secs(600), || {
        victim.join("checkpoints/step-000000000300/meta.json").exists()
    });
    let status = ok(&era(&["sweep", "status", s(&on_slurm)]));
    assert!(status.contains(&format!("slurm {job}_1")), "{status}");
    assert!(Command::new("scancel").arg(format!("{job}_1")).status().unwrap().success());
    wait_for("the array to leave the queue", Duration::from_secs(900), || squeue(&job).is_empty());
    let after = states(&on_slurm);
    assert_eq!(after[1], (RUNS[1].to_string(), "stopped".to_string()), "{after:?}");
    assert!(after.iter().enumerate().all(|(i, (_, st))| i == 1 || st == "done"), "{after:?}");
    // Where the cluster keeps accounting (scripts/slurm-local.sh starts slurmdbd when it can), the
    // status names what Slurm recorded for the cancelled task.
    let accounting = Command::new("sacct").args(["-n", "-j", &job]).output().is_ok_and(|o| o.status.success());
    let st = ok(&era(&["sweep", "status", s(&on_slurm)]));
    if accounting {
        assert!(st.contains(&format!("(slurm: {job}_1 CANCELLED")), "{st}");
    } else {
        eprintln!("note: no Slurm accounting here: the sacct part of `era sweep status` is not checked");
    }

    // Submitting the sweep again hands Slurm the cancelled run alone, which continues from its checkpoint.
    let again = era(&["sweep", s(&spec), "--out", s(&on_slurm), "--slurm"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("7 done, 0 running or queued, 1 to run"));
    let job2 = job_of(&again);
    wait_for("the second array to leave the queue", Duration::from_secs(600), || squeue(&job2).is_empty());
    assert_eq!(states(&on_slurm), RUNS.map(|r| (r.to_string(), "done".to_string())));
    let resumed = log(&victim);
    assert!(!resumed.resumes.is_empty(), "the cancelled run continued from its checkpoint");

    // A time limit: Slurm asks the run to stop --stop-before seconds ahead (SIGTERM), it checkpoints
    // and writes its `stopped` footer; submitted again, it continues from that checkpoint.
    let long = dir.path().join("long.toml");
    let one = GRID.replace("steps = 900", "steps = 1000000").replace("seed = [0, 1]", "seed = [0]");
    let one = one.replace(", \"MountainCarContinuous-v0\"", "").replace(", sac = \"off\"", "");
    std::fs::write(&long, one).unwrap();
    let limited = dir.path().join("limited");
    let run = limited.join("seed-0/sac-era-Pendulum-v1");
    let mut ends = Vec::new();
    for attempt in 0..2 {
        let job =
            job_of(&era(&["sweep", s(&long), "--out", s(&limited), "--slurm", "--time", "1", "--stop-before", "45"]));
        wait_for("the time limit", Duration::from_secs(300), || squeue(&job).is_empty());
        let l = log(&run);
        let footer = l.footer.clone().unwrap_or_else(|| panic!("attempt {attempt}: no footer: killed, not stopped"));
        assert_eq!(footer.status, Status::Stopped);
        assert_eq!(l.resumes.len(), attempt, "attempt {attempt} continued from the checkpoint");
        ends.push(footer.final_step);
    }
    assert!(ends[1] > ends[0], "the second attempt went on from the first's checkpoint: {ends:?}");
    // The footer's step is the last record's; the run continues from the checkpoint written as it stopped.
    let st = ok(&era(&["sweep", "status", s(&limited)]));
    let at: u64 = st
        .split("continues from its checkpoint at step ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(at >= ends[1] && run.join(format!("checkpoints/step-{at:012}/meta.json")).is_file(), "{st} {ends:?}");

    // The same sweep run here gives the same table.
    let here = dir.path().join("local");
    ok(&era(&["sweep", s(&spec), "--out", s(&here), "--local", "2"]));
    assert_eq!(table(&on_slurm), table(&here));
    assert_eq!(records(&resumed), records(&log(&here.join(RUNS[1]))), "the cancelled run equals an uninterrupted one");
}

//! End-to-end tests of the MuJoCo tasks through `era` (feature `mujoco`; needs
//! `eval "$(scripts/setup-mujoco.sh)"`): rollouts from a given state, all four agents training
//! unchanged, an exact resume after kill -9, and the environment benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use common::{era, kill_at_checkpoint, log, ok, records, train_control_args};
use era_shared::env::MUJOCO_ENV_IDS;
use era_shared::runlog::Status;

#[test]
fn rollout_from_qpos_then_qvel_for_every_task() {
    let dir = tempfile::tempdir().unwrap();
    let specs: serde_json::Value = serde_json::from_str(&ok(&era(&["env", "list", "--json"]))).unwrap();
    for id in MUJOCO_ENV_IDS {
        let spec = specs.as_array().unwrap().iter().find(|s| s["id"] == *id).unwrap();
        let dims = spec["action"]["low"].as_array().unwrap().len();
        // "qpos[N] then qvel[M]"
        let layout = spec["state_layout"].as_str().unwrap();
        let sizes: Vec<usize> =
            layout.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
        let (nq, nv) = (sizes[0], sizes[1]);
        // Upright at the model's rest height: z is qpos[1] for the planar tasks, qpos[2] (with a unit
        // quaternion after it) for Ant and Humanoid.
        let mut qpos = vec![0.0; nq];
        if nq - nv == 1 {
            qpos[3] = 1.0;
            qpos[2] = if *id == "Ant-v5" { 0.75 } else { 1.4 };
        } else if *id != "HalfCheetah-v5" {
            qpos[1] = 1.25;
        }
        let state: Vec<f64> = qpos.into_iter().chain(std::iter::repeat_n(0.0, nv)).collect();
        let actions: Vec<Vec<f32>> = (0..5).map(|t| (0..dims).map(|i| 0.1 * ((t + i) % 3) as f32).collect()).collect();
        let path = dir.path().join(format!("{id}.json"));
        std::fs::write(&path, serde_json::to_string(&actions).unwrap()).unwrap();
        let state = serde_json::to_string(&state).unwrap();
        let out = ok(&era(&["env", "rollout", "--env", id, "--state", &state, "--actions", path.to_str().unwrap()]));
        let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 5, "{id}: {out}");
        assert!(lines.iter().all(|l| l["reward"].as_f64().unwrap().is_finite()), "{id}");
        // Same state and actions: same output.
        let again = ok(&era(&["env", "rollout", "--env", id, "--state", &state, "--actions", path.to_str().unwrap()]));
        assert_eq!(out, again, "{id}");
        let short = serde_json::to_string(&vec![0.0; nv]).unwrap();
        let bad = era(&["env", "rollout", "--env", id, "--state", &short, "--actions", path.to_str().unwrap()]);
        assert_eq!(bad.status.code(), Some(2), "{id}");
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains(layout),
            "{id}: {}",
            String::from_utf8_lossy(&bad.stderr)
        );
    }
    // MuJoCo leaves no MUJOCO_LOG.TXT behind.
    assert!(!std::path::Path::new("MUJOCO_LOG.TXT").exists());
}

#[test]
fn all_four_agents_train_on_mujoco_tasks() {
    let dir = tempfile::tempdir().unwrap();
    for (algo, era_flag, env) in [
        ("sac", "on", "Hopper-v5"),
        ("sac", "off", "HalfCheetah-v5"),
        ("ppo", "on", "Ant-v5"),
        ("ppo", "off", "Walker2d-v5"),
    ] {
        let name = format!("{algo}-{era_flag}-{env}");
        let mut extra = vec!["--env", env, "--algo", algo, "--era", era_flag, "--steps", "300", "--eval-every", "300"];
        if algo == "ppo" {
            extra.extend(["--num-steps", "100"]);
        }
        ok(&era(&train_control_args(dir.path(), &name, &extra)));
        let log = log(&dir.path().join(&name));
        assert_eq!(log.footer.as_ref().unwrap().status, Status::Completed, "{name}");
        assert_eq!(log.header.target, env);
        assert!(log.records.iter().any(|r| r.metrics.contains_key("eval/return_mean")), "{name}");
    }
}

#[test]
fn kill_9_then_resume_equals_an_uninterrupted_run_on_hopper() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--env", "Hopper-v5", "--steps", "1500", "--eval-every", "500", "--checkpoint-every", "300"];
    ok(&era(&train_control_args(dir.path(), "whole", &common)));
    let run = dir.path().join("killed");
    kill_at_checkpoint(
        &train_control_args(dir.path(), "killed", &common),
        &run.join("checkpoints/step-000000000900/meta.json"),
    );
    ok(&era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]));
    assert_eq!(records(&log(&dir.path().join("whole"))), records(&log(&run)));
}

#[test]
fn bench_reports_steps_per_second_for_every_task() {
    let out = ok(&era(&["bench", "control", "--algo", "env", "--env-steps", "200"]));
    for id in MUJOCO_ENV_IDS {
        let line = out.lines().find(|l| l.contains(id)).unwrap_or_else(|| panic!("{id} missing: {out}"));
        assert!(line.trim_end().ends_with("steps/s"), "{line}");
        let rate: f64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0.0);
        assert!(rate > 0.0, "{line}");
    }
}

//! End-to-end tests of the DeepMind Control tasks through `era` (feature `mujoco`; needs
//! `eval "$(scripts/setup-mujoco.sh)"`): rollouts from a seed or a state, the errors a user meets,
//! SAC-ERA training with the released DMC protocol and an action repeat, and the benchmark beside
//! dm_control's own loop.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TINY_CONTROL, TINY_SAC, era, log, ok};
#[cfg(feature = "render")]
use common::{changes, gif_frames, refused};
use era_shared::metrics;
use era_shared::runlog::Status;

fn actions_file(dir: &std::path::Path, dims: usize, steps: usize) -> String {
    let actions: Vec<Vec<f32>> =
        (0..steps).map(|t| (0..dims).map(|i| 0.5 * (((t + i) % 5) as f32 - 2.0) / 2.0).collect()).collect();
    let path = dir.join(format!("actions-{dims}.json"));
    std::fs::write(&path, serde_json::to_string(&actions).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// The arguments of a tiny SAC-ERA run on dmc/walker-run of `steps` steps under `out`.
fn tiny_walker_run<'a>(out: &'a str, steps: &'a str) -> Vec<&'a str> {
    let mut args = vec!["train", "control", "--env", "dmc/walker-run", "--out", out, "--steps", steps];
    args.extend_from_slice(TINY_CONTROL);
    args.extend_from_slice(TINY_SAC);
    args
}

#[test]
fn rollout_from_a_seed_or_a_state_with_activations() {
    let dir = tempfile::tempdir().unwrap();
    let actions = actions_file(dir.path(), 12, 4);
    let seeded = ok(&era(&["env", "rollout", "--env", "dmc/quadruped-run", "--seed", "3", "--actions", &actions]));
    let lines: Vec<serde_json::Value> = seeded.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert_eq!(l["obs"].as_array().unwrap().len(), 78);
        assert_eq!((l["terminated"].as_bool(), l["truncated"].as_bool()), (Some(false), Some(false)));
    }
    // qpos (23: the root at 0.5 m, upright) ⊕ qvel (22) ⊕ act (12): the same output twice.
    let mut state = vec![0.0; 57];
    state[2] = 0.5;
    state[3] = 1.0;
    let state = serde_json::to_string(&state).unwrap();
    let args = ["env", "rollout", "--env", "dmc/quadruped-run", "--state", &state, "--actions", &actions];
    let once = ok(&era(&args));
    assert_eq!(once, ok(&era(&args)));
    assert_ne!(once, seeded);
}

#[test]
fn bad_names_and_states_are_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let actions = actions_file(dir.path(), 6, 1);
    let out = era(&["env", "rollout", "--env", "dmc/walker-jog", "--actions", &actions]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown environment `dmc/walker-jog`") && err.contains("dmc/walker-run"), "{err}");
    let out = era(&["env", "rollout", "--env", "dmc/walker-run", "--state", "[0, 1]", "--actions", &actions]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("state has 2 values, expected 18 (qpos[9] then qvel[9])"), "{err}");
    // Without the suite's models: the setup script that fetches them is named.
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_era"))
        .args(["env", "rollout", "--env", "dmc/walker-run", "--actions", &actions])
        .env("ERA_DMC_ASSETS", empty.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("walker.xml") && err.contains("scripts/setup-mujoco.sh"), "{err}");
}

#[test]
fn sac_era_trains_with_the_released_dmc_protocol_and_an_action_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = tiny_walker_run(dir.path().to_str().unwrap(), "300");
    ok(&era(&args));
    // The default name has no slash: one folder.
    let run = dir.path().join("sac-era-dmc-walker-run");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    // The released protocol: evaluation every 25 000 steps, no action repeat.
    assert_eq!((config["eval_every"].as_u64(), config["action_repeat"].as_u64()), (Some(25_000), Some(1)));
    assert_eq!(log(&run).footer.as_ref().unwrap().status, Status::Completed);

    // Repeating each action twice: episodes of 500 actions.
    let at = args.iter().position(|a| *a == "300").unwrap();
    args[at] = "600";
    args.extend_from_slice(&["--action-repeat", "2", "--eval-every", "600", "--run-name", "repeat"]);
    ok(&era(&args));
    let log = log(&dir.path().join("repeat"));
    let lengths: Vec<f64> =
        log.records.iter().filter_map(|r| r.metrics.get(metrics::EPISODIC_LENGTH).copied().flatten()).collect();
    assert_eq!(lengths, [500.0]);
    assert!(log.records.iter().any(|r| r.metrics.contains_key(metrics::EVAL_RETURN)));
}

#[test]
fn bench_times_the_suite_beside_dm_control() {
    let out = ok(&era(&[
        "bench",
        "control",
        "--algo",
        "env",
        "--env",
        "dmc/cheetah-run",
        "--against",
        "dm-control",
        "--env-steps",
        "200",
        "--repeats",
        "1",
    ]));
    let line = out.lines().find(|l| l.contains("dmc/cheetah-run")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("era") && line.contains("dm_control") && line.trim_end().ends_with('×'), "{line}");
    let refused = era(&["bench", "control", "--algo", "env", "--env", "Pendulum-v1", "--against", "dm-control"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a DeepMind Control task"));
}

/// MuJoCo's own offscreen renderer draws the video, through EGL with no display: the variables a
/// desktop session sets are removed, as on a server.
#[cfg(feature = "render")]
#[test]
fn a_mujoco_task_s_video_is_rendered_offscreen_by_mujoco_without_a_display() {
    let dir = tempfile::tempdir().unwrap();
    ok(&era(&tiny_walker_run(dir.path().to_str().unwrap(), "200")));
    let run = dir.path().join("sac-era-dmc-walker-run");
    let video = dir.path().join("walker.gif");
    let (r, v) = (run.to_str().unwrap(), video.to_str().unwrap());
    let eval = ["eval", "control", "--run", r, "--episodes", "1", "--video", v, "--video-size", "128x96"];
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_era"))
        .args(eval)
        .args(["--video-every", "10"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    ok(&result);
    assert!(String::from_utf8_lossy(&result.stderr).contains("MuJoCo's offscreen renderer"));
    let (w, h, frames) = gif_frames(&video);
    // 1 000 steps and the reset, every tenth picture kept.
    assert_eq!((w, h, frames.len()), (128, 96, 101));
    // The barely trained walker falls and then lies nearly still (40 of 100 frames changed when written).
    assert!(changes(&frames) >= 20, "the walker moves: {} of 100 frames changed", changes(&frames));
    assert_ne!(frames[0], frames[100]);
    // A rendered scene, not a blank or white buffer: many distinct colours.
    let colours: std::collections::HashSet<&[u8]> = frames[50].chunks(4).collect();
    assert!(colours.len() > 50, "{} colours", colours.len());
    // Beyond the model's offscreen buffer (640 × 480 in the suite's models): named, with the fix.
    let mut big = eval.to_vec();
    let last = big.len() - 1;
    big[last] = "1024x768";
    refused(&era(&big), "offscreen buffer", &big);
}

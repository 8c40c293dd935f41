//! End-to-end tests of `era train control`, `era eval control` and `era bench control`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

#[cfg(feature = "mp4")]
use common::mp4_frames;
use common::{
    changed, changes, era, gif_frames, kill_at_checkpoint, log, ok, records, refused, settings, signal_at_checkpoint,
    spawn_until, train_control_args,
};
use era_shared::runlog::Status;

fn train(out: &Path, name: &str, extra: &[&str]) -> Output {
    era(&train_control_args(out, name, extra))
}

#[test]
fn every_algorithm_trains_writes_its_log_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    for (algo, era_flag, env) in [
        ("sac", "on", "Pendulum-v1"),
        ("sac", "off", "TwoLinkReacher-v0"),
        ("ppo", "on", "FiveLinkArm-v0"),
        ("ppo", "off", "MountainCarContinuous-v0"),
    ] {
        let name = format!("{algo}-{era_flag}");
        let mut extra = vec!["--env", env, "--algo", algo, "--era", era_flag, "--steps", "400", "--eval-every", "200"];
        if algo == "ppo" {
            extra.extend(["--num-steps", "100"]);
        }
        let out = train(dir.path(), &name, &extra);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let run = dir.path().join(&name);
        let log = log(&run);
        assert_eq!(log.footer.as_ref().unwrap().status, Status::Completed);
        assert_eq!(log.header.target, env);
        assert_eq!(log.header.era.enabled, era_flag == "on");
        let keys: Vec<&str> = log.records.iter().flat_map(|r| r.metrics.keys().map(String::as_str)).collect();
        for key in [
            "charts/episodic_return",
            "eval/return_mean",
            "policy/entropy",
            "policy/gaussian_entropy",
            "policy/std_mean",
            "policy/std_min",
            "perf/steps_per_sec",
        ] {
            assert!(
                keys.contains(&key) || (key == "charts/episodic_return" && env == "MountainCarContinuous-v0"),
                "{name}: no {key}"
            );
        }
        if era_flag == "on" {
            assert!(keys.contains(&"era/delta"), "{name}");
        }
        assert!(keys.contains(&"losses/critic") && keys.contains(&"losses/actor"), "{name}");
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
        assert_eq!(config["agent"]["algo"], algo);
        let e = era(&["eval", "control", "--run", run.to_str().unwrap(), "--episodes", "2"]);
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        assert!(String::from_utf8_lossy(&e.stdout).contains("mean return"), "{}", String::from_utf8_lossy(&e.stdout));
    }
}

/// A fresh `era train control --algo sac` saves the authors' released SAC-ERA settings, ERA on and off
/// alike (only the entropy control differs), in config.json and in the log's header.
#[test]
fn a_fresh_sac_run_saves_the_released_settings() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["on", "off"] {
        let name = format!("fresh-{flag}");
        let args = ["train", "control", "--env", "Pendulum-v1", "--era", flag, "--steps", "10", "--eval-episodes", "1"];
        let rest = ["--backend", "ndarray", "--quiet", "--run-name", &name, "--out", dir.path().to_str().unwrap()];
        let out = era(&[&args[..], &rest[..]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let run = dir.path().join(&name);
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
        let header = log(&run).header.config;
        for agent in [&config["agent"], &header["agent"]] {
            let released = serde_json::json!({
                "algo": "sac",
                "hidden": [512, 512],
                "activation": "elu",
                "critic_norm": "layer",
                "init": "orthogonal",
                "actor_lr": 3e-4,
                "critic_lr": 3e-4,
                "critic_weight_decay": 1e-4,
                "gamma": 0.99,
                "tau": 0.005,
                "batch_size": 256,
                "buffer_size": 1_000_000,
                "learning_starts": 5000,
                "updates_per_step": 2,
            });
            for (key, want) in released.as_object().unwrap() {
                assert_eq!(&agent[key], want, "era {flag}: `{key}`");
            }
            let era_cfg = &agent["era"];
            assert_eq!(era_cfg["enabled"], flag == "on");
            // δ ≡ 0 (no learned δ), H₀ = 0.25·D on the untruncated Gaussian, log σ clipped to [−8, 0].
            assert_eq!((era_cfg["delta"].as_f64(), era_cfg["delta_auto"].as_bool()), (Some(0.0), Some(false)));
            assert_eq!(era_cfg["h0_per_dim"].as_f64(), Some(0.25));
            assert_eq!((era_cfg["log_std_min"].as_f64(), era_cfg["log_std_max"].as_f64()), (Some(-8.0), Some(0.0)));
        }
    }
}

#[test]
fn a_runs_config_json_repeats_the_run_and_flags_still_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    // Settings away from the defaults, by flag and by `--set` (a field without a flag).
    let extra = ["--env", "Pendulum-v1", "--steps", "300", "--eval-every", "300", "--seed", "3", "--era", "off"];
    let set = ["--critic-weight-decay", "0", "--set", "agent.tau=0.01", "--set", "gamma=0.95"];
    ok(&train(dir.path(), "a", &[&extra[..], &set[..]].concat()));
    let a = dir.path().join("a");
    let (s, config) = (settings(&a), a.join("config.json"));
    assert_eq!((s["agent"]["tau"].as_f64(), s["agent"]["gamma"].as_f64()), (Some(0.01), Some(0.95)));
    assert_eq!((s["seed"].as_u64(), s["agent"]["era"]["enabled"].as_bool()), (Some(3), Some(false)));
    // The config alone repeats the run: the same settings, and on ndarray the same records.
    let config = config.to_str().unwrap();
    ok(&era(&["train", "control", "--config", config, "--out", out, "--run-name", "b", "--quiet"]));
    let b = dir.path().join("b");
    assert_eq!(settings(&b), s);
    assert_eq!(records(&log(&a)), records(&log(&b)));
    // Flags laid over it change their own fields and nothing else.
    let flags = ["--seed", "4", "--lr", "0.001", "--delta", "0.5", "--quiet"];
    ok(&era(&[&["train", "control", "--config", config, "--out", out, "--run-name", "c"][..], &flags[..]].concat()));
    let fields = changed(&s, &settings(&dir.path().join("c")));
    assert_eq!(fields, ["agent.actor_lr", "agent.critic_lr", "agent.era.delta", "seed"]);
    // An option of the other algorithm, a mistyped --set and a type error are named, nothing written.
    for (bad, needle) in [
        (&["--num-steps", "64"][..], "--num-steps does not apply to sac"),
        (&["--set", "agent.taus=1"], "no setting `agent.taus`"),
        (&["--set", "agent.tau=fast"], "`agent.tau` takes a number"),
        (&["--algo", "ppo"], "the --config run is sac"),
    ] {
        let o = era(&[&["train", "control", "--config", config, "--out", out, "--run-name", "d"][..], bad].concat());
        refused(&o, needle, bad);
    }
    assert!(!dir.path().join("d").exists());
}

#[test]
fn print_config_prints_each_seeds_config_json_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let printed = ok(&era(&[
        "train",
        "control",
        "--env",
        "Pendulum-v1",
        "--seeds",
        "2",
        "--seed",
        "3",
        "--set",
        "gamma=0.9",
        "--out",
        out,
        "--print-config",
    ]));
    let configs: Vec<serde_json::Value> = printed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(configs.len(), 2);
    assert_eq!((configs[0]["seed"].as_u64(), configs[1]["seed"].as_u64()), (Some(3), Some(4)));
    assert_eq!(configs[1]["agent"]["gamma"], 0.9);
    assert_eq!(configs[0]["run_name"], "sac-era-Pendulum-v1");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing written");
    // A bad setting is still refused; so is a run name that would nest folders.
    for (bad, needle) in [
        (&["--set", "gamma=x"][..], "`agent.gamma` takes a number"),
        (&["--run-name", "a/b"], "a run name is one folder name"),
    ] {
        let o = era(&[&["train", "control", "--env", "Pendulum-v1", "--out", out, "--print-config"][..], bad].concat());
        refused(&o, needle, bad);
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing written");
}

#[test]
fn kill_9_then_resume_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--env", "Pendulum-v1", "--steps", "3000", "--eval-every", "1000", "--checkpoint-every", "500"];
    let out = train(dir.path(), "whole", &common);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let args = train_control_args(dir.path(), "killed", &common);
    let run = dir.path().join("killed");
    kill_at_checkpoint(&args, &run.join("checkpoints/step-000000001500/meta.json"));
    assert!(log(&run).footer.is_none(), "a killed run has no footer");

    let resumed = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let (a, b) = (log(&dir.path().join("whole")), log(&run));
    assert!(!b.resumes.is_empty() && b.footer.as_ref().unwrap().status == Status::Completed);
    let steps: Vec<u64> = b.records.iter().map(|r| r.step).collect();
    assert!(steps.windows(2).all(|w| w[0] <= w[1]), "steps go forward: {steps:?}");
    assert_eq!(records(&a), records(&b), "the resumed run's log equals the uninterrupted one");

    let again = era(&["train", "control", "--resume", run.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("completed"));

    // SIGTERM (what `timeout`, schedulers and container stops send) stops a run as Ctrl-C does: a
    // checkpoint at the step it reached, a `stopped` footer, and a resume that equals the whole run.
    let args = train_control_args(dir.path(), "terminated", &common);
    let run = dir.path().join("terminated");
    let ended = signal_at_checkpoint(&args, &run.join("checkpoints/step-000000001000/meta.json"), "TERM");
    let stopped = log(&run);
    let footer = stopped.footer.as_ref().expect("a terminated run writes its footer");
    assert_eq!(footer.status, Status::Stopped, "ended with {ended}");
    let name = format!("checkpoints/step-{:012}/meta.json", footer.final_step);
    assert!(run.join(name).exists(), "a checkpoint at the step it stopped ({})", footer.final_step);
    let resumed = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(records(&a), records(&log(&run)), "the resumed run's log equals the uninterrupted one");
}

#[test]
fn a_run_being_written_refuses_a_second_writer_until_its_process_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--env", "Pendulum-v1", "--steps", "100000", "--checkpoint-every", "500"];
    let run = dir.path().join("busy");
    let mut first = spawn_until(
        &train_control_args(dir.path(), "busy", &common),
        &run.join("checkpoints/step-000000000500/meta.json"),
    );
    let second = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("process {} is writing this run", first.id())), "{err}");
    first.kill().unwrap();
    first.wait().unwrap();
    let records_before = log(&run).records.len();
    // The killed process's lock went with it: a resume takes the run over.
    let latest = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("step-")?.parse::<u64>().ok())
        .max()
        .unwrap();
    // A checkpoint the resumed process writes itself (two intervals on), so it is signalled mid-run.
    let next = format!("checkpoints/step-{:012}/meta.json", latest + 1000);
    let resume = ["train", "control", "--resume", run.to_str().unwrap(), "--quiet"];
    signal_at_checkpoint(&resume, &run.join(next), "TERM");
    let taken_over = log(&run);
    assert_eq!(taken_over.footer.as_ref().map(|f| f.status), Some(Status::Stopped));
    assert!(taken_over.records.len() >= records_before && !taken_over.resumes.is_empty());
}

#[test]
fn several_seeds_run_in_parallel_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), "multi", &["--env", "Pendulum-v1", "--steps", "300", "--seeds", "2", "--seed", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a, b) = (log(&dir.path().join("multi/seed-5")), log(&dir.path().join("multi/seed-6")));
    assert_eq!((a.header.seed, b.header.seed), (5, 6));
    assert_ne!(records(&a), records(&b));
    let cmp = era(&["compare", dir.path().join("multi").to_str().unwrap()]);
    let table = String::from_utf8_lossy(&cmp.stdout);
    assert!(cmp.status.success() && table.contains("eval/return_mean") && table.contains("sac-era"), "{table}");
    // The same name again gets a fresh folder, never overwriting.
    let out = train(dir.path(), "multi", &["--env", "Pendulum-v1", "--steps", "200"]);
    assert!(out.status.success());
    assert!(dir.path().join("multi-2/run.jsonl").exists());
}

#[test]
fn bad_settings_are_named_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--env", "Pendulum-v9"], "unknown environment `Pendulum-v9`"),
        (&["--env", "FiveLinkArm-v0", "--h0", "9"], "H0"),
        (&["--env", "Pendulum-v1", "--delta", "-1"], "neither `auto` nor a number"),
        (&["--env", "Pendulum-v1", "--algo", "dqn"], "unknown algorithm `dqn`"),
        (&["--resume", "/nonexistent/run"], "/nonexistent/run"),
    ];
    for (args, needle) in cases {
        let out = train(dir.path(), "bad", args);
        refused(&out, needle, args);
    }
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn bench_reports_ratios_and_env_speed() {
    let out = era(&[
        "bench",
        "control",
        "--width",
        "16",
        "--updates",
        "5",
        "--repeats",
        "1",
        "--env-steps",
        "200",
        "--algo",
        "all",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for needle in ["sac-era", "ppo-era", "ERA overhead", "Pendulum-v1", "FiveLinkArm-v0", "steps/s"] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
}

/// wgpu really trains (on a software adapter here; CI installs Mesa's lavapipe).
#[test]
fn wgpu_backend_smoke() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["train", "control", "--out", dir.path().to_str().unwrap(), "--run-name", "gpu"];
    args.extend_from_slice(&[
        "--env",
        "Pendulum-v1",
        "--steps",
        "40",
        "--learning-starts",
        "20",
        "--hidden",
        "8",
        "--batch-size",
        "8",
        "--eval-episodes",
        "1",
        "--eval-every",
        "40",
        "--log-every",
        "20",
        "--backend",
        "wgpu",
        "--quiet",
    ]);
    let out = era(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = log(&dir.path().join("gpu"));
    assert_eq!(log.header.config["backend"], "wgpu");
    assert!(log.records.iter().any(|r| r.metrics.contains_key("losses/critic")), "updates ran on wgpu");
}

/// `--backend fast`: SAC and PPO train on the fast CPU path, deterministically, resume exactly after
/// kill -9, evaluate; what it cannot run is refused with the reason.
#[test]
fn fast_backend_trains_resumes_exactly_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let sac = ["--steps", "4000", "--eval-every", "1000", "--checkpoint-every", "500"];
    let ppo =
        ["--algo", "ppo", "--num-steps", "256", "--steps", "2048", "--eval-every", "512", "--checkpoint-every", "512"];
    for (algo, extra, checkpoint, losses) in [
        ("sac", &sac[..], "step-000000001000", ["losses/critic", "losses/actor"]),
        ("ppo", &ppo[..], "step-000000001024", ["losses/critic", "losses/approx_kl"]),
    ] {
        let common = [&["--env", "Pendulum-v1", "--backend", "fast"][..], extra].concat();
        let name = |n: &str| format!("{algo}-{n}");
        for n in ["a", "b"] {
            let out = train(dir.path(), &name(n), &common);
            assert!(out.status.success(), "{algo}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let (a, b) = (log(&dir.path().join(name("a"))), log(&dir.path().join(name("b"))));
        assert_eq!(records(&a), records(&b), "{algo}: same seed, same run");
        let keys: Vec<&str> = a.records.iter().flat_map(|r| r.metrics.keys().map(String::as_str)).collect();
        for key in losses.into_iter().chain(["era/delta", "policy/gaussian_entropy", "eval/return_mean"]) {
            assert!(keys.contains(&key), "{algo}: no {key} in {keys:?}");
        }
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(name("a")).join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["backend"], "fast");

        let killed = name("killed");
        let args = train_control_args(dir.path(), &killed, &common);
        let run = dir.path().join(&killed);
        kill_at_checkpoint(&args, &run.join("checkpoints").join(checkpoint).join("meta.json"));
        assert!(log(&run).footer.is_none(), "{algo}: a killed run has no footer");
        let resumed = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
        assert!(resumed.status.success(), "{algo}: {}", String::from_utf8_lossy(&resumed.stderr));
        assert!(!log(&run).resumes.is_empty());
        assert_eq!(records(&a), records(&log(&run)), "{algo}: the resumed fast run's log equals the uninterrupted one");

        // Evaluation reads the fast path's checkpoint whatever --backend says.
        let e = era(&["eval", "control", "--run", run.to_str().unwrap(), "--episodes", "1"]);
        assert!(e.status.success() && String::from_utf8_lossy(&e.stdout).contains("mean return"), "{algo}");
    }
}

#[test]
fn the_jax_comparison_refuses_what_it_cannot_measure_and_names_the_fix() {
    let base = ["bench", "control", "--width", "16", "--updates", "5", "--repeats", "1", "--against", "jax"];
    for (extra, needle) in [
        (&["--algo", "ppo", "--backend", "fast"][..], "SAC update only"),
        (&["--algo", "sac"][..], "not the ndarray reference"),
        (
            &["--algo", "sac", "--backend", "fast", "--python", "/nonexistent/python3"][..],
            "cannot run /nonexistent/python3",
        ),
        // An interpreter that fails, as one without JAX does.
        (&["--algo", "sac", "--backend", "fast", "--python", "false"][..], "false failed"),
    ] {
        let out = era(&[&base[..], extra].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {needle} missing in {stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}: printed {}", String::from_utf8_lossy(&out.stdout));
    }
    for extra in [["--python", "false"], ["--python", "/nonexistent/python3"]] {
        let out = era(&[&base[..], &["--algo", "sac", "--backend", "fast"], &extra[..]].concat());
        assert!(String::from_utf8_lossy(&out.stderr).contains("scripts/setup-jax.sh"), "{extra:?}");
    }
    // An interpreter that runs but does not print a rate: the message quotes what it printed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("python");
        std::fs::write(&fake, "#!/bin/sh\ncase \"$1\" in -c) echo 0.10.2 ;; *) cat >/dev/null; echo oops ;; esac\n")
            .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out =
            era(&[&base[..], &["--algo", "sac", "--backend", "fast", "--python", fake.to_str().unwrap()]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("expected `<number> updates/s`") && stderr.contains("oops"),
            "{stderr}"
        );
    }
}

#[test]
fn fast_bench_measures_both_paths_side_by_side() {
    for (algo, rate_line, needles) in [
        ("sac", "sac-era (fast)", ["fast", "ndarray", "speed-up", "training loop", "updates/s"]),
        ("ppo", "ppo-era (fast)", ["fast", "ndarray", "speed-up", "rollout of 2048 steps", "environment steps/s"]),
    ] {
        let args = ["bench", "control", "--algo", algo, "--width", "16", "--updates", "5", "--repeats", "1"];
        let out = era(&[&args[..], &["--backend", "fast"]].concat());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{algo}: {}", String::from_utf8_lossy(&out.stderr));
        for needle in needles {
            assert!(text.contains(needle), "{algo}: {needle} missing in {text}");
        }
        let rate: f64 = text
            .lines()
            .find(|l| l.contains(rate_line))
            .and_then(|l| l.split_whitespace().find_map(|v| v.parse().ok()))
            .unwrap_or_else(|| panic!("{algo}: no rate in {text}"));
        assert!(rate > 0.0, "{text}");
    }
}

#[test]
fn a_diverging_run_ends_diverged_and_resumes_only_from_a_named_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    // A learning rate of 1e30 turns the networks' weights into NaN at the first update (step 101).
    let extra = ["--env", "Pendulum-v1", "--steps", "600", "--lr", "1e30", "--critic-weight-decay", "0"];
    let extra = [&extra[..], &["--checkpoint-every", "50"]].concat();
    let out = train(dir.path(), "nan", &extra);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("diverged: the policy's action [0] is NaN at step 101"), "{stderr}");
    let run = dir.path().join("nan");
    let footer = log(&run).footer.unwrap();
    assert_eq!(footer.status, Status::Diverged);
    assert!(footer.reason.unwrap().contains("learning rate"));
    // A plain resume is refused with the checkpoints to go back to.
    let resume = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
    let stderr = String::from_utf8_lossy(&resume.stderr);
    assert_eq!(resume.status.code(), Some(2));
    assert!(stderr.contains("--from-step STEP (checkpoints at steps: 50, 100)"), "{stderr}");
    // With a sane learning rate written into its config, it continues from step 50 and completes.
    let config = run.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap().replace("1e+30", "0.0003");
    std::fs::write(&config, text).unwrap();
    let resume = era(&["train", "control", "--resume", run.to_str().unwrap(), "--from-step", "50", "--quiet"]);
    assert!(resume.status.success(), "{}", String::from_utf8_lossy(&resume.stderr));
    let l = log(&run);
    assert_eq!(l.footer.unwrap().status, Status::Completed);
    assert_eq!(l.resumes.last().unwrap().step, 50);
    assert!(run.join("checkpoints/superseded-step-000000000100/meta.json").is_file());
}

/// `era args` with files limited to `kib` KiB (as a full disk would refuse writes past it).
fn era_with_file_limit(args: &[&str], kib: u32) -> Output {
    // SIGXFSZ ignored, so that a write past the limit fails with EFBIG as one past a full disk does.
    let script = format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"");
    std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_era"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_stops_the_run_with_its_checkpoints_and_log_intact() {
    let dir = tempfile::tempdir().unwrap();
    let common =
        ["--env", "Pendulum-v1", "--algo", "ppo", "--num-steps", "100", "--steps", "6000", "--checkpoint-every", "500"];
    let whole = train(dir.path(), "whole", &common);
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));

    // The log reaches the limit first: the line being written is cut off, the footer cannot be written.
    let run = dir.path().join("full");
    let out = era_with_file_limit(&train_control_args(dir.path(), "full", &common), 12);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("run.jsonl: cannot write") && stderr.contains("footer could not be written"), "{stderr}");
    let cut = log(&run);
    assert!(cut.truncated_at.is_some() && cut.footer.is_none() && !cut.records.is_empty());
    // With space again, the run continues from its newest checkpoint (the cut-off line dropped first)
    // and ends as if nothing had happened.
    let resumed = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success() && stderr.contains("dropped its cut-off last line"), "{stderr}");
    assert_eq!(records(&log(&dir.path().join("whole"))), records(&log(&run)));

    // A checkpoint that does not fit is not left half-written: the previous ones stay the newest.
    let run = dir.path().join("sac");
    let sac = ["--env", "Pendulum-v1", "--steps", "3000", "--checkpoint-every", "200"];
    let out = era_with_file_limit(&train_control_args(dir.path(), "sac", &sac), 24);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the checkpoint was not written; the previous ones are intact"), "{stderr}");
    let names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("step-")), "{names:?}");
    assert_eq!(log(&run).footer.unwrap().status, Status::Failed);
    let resumed = era(&["train", "control", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
}

#[test]
fn eval_writes_the_first_episode_as_a_gif_of_the_size_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    ok(&train(dir.path(), "p", &["--env", "Pendulum-v1", "--steps", "300", "--eval-every", "300"]));
    let run = dir.path().join("p");
    let video = dir.path().join("videos/p.gif");
    let (r, v) = (run.to_str().unwrap(), video.to_str().unwrap());
    let out = era(&[
        "eval",
        "control",
        "--run",
        r,
        "--episodes",
        "2",
        "--video",
        v,
        "--video-size",
        "160x120",
        "--video-every",
        "2",
    ]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("drawn by the task's scene"));
    let (w, h, frames) = gif_frames(&video);
    // Pendulum's 200 steps and its reset: 201 pictures, every second one kept.
    assert_eq!((w, h, frames.len()), (160, 120, 101));
    assert!(changes(&frames) >= 50, "the pendulum moves: {} of 100 frames changed", changes(&frames));
    assert!(frames[0].chunks(4).any(|p| p[..3] == era_shared::env::Role::Body.rgb()), "the rod is drawn");

    for (flags, needle) in [
        (vec!["--video", "p.avi"], "FILE.gif or FILE.mp4"),
        (vec!["--video", v, "--video-size", "8x8"], "16 to 4096"),
        (vec!["--video", v, "--video-size", "big"], "WIDTHxHEIGHT"),
        (vec!["--video", v, "--video-every", "0"], "--video-every"),
        (vec!["--video", v, "--video-renderer", "mujoco"], "not a MuJoCo task"),
    ] {
        let mut args = vec!["eval", "control", "--run", r, "--episodes", "1"];
        args.extend(flags);
        refused(&era(&args), needle, &args);
    }
}

/// The same episode as a GIF and as an MP4: the MP4 holds as many frames, of the size asked for, at
/// the rate asked for, and they are the GIF's pictures up to H.264's loss, read back both by
/// OpenH264's decoder and by FFmpeg's, as players read it (needs `eval "$(scripts/setup-av.sh)"`).
#[cfg(feature = "mp4")]
#[test]
fn eval_writes_the_first_episode_as_an_mp4_that_shows_what_the_gif_shows() {
    let dir = tempfile::tempdir().unwrap();
    ok(&train(dir.path(), "p", &["--env", "Pendulum-v1", "--steps", "300", "--eval-every", "300"]));
    let run = dir.path().join("p");
    let video = |name: &str| {
        let path = dir.path().join(name);
        let args = ["eval", "control", "--run", run.to_str().unwrap(), "--episodes", "1"];
        let more = ["--video", path.to_str().unwrap(), "--video-size", "160x120", "--video-fps", "25"];
        ok(&era(&[&args[..], &more[..]].concat()));
        path
    };
    let (gif_path, mp4_path) = (video("p.gif"), video("p.mp4"));
    let (_, _, gif) = gif_frames(&gif_path);
    let (w, h, seconds, samples, frames) = mp4_frames(&mp4_path);
    // Pendulum's 200 steps and its reset: 201 frames at 25 a second.
    assert_eq!((w, h, samples, frames.len()), (160, 120, 201, 201));
    assert!((seconds - 201.0 / 25.0).abs() < 1e-3, "{seconds} s");
    assert!(changes(&frames) >= 100, "the pendulum moves: {} of 200 frames changed", changes(&frames));
    for (k, (rgb, rgba)) in frames.iter().zip(&gif).enumerate() {
        let diff: u64 = rgb
            .chunks(3)
            .zip(rgba.chunks(4))
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y))))
            .sum();
        let mean = diff as f64 / rgb.len() as f64;
        // Flat colours over white: 4:2:0 chroma and H.264's quantisation blur the rod's edges only.
        assert!(mean < 1.0, "frame {k}: mean difference {mean:.2} levels from the GIF's");
    }

    // What players see: FFmpeg's decoders (PyAV) read the same stream, and the same pictures.
    let python =
        std::env::var("ERA_AV_PYTHON").expect("ERA_AV_PYTHON is not set: run `eval \"$(scripts/setup-av.sh)\"` first");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/video_reference.py");
    let out = std::process::Command::new(python).arg(script).arg(&mp4_path).arg(&gif_path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ffmpeg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let video = &ffmpeg[mp4_path.to_str().unwrap()];
    assert_eq!((video["codec"].as_str(), video["profile"].as_str()), (Some("h264"), Some("Constrained Baseline")));
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64(), video["frames"].as_u64()),
        (Some(160), Some(120), Some(201))
    );
    assert_eq!(video["fps"].as_f64(), Some(25.0));
    assert!((video["seconds"].as_f64().unwrap() - 201.0 / 25.0).abs() < 1e-3, "{video}");
    let differences = ffmpeg["mean_difference"].as_array().unwrap();
    assert_eq!(differences.len(), 201);
    assert!(
        differences.iter().all(|d| d.as_f64().unwrap() < 1.0),
        "FFmpeg's frames against the GIF's: {differences:?}"
    );
}

//! The explorer's bundled example runs (`assets/runs/`) hold what their commands write today: each
//! arm's command (`era_shared::examples`), run with `--print-config`, gives for every seed the config
//! the seed's log header holds. A setting era gained after a log was recorded is absent from that log
//! and compared at today's default (as `--config` reads an old run); every setting the log has must
//! be equal. So when a default changes, this test names the examples to record again or whose
//! command must now say the old value.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{changed, era, ok};
use era_shared::examples::{EXAMPLES, Example};
use era_shared::runlog::RunLog;

/// The settings of a run without its name (which only says where it was written), every number
/// as a float (a log thinned by another program may write `0` for era's `0.0`).
fn settings(mut config: serde_json::Value) -> serde_json::Value {
    fn floats(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Number(n) => n.as_f64().map_or(serde_json::Value::Number(n), |x| serde_json::json!(x)),
            serde_json::Value::Array(a) => a.into_iter().map(floats).collect(),
            serde_json::Value::Object(o) => o.into_iter().map(|(k, v)| (k, floats(v))).collect(),
            v => v,
        }
    }
    config.as_object_mut().unwrap().remove("run_name");
    floats(config)
}

/// The setting at `path` (dotted) in `config`, if it has one.
fn at<'a>(config: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(config, |v, k| v.get(k))
}

/// Checks every arm of `example`; returns its differences, one line each.
fn differences(example: &Example, out: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for arm in example.arms {
        let mut args: Vec<&str> = arm.command.split_whitespace().skip(1).collect();
        args.extend(["--print-config", "--out", out.to_str().unwrap()]);
        let printed: Vec<serde_json::Value> =
            ok(&era(&args)).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(printed.len(), arm.files.len(), "{}: one config per seed", arm.command);
        for (file, today) in arm.files.iter().zip(printed) {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/runs").join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                found.push(format!("{file}: missing from assets/runs"));
                continue;
            };
            let log = RunLog::parse(&text, file).unwrap();
            let (recorded, today) = (settings(log.header.config.clone()), settings(today));
            for key in changed(&recorded, &today) {
                if at(&recorded, &key).is_some() {
                    found.push(format!(
                        "{file}: {key} is {} in the log, {} from `{}`",
                        pick(&recorded, &key),
                        pick(&today, &key),
                        arm.command
                    ));
                }
            }
        }
    }
    found
}

/// The setting at `path` as written, or `absent`.
fn pick(config: &serde_json::Value, path: &str) -> String {
    at(config, path).map_or("absent".into(), |v| v.to_string())
}

/// Whether an example's runs need the MuJoCo build.
fn needs_mujoco(example: &Example) -> bool {
    example.arms.iter().any(|a| a.command.contains("-v5"))
}

#[test]
fn the_bundled_examples_without_mujoco_hold_what_their_commands_write() {
    let out = tempfile::tempdir().unwrap();
    let examples: Vec<&Example> = EXAMPLES.iter().filter(|e| !needs_mujoco(e)).collect();
    assert!(examples.len() >= 3);
    let found: Vec<String> = examples.iter().flat_map(|e| differences(e, out.path())).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "--print-config created a run folder");
}

#[cfg(feature = "mujoco")]
#[test]
fn the_bundled_mujoco_examples_hold_what_their_commands_write() {
    let out = tempfile::tempdir().unwrap();
    let examples: Vec<&Example> = EXAMPLES.iter().filter(|e| needs_mujoco(e)).collect();
    assert!(examples.len() >= 4);
    let found: Vec<String> = examples.iter().flat_map(|e| differences(e, out.path())).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

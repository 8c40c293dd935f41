//! What the comparison tests against Gymnasium and dm_control share: running a reference script.

use std::path::Path;
use std::process::Command;

/// Runs `scripts/SCRIPT ARGS…` with the comparison venv's Python (`$ERA_GYMNASIUM_PYTHON`, set by
/// `eval "$(scripts/setup-mujoco.sh)"`) and parses its stdout as JSON.
pub fn reference<T: serde::de::DeserializeOwned>(script: &str, args: &[&str]) -> T {
    let python = std::env::var("ERA_GYMNASIUM_PYTHON")
        .expect("ERA_GYMNASIUM_PYTHON is not set: run `eval \"$(scripts/setup-mujoco.sh)\"` first");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("../scripts").join(script);
    // Python's MuJoCo appends its warnings to MUJOCO_LOG.TXT in the working directory: keep that out of the tree.
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let out = Command::new(&python)
        .arg(&script)
        .args(args)
        .current_dir(scratch.path())
        .output()
        .expect("run the comparison venv's Python");
    assert!(out.status.success(), "{}: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    assert!(!root.join("MUJOCO_LOG.TXT").exists(), "MuJoCo wrote a log into the tree");
    serde_json::from_slice(&out.stdout).expect("the reference script's JSON")
}

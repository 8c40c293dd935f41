//! `era bench vision|llm --against torch`: era's training step beside the same model in PyTorch.
//! Needs `eval "$(scripts/setup-torch.sh)"` (PyTorch 2.15.0 from PyPI) and `--features torch`.
#![allow(clippy::unwrap_used)]

mod common;

use common::era;

fn python() -> String {
    std::env::var("ERA_TORCH_PYTHON")
        .expect("ERA_TORCH_PYTHON is not set: run `eval \"$(scripts/setup-torch.sh)\"` first")
}

/// Reads `--json`'s record.
fn record(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn figure(v: &serde_json::Value, key: &str) -> f64 {
    v["figures"][key]["value"].as_f64().unwrap_or_else(|| panic!("{key} missing: {v}"))
}

#[test]
fn the_small_cnn_step_is_measured_beside_pytorch() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("v.json");
    let args = ["bench", "vision", "--model", "small-cnn", "--batch-size", "8", "--steps", "2", "--repeats", "1"];
    let out =
        era(&[&args[..], &["--against", "torch", "--python", &python(), "--json", json.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("PyTorch    training"));
    let v = record(&json);
    assert!(v["settings"]["torch"].as_str().unwrap().starts_with("2.15.0"), "{v}");
    let (torch, plain) = (figure(&v, "small-cnn/train_torch"), figure(&v, "small-cnn/train_plain"));
    assert!(torch > 0.0 && plain > 0.0);
    assert!((figure(&v, "small-cnn/train_plain_vs_torch") - plain / torch).abs() < 1e-9);
}

#[test]
fn the_tiny_grpo_update_and_sampling_are_measured_beside_the_same_architecture_in_pytorch() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("l.json");
    let args = ["bench", "llm", "--prompts", "2", "--group", "2", "--steps", "1", "--repeats", "1"];
    let out =
        era(&[&args[..], &["--against", "torch", "--python", &python(), "--json", json.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = record(&json);
    let (torch, era_time) = (figure(&v, "grpo_update_torch_time"), figure(&v, "grpo_update_plain_time"));
    assert!(torch > 0.0 && era_time > 0.0);
    assert!((figure(&v, "grpo_update_plain_vs_torch") - torch / era_time).abs() < 1e-9);
    assert!((figure(&v, "grpo_update_era_vs_torch") - torch / figure(&v, "grpo_update_era_time")).abs() < 1e-9);
    let (sampling, era_rate) = (figure(&v, "generation_torch"), figure(&v, "sampling"));
    assert!((figure(&v, "sampling_vs_torch") - era_rate / sampling).abs() < 1e-9);
    assert!(era_rate >= figure(&v, "generation"), "sampling alone is part of a rollout: {v}");
    // Peak memory of both processes: PyTorch's holds its interpreter and libraries (hundreds of MiB);
    // era's at least the tiny model's 4 MB of weights.
    for key in ["peak_sampling_torch", "peak_update_torch"] {
        assert!(figure(&v, key) > 100.0, "{key}: {v}");
    }
    for key in ["peak_sampling", "peak_update"] {
        assert!(figure(&v, key) > 4.0, "{key}: {v}");
    }
}

#[test]
fn the_fast_grpo_update_is_measured_beside_burn_and_pytorch_eager_and_compiled_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("f.json");
    let args =
        ["bench", "llm", "--backend", "fast", "--prompts", "2", "--group", "2", "--steps", "1", "--repeats", "1"];
    let peer = ["--against", "torch,torch-compile", "--python", &python(), "--json", json.to_str().unwrap()];
    let out = era(&[&args[..], &peer].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("torch.compile") && text.contains("fast path speed-up"), "{text}");
    let v = record(&json);
    assert!(v["settings"]["torch"].as_str().unwrap().ends_with("(cpu, eager)"), "{v}");
    assert!(v["settings"]["torch-compile"].as_str().unwrap().ends_with("(cpu, torch.compile)"), "{v}");
    let era_time = figure(&v, "grpo_update_plain_time");
    for name in ["torch", "torch-compile"] {
        let torch = figure(&v, &format!("grpo_update_{name}_time"));
        assert!((figure(&v, &format!("grpo_update_plain_vs_{name}")) - torch / era_time).abs() < 1e-9);
        assert!(figure(&v, &format!("generation_{name}")) > 0.0);
    }
    let (burn, speedup) = (figure(&v, "grpo_update_ndarray_time"), figure(&v, "grpo_update_fast_speedup"));
    assert!((speedup - burn / era_time).abs() < 1e-9);
}

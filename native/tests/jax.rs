//! `era bench control --against jax`: the fast path's SAC update beside the same update in JAX.
//! Needs `eval "$(scripts/setup-jax.sh)"` (JAX 0.10.2 from PyPI) and `--features jax`.
#![allow(clippy::unwrap_used)]

mod common;

use common::era;

#[test]
fn the_fast_sac_update_is_measured_beside_jax() {
    let python = std::env::var("ERA_JAX_PYTHON")
        .expect("ERA_JAX_PYTHON is not set: run `eval \"$(scripts/setup-jax.sh)\"` first");
    let args = ["bench", "control", "--algo", "sac", "--backend", "fast", "--against", "jax"];
    let out = era(&[&args[..], &["--width", "16", "--updates", "20", "--repeats", "1", "--python", &python]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("beside JAX 0.10.2"), "{text}");
    for variant in ["sac-era", "sac "] {
        let line =
            text.lines().find(|l| l.trim_start().starts_with(variant)).unwrap_or_else(|| panic!("{variant}: {text}"));
        // `<variant> <fast> <jax> <ratio>×`: both rates measured, and the ratio is theirs.
        let numbers: Vec<f64> =
            line.split_whitespace().skip(1).map(|v| v.trim_end_matches('×').parse().unwrap()).collect();
        let [fast, jax, ratio] = numbers[..] else { panic!("{line}") };
        assert!(fast > 0.0 && jax > 0.0, "{line}");
        assert!((ratio - fast / jax).abs() <= 0.01, "{line}");
    }
}

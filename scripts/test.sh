#!/usr/bin/env bash
# Sets up and runs every check: formatting, lints (host and wasm32), all tests, the browser build,
# and a smoke run of the main job. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "setup"
scripts/setup.sh
export ERA_SETUP_DONE=1
# MuJoCo 3.17.0, Gymnasium's models and the Gymnasium venv the comparison test runs (PyPI only).
eval "$(scripts/setup-mujoco.sh)"
# JAX 0.10.2, for the test that measures the fast path beside it (PyPI only).
eval "$(scripts/setup-jax.sh)"
# Everything below builds, lints and tests the MuJoCo tasks and the JAX comparison too.
features=(--features era-shared/mujoco,era-native/mujoco,era-native/jax)

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (workspace, all targets, with MuJoCo)"
cargo clippy --workspace --all-targets "${features[@]}" -- -D warnings

step "clippy (web, wasm32)"
cargo clippy -p era-web --target wasm32-unknown-unknown -- -D warnings

step "era-shared builds without burn (the browser's default), era without MuJoCo"
cargo check -p era-shared
cargo check -p era-native --all-targets

step "tests (with MuJoCo compared with Gymnasium itself, and the fast path beside JAX)"
cargo test --workspace "${features[@]}"

step "web: trunk build (release) and browser tests in headless Chromium"
scripts/web.sh build
node --test web/e2e/

step "main job (smoke run)"
# The `era` the tests just built (with MuJoCo and JAX): building it again without those features would
# recompile wgpu and burn for a second feature set, minutes and gigabytes for nothing.
ERA_DEMO_SMOKE=1 ERA_DEMO_NO_SERVE=1 ERA_DEMO_BIN=target/debug/era scripts/demo.sh

step "reproduction scripts (smoke-sized: every run, resume and table of the LLM one)"
smoke=$(mktemp -d)
ERA_BIN=target/debug/era ERA_REPRO_OUT="$smoke" ERA_LLM_STEPS=4 ERA_LLM_LONG_STEPS=6 \
  ERA_LLM_ARGS="--warmup-steps 4 --digits 2 --eval-prompts 4 --prompts 2 --group 4 --eval-every 2 --log-every 1" \
  scripts/reproduce-llm.sh >"$smoke/first.txt"
ERA_BIN=target/debug/era ERA_REPRO_OUT="$smoke" ERA_LLM_STEPS=4 ERA_LLM_LONG_STEPS=6 scripts/reproduce-llm.sh seeds \
  >"$smoke/again.txt"
grep -q "seed 2 of grpo-era-released: already complete" "$smoke/again.txt"
grep -q "Paired by seed, grpo-era − grpo (arithmetic)" "$smoke/first.txt"
test -s "$smoke/plots/arithmetic-rollout_h_resp_window_mean.svg"
grep -q "^grpo-era,grpo,arithmetic,eval/pass@1,final,0;1;2," "$smoke/llm-paired.csv"
rm -rf "$smoke"

echo
echo "all checks passed"

#!/usr/bin/env bash
# Sets up and runs every check: formatting, lints (host and wasm32), all tests, the browser build,
# and a smoke run of the main job. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's wall time and the CPU time of its processes (user + system), summed up at the end: on 2
# cores a compiling step uses about twice its wall time in CPU, a test step less.
timings=()
step_name="" step_wall=0 step_cpu=0
times_file=$(mktemp)
# CPU seconds of this shell's finished children so far, into $cpu (`times` in this shell, not in a
# subshell, which would count only its own children).
cpu_now() {
  times >"$times_file"
  cpu=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }; printf "%d", t }' "$times_file")
}
end_step() {
  [ -n "$step_name" ] || return 0
  cpu_now
  timings+=("$(printf '%6d s wall %6d s CPU  %s' $((SECONDS - step_wall)) $((cpu - step_cpu)) "$step_name")")
}
step() {
  end_step
  cpu_now
  step_name="$*" step_wall=$SECONDS step_cpu=$cpu
  printf '\n== %s\n' "$*"
}

step "setup"
# A full build of every target needs about 20 GB under target/; a full disk shows up later as a
# linker's "Bus error", so say it plainly here.
mkdir -p target
free_gb=$(df -Pk target | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
if [ "$free_gb" -lt 20 ]; then
  echo "scripts/test.sh: only ${free_gb} GB free under target/; the build needs about 20 GB (cargo clean frees old builds)" >&2
  exit 1
fi
scripts/setup.sh
export ERA_SETUP_DONE=1
# MuJoCo 3.17.0, Gymnasium's models and the Gymnasium venv the comparison test runs (PyPI only).
eval "$(scripts/setup-mujoco.sh)"
# JAX 0.10.2, for the test that measures the fast path beside it (PyPI only).
eval "$(scripts/setup-jax.sh)"
# transformers 5.25.0 without PyTorch, for the test that renders chat templates beside it (PyPI only).
eval "$(scripts/setup-transformers.sh)"
# tensorboard 2.21.0, for the test that reads era's event files back as TensorBoard does (PyPI only).
eval "$(scripts/setup-tensorboard.sh)"
# PyAV 18.1.0 (FFmpeg's decoders in its wheel), for the test that reads era's MP4 videos as players do (PyPI only).
eval "$(scripts/setup-av.sh)"
# EGL and Mesa's drivers, for MuJoCo's offscreen renderer (videos of MuJoCo tasks) on this headless machine.
scripts/setup-render.sh
# Everything below builds, lints and tests the MuJoCo tasks, their videos and the JAX comparison too.
features=(--features era-shared/mujoco,era-native/mujoco,era-native/render,era-native/mp4,era-native/jax,era-native/fuzz)

step "cargo fmt --check"
cargo fmt --all -- --check

# Clippy is the compiler of the workspace's crates from here on: every build below is linted as it
# compiles (warnings are errors), so no dependency is compiled a second time just to be checked.
export RUSTC_WORKSPACE_WRAPPER="$PWD/scripts/lib/clippy-rustc"

step "build and lint: workspace, all targets, with MuJoCo"
cargo test --workspace --all-targets "${features[@]}" --no-run

step "build and lint: era-shared without burn (the browser's default), era without MuJoCo and with CUDA"
cargo check -p era-shared
# CUDA builds without the toolkit when its version is named (the driver and NVRTC load at run time);
# the build above covers era without CUDA.
CUDARC_CUDA_VERSION=13000 cargo check -p era-native --all-targets --features cuda

step "tests (with MuJoCo compared with Gymnasium itself, and the fast path beside JAX)"
cargo test --workspace "${features[@]}"

step "Slurm: era sweep as a job array on a single-node cluster on loopback (munge, slurmctld, slurmd)"
slurm_dir=$(mktemp -d)
set +e
slurm_env=$(scripts/slurm-local.sh start "$slurm_dir")
slurm_rc=$?
set -e
if [ "$slurm_rc" = 0 ]; then
  eval "$slurm_env"
  trap 'scripts/slurm-local.sh stop "$slurm_dir"' EXIT
  cargo test --workspace "${features[@]}" --test sweep -- --ignored
  scripts/slurm-local.sh stop "$slurm_dir"
  trap - EXIT
  unset SLURM_CONF
elif [ "$slurm_rc" = 3 ]; then
  echo "SKIPPED: the Slurm test (native/tests/sweep.rs, ignored by default): Slurm could not start here (see above)"
else
  exit 1
fi
rm -rf "$slurm_dir"

step "web: build and lint for wasm32 (trunk, release) and browser tests in headless Chromium"
scripts/web.sh build
node --test --test-concurrency=1 web/e2e/

step "main job (smoke run)"
# The `era` the tests just built (with MuJoCo and JAX): building it again without those features would
# recompile wgpu and burn for a second feature set, minutes and gigabytes for nothing.
ERA_DEMO_SMOKE=1 ERA_DEMO_NO_SERVE=1 ERA_DEMO_BIN=target/debug/era scripts/demo.sh

step "GPU check, dry run (tiny sizes, lavapipe for wgpu; CUDA is reported as not built)"
ERA_BIN=target/debug/era scripts/gpu-check.sh --dry-run --out target/gpu-check-dry/report.json

step "reproduction scripts (smoke-sized: every run, resume and table of the LLM one)"
smoke=$(mktemp -d)
export ERA_LLM_ARGS="--warmup-steps 4 --digits 2 --eval-prompts 4 --prompts 2 --group 4 --eval-every 2 --log-every 1"
ERA_BIN=target/debug/era ERA_REPRO_OUT="$smoke" ERA_LLM_STEPS=4 ERA_LLM_LONG_STEPS=6 scripts/reproduce-llm.sh \
  >"$smoke/first.txt" 2>"$smoke/first.err"
ERA_BIN=target/debug/era ERA_REPRO_OUT="$smoke" ERA_LLM_STEPS=4 ERA_LLM_LONG_STEPS=6 scripts/reproduce-llm.sh seeds \
  >"$smoke/again.txt" 2>"$smoke/again.err"
unset ERA_LLM_ARGS
grep -q "era sweep: 9 runs in $smoke: 9 done, 0 running or queued, 0 to run" "$smoke/again.err"
grep -q "Paired by seed, grpo-era − grpo (arithmetic)" "$smoke/first.txt"
test -s "$smoke/plots/arithmetic-rollout_h_resp_window_mean.svg"
grep -q "^grpo-era,grpo,arithmetic,eval/pass@1,final,0;1;2," "$smoke/llm-paired.csv"
rm -rf "$smoke"

# Last: its builds of era without the test features replace target/debug/era, which the steps above run.
step "install paths: setup --cli without root, release archives unpacked and run, cargo install, cargo package"
scripts/test-install.sh

end_step
echo
echo "step times:"
printf '%s\n' "${timings[@]}"
printf '%6d s wall in all\n' "$SECONDS"
echo
echo "all checks passed"

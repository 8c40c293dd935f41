#!/usr/bin/env bash
# Checks and times era on this machine's GPUs, beside the machine's own PyTorch and JAX, and writes every
# figure to one JSON file (rewritten after every step). On an NVIDIA H200 with the wgpu backend alone its
# steps took 9–133 s each, about 11 minutes in all (measured; see docs/benchmarks.md).
#
#   scripts/gpu-check.sh [--dry-run] [--out FILE] [--backends LIST] [--steps LIST]
#
# On each GPU backend that works here (cuda: era built with the `cuda` feature and a driver that answers;
# wgpu: a real adapter, see scripts/gpu-setup.sh for NVIDIA servers without a Vulkan loader):
#   sac-256, sac-512          SAC-ERA and SAC updates/s (obs 17, action 6, batch 256), beside the same
#                             update in JAX when a Python with JAX is found
#   train-pendulum            a short SAC-ERA run on Pendulum-v1; checks that the Gaussian's entropy
#                             equals H0 in every record
#   train-dmc-walker-run      SAC-ERA with the released DMC protocol on dmc/walker-run, 512-wide:
#                             environment steps/s end to end, and the same entropy check (needs an era
#                             built with `mujoco` and the suite's models, ERA_DMC_ASSETS; skipped and
#                             said so otherwise)
#   resnet18                  ResNet-18 training images/s on CIFAR-shaped data (batch 128), ERA on vs
#                             off; checks the softmax floor (smallest prediction entropy ≥ H0 − 1e-4)
#   grpo-tiny                 GRPO on the embedded tiny model: generation tokens/s, update with ERA on
#                             vs off
#   grpo-random-qwen2.5-0.5b  the same on a Qwen2.5-0.5B-shaped checkpoint with random weights (written
#                             as bf16 safetensors and read back)
# and, where PyTorch can be imported, the same ResNet-18 training and a Qwen2 forward/backward of the
# same shape in PyTorch (`--against torch`, native/peers/torch_peers.py), interleaved with era's, for the
# ratios era / peer.
#
# --dry-run   tiny sizes, a software adapter (lavapipe) accepted for wgpu, the tiny shape instead of
#             0.5B: tests the script where there is no GPU (a minute or two).
# --out FILE  the report (default target/gpu-check/report.json); the parts and logs stay beside it.
# --backends LIST  the GPU backends to try, comma-separated (default cuda,wgpu).
# --steps LIST     only the steps whose names (without the backend) match one of these comma-separated
#                  shell patterns, e.g. `train-dmc-*,sac-512` when GPU time is short (default: all).
#
# era: $ERA_BIN if set, else target/release/era (built with `--features cuda` when missing; building
# needs crates.io, so on a GPU server without it carry a build with the tree). Pythons: $ERA_TORCH_PYTHON
# and $ERA_JAX_PYTHON, else python3. Exit status: 0 when every step ran and every check held.
set -uo pipefail
cd "$(dirname "$0")/.."

dry=0
out=target/gpu-check/report.json
try_backends=(cuda wgpu)
only_steps=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --out) out=$2; shift ;;
    --backends) IFS=, read -ra try_backends <<<"$2"; shift ;;
    --steps) IFS=, read -ra only_steps <<<"$2"; shift ;;
    *) echo "gpu-check: unknown option '$1' (known: --dry-run, --out FILE, --backends LIST, --steps LIST)" >&2; exit 2 ;;
  esac
  shift
done

work=$(dirname "$out")/gpu-check-parts
rm -rf "$work"
mkdir -p "$work/parts" "$work/logs"
report=scripts/lib/gpu_check_report.py
py=python3
command -v "$py" >/dev/null || { echo "gpu-check: needs python3 (for its JSON report)" >&2; exit 2; }

era=${ERA_BIN:-target/release/era}
if [ ! -x "$era" ]; then
  echo "gpu-check: building era with CUDA (release)" >&2
  CUDARC_CUDA_VERSION=${CUDARC_CUDA_VERSION:-13000} cargo build --quiet --release -p era-native --features cuda || exit 2
fi

if [ "$dry" = 1 ]; then
  width_small=16 width_large=32 sac_updates=5 repeats=1 steps=1 batch=2
  train_steps=160 learning_starts=100 train_hidden=32,32 log_every=20 dmc_steps=120 dmc_hidden=32,32
  llm_model=tiny prompts=2 group=2 qwen=random:tiny qwen_prompts=2 qwen_group=2
  limit=600
else
  width_small=256 width_large=512 sac_updates=500 repeats=2 steps=10 batch=128
  train_steps=3000 learning_starts=1000 train_hidden=512,512 log_every=250 dmc_steps=7000 dmc_hidden=512,512
  llm_model=tiny prompts=16 group=8 qwen=random:qwen2.5-0.5b qwen_prompts=4 qwen_group=4
  limit=240
fi
qwen_name=${qwen#random:}

# What ran where (parts/meta.json).
write_meta() {
SKIPPED=$(printf '%s\n' "${skipped[@]}") "$py" - "$work/parts/meta.json" "$dry" "$qwen_name" "$era" "${backends[@]}" <<'EOF'
import json, os, platform, subprocess, sys, datetime
path, dry, qwen, era, *backends = sys.argv[1:]
def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""
meta = {
    "schema": "era-gpu-check",
    "dry_run": dry == "1",
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "era": run(era, "--version"),
    "host": {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "gpus": run("nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"),
    },
    "backends": backends,
    "skipped": [s for s in os.environ.get("SKIPPED", "").split("\n") if s],
    "qwen2": qwen,
}
json.dump(meta, open(path, "w"), indent=2)
EOF
}

# The report so far: written after every step, so that a run cut short (a time limit on the GPU
# server) still leaves one file with every step that finished.
partial_report() {
  write_meta
  "$py" "$report" merge "$work/parts" "$out" >/dev/null 2>&1 || true
}

# Whether step NAME (BACKEND-STEP) was asked for by --steps.
wanted() {
  [ ${#only_steps[@]} -eq 0 ] && return 0
  local pattern
  for pattern in "${only_steps[@]}"; do
    # shellcheck disable=SC2053  # the pattern is meant to match as a glob
    [[ ${1#*-} == $pattern ]] && return 0
  done
  return 1
}

# Runs one step under a time limit; its record goes to parts/NAME.json, or a record of its error.
step() {
  local name=$1
  shift
  wanted "$name" || return 0
  local log="$work/logs/$name.log" start=$SECONDS
  printf 'gpu-check: %-28s ' "$name" >&2
  local status=0
  timeout "$limit" "$@" >"$log" 2>&1 || status=$?
  if [ "$status" = 0 ] && [ -s "$work/parts/$name.json" ]; then
    echo "ok ($((SECONDS - start)) s)" >&2
    partial_report
    return 0
  fi
  local why
  why=$(grep -v '^\s*$' "$log" | tail -n 1)
  [ "$status" != 124 ] || why="no result within $limit s (last line: ${why:-none})"
  [ -n "$why" ] || why="exit status $status after $((SECONDS - start)) s"
  echo "FAILED: $why" >&2
  "$py" -c 'import json,sys; json.dump({"error": sys.argv[2]}, open(sys.argv[1], "w"))' "$work/parts/$name.json" "$why"
  partial_report
  return 1
}

python_with() {
  local var=$1 module=$2 p
  p=${!var:-python3}
  "$p" -c "import $module" >/dev/null 2>&1 && echo "$p"
}
jax_py=$(python_with ERA_JAX_PYTHON jax || true)
torch_py=$(python_with ERA_TORCH_PYTHON torch || true)

# Which GPU backends work here: a two-update SAC benchmark on each.
backends=()
skipped=()
for b in "${try_backends[@]}"; do
  probe="$work/probe-$b.json"
  if timeout "$limit" "$era" bench control --algo sac --backend "$b" --width 8 --updates 2 --repeats 1 \
    --json "$probe" >"$work/logs/probe-$b.log" 2>&1; then
    gpu=$("$py" "$report" field "$probe" gpu)
    if [ "$gpu" = True ] || [ "$dry" = 1 ]; then
      backends+=("$b")
      echo "gpu-check: $b on $("$py" "$report" field "$probe" device)" >&2
      continue
    fi
    skipped+=("$b: only a software adapter ($("$py" "$report" field "$probe" device))")
  else
    skipped+=("$b: $(grep -v '^\s*$' "$work/logs/probe-$b.log" | tail -n 1)")
  fi
  echo "gpu-check: skipping ${skipped[-1]}" >&2
done

torch=()
[ -n "$torch_py" ] && torch=(--against torch --python "$torch_py")
for b in "${backends[@]}"; do
  # DMC: the released protocol's 5 000 random steps, then training; the rate is the last logged one.
  # grep reads it all (-q would stop early, and pipefail would count era's broken pipe).
  if ! wanted "$b-train-dmc-walker-run"; then
    :
  elif "$era" env list 2>/dev/null | grep '^dmc/walker-run ' >/dev/null; then
    rm -rf "$work/runs-dmc-$b"
    step "$b-train-dmc-walker-run" bash -c '"$1" train control --env dmc/walker-run --algo sac --era on \
        --steps "$2" --learning-starts "$3" --hidden "$4" --log-every "$9" --eval-every 1000000 --backend "$5" \
        --quiet --out "$6" && "$7" "$8" identity "$6/sac-era-dmc-walker-run" "${10}"' _ \
      "$era" "$dmc_steps" "$([ "$dry" = 1 ] && echo 100 || echo 5000)" "$dmc_hidden" "$b" "$work/runs-dmc-$b" \
      "$py" "$report" "$log_every" "$work/parts/$b-train-dmc-walker-run.json"
  else
    skipped+=("$b-train-dmc-walker-run: this era has no dmc/walker-run (build with --features mujoco and set ERA_DMC_ASSETS)")
    echo "gpu-check: skipping ${skipped[-1]}" >&2
  fi
  against=()
  [ -n "$jax_py" ] && against=(--against jax --python "$jax_py")
  # Named by the widths of a real run (256, 512) so that reports compare; a dry run uses smaller ones.
  for pair in "256:$width_small" "512:$width_large"; do
    step "$b-sac-${pair%%:*}" "$era" bench control --algo sac --backend "$b" --width "${pair#*:}" \
      --updates "$sac_updates" --repeats "$repeats" "${against[@]}" --json "$work/parts/$b-sac-${pair%%:*}.json"
  done
  rm -rf "$work/runs-$b"
  step "$b-train-pendulum" bash -c '"$1" train control --env Pendulum-v1 --algo sac --era on --steps "$2" \
      --learning-starts "$3" --hidden "$4" --log-every "${10}" --eval-every 1000000 --backend "$5" --quiet \
      --out "$6" && "$7" "$8" identity "$6/sac-era-Pendulum-v1" "$9"' _ \
    "$era" "$train_steps" "$learning_starts" "$train_hidden" "$b" "$work/runs-$b" "$py" "$report" \
    "$work/parts/$b-train-pendulum.json" "$log_every"
  step "$b-resnet18" "$era" bench vision --model resnet18 --batch-size "$batch" --steps "$steps" \
    --repeats "$repeats" --backend "$b" "${torch[@]}" --json "$work/parts/$b-resnet18.json"
  step "$b-grpo-tiny" "$era" bench llm --model "$llm_model" --prompts "$prompts" --group "$group" \
    --steps "$steps" --repeats "$repeats" --backend "$b" --json "$work/parts/$b-grpo-tiny.json"
  step "$b-grpo-random-$qwen_name" "$era" bench llm --model "$qwen" --prompts "$qwen_prompts" \
    --group "$qwen_group" --steps 1 --repeats "$repeats" --backend "$b" "${torch[@]}" \
    --json "$work/parts/$b-grpo-random-$qwen_name.json"
done

write_meta
echo "gpu-check: ratios (era / peer; above 1: era is faster):" >&2
"$py" "$report" merge "$work/parts" "$out" >&2
status=$?
echo "gpu-check: report in $out (logs in $work/logs)" >&2
[ ${#backends[@]} -gt 0 ] || { echo "gpu-check: no GPU backend worked here" >&2; status=1; }
exit $status

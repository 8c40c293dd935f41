#!/usr/bin/env bash
# The main job: set up, build `era`, apply each ERA activation to the bundled examples in
# assets/examples/, train SAC-ERA and SAC side by side on Pendulum-v1, then a small CNN with and
# without the ERA softmax floor on the embedded MNIST digits (a few minutes each on 2 cores), then the
# tiny LLM's supervised warm-up and GRPO-ERA vs GRPO from it, compare the run logs, and serve the
# browser explorer with those runs loaded until Ctrl-C. Usage: scripts/demo.sh
#   ERA_DEMO_SMOKE=1 scripts/demo.sh   debug build and a tiny training budget (what the test suite runs)
#   ERA_DEMO_OUT=DIR                   where the run logs go (default: runs/demo-<date>)
#   ERA_DEMO_NO_SERVE=1                build the explorer but do not serve it (the demo then ends)
#   ERA_DEMO_BIN=PATH                  run this `era` instead of building one (the test suite passes
#                                      the binary its tests built, rather than building it again)
#   ERA_PORT=N                         the explorer's port (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n== %s\n' "$*"; }

# The command line needs Rust alone; the explorer's tools are set up before the explorer is built.
section "Setting up: Rust for the command line (nothing to install when Rust is there)"
scripts/setup.sh --cli

if [ -n "${ERA_DEMO_BIN:-}" ]; then
  era=$ERA_DEMO_BIN
  [ -x "$era" ] || { echo "demo: ERA_DEMO_BIN=$era is not an executable file" >&2; exit 1; }
  section "Using the era binary $era"
elif [ "${ERA_DEMO_SMOKE:-0}" = 1 ]; then
  section "Building era (debug; minutes the first time, seconds after)"
  cargo build -p era-native
  era=target/debug/era
else
  section "Building era (release; 8 minutes or more on 2 cores the first time, seconds after)"
  cargo build --release -p era-native
  era=target/release/era
fi
echo "era is $era: run it from here as $era --help, or install it with"
echo "'cargo install --path native --locked' (then it is ~/.cargo/bin/era)"
ex=assets/examples

section "Continuous control: a 6-dimensional Gaussian policy's log-stds, H0 = 0.25 nats per dimension"
echo "\$ era activation gaussian --h0 1.5 < $ex/gaussian.json"
"$era" activation gaussian --h0 1.5 <"$ex/gaussian.json"
echo "Every row's entropy is exactly H0 = 1.5: the network only chooses how to spread it over dimensions."

section "Classification: the softmax entropy floor on 10-class logits (settings from $ex/softmax.toml)"
echo "\$ era activation softmax --config $ex/softmax.toml < $ex/softmax.json"
"$era" activation softmax --config "$ex/softmax.toml" <"$ex/softmax.json"
echo "Every entropy is at least H0 = 0.6, and each row keeps its top class."

section "LLM RL (GRPO): a confident response with a positive advantage is sharpened"
echo "\$ era activation llm < $ex/llm.json"
"$era" activation llm <"$ex/llm.json"
echo "H_resp < omega_low = 0.45 and A > 0: logits x k = 2, advantage / 2."

section "Invalid input is refused with one line naming the problem"
echo "\$ era activation softmax --h0 3 < $ex/softmax.json"
if "$era" activation softmax --h0 3 <"$ex/softmax.json"; then
  echo "expected an error" >&2
  exit 1
fi

out=${ERA_DEMO_OUT:-runs/demo-$(date +%Y%m%d-%H%M%S)}
if [ "${ERA_DEMO_SMOKE:-0}" = 1 ]; then
  budget=(--steps 300 --learning-starts 100 --hidden 16,16 --eval-every 150 --eval-episodes 1 --log-every 100)
else
  # The authors' released SAC-ERA settings (ELU, LayerNorm critics, AdamW, 2 updates per step, delta = 0)
  # with 256-wide networks instead of 512 to stay quick: 2 000 random steps, then 10 000 of learning.
  budget=(--steps 12000 --learning-starts 2000 --eval-every 3000 --eval-episodes 10 --hidden 256,256)
fi
section "Continuous control: SAC-ERA and SAC on Pendulum-v1 (the fast CPU path, one run after the other)"
echo "\$ era train control --env Pendulum-v1 --algo sac --era on|off ${budget[*]} --backend fast --out $out"
"$era" train control --env Pendulum-v1 --algo sac --era on "${budget[@]}" --out "$out" --backend fast --quiet
"$era" train control --env Pendulum-v1 --algo sac --era off "${budget[@]}" --out "$out" --backend fast --quiet

section "The two runs compared (final metrics; policy/gaussian_entropy is SAC-ERA's H0, SAC's moves with alpha)"
echo "\$ era compare $out"
"$era" compare "$out"

if [ "${ERA_DEMO_SMOKE:-0}" = 1 ]; then
  vbudget=(--epochs 1 --batch-size 200 --log-every 10)
else
  vbudget=(--epochs 3)
fi
section "Classification: a small CNN with the ERA floor (H0 = 0.6) and without, on the 8 000 embedded MNIST digits"
echo "\$ era train vision --dataset mnist-embedded --model small-cnn --reg era|none ${vbudget[*]} --out $out/vision"
"$era" train vision --dataset mnist-embedded --reg era "${vbudget[@]}" --out "$out/vision" --backend ndarray --quiet &
era_pid=$!
"$era" train vision --dataset mnist-embedded --reg none "${vbudget[@]}" --out "$out/vision" --backend ndarray --quiet
wait "$era_pid"
echo "\$ era compare $out/vision"
"$era" compare "$out/vision"
echo "pred/entropy_min is the lowest entropy of any prediction in the last logged batches: never below H0 with ERA."

if [ "${ERA_DEMO_SMOKE:-0}" = 1 ]; then
  warm=(--warmup-steps 4 --digits 2 --eval-prompts 4)
  lbudget=(--steps 4 --digits 2 --prompts 2 --group 4 --eval-every 2 --eval-prompts 4 --log-every 1)
else
  warm=()
  lbudget=(--steps 300 --eval-every 50)
fi
section "LLM RL: the embedded 1 M-parameter Qwen2-architecture model learns 3-digit addition (supervised warm-up)"
echo "\$ era train llm --task arithmetic --steps 0 ${warm[*]} --out $out/llm --run-name warmup"
"$era" train llm --task arithmetic --steps 0 "${warm[@]}" --out "$out/llm" --run-name warmup --backend ndarray --quiet
ckpt=$(ls -d "$out"/llm/warmup/checkpoints/step-* | tail -n 1)
echo "Its last checkpoint is a Hugging Face model directory:"
echo "\$ era generate --model $ckpt --prompt 457+385= --greedy"
"$era" generate --model "$ckpt" --prompt 457+385= --greedy --backend ndarray

section "GRPO with ERA and plain GRPO from that model, side by side"
echo "\$ era train llm --model $ckpt --era on|off ${lbudget[*]} --out $out/llm"
"$era" train llm --model "$ckpt" --era on "${lbudget[@]}" --out "$out/llm" --backend ndarray --quiet &
era_pid=$!
"$era" train llm --model "$ckpt" --era off "${lbudget[@]}" --out "$out/llm" --backend ndarray --quiet
wait "$era_pid"
echo "\$ era compare $out/llm/grpo-era-arithmetic $out/llm/grpo-arithmetic"
"$era" compare "$out/llm/grpo-era-arithmetic" "$out/llm/grpo-arithmetic"
echo "ERA rescales the logits of positive-advantage responses whose H_resp leaves [omega_low, omega_high]: it steers the"
echo "entropy, it is not a floor. The paired rows show ERA − GRPO for this one seed; docs/results.md measures it over seeds."
echo
echo "Run logs (JSON Lines, one record per line; open them in the explorer or any JSON tool):"
for f in "$out"/*/run.jsonl "$out"/vision/*/run.jsonl "$out"/llm/grpo*/run.jsonl; do echo "  $f"; done

section "The explorer, with these runs loaded: its tools, then its build (trunk; a few minutes the first time)"
if ! scripts/setup.sh --web; then
  echo "demo: the explorer's tools could not be set up (above); the runs are in $out, and"
  echo "'$era compare $out' tables them. Once 'scripts/setup.sh --web' works, scripts/demo.sh shows them in the browser."
  exit 1
fi
scripts/web.sh build
# The runs are served beside the page and named in the URL, so the link opens them.
served=dist/runs/demo
rm -rf "$served" && mkdir -p "$served"
files=()
for f in "$out"/*/run.jsonl "$out"/vision/*/run.jsonl "$out"/llm/grpo*/run.jsonl; do
  name=$(basename "$(dirname "$f")").jsonl
  cp "$f" "$served/$name"
  files+=("runs/demo/$name")
done
port=${ERA_PORT:-8080}
list=$(IFS=,; echo "${files[*]}")
url="http://127.0.0.1:$port/?view=replay&runs=$list"
if [ "${ERA_DEMO_NO_SERVE:-0}" = 1 ]; then
  echo "explorer built in dist/ (serving skipped); serve it with: scripts/web.sh serve $port and open"
  echo "  $url"
else
  echo "open this in a browser (Ctrl-C stops the server):"
  echo
  echo "  $url"
  echo
  scripts/web.sh serve "$port"
fi
echo
echo "demo: done"

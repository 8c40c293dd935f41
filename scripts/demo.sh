#!/usr/bin/env bash
# The main job: set up, build `era`, and apply each ERA activation to the bundled examples in
# assets/examples/. Usage: scripts/demo.sh
#   ERA_DEMO_SMOKE=1 scripts/demo.sh   use the debug build (what the test suite runs)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh >/dev/null

if [ "${ERA_DEMO_SMOKE:-0}" = 1 ]; then
  cargo build --quiet -p era-native
  era=target/debug/era
else
  cargo build --quiet --release -p era-native
  era=target/release/era
fi
ex=assets/examples

section() { printf '\n== %s\n' "$*"; }

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
echo
echo "demo: done"

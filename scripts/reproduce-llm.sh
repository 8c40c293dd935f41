#!/usr/bin/env bash
# Reruns the LLM evidence of docs/results.md: GRPO-ERA against plain GRPO on the embedded
# Qwen2-architecture model and its arithmetic task (warm-up, then GRPO), then prints the tables
# (`era compare`: final pass@k, second-half means of the rollout entropies, each ERA setting paired
# with GRPO seed by seed) and draws the entropy curves.
#
#   scripts/reproduce-llm.sh [PART…]      PART: seeds, long (default: both), problems
#
#   seeds  3 seeds of each arm, ERA_LLM_STEPS GRPO steps (default 600, era's default):
#            grpo-era           --era on (era's defaults)
#            grpo               --era off
#            grpo-era-released  --era on with the authors' released script settings
#                               (--era-ratio rollout --no-advantage-rescale --clip-low 1 --clip-high 1)
#   long   one longer pair (ERA on and off), seed 0, ERA_LLM_LONG_STEPS GRPO steps (default 1800)
#   problems  3 seeds of ERA on and off on the example problem file assets/problems/grade-school.jsonl
#            (the tiny model over the file's characters, --reward numeric, the fast CPU path)
#
# Each run does its own warm-up; the warm-up does not depend on ERA's settings, so every arm's GRPO
# starts from the same warm-up model at a seed (a test checks it). Each part is a sweep spec
# (assets/sweeps/llm-PART.toml, run with `era sweep --local 1`). Resumable: a completed run is
# skipped, a stopped one continues from its last checkpoint. Runs go to ERA_REPRO_OUT (default
# runs/reproduce-llm), seed S of run NAME in $out/seed-S/NAME; tables to *.csv, pictures to plots/.
# ERA_LLM_BACKEND picks the backend (default ndarray, the CPU); ERA_LLM_ARGS adds options to every
# run (a smoke-sized check: "--warmup-steps 4 --digits 2 --eval-prompts 4 --prompts 2 --group 4").
# Long: each default run takes about 17–20 minutes on 2 cores, one at a time (see docs/results.md).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${ERA_REPRO_OUT:-runs/reproduce-llm}
steps=${ERA_LLM_STEPS:-600}
long_steps=${ERA_LLM_LONG_STEPS:-1800}
backend=${ERA_LLM_BACKEND:-ndarray}
read -r -a extra <<<"${ERA_LLM_ARGS:-}"
common=(--task arithmetic --backend "$backend" ${extra[@]+"${extra[@]}"})
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(seeds long)
for p in "${parts[@]}"; do
  case "$p" in
    seeds | long | problems) ;;
    *) echo "reproduce-llm: unknown part '$p' (known: seeds, long, problems)" >&2; exit 2 ;;
  esac
done

if [ -n "${ERA_BIN:-}" ]; then
  era=$ERA_BIN
else
  cargo build --quiet --release -p era-native
  era=target/release/era
fi
mkdir -p "$out"
# shellcheck source=lib/reproduce.sh
. scripts/lib/reproduce.sh

# The arms are assets/sweeps/llm-seeds.toml, llm-long.toml and llm-problems.toml; the options here
# override the specs'.
for p in "${parts[@]}"; do
  case "$p" in
    seeds)
      sweep llm-seeds -- "${common[@]}" --steps "$steps"
      table "GRPO-ERA vs GRPO ($steps GRPO steps, 3 seeds)" llm.csv --score eval/pass@1 --plot "$out/plots" \
        "$out"/seed-*/grpo-era "$out"/seed-*/grpo-era-released "$out"/seed-*/grpo
      ;;
    long)
      sweep llm-long -- "${common[@]}" --steps "$long_steps"
      table "GRPO-ERA vs GRPO, one seed, $long_steps GRPO steps" llm-long.csv --score eval/pass@1 \
        --plot "$out/plots-long" "$out"/seed-0/grpo-era-long "$out"/seed-0/grpo-long
      ;;
    problems)
      # The spec names the file and the backend; the arithmetic options above do not apply.
      sweep llm-problems -- --steps "$steps" ${extra[@]+"${extra[@]}"}
      table "GRPO-ERA vs GRPO on assets/problems/grade-school.jsonl ($steps GRPO steps, 3 seeds)" llm-problems.csv \
        --score eval/pass@1 --plot "$out/plots-problems" "$out"/seed-*/grade-school-era "$out"/seed-*/grade-school
      ;;
  esac
done

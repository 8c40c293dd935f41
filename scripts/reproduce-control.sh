#!/usr/bin/env bash
# Reruns the control evidence of docs/results.md: ERA against its baseline on Gymnasium's MuJoCo tasks,
# on the fast CPU path, then prints the tables (final eval return mean ± sd, IQM with 95 %
# stratified-bootstrap intervals per task and over tasks) and writes them as CSV.
#
#   scripts/reproduce-control.sh [PART…]      PART: sac (default: all of them), sac-delta, ppo, ppo-h0, dmc
#
# Each part runs a sweep spec of assets/sweeps/ with `era sweep --local 1` (control-PART.toml):
#
#   sac        SAC-ERA (the authors' released settings) vs SAC (same networks) on HalfCheetah-v5 and
#              Hopper-v5, 3 seeds each arm, ERA_SAC_STEPS steps (default 100000), ERA_SAC_HIDDEN wide
#              (default 256,256; the authors use 512,512, about 3.5× slower here)
#   sac-delta  SAC-ERA with the learned δ (--delta auto, the paper's option) on HalfCheetah-v5, 3 seeds
#   ppo        PPO-ERA vs PPO on HalfCheetah-v5, Hopper-v5, Walker2d-v5 and Ant-v5, 5 seeds each arm,
#              ERA_PPO_STEPS steps (default 1000000)
#   ppo-h0     PPO-ERA on Hopper-v5 with H0 per dimension in {-0.5, 0, 0.25, 0.5}, 3 seeds
#   dmc        SAC-ERA vs SAC (same networks) with the released DMC protocol on dmc/walker-run,
#              dmc/cheetah-run, dmc/quadruped-run, dmc/humanoid-walk and dmc/dog-walk: ERA_DMC_SEEDS
#              seeds each arm (default and most 3), ERA_DMC_STEPS steps (default 300000), ERA_DMC_HIDDEN
#              wide (default 512,512, the release's); ERA_DMC_TASKS (space-separated) to choose tasks.
#              The paper's budget is assets/sweeps/control-dmc-paper.toml, for a cluster (docs/cli.md).
#   bundle     (not in the default set) thins the PPO runs of HalfCheetah-v5 and Hopper-v5, 5 seeds each
#              arm, into assets/runs/ppo-*.jsonl for the explorer's replay (needs jq; see below)
#
# Resumable: a run that completed is skipped, one that was stopped (Ctrl-C, kill, a reboot) continues
# from its last checkpoint (`era sweep status runs/reproduce-control` shows where each stands). Runs
# go to ERA_REPRO_OUT (default runs/reproduce-control); the tables to that folder's *.csv (seed S of
# a run NAME is $out/seed-S/NAME). Long: the full set is days of CPU time on 2 cores (see docs/results.md).
# Needs MuJoCo (scripts/setup-mujoco.sh, run here) and a release build with the `mujoco` feature.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${ERA_REPRO_OUT:-runs/reproduce-control}
sac_steps=${ERA_SAC_STEPS:-100000}
sac_hidden=${ERA_SAC_HIDDEN:-256,256}
ppo_steps=${ERA_PPO_STEPS:-1000000}
dmc_steps=${ERA_DMC_STEPS:-300000}
dmc_seeds=${ERA_DMC_SEEDS:-3}
dmc_hidden=${ERA_DMC_HIDDEN:-512,512}
read -r -a dmc_tasks <<<"${ERA_DMC_TASKS:-walker-run cheetah-run quadruped-run humanoid-walk dog-walk}"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(sac sac-delta ppo ppo-h0)
for p in "${parts[@]}"; do
  case "$p" in
    sac | sac-delta | ppo | ppo-h0 | dmc | bundle) ;;
    *) echo "reproduce-control: unknown part '$p' (known: sac, sac-delta, ppo, ppo-h0, dmc, bundle)" >&2; exit 2 ;;
  esac
done

eval "$(scripts/setup-mujoco.sh --no-python)"
if [ -n "${ERA_BIN:-}" ]; then
  era=$ERA_BIN
else
  cargo build --quiet --release -p era-native --features mujoco
  era=target/release/era
fi
mkdir -p "$out"

# shellcheck source=lib/reproduce.sh
. scripts/lib/reproduce.sh

# Each part is a sweep spec in assets/sweeps/ (seed by seed across its settings, so that a part cut
# short has as many seeds of each), then its table.
for p in "${parts[@]}"; do
  case "$p" in
    sac)
      sweep control-sac -- --steps "$sac_steps" --hidden "$sac_hidden"
      table "SAC-ERA vs SAC (released settings, $sac_hidden, $sac_steps steps)" sac.csv \
        "$out"/seed-*/sac-era-HalfCheetah-v5 "$out"/seed-*/sac-HalfCheetah-v5 \
        "$out"/seed-*/sac-era-Hopper-v5 "$out"/seed-*/sac-Hopper-v5
      ;;
    sac-delta)
      sweep control-sac-delta -- --steps "$sac_steps" --hidden "$sac_hidden"
      table "SAC-ERA: delta = 0 (released) vs learned delta (HalfCheetah-v5)" sac-delta.csv \
        "$out"/seed-*/sac-era-HalfCheetah-v5 "$out"/seed-*/sac-era-delta-auto-HalfCheetah-v5
      ;;
    ppo)
      sweep control-ppo -- --steps "$ppo_steps"
      # Named task by task: the H0 sweep's runs (ppo-era-h0-…) are another table.
      table "PPO-ERA vs PPO ($ppo_steps steps)" ppo.csv "$out"/seed-*/ppo{-era,}-{HalfCheetah,Hopper,Walker2d,Ant}-v5
      ;;
    ppo-h0)
      sweep control-ppo-h0 -- --steps "$ppo_steps"
      table "PPO-ERA on Hopper-v5 across H0 per dimension" ppo-h0.csv "$out"/seed-*/ppo-era-h0-*-Hopper-v5
      ;;
    dmc)
      dirs=()
      only_tasks=$(printf 'dmc/%s,' "${dmc_tasks[@]}")
      sweep control-dmc --only "env=${only_tasks%,}" --only "seed=$(seq -s, 0 $((dmc_seeds - 1)))" \
        -- --steps "$dmc_steps" --hidden "$dmc_hidden"
      for task in "${dmc_tasks[@]}"; do
        dirs+=("$out"/seed-*/sac-era-dmc-"$task" "$out"/seed-*/sac-dmc-"$task")
      done
      table "SAC-ERA vs SAC on DeepMind Control (released protocol, $dmc_hidden, $dmc_steps steps)" dmc.csv "${dirs[@]}"
      ;;
    bundle)
      # The page fetches a log whole, so the bundled ones are thinned (about 50 KB instead of 430 KB
      # each): the header, footer and resume lines and every evaluation are kept; of the training
      # statistics one record per 32 768 steps, of the episode returns one per 16 384 steps. Only
      # completed runs are bundled.
      command -v jq >/dev/null || { echo "reproduce-control: bundle needs jq (apt-get install jq)" >&2; exit 2; }
      for env in HalfCheetah-v5 Hopper-v5; do
        lower=$(echo "${env%-v5}" | tr '[:upper:]' '[:lower:]')
        for seed in $(seeds 5); do
          for arm in ppo-era ppo; do
            log="$out/seed-$seed/$arm-$env/run.jsonl"
            tail -n 1 "$log" | grep -q '"status":"completed"' || {
              echo "reproduce-control: $log has not completed: run the ppo part first" >&2
              exit 1
            }
            jq -c 'select(.type != "record" or (.metrics | has("eval/return_mean"))
              or ((.metrics | has("losses/actor")) and (.step % 32768 < 2048))
              or ((.metrics | has("charts/episodic_return")) and (.step % 16384 < 1000)))' \
              "$log" >"assets/runs/$arm-$lower-s$seed.jsonl"
          done
        done
      done
      echo "reproduce: bundled $(ls assets/runs/ppo-*-s[0-4].jsonl | wc -l) thinned PPO logs in assets/runs/"
      ;;
  esac
done

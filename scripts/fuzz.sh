#!/usr/bin/env bash
# Feeds every reader of outside data mutated inputs (`era fuzz`): run logs, config.json, --config TOML,
# checkpoint meta.json and parts, IDX (raw, gzipped), CIFAR binary, image folders, Hugging Face
# config.json, model.safetensors and its index, tokenizer.json, `era activation`'s JSON.
#
#   scripts/fuzz.sh [SECONDS]      SECONDS per reader (default 600); at most 1 000 000 inputs each
#
# Prints a table per reader: inputs, accepted, panics, hangs (> 1 s), inputs that grew the peak
# memory by more than 256 MiB, the slowest input, the largest such growth, peak memory. Inputs that
# panicked (with the panic's message beside them, .txt), hung or took that memory are saved in
# fuzz-crashes/ (replay one with `era fuzz --target NAME --replay FILE`); the exit status is 1 if
# there were any. An allocation failure aborts the process: the input it was reading is left as
# fuzz-crashes/NAME-current.bin.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
cargo build --quiet --release -p era-native --features fuzz
exec target/release/era fuzz --seconds "$seconds" --crashes fuzz-crashes

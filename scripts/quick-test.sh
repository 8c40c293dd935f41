#!/usr/bin/env bash
# Day-to-day check of a change (a few minutes once built): formatting and the unit tests of every crate.
# The full suite (lints, end-to-end and browser tests, MuJoCo and JAX comparisons) is scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo test -p era-shared --features burn,llm,data,fast --lib
cargo test -p era-native --features fuzz --bin era
cargo test -p era-web --lib

#!/usr/bin/env bash
# Installs what era needs to build, test and run: Rust components and the wasm32 target.
# Idempotent and quick when everything is already there. Usage: scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# A caller that already ran this script (scripts/test.sh before the demo) says so.
if [ "${ERA_SETUP_DONE:-0}" = 1 ]; then
  exit 0
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi

if command -v rustup >/dev/null 2>&1; then
  installed_components=$(rustup component list --installed 2>/dev/null || true)
  for c in rustfmt clippy; do
    if ! grep -q "^$c" <<<"$installed_components"; then
      say "adding rustup component $c"
      rustup component add "$c"
    fi
  done
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target (for the web explorer)"
    rustup target add wasm32-unknown-unknown
  fi
else
  say "rustup not found: make sure rustfmt, clippy and the wasm32-unknown-unknown target are installed"
fi

say "ready"

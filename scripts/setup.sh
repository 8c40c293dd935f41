#!/usr/bin/env bash
# Installs what era needs to build, test and run: Rust components, the wasm32 target, and a Vulkan
# driver (Mesa's lavapipe, a software GPU) so the wgpu backend can be smoke-tested without a GPU.
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

# Software Vulkan for the wgpu smoke test. Only Debian/Ubuntu's apt is handled; elsewhere say what to get.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
    say "installing mesa-vulkan-drivers (software Vulkan for the wgpu smoke test)"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq mesa-vulkan-drivers >/dev/null
  else
    say "no apt-get: install Mesa's Vulkan drivers (lavapipe) yourself to run the wgpu smoke test"
  fi
fi

say "ready"

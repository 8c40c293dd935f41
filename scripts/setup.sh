#!/usr/bin/env bash
# Installs what era needs to build, test and run: Rust components, the wasm32 target, a Vulkan driver
# (Mesa's lavapipe, a software GPU) so the wgpu backend can be smoke-tested without a GPU, and the web
# explorer's tools (trunk, wasm-bindgen-cli, Node with npm's binaryen and playwright-core, Chromium).
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

# System packages: software Vulkan (wgpu smoke test), Chromium (browser tests), Node and npm (the
# explorer's tools). Only Debian/Ubuntu's apt is handled; elsewhere say what to get.
missing=()
ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
    say "installing ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "no apt-get: install ${missing[*]} yourself (Vulkan drivers for the wgpu test, Chromium and Node for the explorer)"
  fi
fi

# The explorer's Rust tools, at the versions verified to work offline: trunk 0.21.14 (0.22 needs a newer
# rustc) and wasm-bindgen-cli equal to the wasm-bindgen in Cargo.lock.
export PATH="$HOME/.cargo/bin:$PATH"
if ! trunk --version 2>/dev/null | grep -q "0.21.14"; then
  say "installing trunk 0.21.14 (a few minutes, once)"
  cargo install trunk --version 0.21.14 --locked --quiet
fi
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wbg"; then
  say "installing wasm-bindgen-cli $wbg (a couple of minutes, once)"
  cargo install wasm-bindgen-cli --version "$wbg" --quiet
fi

# npm's binaryen (wasm-opt for trunk) and playwright-core (the browser tests), pinned by the lock file.
if [ ! -x web/e2e/node_modules/.bin/wasm-opt ] || [ ! -d web/e2e/node_modules/playwright-core ]; then
  say "installing web/e2e's npm packages (binaryen, playwright-core)"
  (cd web/e2e && npm ci --no-audit --no-fund --silent)
fi

say "ready"

#!/usr/bin/env bash
# Installs what era needs, in three sizes. Idempotent, and quick when everything is already there.
#
#   scripts/setup.sh --cli   the `era` command line alone: checks Rust; installs nothing, needs no root
#                            (then `cargo install --path native --locked`, or `cargo build --release`)
#   scripts/setup.sh --web   also the explorer's build: the wasm32 target, trunk 0.21.14, wasm-bindgen-cli,
#                            Node with npm's binaryen (wasm-opt); Node comes from apt, so root or sudo
#                            when it is missing
#   scripts/setup.sh         everything the tests use: the above, rustfmt and clippy, Mesa's software
#                            Vulkan driver (lavapipe, so the wgpu backend runs without a GPU), Chromium
#                            and playwright-core (the browser tests), Slurm, munge, slurmdbd and
#                            MariaDB (the sweep test's cluster and its accounting), and a C++ compiler
#                            (the MP4 encoder the tests build)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=all
case "${1:-}" in
  --cli) mode=cli ;;
  --web) mode=web ;;
  "") ;;
  -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup: unknown option '$1' (expected --cli, --web or nothing for everything)" >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*"; }

# A caller that already ran the full setup (scripts/test.sh before the demo) says so.
if [ "${ERA_SETUP_DONE:-0}" = 1 ]; then
  exit 0
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found: install Rust with rustup first (https://rustup.rs), then run this again" >&2
  exit 1
fi
# rust-version in Cargo.toml: the oldest compiler era builds with.
need=$(awk -F'"' '/^rust-version/ { print $2; exit }' Cargo.toml)
have=$(rustc --version | awk '{ print $2 }')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n 1)" != "$need" ]; then
  echo "setup: rustc $have is older than the $need era needs: run 'rustup update stable'" >&2
  exit 1
fi
say "Rust $have (era needs $need or newer)"
if [ "$mode" = cli ]; then
  say "ready for the command line: 'cargo install --path native --locked' puts era in ~/.cargo/bin"
  say "(8 minutes on 2 cores once the dependencies are built, more the first time; add '--features mujoco' after eval \"\$(scripts/setup-mujoco.sh)\" for the MuJoCo tasks)"
  exit 0
fi

components=(rustfmt clippy)
if [ "$mode" = web ]; then components=(); fi
if command -v rustup >/dev/null 2>&1; then
  installed_components=$(rustup component list --installed 2>/dev/null || true)
  for c in "${components[@]}"; do
    if ! grep -q "^$c" <<<"$installed_components"; then
      say "adding rustup component $c (seconds)"
      rustup component add "$c"
    fi
  done
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target for the explorer (under a minute)"
    rustup target add wasm32-unknown-unknown
  fi
else
  say "rustup not found: make sure ${components[*]} and the wasm32-unknown-unknown target are installed"
fi

# System packages: Node and npm (the explorer's wasm-opt), and for the tests software Vulkan (the wgpu
# smoke test) and Chromium (browser tests). Only Debian/Ubuntu's apt is handled; elsewhere say what to get.
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "$mode" = all ]; then
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
  # A C++ compiler: the tests build era with MP4 videos, whose H.264 encoder (OpenH264) compiles from source.
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  # A single-node Slurm on loopback for the `era sweep --slurm` test (scripts/slurm-local.sh).
  for tool in slurmctld slurmd; do
    [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
  done
  command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
  [ -x /usr/sbin/munged ] || missing+=(munge)
  [ -x /usr/sbin/slurmdbd ] || missing+=(slurmdbd)
  [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd="sudo"
    else
      echo "setup: ${missing[*]} missing, and installing them needs root: ask for them, or run" >&2
      echo "       'scripts/setup.sh --cli' for the command line alone, which needs neither" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: no apt-get here: install ${missing[*]} with this system's package manager" >&2
    exit 1
  fi
  say "installing ${missing[*]} with apt-get (one to a few minutes)"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The explorer's Rust tools, at the versions verified to work offline: trunk 0.21.14 (0.22 needs a newer
# rustc) and wasm-bindgen-cli equal to the wasm-bindgen in Cargo.lock.
if ! trunk --version 2>/dev/null | grep -q "0.21.14"; then
  say "compiling trunk 0.21.14 into ~/.cargo/bin (about 5 minutes, once)"
  cargo install trunk --version 0.21.14 --locked --quiet
fi
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wbg"; then
  say "compiling wasm-bindgen-cli $wbg into ~/.cargo/bin (about 3 minutes, once)"
  cargo install wasm-bindgen-cli --version "$wbg" --quiet
fi

# npm's binaryen (wasm-opt for trunk) and, for the tests, playwright-core, pinned by the lock file.
if [ ! -x web/e2e/node_modules/.bin/wasm-opt ] || [ ! -d web/e2e/node_modules/playwright-core ]; then
  say "installing web/e2e's npm packages: binaryen, playwright-core (under a minute)"
  (cd web/e2e && npm ci --no-audit --no-fund --silent)
fi

say "ready ($mode)"

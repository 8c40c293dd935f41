#!/usr/bin/env bash
# Sets up the JAX that `era bench control --algo sac --backend fast --against jax` compares with:
# a Python venv with jax 0.10.2 (CPU) from PyPI, in the cache directory (ERA_CACHE_DIR, default
# $XDG_CACHE_HOME/era or ~/.cache/era). Idempotent and quick once done.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-jax.sh)"
#   era bench control --algo sac --backend fast --against jax --width 512
set -euo pipefail

JAX_VERSION=0.10.2
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
venv="$cache/jax-$JAX_VERSION-venv"

say() { printf 'setup-jax: %s\n' "$*" >&2; }

if ! "$venv/bin/python" -c "import jax; assert jax.__version__ == '$JAX_VERSION'" >/dev/null 2>&1; then
  if ! command -v python3 >/dev/null; then
    say "python3 not found (pip fetches the wheels): install python3 and python3-venv"
    exit 1
  fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    if command -v apt-get >/dev/null; then
      say "installing python3-venv"
      $sudo_cmd apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-pip python3-venv >/dev/null
    else
      say "python3 needs pip and venv"
      exit 1
    fi
  fi
  say "creating the JAX $JAX_VERSION venv (once)"
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "jax==$JAX_VERSION" >&2
fi

say "ready: JAX $JAX_VERSION in $venv"
echo "export ERA_JAX_PYTHON=\"$venv/bin/python\""

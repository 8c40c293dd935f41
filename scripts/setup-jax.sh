#!/usr/bin/env bash
# Sets up the JAX that `era bench control --algo sac --backend fast --against jax` compares with:
# a Python venv with jax 0.10.2 (CPU) from PyPI, in the cache directory (ERA_CACHE_DIR, default
# $XDG_CACHE_HOME/era or ~/.cache/era). Idempotent and quick once done.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-jax.sh)"
#   era bench control --algo sac --backend fast --against jax --width 512
set -euo pipefail
cd "$(dirname "$0")/.."

JAX_VERSION=0.10.2
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
venv="$cache/jax-$JAX_VERSION-venv"

# shellcheck source=lib/python-venv.sh
. scripts/lib/python-venv.sh
make_venv setup-jax "$venv" "import jax; assert jax.__version__ == '$JAX_VERSION'" "jax==$JAX_VERSION"

printf 'setup-jax: ready: JAX %s in %s\n' "$JAX_VERSION" "$venv" >&2
echo "export ERA_JAX_PYTHON=\"$venv/bin/python\""

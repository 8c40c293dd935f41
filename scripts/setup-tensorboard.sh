#!/usr/bin/env bash
# Sets up the `tensorboard` package that the export test reads era's event files back with (its
# EventAccumulator, as TensorBoard itself loads a log folder): a Python venv with tensorboard 2.21.0
# from PyPI, in the cache directory (ERA_CACHE_DIR, default $XDG_CACHE_HOME/era or ~/.cache/era).
# Idempotent and quick once done; about 30 s the first time.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-tensorboard.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

TENSORBOARD_VERSION=2.21.0
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
venv="$cache/tensorboard-$TENSORBOARD_VERSION-venv"

# shellcheck source=lib/python-venv.sh
. scripts/lib/python-venv.sh
make_venv setup-tensorboard "$venv" \
  "import tensorboard; assert tensorboard.__version__ == '$TENSORBOARD_VERSION'" \
  "tensorboard==$TENSORBOARD_VERSION"

printf 'setup-tensorboard: ready: tensorboard %s in %s\n' "$TENSORBOARD_VERSION" "$venv" >&2
echo "export ERA_TENSORBOARD_PYTHON=\"$venv/bin/python\""

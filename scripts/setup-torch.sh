#!/usr/bin/env bash
# Sets up the PyTorch that `era bench vision --against torch` and `era bench llm --against torch`
# compare with: a Python venv with torch 2.15.0 from PyPI, in the cache directory (ERA_CACHE_DIR,
# default $XDG_CACHE_HOME/era or ~/.cache/era). Idempotent and quick once done. PyPI's Linux wheel
# brings NVIDIA's CUDA libraries along: about 5.5 GB on disk and a few minutes the first time, which
# is why the test suite does not run it.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-torch.sh)"
#   era bench vision --model resnet18 --batch-size 32 --against torch
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.15.0
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
venv="$cache/torch-$TORCH_VERSION-venv"

# shellcheck source=lib/python-venv.sh
. scripts/lib/python-venv.sh
make_venv setup-torch "$venv" "import torch; assert torch.__version__.split('+')[0] == '$TORCH_VERSION'" \
  "torch==$TORCH_VERSION" numpy

printf 'setup-torch: ready: PyTorch %s in %s\n' "$TORCH_VERSION" "$venv" >&2
echo "export ERA_TORCH_PYTHON=\"$venv/bin/python\""

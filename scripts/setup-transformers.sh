#!/usr/bin/env bash
# Sets up the Hugging Face `transformers` that the chat-template test renders beside era: a Python
# venv with transformers 5.25.0 and Jinja2 from PyPI (no PyTorch: a tokenizer's chat template needs
# none), in the cache directory (ERA_CACHE_DIR, default $XDG_CACHE_HOME/era or ~/.cache/era).
# Idempotent and quick once done; about 30 s and 60 MB the first time.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-transformers.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

TRANSFORMERS_VERSION=5.25.0
JINJA_VERSION=3.1.6
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
venv="$cache/transformers-$TRANSFORMERS_VERSION-venv"

# shellcheck source=lib/python-venv.sh
. scripts/lib/python-venv.sh
make_venv setup-transformers "$venv" \
  "import transformers, jinja2; assert transformers.__version__ == '$TRANSFORMERS_VERSION' and jinja2.__version__ == '$JINJA_VERSION'" \
  "transformers==$TRANSFORMERS_VERSION" "jinja2==$JINJA_VERSION"

printf 'setup-transformers: ready: transformers %s in %s\n' "$TRANSFORMERS_VERSION" "$venv" >&2
echo "export ERA_TRANSFORMERS_PYTHON=\"$venv/bin/python\""

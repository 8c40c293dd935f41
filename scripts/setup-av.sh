#!/usr/bin/env bash
# Sets up PyAV, whose wheel carries FFmpeg's decoders, for the test that reads era's MP4 videos back
# as players do: a Python venv with av 18.1.0 and numpy from PyPI, in the cache directory
# (ERA_CACHE_DIR, default $XDG_CACHE_HOME/era or ~/.cache/era). Idempotent and quick once done;
# about 20 s the first time.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-av.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

AV_VERSION=18.1.0
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
venv="$cache/av-$AV_VERSION-venv"

# shellcheck source=lib/python-venv.sh
. scripts/lib/python-venv.sh
make_venv setup-av "$venv" \
  "import av, numpy; assert av.__version__ == '$AV_VERSION'" \
  "av==$AV_VERSION" "numpy==2.4.6"

printf 'setup-av: ready: PyAV %s (FFmpeg %s) in %s\n' "$AV_VERSION" \
  "$("$venv/bin/python" -c 'import av; print(av.ffmpeg_version_info)')" "$venv" >&2
echo "export ERA_AV_PYTHON=\"$venv/bin/python\""

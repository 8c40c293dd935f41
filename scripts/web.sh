#!/usr/bin/env bash
# Builds the explorer with trunk into dist/ (release, wasm-opt from npm's binaryen), or serves dist/.
# Usage: scripts/web.sh build
#        scripts/web.sh serve [PORT]   (127.0.0.1 only; default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
# trunk must find the wasm-opt that works (npm's binaryen 132), before any system one.
export PATH="$PWD/web/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

case "${1:-build}" in
  build) trunk build --release --offline ;;
  serve) exec node web/e2e/serve.mjs dist "${2:-8080}" ;;
  *)
    echo "usage: scripts/web.sh build | serve [PORT]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Tests every way era is installed, from this checkout, into temporary folders:
#   1. scripts/setup.sh --cli as a user without root (it must not reach for apt-get or sudo);
#   2. scripts/release.sh: the archives match SHA256SUMS; unpacked (the MuJoCo one moved after unpacking)
#      they train on the embedded digits and step a Gymnasium and a DeepMind Control task with no
#      setup-script environment and no cache, and the explorer's site loads in headless Chromium from a
#      sub-folder;
#   3. cargo install --path native --locked into a temporary root: `era --version` and a tiny run;
#   4. cargo package -p era-shared -p era-native: both crates package and build from their packages.
# Run by scripts/test.sh last (it leaves target/debug/era built without the test features); about
# 15 minutes on 2 cores after the test build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'echo "test-install: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
say() { printf '\n-- install test: %s\n' "$*"; }
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
tiny_vision=(train vision --dataset mnist-embedded --epochs 1 --batch-size 200 --log-every 20 --backend ndarray --quiet)

say "scripts/setup.sh --cli without root"
mkdir -p "$tmp/shims"
for tool in apt-get sudo; do
  printf '#!/bin/sh\necho "%s called" >&2\nexit 97\n' "$tool" >"$tmp/shims/$tool"
done
printf '#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n' >"$tmp/shims/id"
chmod +x "$tmp/shims"/*
# Without ERA_SETUP_DONE, which scripts/test.sh sets to skip setup: here setup.sh itself is tested.
PATH="$tmp/shims:$PATH" env -u ERA_SETUP_DONE scripts/setup.sh --cli >"$tmp/setup.txt" 2>&1 || { cat "$tmp/setup.txt"; exit 1; }
grep -q "ready for the command line" "$tmp/setup.txt"
if grep -q "called" "$tmp/setup.txt"; then cat "$tmp/setup.txt"; exit 1; fi

say "scripts/release.sh, its archives unpacked and run"
# The dev profile: the test build's dependencies are reused, so this compiles era's own crates only.
scripts/release.sh --out "$tmp/archives" --profile dev >/dev/null
(cd "$tmp/archives" && sha256sum --check --quiet SHA256SUMS)
mkdir -p "$tmp/unpacked" "$tmp/moved" "$tmp/site"
for a in "$tmp"/archives/*.tar.gz; do tar -C "$tmp/unpacked" -xzf "$a"; done
plain=$tmp/unpacked/era-$version-x86_64-linux
mv "$tmp/unpacked/era-$version-x86_64-linux-mujoco" "$tmp/moved/era"
mj=$tmp/moved/era
mv "$tmp/unpacked/era-explorer-$version" "$tmp/site/era-explorer"
# Nothing from the setup scripts or their cache: what runs is the archive alone.
bare=(env -u MUJOCO_DYNAMIC_LINK_DIR -u ERA_MUJOCO_ASSETS -u ERA_DMC_ASSETS -u LD_LIBRARY_PATH -u ERA_CACHE_DIR
  HOME="$tmp/home" XDG_CACHE_HOME="$tmp/home/.cache")
"${bare[@]}" "$plain/bin/era" --version | grep -q "era $version"
"${bare[@]}" "$plain/bin/era" "${tiny_vision[@]}" --out "$tmp/runs-plain"
test -s "$tmp"/runs-plain/*/run.jsonl
readelf -d "$mj/bin/era" | grep -q 'R.*PATH.*\[\$ORIGIN/../lib\]'
echo '[[0.1,-0.2,0.3],[0,0,0],[0.5,0.5,0.5],[-1,1,0],[0,0,1]]' >"$tmp/hopper-actions.json"
echo '[[0.1,-0.2,0.3,0,0,0],[0,0,0,1,1,1],[0.5,0.5,0.5,-0.5,0,0],[-1,1,0,0,0,0],[0,0,1,0,0,0]]' >"$tmp/walker-actions.json"
"${bare[@]}" "$mj/bin/era" env rollout --env Hopper-v5 --actions "$tmp/hopper-actions.json" >"$tmp/hopper.jsonl"
"${bare[@]}" "$mj/bin/era" env rollout --env dmc/walker-run --actions "$tmp/walker-actions.json" >"$tmp/walker.jsonl"
[ "$(grep -c '"reward"' "$tmp/hopper.jsonl")" = 5 ] && [ "$(grep -c '"reward"' "$tmp/walker.jsonl")" = 5 ]
node web/e2e/release-check.mjs "$tmp/site" era-explorer

say "cargo install --path native --locked into a temporary root"
# --debug and the shared target folder: the archive's build without MuJoCo above is reused (same
# features and profile), so this links at most; users install with the release profile.
CARGO_TARGET_DIR=$PWD/target cargo install --path native --locked --debug --root "$tmp/prefix" --quiet
"$tmp/prefix/bin/era" --version | grep -q "era $version"
"$tmp/prefix/bin/era" "${tiny_vision[@]}" --out "$tmp/runs-installed"
test -s "$tmp"/runs-installed/*/run.jsonl

say "cargo package -p era-shared -p era-native (each crate built from its package)"
# cargo builds era-native against the era-shared it just packaged, through a temporary local registry
# whose crates it unpacks under CARGO_HOME once per version and reuses after: an earlier packaging
# of the same version would be built instead of this one. So those unpacked copies go first.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/era-shared-* "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/era-native-* \
  target/package/tmp-registry
cargo package -p era-shared -p era-native --locked --allow-dirty --quiet

say "every install path works"

#!/usr/bin/env bash
# Builds era's release archives for Linux x86-64, with a SHA256SUMS file beside them:
#   era-VERSION-x86_64-linux.tar.gz          bin/era without MuJoCo (control on the pure-Rust tasks,
#                                             vision, LLM), README, licences
#   era-VERSION-x86_64-linux-mujoco.tar.gz   bin/era with MuJoCo, lib/libmujoco.so.3.17.0 found through a
#                                             relative rpath ($ORIGIN/../lib), and share/era/ with
#                                             Gymnasium's and dm_control's models, so the folder runs
#                                             every task wherever it is unpacked or moved
#   era-explorer-VERSION.tar.gz              the explorer's static site (dist/, relative URLs: any static
#                                             host or a GitHub Pages sub-folder serves it)
# Usage: scripts/release.sh [--out DIR] [--profile P]   (default target/release-archives and the release
#   profile; each of the two builds of era takes about 8 minutes on 2 cores once the dependencies are
#   built, more the first time; a minute in all when the builds are current. The install
#   test builds with --profile dev, reusing the test build's dependencies: same archives, unoptimised era)
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/release-archives
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --profile) profile=${2:?--profile needs a cargo profile}; shift 2 ;;
    *) echo "release: unknown option '$1' (known: --out DIR, --profile P)" >&2; exit 2 ;;
  esac
done
# Where cargo puts a profile's binaries.
bin_dir=target/$profile
[ "$profile" = dev ] && bin_dir=target/debug
say() { printf 'release: %s\n' "$*" >&2; }

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "release: builds the Linux x86-64 archives; this is $(uname -s)-$(uname -m)" >&2
  exit 1
fi
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Files every archive of the command line carries.
common() {
  cp README.md LICENSE CITATION.cff "$1/"
  mkdir -p "$1/docs" && cp docs/cli.md "$1/docs/"
}

say "building era without MuJoCo ($profile profile)"
cargo build --profile "$profile" --locked -p era-native
plain=$stage/era-$version-x86_64-linux
mkdir -p "$plain/bin"
cp "$bin_dir/era" "$plain/bin/"
# The build keeps line tables for readable backtraces; the shipped binary goes without (a fifth the size).
strip --strip-debug "$plain/bin/era"
common "$plain"

say "building era with MuJoCo, its library found beside the binary ($profile profile)"
eval "$(scripts/setup-mujoco.sh --no-python)"
# shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader, not the shell.
ERA_MUJOCO_RPATH='$ORIGIN/../lib' cargo build --profile "$profile" --locked -p era-native --features mujoco
mj=$stage/era-$version-x86_64-linux-mujoco
mkdir -p "$mj/bin" "$mj/lib" "$mj/share/era"
cp "$bin_dir/era" "$mj/bin/"
strip --strip-debug "$mj/bin/era"
cp "$MUJOCO_DYNAMIC_LINK_DIR"/libmujoco.so.* "$mj/lib/"
# The layout era looks for beside its binary: share/era/gymnasium-V/assets, share/era/dm-control-V/suite.
for models in "$ERA_MUJOCO_ASSETS" "$ERA_DMC_ASSETS"; do
  into=$mj/share/era/$(basename "$(dirname "$models")")
  mkdir -p "$into"
  cp -r "$models" "$into/"
done
rm -f "$mj"/share/era/dm-control-*/suite/.complete
common "$mj"
cat >"$mj/NOTICE.md" <<EOF
# Third-party files in this archive

- \`lib/libmujoco.so.*\`: MuJoCo $(basename "$(ls "$mj"/lib/libmujoco.so.*)" | sed 's/libmujoco.so.//'), Apache License 2.0, Google DeepMind
  (from the \`mujoco\` wheel on PyPI).
- \`share/era/gymnasium-*/assets/\`: the MuJoCo models of Gymnasium, MIT License, the Farama Foundation
  (from the \`gymnasium\` wheel on PyPI).
- \`share/era/dm-control-*/suite/\`: the DeepMind Control suite's models, Apache License 2.0, Google
  DeepMind (from the \`dm-control\` wheel on PyPI).

The Apache License 2.0: https://www.apache.org/licenses/LICENSE-2.0 ; the MIT License:
https://opensource.org/license/mit . era itself: see LICENSE.
EOF

say "building the explorer (trunk, release)"
scripts/web.sh build
web=$stage/era-explorer-$version
mkdir -p "$web"
cp -r dist/. "$web/"
# The demo's own runs are served from dist/runs/ while it runs; they are not part of the site.
rm -rf "$web/runs"

rm -f "$out"/era-*.tar.gz "$out/SHA256SUMS"
for dir in "$plain" "$mj" "$web"; do
  name=$(basename "$dir")
  tar -C "$stage" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"
done
(cd "$out" && sha256sum era-*.tar.gz >SHA256SUMS)
say "archives in $out:"
(cd "$out" && ls -l era-*.tar.gz SHA256SUMS >&2)
echo "$out"

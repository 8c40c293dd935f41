#!/usr/bin/env bash
# Vulkan for wgpu on NVIDIA GPU servers that ship the driver's Vulkan ICD but no Vulkan loader
# (libvulkan.so.1), so that wgpu finds no adapter there.
#
#   scripts/gpu-setup.sh download [DIR]   on a machine that reaches Debian's registry: fetches the
#                                         loader and the GL/EGL libraries it needs as .deb files
#                                         into DIR (default target/gpu-kit), to carry with the tree
#   scripts/gpu-setup.sh install [DIR]    on the GPU server (as root): unpacks them into /, runs
#                                         ldconfig and prints the environment that shows wgpu the GPU
#                                         (eval "$(scripts/gpu-setup.sh install)")
#
# Idempotent: packages already downloaded are not fetched again; unpacking again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
mode="${1:-}"
dir="${2:-target/gpu-kit}"

case "$mode" in
  download)
    mkdir -p "$dir"
    missing=()
    for p in "${PACKAGES[@]}"; do
      compgen -G "$dir/${p}_*.deb" >/dev/null || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
      if ! apt-get download --print-uris "${missing[0]}" >/dev/null 2>&1; then
        apt-get update -qq >&2
      fi
      (cd "$dir" && apt-get download "${missing[@]}" >&2)
    fi
    echo "gpu-setup: $(ls "$dir"/*.deb | wc -l) packages in $dir; carry the folder to the GPU server and run" >&2
    echo "gpu-setup:   eval \"\$(scripts/gpu-setup.sh install $dir)\"" >&2
    ;;
  install)
    compgen -G "$dir/*.deb" >/dev/null || {
      echo "gpu-setup: no .deb files in $dir: run 'scripts/gpu-setup.sh download $dir' where Debian's registry is reachable" >&2
      exit 2
    }
    for deb in "$dir"/*.deb; do
      dpkg -x "$deb" /
    done
    ldconfig
    # The driver installation ships its ICD description; the loader finds it through VK_DRIVER_FILES
    # when it is not where the loader looks by default.
    icd=""
    for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
      /usr/local/share/vulkan/icd.d/nvidia_icd.json /usr/lib/x86_64-linux-gnu/nvidia/*/nvidia_icd.json; do
      if [ -f "$f" ]; then icd="$f"; break; fi
    done
    if [ -z "$icd" ]; then
      icd=$(find / -xdev -name 'nvidia_icd*.json' 2>/dev/null | head -n 1 || true)
    fi
    if [ -z "$icd" ]; then
      echo "gpu-setup: the Vulkan loader is installed, but no nvidia_icd.json was found: is the NVIDIA driver installed?" >&2
      exit 2
    fi
    echo "gpu-setup: Vulkan loader installed; NVIDIA ICD at $icd" >&2
    echo "export VK_DRIVER_FILES=$icd"
    ;;
  *)
    echo "usage: scripts/gpu-setup.sh download|install [DIR]   (default DIR: target/gpu-kit)" >&2
    exit 2
    ;;
esac

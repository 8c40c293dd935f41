# Shared by scripts/setup-jax.sh and scripts/setup-torch.sh (sourced, not run): a Python venv with
# packages from PyPI, made once. Progress goes to stderr, so that the caller's stdout stays the
# environment to eval.

# make_venv TAG VENV CHECK PACKAGE…: unless VENV's python runs CHECK, creates VENV with PACKAGE…
# (installing python3-venv through apt-get when it is missing). TAG names the caller in messages.
make_venv() {
  local tag=$1 venv=$2 check=$3
  shift 3
  "$venv/bin/python" -c "$check" >/dev/null 2>&1 && return 0
  if ! command -v python3 >/dev/null; then
    printf '%s: python3 not found (pip fetches the wheels): install python3 and python3-venv\n' "$tag" >&2
    exit 1
  fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    local sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    if ! command -v apt-get >/dev/null; then
      printf '%s: python3 needs pip and venv\n' "$tag" >&2
      exit 1
    fi
    printf '%s: installing python3-venv\n' "$tag" >&2
    $sudo_cmd apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-pip python3-venv >/dev/null
  fi
  printf '%s: creating %s (once)\n' "$tag" "$venv" >&2
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
}

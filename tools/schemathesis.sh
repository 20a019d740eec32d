#!/usr/bin/env bash
# schemathesis.sh: Schemathesis from PyPI, every package pinned in
# tools/schemathesis/requirements.txt, in a virtual environment under the cache, for the
# property-based API test (test/e2e/test_schemathesis.sh).
#
#   schemathesis.sh fetch        make the venv (once; pip from PyPI, then offline)
#   schemathesis.sh st [ARGS…]   run Schemathesis' `st` from the venv (fetches first)
#   schemathesis.sh python [ARGS…]  the venv's Python (PyYAML and the rest importable)
#
# Environment: FLASHSALE_CACHE (default ~/.cache/flashsale). The venv's folder is named
# after a hash of requirements.txt, so changing a pin makes a new one.
set -euo pipefail

ST_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# dev.sh's helpers (as_root, die); sourcing it defines functions only (and changes to
# the project root, so return to where the caller is).
ST_CALLER_DIR=$(pwd)
# shellcheck source=../dev.sh
source "$ST_SCRIPT_DIR/../dev.sh"
cd "$ST_CALLER_DIR"

ST_REQUIREMENTS=$ST_SCRIPT_DIR/schemathesis/requirements.txt
ST_VERSION=$(sed -n 's/^schemathesis==//p' "$ST_REQUIREMENTS")
ST_HASH=$(sha256sum "$ST_REQUIREMENTS" | cut -c1-12)
ST_VENV=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/schemathesis-$ST_VERSION-$ST_HASH

st_log() { echo "schemathesis.sh: $*" >&2; }

# Debian's Python with its venv module (python3-venv) when missing; a ready machine
# needs neither network nor root.
st_python() {
  local py=/usr/bin/python3
  [[ -x $py ]] || py=$(command -v python3 || true)
  if [[ -z $py ]] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    st_log "installing python3 python3-venv"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv >&2
    py=/usr/bin/python3
  fi
  echo "$py"
}

# The venv, made once; `complete` marks one whose pip install finished. A venv cannot
# be moved (its scripts name their interpreter by path), so it is built in place and
# thrown away whole when an earlier attempt was cut short.
st_fetch() {
  [[ -f $ST_VENV/complete ]] && return 0
  local py
  py=$(st_python)
  st_log "installing Schemathesis $ST_VERSION from PyPI into $ST_VENV (once)"
  rm -rf "$ST_VENV"
  mkdir -p "$(dirname "$ST_VENV")"
  "$py" -m venv "$ST_VENV"
  "$ST_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    -r "$ST_REQUIREMENTS" >"$ST_VENV.pip.log" 2>&1 || {
    tail -n 30 "$ST_VENV.pip.log" >&2
    die "pip could not install Schemathesis $ST_VERSION (log: $ST_VENV.pip.log)"
  }
  "$ST_VENV/bin/st" --version >/dev/null || die "the Schemathesis in $ST_VENV does not run"
  echo "$ST_VERSION" >"$ST_VENV/complete"
}

st_main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
  fetch) st_fetch ;;
  st)
    st_fetch
    exec "$ST_VENV/bin/st" "$@"
    ;;
  python)
    st_fetch
    exec "$ST_VENV/bin/python" "$@"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
  esac
}

st_main "$@"

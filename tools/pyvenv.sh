#!/usr/bin/env bash
# pyvenv.sh: a Python tool from PyPI for the tests, every package pinned in
# tools/NAME/requirements.txt, in a virtual environment under the cache (pip once, then
# offline). tools/schemathesis.sh and tools/cloudevents.sh are its two users.
#
#   pyvenv.sh NAME CHECK fetch            make the venv once; CHECK (a shell command run
#                                         with the venv's bin/ first in PATH) proves it works
#   pyvenv.sh NAME CHECK run PROG [ARGS…] the venv's PROG (python, st, …), fetching first
#
# Environment: FLASHSALE_CACHE (default ~/.cache/flashsale). The venv's folder is named
# after the pinned version of NAME and a hash of requirements.txt, so changing a pin
# makes a new one.
set -euo pipefail

PV_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PV_CALLER_DIR=$(pwd)
# dev.sh's helpers (as_root, die); sourcing it defines functions only (and changes to
# the project root, so return to where the caller is).
# shellcheck source=../dev.sh
source "$PV_SCRIPT_DIR/../dev.sh"
cd "$PV_CALLER_DIR"

PV_NAME=${1:?usage: pyvenv.sh NAME CHECK fetch|run PROG [ARGS…]}
PV_CHECK=${2:?usage: pyvenv.sh NAME CHECK fetch|run PROG [ARGS…]}
shift 2
PV_REQUIREMENTS=$PV_SCRIPT_DIR/$PV_NAME/requirements.txt
PV_VERSION=$(sed -n "s/^$PV_NAME==//p" "$PV_REQUIREMENTS")
PV_HASH=$(sha256sum "$PV_REQUIREMENTS" | cut -c1-12)
PV_VENV=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/$PV_NAME-$PV_VERSION-$PV_HASH

pv_log() { echo "pyvenv.sh ($PV_NAME): $*" >&2; }

# Debian's Python with its venv module (python3-venv) when missing; a ready machine
# needs neither network nor root.
pv_python() {
  local py=/usr/bin/python3
  [[ -x $py ]] || py=$(command -v python3 || true)
  if [[ -z $py ]] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    pv_log "installing python3 python3-venv"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv >&2
    py=/usr/bin/python3
  fi
  echo "$py"
}

# The venv, made once; `complete` marks one whose pip install finished. A venv cannot
# be moved (its scripts name their interpreter by path), so it is built in place and
# thrown away whole when an earlier attempt was cut short.
pv_fetch() {
  [[ -f $PV_VENV/complete ]] && return 0
  local py
  py=$(pv_python)
  pv_log "installing $PV_NAME $PV_VERSION from PyPI into $PV_VENV (once)"
  rm -rf "$PV_VENV"
  mkdir -p "$(dirname "$PV_VENV")"
  "$py" -m venv "$PV_VENV"
  "$PV_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    -r "$PV_REQUIREMENTS" >"$PV_VENV.pip.log" 2>&1 || {
    tail -n 30 "$PV_VENV.pip.log" >&2
    die "pip could not install $PV_NAME $PV_VERSION (log: $PV_VENV.pip.log)"
  }
  PATH=$PV_VENV/bin:$PATH bash -c "$PV_CHECK" >/dev/null ||
    die "$PV_NAME in $PV_VENV does not work ($PV_CHECK failed)"
  echo "$PV_VERSION" >"$PV_VENV/complete"
}

case ${1:-} in
fetch) pv_fetch ;;
run)
  [[ -n ${2:-} ]] || die "pyvenv.sh: run needs a program"
  pv_fetch
  prog=$2
  shift 2
  exec "$PV_VENV/bin/$prog" "$@"
  ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
  ;;
esac

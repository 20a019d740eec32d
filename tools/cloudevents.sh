#!/usr/bin/env bash
# cloudevents.sh: the CloudEvents Python SDK from PyPI, every package pinned in
# tools/cloudevents/requirements.txt, in a virtual environment under the cache, so that
# test/e2e/test_trace_context.sh can read our events with a CloudEvents implementation
# that shares no code with ours.
#
#   cloudevents.sh fetch           make the venv (once; pip from PyPI, then offline)
#   cloudevents.sh python [ARGS…]  the venv's Python (fetches first)
#
# Environment: FLASHSALE_CACHE (default ~/.cache/flashsale). The venv's folder is named
# after a hash of requirements.txt, so changing a pin makes a new one.
set -euo pipefail

CE_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CE_CALLER_DIR=$(pwd)
# dev.sh's helpers (as_root, die); sourcing it defines functions only (and changes to
# the project root, so return to where the caller is).
# shellcheck source=../dev.sh
source "$CE_SCRIPT_DIR/../dev.sh"
cd "$CE_CALLER_DIR"

CE_REQUIREMENTS=$CE_SCRIPT_DIR/cloudevents/requirements.txt
CE_VERSION=$(sed -n 's/^cloudevents==//p' "$CE_REQUIREMENTS")
CE_HASH=$(sha256sum "$CE_REQUIREMENTS" | cut -c1-12)
CE_VENV=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/cloudevents-$CE_VERSION-$CE_HASH

ce_log() { echo "cloudevents.sh: $*" >&2; }

# Debian's Python with its venv module (python3-venv) when missing.
ce_python() {
  local py=/usr/bin/python3
  [[ -x $py ]] || py=$(command -v python3 || true)
  if [[ -z $py ]] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    ce_log "installing python3 python3-venv"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv >&2
    py=/usr/bin/python3
  fi
  echo "$py"
}

# The venv, made once; `complete` marks one whose pip install finished (a venv cannot
# be moved, so one cut short is thrown away whole and built again in place).
ce_fetch() {
  [[ -f $CE_VENV/complete ]] && return 0
  local py
  py=$(ce_python)
  ce_log "installing the CloudEvents SDK $CE_VERSION from PyPI into $CE_VENV (once)"
  rm -rf "$CE_VENV"
  mkdir -p "$(dirname "$CE_VENV")"
  "$py" -m venv "$CE_VENV"
  "$CE_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    -r "$CE_REQUIREMENTS" >"$CE_VENV.pip.log" 2>&1 || {
    tail -n 30 "$CE_VENV.pip.log" >&2
    die "pip could not install the CloudEvents SDK $CE_VERSION (log: $CE_VENV.pip.log)"
  }
  "$CE_VENV/bin/python" -c 'from cloudevents.core.bindings import kafka' ||
    die "the CloudEvents SDK in $CE_VENV does not import"
  echo "$CE_VERSION" >"$CE_VENV/complete"
}

ce_main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
  fetch) ce_fetch ;;
  python)
    ce_fetch
    exec "$CE_VENV/bin/python" "$@"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
  esac
}

ce_main "$@"

#!/usr/bin/env bash
# schemathesis.sh: Schemathesis from PyPI, every package pinned in
# tools/schemathesis/requirements.txt, for the property-based API test
# (test/e2e/test_schemathesis.sh); a venv under the cache made by tools/pyvenv.sh.
#
#   schemathesis.sh fetch           make the venv (once; pip from PyPI, then offline)
#   schemathesis.sh st [ARGS…]      run Schemathesis' `st` from the venv (fetches first)
#   schemathesis.sh python [ARGS…]  the venv's Python (PyYAML and the rest importable)
set -euo pipefail
venv() { exec bash "$(dirname "${BASH_SOURCE[0]}")/pyvenv.sh" schemathesis 'st --version' "$@"; }
case ${1:-} in
fetch) venv fetch ;;
st | python) venv run "$@" ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

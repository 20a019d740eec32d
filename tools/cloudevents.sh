#!/usr/bin/env bash
# cloudevents.sh: the CloudEvents Python SDK from PyPI, every package pinned in
# tools/cloudevents/requirements.txt, so that test/e2e/test_trace_context.sh can read our
# events with a CloudEvents implementation that shares no code with ours; a venv under
# the cache made by tools/pyvenv.sh.
#
#   cloudevents.sh fetch           make the venv (once; pip from PyPI, then offline)
#   cloudevents.sh python [ARGS…]  the venv's Python (fetches first)
set -euo pipefail
venv() {
  exec bash "$(dirname "${BASH_SOURCE[0]}")/pyvenv.sh" cloudevents \
    "python -c 'from cloudevents.core.bindings import kafka'" "$@"
}
case ${1:-} in
fetch) venv fetch ;;
python) venv run "$@" ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

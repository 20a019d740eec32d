#!/usr/bin/env bash
# vegeta.sh: the open-loop load generator of the benchmarks and of test_admission.sh,
# vegeta (github.com/tsenart/vegeta) at a pinned version, built from the Go module proxy
# into the cache once; afterwards no network is needed.
#
#   vegeta.sh fetch         build it (once) and print its path
#   vegeta.sh path          print its path when built, fail otherwise
#
# Why vegeta: a fixed arrival rate whatever the service answers (it starts more workers
# when answers are late, so a slow service does not slow its own load), a well-kept
# generator instead of one of ours, and per-request targets (a unique idempotency key
# each) read from a JSON-lines stream. Go: the one on PATH or /usr/local/go/bin; else
# Debian's golang-go, whose go (1.19 on Debian 12) is too old for vegeta 12.13 by itself
# and fetches the toolchain go.mod asks for (GOTOOLCHAIN=auto).
# Environment: FLASHSALE_CACHE (default ~/.cache/flashsale).
set -euo pipefail

VEGETA_VERSION=v12.13.0
VEGETA_BIN_DIR=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/go/vegeta-$VEGETA_VERSION
VEGETA=$VEGETA_BIN_DIR/vegeta

vegeta_go() {
  local go
  go=$(command -v go || true)
  [[ -n $go ]] || { [[ -x /usr/local/go/bin/go ]] && go=/usr/local/go/bin/go; }
  if [[ -z $go ]]; then
    echo "vegeta.sh: installing golang-go" >&2
    local sudo=; ((EUID == 0)) || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >&2
    go=/usr/bin/go
  fi
  echo "$go"
}

case ${1:-} in
fetch)
  if [[ ! -x $VEGETA ]]; then
    go=$(vegeta_go)
    echo "vegeta.sh: building vegeta $VEGETA_VERSION from the Go module proxy" >&2
    mkdir -p "$VEGETA_BIN_DIR"
    GOBIN=$VEGETA_BIN_DIR GOFLAGS=-mod=mod GOTOOLCHAIN=auto \
      "$go" install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" >&2
  fi
  echo "$VEGETA"
  ;;
path)
  [[ -x $VEGETA ]] || { echo "vegeta.sh: not built; run tools/vegeta.sh fetch" >&2; exit 1; }
  echo "$VEGETA"
  ;;
*)
  echo "usage: vegeta.sh fetch|path" >&2
  exit 2
  ;;
esac

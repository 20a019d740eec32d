# The TCP fault proxy (tools/fault_proxy.py) for end-to-end tests. Sourced after lib.sh.
#   start_fault_proxy NAME TARGET_HOST:PORT   -> sets PROXY_PORT; the proxy runs in the background
#   fault NAME MODE                           -> pass | blackhole | delay MS | cut (waits until applied)
#   proxied_url URL NAME                      -> URL with its host:port replaced by the proxy's
: "${FLASHSALE_SOURCE_DIR:?FLASHSALE_SOURCE_DIR must name the source tree}"
FAULT_PROXY="$FLASHSALE_SOURCE_DIR/tools/fault_proxy.py"

start_fault_proxy() {
  local name=$1 target=$2
  PROXY_PORT=$(free_port)
  python3 "$FAULT_PROXY" --listen "127.0.0.1:$PROXY_PORT" --target "$target" \
    --control "$E2E_TMP/$name.ctl" >"$E2E_TMP/$name-proxy.log" 2>&1 &
  E2E_PIDS+=($!)
  eval "PROXY_PORT_$name=$PROXY_PORT"
  wait_for 10 "fault proxy $name listening" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PROXY_PORT"
}

fault() {
  local name=$1
  shift
  python3 "$FAULT_PROXY" --control "$E2E_TMP/$name.ctl" --set "$*"
}

# host:port of a postgresql:// URL
url_hostport() { sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#' <<<"$1"; }

proxied_url() {
  local url=$1 name=$2 port_var="PROXY_PORT_$2"
  local hp
  hp=$(url_hostport "$url")
  echo "${url/$hp/127.0.0.1:${!port_var}}"
}

now_ms() { date +%s%3N; }

# wait_ms TIMEOUT_MS COMMAND...: retries COMMAND until it succeeds; prints the ms it took
# (or fails after TIMEOUT_MS).
wait_ms() {
  local timeout=$1
  shift
  local start
  start=$(now_ms)
  until "$@" >/dev/null 2>&1; do
    if (($(now_ms) - start >= timeout)); then
      echo "$timeout"
      return 1
    fi
    sleep 0.05
  done
  echo $(($(now_ms) - start))
}

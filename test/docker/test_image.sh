#!/usr/bin/env bash
# The Docker deployment built and run for real (issue 21), run by `./dev.sh test-docker`
# (which `./dev.sh test`, hence .ci/run, calls): Debian base images made locally with
# mmdebstrap (no image registry needed; tarball cached in ~/.cache/flashsale), a Docker
# engine of this test's own (own data root, exec root and socket; no bridge, no
# iptables; stopped at the end), docker/Dockerfile built, and the containers run on the
# host network against a PostgreSQL of this test and the Kafka of ./dev.sh with-stack:
#   * `migrate up` started before PostgreSQL is up waits for it, then applies;
#   * the certs script's certificates, each node's key readable by that node only and
#     ca.key by none; three nodes over mutual TLS, /readyz 200 and Docker's own health
#     check "healthy" on a non-default HTTP_ADDR;
#   * an order through the saga simulator's container to a terminal state;
#   * SIGTERM (docker stop) ends every node with exit status 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
SOURCE_ROOT=$(pwd)
: "${DATABASE_URL:?run through ./dev.sh test-docker}" "${KAFKA_BROKERS:?run through ./dev.sh test-docker}"
# dev.sh's helpers (free_port, as_pg, pg_find_bin) without running it.
# shellcheck source=../../dev.sh
source "$SOURCE_ROOT/dev.sh"
ROOT=$SOURCE_ROOT # dev.sh sets ROOT and moves to the folder of $0
cd "$ROOT"

CACHE=${FLASHSALE_CACHE:-$HOME/.cache/flashsale}
BASE_TAR=$CACHE/debian-12-minbase.tar
BASE_MAX_AGE_DAYS=30 # then a fresh one, with the archive's updates
ENGINE_ROOT=$CACHE/docker # layers are kept between runs: apt steps are cached
IMAGE=flashsale-order:e2e
DOCKER_BIN=/usr/bin/docker # the docker.io client, the engine's own version
PASSED=0 FAILED=0
T0=$SECONDS

say() { echo "test_image: $* ($((SECONDS - T0)) s)" >&2; }
check() {
  local what=$1
  shift
  if "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $what" >&2; fi
}
# wait_for TIMEOUT_S WHAT COMMAND...: test/e2e/lib.sh's shape; named apart from
# wait_until SECONDS COMMAND..., which dev.sh brings (tools/lib/common.sh).
wait_for() {
  local timeout=$1 what=$2
  local deadline=$((SECONDS + timeout))
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "timed out after $timeout s: $what" >&2; return 1; }
    sleep 0.2
  done
}

RUN=$(mktemp -d /tmp/fs-dk.XXXXXX) # short: the engine's sockets live below it
chmod 755 "$RUN"
DOCKERD_PID=
CONTAINERS=()
PG_STARTED=

cleanup() {
  local status=$? c
  trap - EXIT
  if ((status != 0)) && [[ -n $DOCKERD_PID ]]; then
    for c in "${CONTAINERS[@]}"; do
      echo "--- logs of $c" >&2
      dk logs --tail 20 "$c" >&2 2>&1 || true # the container's stderr too: the service logs there
    done
  fi
  for c in "${CONTAINERS[@]}"; do dk rm -f "$c" >/dev/null 2>&1 || true; done
  [[ -n $DOCKERD_PID ]] && dk image prune -f >/dev/null 2>&1 || true
  if [[ -n $DOCKERD_PID ]]; then
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
  fi
  if [[ -n $PG_STARTED ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$RUN/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  # The engine leaves its network namespace bind-mounted below its exec root.
  grep -o " $RUN/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$RUN" || echo "test_image: could not remove $RUN" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dk() { "$DOCKER_BIN" -H "unix://$RUN/docker.sock" "$@"; }

for tool in dockerd containerd runc mmdebstrap "$DOCKER_BIN"; do
  command -v "$tool" >/dev/null || { echo "missing $tool (./dev.sh test-docker installs it)" >&2; exit 1; }
done

# --- base images: Debian 12 from Debian's archive, no registry
mkdir -p "$CACHE" "$ENGINE_ROOT"
if [[ ! -s $BASE_TAR ]] || [[ -n $(find "$BASE_TAR" -mtime +"$BASE_MAX_AGE_DAYS") ]]; then
  say "making the Debian 12 base image with mmdebstrap"
  mmdebstrap --variant=minbase --format=tar --quiet bookworm "$BASE_TAR.new" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  mv -f "$BASE_TAR.new" "$BASE_TAR"
fi

# --- the engine: one at a time per data root
exec 9>"$ENGINE_ROOT/lock"
flock -w 900 9 || { echo "another test holds $ENGINE_ROOT/lock" >&2; exit 1; }
say "starting dockerd (data root $ENGINE_ROOT/data)"
dockerd --data-root "$ENGINE_ROOT/data" --exec-root "$RUN/exec" -H "unix://$RUN/docker.sock" \
  --pidfile "$RUN/docker.pid" --bridge=none --iptables=false --ip6tables=false \
  --ip-masq=false --userland-proxy=false >"$RUN/dockerd.log" 2>&1 &
DOCKERD_PID=$!
wait_for 60 "dockerd answers" dk version || { tail -n 30 "$RUN/dockerd.log" >&2; exit 1; }

if ! dk image inspect debian:12 >/dev/null 2>&1 ||
  [[ $(dk image inspect -f '{{.Comment}}' debian:12) != "$(stat -c %Y "$BASE_TAR")" ]]; then
  say "importing the base image"
  dk import -m "$(stat -c %Y "$BASE_TAR")" "$BASE_TAR" debian:12 >/dev/null
  dk tag debian:12 debian:12-slim
fi

say "docker build"
BUILD_T0=$SECONDS
dk build --network host -f docker/Dockerfile -t "$IMAGE" . >"$RUN/build.log" 2>&1 ||
  { tail -n 40 "$RUN/build.log" >&2; exit 1; }
BUILD_S=$((SECONDS - BUILD_T0))
SIZE_MB=$(($(dk image inspect -f '{{.Size}}' "$IMAGE") / 1000000))
CONTEXT=$(sed -n 's/^Sending build context to Docker daemon *//p' "$RUN/build.log" | tail -n1)
say "built in $BUILD_S s; image $SIZE_MB MB; context $CONTEXT"
check "the build context leaves out build trees ($CONTEXT)" \
  bash -c '[[ $0 != *GB && ! ( $0 == *MB && ${0%%.*} -ge 50 ) ]]' "$CONTEXT"
no_debug_info() { dk run --rm --network none --entrypoint sh "$IMAGE" -c '! grep -q "\.debug_info" /usr/local/bin/flashsale-order'; }
check "the binary carries no debug info" no_debug_info

run_bg() { # NAME DOCKER-RUN-ARGS...: a detached container on the host network
  local name=fs-e2e-$1-$$
  shift
  CONTAINERS+=("$name")
  dk run -d --name "$name" --network host "$@" >/dev/null
}
name_of() { echo "fs-e2e-$1-$$"; }

# --- migrate up before PostgreSQL is up: it must wait, then apply
pg_find_bin
PG_PORT=$(free_port)
DB_URL=postgresql://postgres@127.0.0.1:$PG_PORT/flashsale
run_bg migrate -e DATABASE_URL="$DB_URL" "$IMAGE" migrate up
says_waiting() { dk logs "$(name_of migrate)" 2>&1 | grep -q 'waiting for the database'; }
check "migrate waits for a database that is not up" wait_for 30 "migrate says it waits" says_waiting
mkdir -p "$RUN/pg"
chown postgres: "$RUN/pg" 2>/dev/null || true
as_pg "$PG_BIN/initdb" -D "$RUN/pg/data" -A trust -U postgres --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$RUN/pg/data" -l "$RUN/pg/log" -w -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$RUN/pg -c fsync=off -c max_connections=200" start >/dev/null
PG_STARTED=1
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres flashsale
MIGRATE_RC=$(dk wait "$(name_of migrate)")
MIGRATE_LOG=$(dk logs "$(name_of migrate)" 2>&1)
check "migrate up exits 0 once the database is up (got $MIGRATE_RC)" test "$MIGRATE_RC" = 0
check "migrate up reports what it applied" grep -Eq '^applied [1-9][0-9]* migration' <<<"$MIGRATE_LOG"
check "and ran as nobody (the image's USER)" test "$(dk inspect -f '{{.Config.User}}' "$(name_of migrate)")" = nobody

# --- certificates, the certs script as in compose
CERTS=$RUN/certs
dk run --rm --network none --user root -v "$CERTS:/certs" --entrypoint sh "$IMAGE" \
  /usr/share/flashsale/certs.sh /certs node-1:10001 node-2:10002 node-3:10003 >"$RUN/certs.log"
check "certs made a CA and three node certificates" test -s "$CERTS/ca.pem" -a -s "$CERTS/node-3.pem"

# --- three nodes over mutual TLS, each its own user, HTTP on a non-default port
declare -A HTTP
GROUP=docker-e2e-$$-$RANDOM
for n in 1 2 3; do
  HTTP[$n]=$(free_port)
  run_bg "node-$n" --user "1000$n:1000$n" -v "$CERTS:/certs:ro" \
    -e DATABASE_URL="$DB_URL" -e KAFKA_BROKERS="$KAFKA_BROKERS" -e KAFKA_GROUP_ID="$GROUP" \
    -e HTTP_ADDR="127.0.0.1:${HTTP[$n]}" -e NODE_ID="node-$n" -e CLUSTER_HOST=127.0.0.1 \
    -e CAF_NODE_PORT="$(free_port)" -e CLUSTER_TLS_CA=/certs/ca.pem \
    -e CLUSTER_TLS_CERT="/certs/node-$n.pem" -e CLUSTER_TLS_KEY="/certs/node-$n.key" \
    -e LOG_FORMAT=json "$IMAGE"
done
readyz() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/readyz") == 200 ]]; }
health_of() { dk inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
healthy() { [[ $(health_of "$1") == healthy ]]; }
cannot_read() { ! dk exec "$(name_of "$1")" cat "$2" >/dev/null 2>&1; }
for n in 1 2 3; do
  check "node-$n /readyz 200" wait_for 90 "node-$n ready" readyz "${HTTP[$n]}"
  check "node-$n healthy by Docker's health check on HTTP_ADDR :${HTTP[$n]}" \
    wait_for 30 "node-$n healthy" healthy "$(name_of "node-$n")"
  check "node-$n cannot read ca.key" cannot_read "node-$n" /certs/ca.key
  other=$((n % 3 + 1))
  check "node-$n cannot read node-$other's key" cannot_read "node-$n" "/certs/node-$other.key"
  check "node-$n reads its own key" dk exec "$(name_of "node-$n")" test -r "/certs/node-$n.key"
done
live_nodes() { curl -s "http://127.0.0.1:${HTTP[1]}/metrics" | sed -n 's/^cluster_nodes_live \([0-9]*\).*/\1/p'; }
three_live() { [[ $(live_nodes) == 3 ]]; }
check "the nodes see each other over mutual TLS" wait_for 30 "3 live nodes" three_live
# A create is minted inside a shard its node owns, and a node that owns none answers 503
# with Retry-After (DESIGN "Many nodes"). While the third node joins, the cooperative
# rebalance can leave one node without a shard for a moment: wait until the group has
# settled, every shard owned and each node holding some, before the order below.
SHARDS=${KAFKA_PARTITIONS:-8} # tools/apache_kafka.sh's partitions per topic
shards_of() { curl -s "http://127.0.0.1:${HTTP[$1]}/metrics" | sed -n 's/^cluster_shards_owned \([0-9]*\).*/\1/p'; }
shards_shared() {
  local n owned sum=0
  for n in 1 2 3; do
    owned=$(shards_of "$n")
    [[ $owned =~ ^[0-9]+$ ]] && ((owned >= 1)) || return 1
    sum=$((sum + owned))
  done
  ((sum == SHARDS))
}
check "the three nodes share all $SHARDS shards, each owning some" wait_for 60 "shards shared" shards_shared

# --- the saga simulator's container drives an order to a terminal state
# As docker-compose.yaml runs it: `healthcheck: disable: true` (it serves no HTTP).
# SIM_NO_ANSWER_RATE=0: by default the simulator leaves 5 % of payments unanswered (to
# exercise the PAYMENT_PENDING deadline, 600 s), and this test waits 90 s for a terminal
# state. A decline (CANCELLED) is terminal too, so the decline rate stays.
run_bg saga-sim --no-healthcheck -e KAFKA_BROKERS="$KAFKA_BROKERS" -e SIM_NO_ANSWER_RATE=0 \
  -e SIM_GROUP_ID="saga-sim-$GROUP" --entrypoint flashsale-saga-sim "$IMAGE"
check "saga-sim has no inherited health check" test "$(health_of "$(name_of saga-sim)")" = none
BODY=$(curl -s -X POST "http://127.0.0.1:${HTTP[2]}/api/v1/orders" -H 'Content-Type: application/json' \
  -H "X-Idempotency-Key: docker-e2e-$$-$RANDOM" \
  --data '{"user_id":"'"$(cat /proc/sys/kernel/random/uuid)"'","currency":"EUR","total_amount":25.00,"items":[{"sku_id":"sku-1","quantity":2,"price":12.50}]}')
ORDER=$(jq -r '.data.id // empty' <<<"$BODY")
check "order created ($BODY)" test -n "$ORDER"
status_of() { curl -s "http://127.0.0.1:${HTTP[3]}/api/v1/orders/$ORDER" | jq -r '.data.status'; }
terminal() { [[ $(status_of) =~ ^(PAID|CANCELLED|EXPIRED)$ ]]; }
check "the order reaches a terminal state" wait_for 90 "order $ORDER terminal" terminal
say "order $ORDER: $(status_of)"
# The image's default record of a delivery (OUTBOX_RETENTION_S=0, docs/OUTBOX.md): a
# relay deletes each row it delivered; none is left PENDING or kept SENT.
outbox_rows() {
  psql -qtA "$DB_URL" -c "SELECT count(*) FROM outbox_events WHERE aggregate_id = '$ORDER' AND status IN ('PENDING', 'SENT')"
}
outbox_drained() { [[ $(outbox_rows) == 0 ]]; }
check "the order's delivered events are deleted from the outbox" wait_for 30 "outbox rows of $ORDER gone" outbox_drained

# --- SIGTERM: every node drains and exits 0
STOPS=()
for n in 1 2 3; do
  dk stop -t 40 "$(name_of "node-$n")" >/dev/null &
  STOPS+=($!)
done
wait "${STOPS[@]}" # not a bare wait: the engine runs in the background of this shell too
for n in 1 2 3; do
  check "node-$n exits 0 on SIGTERM" test "$(dk inspect -f '{{.State.ExitCode}}' "$(name_of "node-$n")")" = 0
done

say "image $SIZE_MB MB, build $BUILD_S s, total $((SECONDS - T0)) s"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))

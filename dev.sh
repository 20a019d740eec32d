#!/usr/bin/env bash
# dev.sh: one entry point for building, testing and running the FlashSale order
# service on a Debian 12 machine. Everything it needs (packages, PostgreSQL, a
# Kafka broker) it installs or starts itself; see ./dev.sh --help.
set -euo pipefail
# Ports, processes, waiting, PostgreSQL (shared with the benchmarks and the e2e tests).
# shellcheck source=tools/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools/lib/common.sh"

cd "$(dirname "$0")"
ROOT=$(pwd)
# A separate build tree can be chosen, e.g. to keep a second configuration around.
BUILD_DIR=${FLASHSALE_BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
DEV_DIR=$ROOT/.dev

PACKAGES=(build-essential cmake pkg-config ccache libcaf-dev libpqxx-dev librdkafka-dev
  rapidjson-dev libpistache-dev libboost-test-dev postgresql postgresql-contrib kcat wrk
  curl jq util-linux iproute2 docker-compose libssl-dev openssl
  clang libclang-rt-14-dev python3 python3-venv prometheus)
# test-docker (issue 21): a Docker engine of its own and Debian base images from the archive.
DOCKER_PACKAGES=(docker.io mmdebstrap)
# Node.js and npm for the kafkajs e2e test, from Debian unless a Node.js is there already
# (e.g. NodeSource's nodejs, which brings its own npm and conflicts with Debian's).
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

usage() {
  cat <<'EOF'
usage: ./dev.sh COMMAND [ARGS]

  test          install missing packages (and, once, Schemathesis from PyPI into
                ~/.cache/flashsale), build, start a throwaway PostgreSQL and
                Apache Kafka, run every test with CTest, stop it all again;
                exits with the test suite's status (.ci/run calls this)
  run           build, start PostgreSQL (data kept in .dev/pg), the Kafka broker, apply
                migrations, start the service with all roles and the saga simulator,
                stay in the foreground; Ctrl-C stops everything
  up            the same stack in the background; returns once GET /readyz is 200 and
                writes .dev/stack.env (ORDER_API_URL, ORDER_API_URLS, KAFKA_BROKERS,
                DATABASE_URL, KAFKA_BROKER_PID); NODES=3 starts three nodes
  down          stop what `up` started, nothing else
  bench         build, start a durable throwaway PostgreSQL and the broker, run the
                benchmark suite (tools/bench.sh) and print its table
  build         install missing packages and build only
  fuzz [SECONDS] [TARGET...]
                build the clang fuzz tree (build-fuzz/) and run each libFuzzer target
                (fuzz_create_request, fuzz_money, fuzz_event_decoder, fuzz_routes, or
                the ones named) for SECONDS (default 300); new corpus entries go to
                FUZZ_CORPUS_DIR/<target> (default /var/tmp/flashsale-fuzz), crashing
                inputs to build-fuzz/artifacts/; the seeds in test/fuzz/corpus are only read
  test-docker   build docker/Dockerfile and run the image for real (test/docker/test_image.sh):
                base images made with mmdebstrap (cached in ~/.cache/flashsale), a
                Docker engine of its own (data root ~/.cache/flashsale/docker, no
                bridge, no iptables), migrate/certs/three nodes/saga-sim on the host
                network against a throwaway PostgreSQL and Kafka; `test` runs it too
                (FLASHSALE_DOCKER_TEST=0 leaves it out)
  with-stack CMD [ARGS]
                start a throwaway PostgreSQL and Kafka broker, run CMD with
                DATABASE_URL, KAFKA_BROKERS, KAFKA_DOWN and KAFKA_UP (shell commands
                that take the broker down and up again), KAFKA_DIR and KAFKA_CTL
                (tools/apache_kafka.sh) set, stop them again (e.g. to run
                build/test/integration_tests --run_test=migrator_suite by hand)
  --help        this text

Environment:
  KAFKA_MODE        apache (default): Apache Kafka from Maven Central (tools/apache_kafka.sh,
                    jars cached in ~/.cache/flashsale; Java 17 and Maven installed when
                    missing); embedded: librdkafka's mock cluster (tools/embedded_kafka.cpp),
                    no Java, for a quick look
  HTTP_ADDR         service listen address (dev default 127.0.0.1:8080, or a free
                    port when 8080 is taken)
  SAGA_SIM=0        run/up without the saga simulator
  NODES=N           up: N order nodes (NODE_ID node-1..N), each on its own HTTP
                    port, listed in .dev/stack.env as ORDER_API_URLS; with N > 1 they
                    talk mutual TLS with a throwaway CA made under .dev/tls (set
                    CLUSTER_TLS_CA/CERT/KEY for your own, CLUSTER_INSECURE=1 for none)
  FLASHSALE_BUILD_DIR  build tree (default: build; the fuzz tree is its name + -fuzz)
  FUZZ_SECONDS      test: seconds each fuzz_<target> test runs (default 30; 0 replays
                    the seed corpus only)
  STACK_PG_MODE=durable  with-stack: keep PostgreSQL's durability on (default
                    throwaway: fsync, synchronous_commit, full_page_writes off)
  PG_EXTRA_OPTS     more server options for the PostgreSQL that dev.sh starts, e.g.
                    "-c shared_preload_libraries=pg_stat_statements"
  Any other variable (ORDER_TTL_RESERVED_S, LOG_LEVEL, ...) reaches the service.
EOF
}

log() { echo "dev.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------
# Packages and build

# Runs a command as root: directly when we are root, otherwise through sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root to run '$*' (install sudo or run as root)"
  fi
}

installed() { [[ $(dpkg -s "$1" 2>/dev/null) == *"Status: install ok installed"* ]]; }

# Installs only what is missing, so a ready machine needs neither network nor root.
ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

configure() {
  local werror=OFF
  [[ ${CI:-} == true ]] && werror=ON
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLASHSALE_WERROR=$werror
}

# build [TARGET...]: configure, then build the given targets (default: all).
build() {
  local t targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  configure
  cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
}

# ---------------------------------------------------------------------------
# Embedded PostgreSQL

PG_BIN=
PG_BASE= # folder with data/, the unix socket and postgres.log
PG_PORT=
DATABASE_URL_DEV=

pg_find_bin() {
  PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  [[ -n $PG_BIN && -x $PG_BIN/initdb ]] || die "no PostgreSQL server found in /usr/lib/postgresql"
}

# PostgreSQL refuses to run as root: then every server command runs as the
# `postgres` system user (from / so it never needs access to our working folder).
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# pg_init BASE: creates the cluster in BASE/data unless it exists already.
pg_init() {
  PG_BASE=$1
  pg_find_bin
  mkdir -p "$PG_BASE"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "the postgres system user is missing (package postgresql)"
    chown -R postgres: "$PG_BASE"
    as_pg test -w "$PG_BASE" ||
      die "user postgres cannot reach $PG_BASE (a parent folder is not world-searchable)"
  fi
  [[ -f $PG_BASE/data/PG_VERSION ]] && return 0
  log "initdb $PG_BASE/data"
  as_pg "$PG_BIN/initdb" -D "$PG_BASE/data" -A trust -U postgres --no-sync -E UTF8 \
    --locale=C >"$PG_BASE/initdb.log" 2>&1 || {
    cat "$PG_BASE/initdb.log" >&2
    die "initdb failed"
  }
}

pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$PG_BASE/data" status >/dev/null 2>&1; }

# pg_start durable|throwaway: starts the server on a free 127.0.0.1 port.
pg_start() {
  local mode=$1 opts attempt
  pg_running && die "PostgreSQL in $PG_BASE is already running (./dev.sh down?)"
  # The socket path is limited to ~107 bytes; a deep checkout gets a /tmp one.
  local sockdir=$PG_BASE
  if ((${#sockdir} > 80)); then
    sockdir=$(mktemp -d /tmp/fs-pgsock.XXXXXX)
    [[ $EUID -eq 0 ]] && chown postgres: "$sockdir"
  fi
  for attempt in 1 2 3; do
    if [[ $attempt == 1 ]]; then PG_PORT=$(pg_pick_port); else PG_PORT=$(free_port); fi
    opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='$sockdir'"
    opts+=" -c max_connections=300 -c shared_buffers=256MB ${PG_EXTRA_OPTS:-}"
    # A test cluster is thrown away, so durability would only cost time.
    [[ $mode == throwaway ]] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_BASE/data" -l "$PG_BASE/postgres.log" -w -t 60 \
      -o "$opts" start >/dev/null; then
      break
    fi
    # Most likely someone took the port between the check and the bind.
    log "PostgreSQL did not start on port $PG_PORT (attempt $attempt)"
    tail -n 5 "$PG_BASE/postgres.log" >&2 || true
    [[ $attempt == 3 ]] && die "PostgreSQL does not start; see $PG_BASE/postgres.log"
  done
  echo "$PG_PORT" >"$PG_BASE/port"
  wait_until 30 as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" ||
    die "PostgreSQL does not answer"
  log "PostgreSQL $(basename "$(dirname "$PG_BIN")") on 127.0.0.1:$PG_PORT ($PG_BASE)"
}

# Reuse the port of the last run when it is free: a stable DATABASE_URL is handy.
pg_pick_port() {
  local last
  last=$(cat "$PG_BASE/port" 2>/dev/null || true)
  if [[ $last =~ ^[0-9]+$ ]] && port_free "$last"; then echo "$last"; else free_port; fi
}

pg_create_db() {
  local db=$1
  if ! as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
  fi
  DATABASE_URL_DEV="postgresql://postgres@127.0.0.1:$PG_PORT/$db"
}

pg_stop() {
  [[ -n $PG_BASE && -f $PG_BASE/data/PG_VERSION ]] || return 0
  pg_running || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_BASE/data" -m fast -w -t 60 stop >/dev/null ||
    log "warning: PostgreSQL in $PG_BASE did not stop"
}

# ---------------------------------------------------------------------------
# Kafka: Apache Kafka from Maven Central (KAFKA_MODE=apache, the default) or the
# embedded broker, librdkafka's mock cluster behind real Kafka listeners (embedded).

KAFKA_MODE=${KAFKA_MODE:-apache}
KAFKA_PID=       # embedded: the broker process; apache: node 1's
KAFKA_DIR=       # apache: the cluster's folder (tools/apache_kafka.sh)
KAFKA_BROKERS_DEV=

kafka_check_mode() {
  [[ $KAFKA_MODE == apache || $KAFKA_MODE == embedded ]] ||
    die "KAFKA_MODE must be apache or embedded, got '$KAFKA_MODE'"
}

# kafka_start DIR: starts the broker with its files under DIR, sets KAFKA_BROKERS_DEV.
kafka_start() {
  local dir=$1
  kafka_check_mode
  mkdir -p "$dir"
  if [[ $KAFKA_MODE == apache ]]; then
    KAFKA_DIR=$dir
    KAFKA_BROKERS_DEV=$("$ROOT/tools/apache_kafka.sh" start "$dir" 1 | sed -n 's/^KAFKA_BROKERS=//p')
    [[ -n $KAFKA_BROKERS_DEV ]] || die "Apache Kafka did not start (logs in $dir/node1/kafka.log)"
    KAFKA_PID=$(cut -d' ' -f1 "$dir/node1/pid")
    log "Apache Kafka $(kafka_version) on $KAFKA_BROKERS_DEV (pid $KAFKA_PID, $dir)"
  else
    embedded_kafka_start "$dir/kafka.out" "$dir/kafka.log"
  fi
}

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/tools/kafka/pom.xml"; }

# kafka_stop DIR: stops what kafka_start DIR started.
kafka_stop() {
  local dir=$1
  [[ -f $dir/nodes ]] && "$ROOT/tools/apache_kafka.sh" stop "$dir"
  if [[ -f $dir/embedded.pid ]]; then
    # shellcheck disable=SC2046
    stop_proc $(cat "$dir/embedded.pid") kafka
    rm -f "$dir/embedded.pid"
  fi
  return 0
}

# embedded_kafka_start OUT_FILE LOG_FILE: starts the broker detached, waits for its
# KAFKA_BROKERS line.
embedded_kafka_start() {
  local out=$1 err=$2 bin=$BUILD_DIR/tools/flashsale-kafka i
  [[ -x $bin ]] || die "$bin is missing (build first)"
  : >"$out"
  setsid nohup "$bin" >"$out" 2>"$err" </dev/null &
  KAFKA_PID=$!
  proc_id "$KAFKA_PID" >"$(dirname "$out")/embedded.pid"
  for ((i = 0; i < 200; i++)); do
    KAFKA_BROKERS_DEV=$(sed -n 's/^KAFKA_BROKERS=//p' "$out")
    [[ -n $KAFKA_BROKERS_DEV ]] && break
    kill -0 "$KAFKA_PID" 2>/dev/null || { cat "$err" >&2; die "the Kafka broker exited"; }
    sleep 0.1
  done
  [[ -n $KAFKA_BROKERS_DEV ]] || die "the Kafka broker printed no address"
  log "embedded Kafka brokers $KAFKA_BROKERS_DEV (pid $KAFKA_PID)"
}

# What the tests need to take the broker down and up again: KAFKA_DOWN / KAFKA_UP are
# shell commands (apache: SIGSTOP/SIGCONT of the node, a broker that stops answering;
# embedded: SIGUSR1/SIGUSR2, every mock broker refusing connections; SIGHUP toggles
# slow answers, see flashsale-kafka --help).
kafka_export_controls() {
  export KAFKA_MODE KAFKA_BROKER_PID=$KAFKA_PID
  if [[ $KAFKA_MODE == apache ]]; then
    export KAFKA_DIR KAFKA_CTL=$ROOT/tools/apache_kafka.sh
    export KAFKA_DOWN="$KAFKA_CTL pause $KAFKA_DIR 1" KAFKA_UP="$KAFKA_CTL resume $KAFKA_DIR 1"
  else
    export KAFKA_DOWN="kill -USR1 $KAFKA_PID" KAFKA_UP="kill -USR2 $KAFKA_PID"
  fi
}

# ---------------------------------------------------------------------------
# test / with-stack: a throwaway PostgreSQL and broker around one command

STACK_TMP=
STACK_PG_MODE=${STACK_PG_MODE:-throwaway} # bench measures with durable settings

with_stack_cleanup() {
  local status=$?
  # The logs die with the temp folder: show their ends when something failed.
  if [[ -n $STACK_TMP && $status -ne 0 ]]; then
    log "exit status $status; last lines of the PostgreSQL and Kafka logs:"
    tail -n 15 "$STACK_TMP/pg/postgres.log" "$STACK_TMP"/kafka/kafka.log \
      "$STACK_TMP"/kafka/node*/kafka.log >&2 2>/dev/null || true
  fi
  [[ -n $STACK_TMP ]] && kafka_stop "$STACK_TMP/kafka"
  pg_stop
  [[ -n $STACK_TMP ]] && rm -rf "$STACK_TMP"
  return 0
}

with_stack() {
  [[ $# -gt 0 ]] || die "with-stack needs a command"
  trap with_stack_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  STACK_TMP=$(mktemp -d /tmp/flashsale-stack.XXXXXX)
  chmod 755 "$STACK_TMP" # so that the postgres user can reach pg/ below it
  pg_init "$STACK_TMP/pg"
  pg_start "$STACK_PG_MODE"
  pg_create_db postgres
  kafka_start "$STACK_TMP/kafka"
  # Tests create their own databases; the admin database is their entry point.
  export DATABASE_URL=$DATABASE_URL_DEV KAFKA_BROKERS=$KAFKA_BROKERS_DEV
  kafka_export_controls
  # Not `cmd || status=$?` at the call site: that would switch off `set -e` in here.
  # A failing command ends the script with its status; the EXIT trap cleans up.
  "$@"
}

# The sanitizer tree (test/fuzz): clang, ASan+UBSan, libFuzzer targets and unit_tests.
FUZZ_BUILD_DIR=$BUILD_DIR-fuzz

# build_fuzz [ON|OFF]: ON (the suite) adds integration_tests and every service source
# under ASan+UBSan (integration_asan); `fuzz` needs only the fuzz targets.
build_fuzz() {
  local werror=OFF integration=${1:-OFF}
  [[ ${CI:-} == true ]] && werror=ON
  cmake -S "$ROOT/test/fuzz" -B "$FUZZ_BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLASHSALE_WERROR=$werror \
    -DFUZZ_SECONDS="${FUZZ_SECONDS:-30}" -DFLASHSALE_FUZZ_STRICT_UNICODE=ON \
    -DFLASHSALE_SANITIZE_INTEGRATION="$integration"
  cmake --build "$FUZZ_BUILD_DIR" -j"$(nproc)"
}

# Both suites run even when the first fails; the status is the first failure's.
run_suites() {
  local status=0
  ctest --test-dir "$BUILD_DIR" --output-on-failure || status=$?
  log "unit and integration tests under ASan+UBSan and the fuzz targets ($FUZZ_BUILD_DIR)"
  ctest --test-dir "$FUZZ_BUILD_DIR" --output-on-failure || ((status != 0)) || status=1
  if [[ ${DOCKER_TEST_STATUS:-0} != 0 ]]; then
    log "the Docker image test (./dev.sh test-docker) failed"
    ((status != 0)) || status=1
  fi
  return "$status"
}

cmd_test() {
  ensure_packages
  build
  build_fuzz ON
  # Schemathesis for test_schemathesis.sh: a venv under ~/.cache/flashsale, pip from
  # PyPI once (tools/schemathesis.sh), so that no test waits on the network.
  bash "$ROOT/tools/schemathesis.sh" fetch
  # vegeta for test_admission.sh and the open-loop bench: built once from the Go module
  # proxy into the cache (tools/vegeta.sh).
  bash "$ROOT/tools/vegeta.sh" fetch >/dev/null
  # The CloudEvents SDK for test_trace_context.sh, the same way (tools/cloudevents.sh).
  bash "$ROOT/tools/cloudevents.sh" fetch
  # The image test (issue 21) compiles inside Docker: a process of its own, before the
  # suites so that it does not compete with them for the CPU; its status counts too.
  # About 4 minutes on a fresh machine (base image, build packages, the compile inside
  # Docker), 2 with its cache; FLASHSALE_DOCKER_TEST=0 leaves it out (README).
  DOCKER_TEST_STATUS=0
  if [[ ${FLASHSALE_DOCKER_TEST:-1} != 0 ]]; then
    "$ROOT/dev.sh" test-docker || DOCKER_TEST_STATUS=$?
  fi
  with_stack run_suites
}

cmd_test_docker() {
  PACKAGES=("${DOCKER_PACKAGES[@]}" postgresql curl jq)
  ensure_packages
  with_stack bash "$ROOT/test/docker/test_image.sh"
}

cmd_fuzz() {
  local seconds=${1:-300} t failed=()
  [[ $seconds =~ ^[1-9][0-9]*$ ]] || die "fuzz: SECONDS must be a positive number, got '$seconds'"
  shift || true
  local targets=("$@")
  ensure_packages
  build_fuzz
  if [[ ${#targets[@]} -eq 0 ]]; then
    for t in "$ROOT"/test/fuzz/fuzz_*.cpp; do targets+=("$(basename "$t" .cpp)"); done
  fi
  for t in "${targets[@]}"; do
    t=fuzz_${t#fuzz_}
    log "$t for $seconds s"
    bash "$ROOT/test/fuzz/run_fuzzer.sh" "$FUZZ_BUILD_DIR/$t" "$ROOT/test/fuzz/corpus/${t#fuzz_}" \
      "$seconds" "${FUZZ_CORPUS_DIR:-/var/tmp/flashsale-fuzz}/${t#fuzz_}" || failed+=("$t")
  done
  [[ ${#failed[@]} -eq 0 ]] || die "failed: ${failed[*]}"
}

cmd_with_stack() {
  build flashsale-kafka # only the broker: the caller builds what it runs
  with_stack "$@"
}

# ---------------------------------------------------------------------------
# run / up / down: the development stack with data kept in .dev/

SERVICE_BIN=
SAGA_BIN=

# Data under .dev/pg, unless the postgres user (root case) cannot reach it.
dev_pg_base() {
  local base=$DEV_DIR/pg
  if [[ $EUID -eq 0 ]] && ! (cd / && runuser -u postgres -- test -x "$ROOT"); then
    base=/var/tmp/flashsale-dev-$(echo "$ROOT" | md5sum | cut -c1-12)/pg
    log "user postgres cannot reach $ROOT; PostgreSQL data goes to $base"
  fi
  echo "$base"
}

# Dev listen address: the caller's HTTP_ADDR, else 127.0.0.1:8080 if free.
http_addr() {
  if [[ -n ${HTTP_ADDR:-} ]]; then
    echo "$HTTP_ADDR"
  elif port_free 8080; then
    echo 127.0.0.1:8080
  else
    echo "127.0.0.1:$(free_port)"
  fi
}

# The URL a client on this machine uses for a listen address like 0.0.0.0:8080.
api_url() {
  local host=${1%:*} port=${1##*:}
  [[ $host == 0.0.0.0 || $host == '*' || -z $host || $host == '[::]' ]] && host=127.0.0.1
  echo "http://$host:$port"
}

# Builds only what the stack runs, so a test that is mid-edit does not stop `run`.
build_stack() {
  local targets=(--target flashsale-order --target flashsale-kafka)
  configure
  if cmake --build "$BUILD_DIR" --target help 2>/dev/null | grep -qw flashsale-saga-sim; then
    targets+=(--target flashsale-saga-sim)
  fi
  cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
}

prepare_stack() {
  ensure_packages
  build_stack
  SERVICE_BIN=$BUILD_DIR/flashsale-order
  [[ -x $SERVICE_BIN ]] || die "$SERVICE_BIN is missing"
  SAGA_BIN=
  if [[ ${SAGA_SIM:-1} != 0 && -x $BUILD_DIR/tools/flashsale-saga-sim ]]; then
    SAGA_BIN=$BUILD_DIR/tools/flashsale-saga-sim
  fi
  mkdir -p "$DEV_DIR/logs" "$DEV_DIR/pids"
}

migrate_up() {
  log "applying migrations"
  DATABASE_URL=$DATABASE_URL_DEV KAFKA_BROKERS=$KAFKA_BROKERS_DEV "$SERVICE_BIN" migrate up ||
    die "migrate up failed"
}

print_urls() {
  local url=$1
  cat <<EOF

  Order API    $url/api/v1/orders
  health       $url/healthz   $url/readyz   $url/metrics
  Kafka        $KAFKA_BROKERS_DEV
  PostgreSQL   $DATABASE_URL_DEV
  logs         $DEV_DIR/logs/
  saga sim     $([[ -n $SAGA_BIN ]] && echo on || echo off)

EOF
}

RUN_IDS=() # "pid start name" of everything `run` started, newest last

run_cleanup() {
  local i
  trap - INT TERM
  for ((i = ${#RUN_IDS[@]} - 1; i >= 0; i--)); do
    # shellcheck disable=SC2086
    stop_proc ${RUN_IDS[i]}
  done
  kafka_stop "$DEV_DIR/kafka"
  pg_stop
  log "stopped"
}

cmd_run() {
  prepare_stack
  trap run_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  pg_init "$(dev_pg_base)"
  pg_start durable
  pg_create_db flashsale
  kafka_start "$DEV_DIR/kafka"
  migrate_up

  local addr svc
  addr=$(http_addr)
  export DATABASE_URL=$DATABASE_URL_DEV KAFKA_BROKERS=$KAFKA_BROKERS_DEV HTTP_ADDR=$addr
  if [[ -n $SAGA_BIN ]]; then
    "$SAGA_BIN" >"$DEV_DIR/logs/saga-sim.log" 2>&1 </dev/null &
    RUN_IDS+=("$(proc_id $!) saga-sim")
  fi
  "$SERVICE_BIN" serve </dev/null &
  svc=$!
  RUN_IDS+=("$(proc_id $svc) flashsale-order")
  print_urls "$(api_url "$addr")"
  log "running in the foreground; Ctrl-C stops everything"
  local status=0
  wait "$svc" || status=$?
  log "flashsale-order exited with status $status"
  exit "$status"
}

# Starts a detached process with its log in .dev/logs and its id in .dev/pids.
spawn_bg() {
  local name=$1
  shift
  setsid nohup "$@" >"$DEV_DIR/logs/$name.log" 2>&1 </dev/null &
  proc_id $! >"$DEV_DIR/pids/$name.pid"
}

cmd_up() {
  local f
  for f in "$DEV_DIR"/pids/*.pid; do
    [[ -f $f ]] || continue
    # shellcheck disable=SC2046
    same_proc $(cat "$f") && die "the stack is already up ($f); ./dev.sh down first"
  done
  prepare_stack
  rm -f "$DEV_DIR"/pids/* "$DEV_DIR/stack.env"
  # Whatever fails from here on, leave nothing running behind.
  trap 'status=$?; [[ $status -ne 0 ]] && cmd_down_quiet; exit $status' EXIT

  pg_init "$(dev_pg_base)"
  pg_start durable
  echo "$PG_BASE" >"$DEV_DIR/pids/pg.base"
  pg_create_db flashsale
  kafka_start "$DEV_DIR/kafka"
  echo "$DEV_DIR/kafka" >"$DEV_DIR/pids/kafka.dir"
  migrate_up

  local addr url urls=() nodes=${NODES:-1} i
  [[ $nodes =~ ^[1-9][0-9]?$ ]] || die "NODES must be a number from 1 to 99, got '$nodes'"
  export DATABASE_URL=$DATABASE_URL_DEV KAFKA_BROKERS=$KAFKA_BROKERS_DEV
  [[ -n $SAGA_BIN ]] && spawn_bg saga-sim "$SAGA_BIN"
  # Several nodes talk mutual TLS (CONTRACT §7): a throwaway CA and node certificates
  # under .dev/tls, unless CLUSTER_TLS_* (your own) or CLUSTER_INSECURE=1 are set.
  local tls=()
  if ((nodes > 1)) && [[ -z ${CLUSTER_TLS_CA-} && ${CLUSTER_INSECURE-} != 1 ]]; then
    rm -rf "$DEV_DIR/tls"
    # shellcheck disable=SC2046
    sh "$ROOT/tools/cluster_certs.sh" "$DEV_DIR/tls" $(seq -f 'node-%g' 1 "$nodes") ||
      die "cannot make the cluster certificates (openssl) under $DEV_DIR/tls"
    tls=(1)
  fi
  # Node 1 is "flashsale-order" as with one node; the others are flashsale-order-N.
  for ((i = 1; i <= nodes; i++)); do
    if ((i == 1)); then addr=$(http_addr); else addr=127.0.0.1:$(free_port); fi
    urls+=("$(api_url "$addr")")
    if ((nodes == 1)); then
      HTTP_ADDR=$addr spawn_bg flashsale-order "$SERVICE_BIN" serve
    elif ((${#tls[@]})); then
      CLUSTER_TLS_CA=$DEV_DIR/tls/ca.pem CLUSTER_TLS_CERT=$DEV_DIR/tls/node-$i.pem \
        CLUSTER_TLS_KEY=$DEV_DIR/tls/node-$i.key HTTP_ADDR=$addr NODE_ID=node-$i \
        spawn_bg "$(node_name "$i")" "$SERVICE_BIN" serve
    else
      HTTP_ADDR=$addr NODE_ID=node-$i spawn_bg "$(node_name "$i")" "$SERVICE_BIN" serve
    fi
  done
  for ((i = 1; i <= nodes; i++)); do wait_ready "${urls[i - 1]}" "$(node_name "$i")"; done
  url=${urls[0]}
  cat >"$DEV_DIR/stack.env" <<EOF
ORDER_API_URL=$url
ORDER_API_URLS=$(IFS=,; echo "${urls[*]}")
KAFKA_BROKERS=$KAFKA_BROKERS_DEV
DATABASE_URL=$DATABASE_URL_DEV
KAFKA_MODE=$KAFKA_MODE
KAFKA_BROKER_PID=$KAFKA_PID
KAFKA_DIR=$KAFKA_DIR
EOF
  print_urls "$url"
  log "stack is up; settings in .dev/stack.env; ./dev.sh down stops it"
}

# The pid/log name of order node N.
node_name() { if (($1 == 1)); then echo flashsale-order; else echo "flashsale-order-$1"; fi; }

# wait_ready URL [NAME]: polls /readyz for up to 60 s; gives up early if the service died.
wait_ready() {
  local url=$1 name=${2:-flashsale-order} deadline=$((SECONDS + 60))
  # shellcheck disable=SC2046
  while ((SECONDS < deadline)); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" || true) == 200 ]]; then
      return 0
    fi
    same_proc $(cat "$DEV_DIR/pids/$name.pid") || {
      tail -n 40 "$DEV_DIR/logs/$name.log" >&2 || true
      die "$name exited before it was ready"
    }
    sleep 0.25
  done
  tail -n 40 "$DEV_DIR/logs/$name.log" >&2 || true
  die "$url/readyz did not answer 200 within 60 s"
}

cmd_down_quiet() {
  local name f
  for f in "$DEV_DIR"/pids/flashsale-order-*.pid; do # nodes 2..N of NODES=N
    [[ -f $f ]] || continue
    name=$(basename "$f" .pid)
    # shellcheck disable=SC2046
    stop_proc $(cat "$f") "$name"
    rm -f "$f"
  done
  for name in saga-sim flashsale-order; do
    f=$DEV_DIR/pids/$name.pid
    [[ -f $f ]] || continue
    # shellcheck disable=SC2046
    stop_proc $(cat "$f") "$name"
    rm -f "$f"
  done
  if [[ -f $DEV_DIR/pids/kafka.dir ]]; then
    kafka_stop "$(cat "$DEV_DIR/pids/kafka.dir")"
    rm -f "$DEV_DIR/pids/kafka.dir"
  fi
  if [[ -f $DEV_DIR/pids/pg.base ]]; then
    PG_BASE=$(cat "$DEV_DIR/pids/pg.base")
    pg_find_bin
    pg_stop
    rm -f "$DEV_DIR/pids/pg.base"
  fi
  rm -f "$DEV_DIR/stack.env"
}

cmd_down() {
  cmd_down_quiet
  log "stack stopped"
}

# The benchmarks get their own PostgreSQL with durability on (numbers without fsync
# would flatter) and broker, thrown away afterwards.
cmd_bench() {
  [[ -f tools/bench.sh ]] || die "no benchmarks exist yet (tools/bench.sh is missing)"
  ensure_packages
  build
  bash "$ROOT/tools/vegeta.sh" fetch >/dev/null # the open-loop generator (bench_open_loop.sh)
  STACK_PG_MODE=durable
  # Statement statistics for tools/bench_delivery_record.sh (many deployments run it too).
  PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements ${PG_EXTRA_OPTS:-}"
  export FLASHSALE_BUILD_DIR=$BUILD_DIR
  with_stack bash tools/bench.sh "$@"
}

# ---------------------------------------------------------------------------

main() {
  local cmd=${1:---help}
  shift || true
  case $cmd in
  test) cmd_test "$@" ;;
  test-docker) cmd_test_docker "$@" ;;
  run) cmd_run "$@" ;;
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  bench) cmd_bench "$@" ;;
  fuzz) cmd_fuzz "$@" ;;
  build) ensure_packages && build ;;
  with-stack) cmd_with_stack "$@" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

# Sourcing the file (for a quick look at a helper) defines the functions only.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi

# The shell helpers that dev.sh, tools/bench*.sh and test/e2e/lib.sh share: ports,
# processes, waiting, PostgreSQL, numbers. Sourcing it defines functions and nothing
# else; a script finds it next to itself, e.g.
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"   (from tools/)
# Messages name the script that runs ($0), as dev.sh's own did.

# ---------------------------------------------------------------------------
# Ports

# No socket in any state uses the port: an outgoing connection's local port blocks
# a bind just as a listener does.
port_free() { [[ -z $(ss -tanH "sport = :$1" 2>/dev/null) ]]; }

# A free TCP port below the kernel's ephemeral range (so that no outgoing connection
# grabs it between our check and the bind), from a random start so that parallel
# runs rarely pick the same one.
free_port() {
  local lo _hi first=15000 last i p
  read -r lo _hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  last=$((lo - 1))
  ((last - first < 1000)) && { first=20000; last=60000; }
  local span=$((last - first + 1)) base=$((RANDOM * 32768 + RANDOM))
  for ((i = 0; i < 500; i++)); do
    p=$((first + (base + i) % span))
    port_free "$p" && { echo "$p"; return 0; }
  done
  echo "${0##*/}: error: no free TCP port found" >&2
  exit 1
}

# ---------------------------------------------------------------------------
# Processes

# Field N of /proc/PID/stat counted after the "(comm)" field, which may hold spaces:
# 1 is the state, 20 the start time.
proc_field() {
  local stat f
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a f <<<"${stat##*) }"
  echo "${f[$2 - 1]}"
}

# "pid starttime": the start time tells a reused pid from the process we started.
proc_id() { echo "$1 $(proc_field "$1" 20)"; }

# Alive (not a zombie) and still the process recorded by proc_id?
same_proc() {
  local pid=$1 start=$2
  [[ $(proc_field "$pid" 20) == "$start" && $(proc_field "$pid" 1) != Z ]]
}

# stop_proc PID START [NAME]: SIGTERM, up to 15 s grace, then SIGKILL; only if it is
# still the same process (a detached one, recorded by proc_id, may outlive its starter).
stop_proc() {
  local pid=$1 start=$2 name=${3:-process} i
  if same_proc "$pid" "$start"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      same_proc "$pid" "$start" || break
      sleep 0.1
    done
    if same_proc "$pid" "$start"; then
      echo "${0##*/}: $name (pid $pid) ignored SIGTERM for 15 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # Reap it when it is our child, so that no zombie lingers.
  wait "$pid" 2>/dev/null || true
}

# stop_pids PID...: SIGTERM to each of our background children, then reap them all
# (all signalled first, so that they stop side by side); gone ones are no error.
stop_pids() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# ---------------------------------------------------------------------------
# Waiting

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds (status 0)
# or SECONDS have passed (status 1).
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# ready_at URL: GET URL/readyz answers 2xx.
ready_at() { curl -fsS -o /dev/null "$1/readyz" 2>/dev/null; }

# ---------------------------------------------------------------------------
# PostgreSQL

# sql URL QUERY: the rows of QUERY, fields separated by |, nothing else.
sql() { psql -qtAX "$1" -c "$2"; }

# migrated_db ADMIN_URL NAME BINARY: creates database NAME on ADMIN_URL's server,
# applies the migrations with BINARY (flashsale-order migrate up) and prints its URL.
migrated_db() {
  local url=${1%/*}/$2
  psql -q "$1" -c "CREATE DATABASE $2" >/dev/null &&
    DATABASE_URL=$url "$3" migrate up >/dev/null &&
    echo "$url"
}

# ---------------------------------------------------------------------------
# Numbers

# median [FILE]: the median of the numbers on stdin (or in FILE), one a line.
median() { sort -g ${1:+"$1"} | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# to_ms [DECIMALS]: wrk's latencies with units (us, ms, s) on stdin, in ms with DECIMALS
# (2) decimals.
to_ms() {
  awk -v d="${1:-2}" '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.*f\n", d, v}'
}

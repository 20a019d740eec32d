#!/usr/bin/env bash
# run_fuzzer.sh BINARY SEED_DIR SECONDS [WORK_DIR]: runs a libFuzzer target for SECONDS
# over the seeds (0: only replays them). New corpus entries go to WORK_DIR (kept), or to a temp dir that is
# removed afterwards; SEED_DIR is only read. Fails on a crash, a sanitizer finding, a
# property violation (the target aborts), a timeout or out-of-memory; the input that
# did it is kept in ARTIFACT_DIR (default: the binary's directory/artifacts) and
# printed as hex.
set -euo pipefail
bin=$1 seeds=$2 seconds=$3 work=${4:-}
[[ -x $bin ]] || { echo "run_fuzzer.sh: no fuzz target $bin" >&2; exit 1; }
name=$(basename "$bin")
artifacts=${ARTIFACT_DIR:-$(dirname "$bin")/artifacts}/$name
mkdir -p "$artifacts"
tmp=$(mktemp -d "/tmp/flashsale-$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [[ -z $work ]]; then
  work=$tmp/corpus
  mkdir -p "$work"
  cp -r "$seeds"/. "$work"/ # a copy: fuzzing never writes into the repository
  dirs=("$work")
else
  mkdir -p "$work"
  dirs=("$work" "$seeds") # new entries go to the first directory only
fi
limit=(-max_total_time="$seconds")
[[ $seconds == 0 ]] && limit=(-runs=0)
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "${dirs[@]}" >"$tmp/log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
  grep -v '^#[0-9]' "$tmp/log" | tail -n 60 >&2
  for f in "$artifacts"/*; do
    [[ -f $f && $f -nt $tmp ]] || continue
    echo "$name: failing input $f ($(stat -c %s "$f") bytes):" >&2
    head -c 512 "$f" | od -An -c | head -n 20 >&2
  done
  echo "$name: FAILED (status $status)" >&2
  exit 1
fi
grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done [0-9]+ runs)' "$tmp/log" || true
echo "$name: ok after ${seconds} s, $(find "$work" -type f | wc -l) corpus entries"

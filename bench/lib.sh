# Sourced first by each bench script, which takes [N] [BUILD_DIR]: strict
# mode, the repository as working directory, `n` (default 1000000) and
# `build` (default build/release) from the script's arguments, a galsyncd
# on loopback for as long as the script runs, and a scratch directory.
#
#   bench_need BINARY...  exits unless each is built in $build
#   bench_need_tool PROGRAM...  exits unless each is installed
#   bench_galsyncd [ARG...]
#       starts $build/galsyncd on 127.0.0.1 (any free port) with a fresh
#       data directory and ARGs, waits until it listens, and sets
#       BENCH_PID, BENCH_BASE (http://127.0.0.1:PORT) and BENCH_KEY (the
#       server admin key it created, if it made one); may be called again
#       for more servers
#   bench_postgres
#       starts a throwaway PostgreSQL (scripts/pg-test-server.sh, durable
#       settings) and sets BENCH_PG to its postgresql:// URI
#   bench_postgres_replica
#       after bench_postgres: starts a streaming replica (hot standby) of
#       it and sets BENCH_PG_REPLICA to its URI
#   bench_token URL
#       the token of an up-to-date reader of the domain at URL
#       (BASE/v1/domains/NAME); uses $auth
#   bench_wake_stats NAME WRITER WAITER
#       20 times: a long-poll waits on WAITER (a base URL) while a PUT goes
#       to WRITER; prints min, median and max of the time from just before
#       the PUT until the long-poll's answer is in, in ms (curl's start-up
#       included, so upper bounds). Uses $auth and $path.
#   bench_wait_idle
#       waits until the galsyncd uses under 5 % of a core for a second
#       (e.g. it has rebuilt its search index after a large import)
#   BENCH_TMP  scratch directory
# On exit the server stops and BENCH_TMP is removed.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-1000000}"
build="${2:-build/release}"

BENCH_TMP=$(mktemp -d)
BENCH_PID=
BENCH_PIDS=()
BENCH_PG=
BENCH_PG_REPLICA=
BENCH_WAKES=0
bench_cleanup() {
  local p
  for p in "${BENCH_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  # (Keyed on the state directories: a server that failed to start may
  # still have left a cluster directory.)
  if [ -d "$BENCH_TMP/pg-replica" ]; then
    scripts/pg-test-server.sh stop "$BENCH_TMP/pg-replica" || true
  fi
  if [ -d "$BENCH_TMP/pg" ]; then
    scripts/pg-test-server.sh stop "$BENCH_TMP/pg" || true
  fi
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

bench_need() {
  local b
  for b in "$@"; do
    [ -x "$build/$b" ] || { echo "build $build/$b first (see docs/benchmarks.md)"; exit 1; }
  done
}

bench_need_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "$t missing: scripts/install-deps.sh"; exit 1; }
  done
}

bench_galsyncd() {
  local i=${#BENCH_PIDS[@]}
  local out="$BENCH_TMP/galsyncd-$i.out"
  "$build/galsyncd" --data-dir "$BENCH_TMP/data-$i" --listen 127.0.0.1:0 "$@" >"$out" 2>&1 &
  BENCH_PID=$!
  BENCH_PIDS+=("$BENCH_PID")
  until grep -q "listening on" "$out"; do
    kill -0 "$BENCH_PID" 2>/dev/null || { cat "$out" >&2; exit 1; }
    sleep 0.1
  done
  BENCH_BASE=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out" | head -1)
  BENCH_KEY=$(sed -n 's/^galsyncd admin key: //p' "$out")
}

bench_postgres() {
  BENCH_PG=$(scripts/pg-test-server.sh start "$BENCH_TMP/pg")
}

bench_postgres_replica() {
  BENCH_PG_REPLICA=$(scripts/pg-test-server.sh replica "$BENCH_TMP/pg-replica" "$BENCH_TMP/pg")
}

# The token of an up-to-date reader of the domain at URL (BASE/v1/domains/D):
# a since= in the future answers with no changes and the current position.
bench_token() {
  curl -s -H "$auth" "$1/changes?since=2100-01-01T00:00:00Z" |
    sed -n 's/.*"next_token":"\([^"]*\)".*/\1/p'
}

# One sample of bench_wake_stats: WRITER WAITER TAG.
bench_wake_ms() {
  local writer=$1 waiter=$2 i=$3
  local t
  t=$(bench_token "$waiter$path")
  ( curl -s -H "$auth" "$waiter$path/changes?wait=10&token=$t" >/dev/null
    date +%s%N >"$BENCH_TMP/woke" ) &
  local poller=$!
  sleep 0.3
  local t0
  t0=$(date +%s%N)
  curl -s -o /dev/null -X PUT -H "$auth" -H "Content-Type: application/json" \
    -d "{\"name\":{\"given\":\"Wake\",\"family\":\"Test$i\"}}" \
    "$writer$path/contacts/wake-$i"
  wait "$poller"
  echo $(( ($(cat "$BENCH_TMP/woke") - t0) / 1000000 ))
}

bench_wake_stats() {
  local name=$1 writer=$2 waiter=$3 i samples=()
  for i in $(seq 1 20); do
    BENCH_WAKES=$((BENCH_WAKES + 1))
    samples+=("$(bench_wake_ms "$writer" "$waiter" "$BENCH_WAKES")")
  done
  printf '%s\n' "${samples[@]}" | sort -n |
    awk -v name="$name" '{v[NR]=$1} END {print "== long-poll woken by a write, " name " (20 samples, ms): min " v[1] ", median " v[int((NR+1)/2)] ", max " v[NR]}'
}

bench_wait_idle() {
  local before after
  # utime + stime, fields 14 and 15 of /proc/PID/stat, in clock ticks
  before=$(awk '{print $14 + $15}' "/proc/$BENCH_PID/stat")
  while sleep 1; do
    after=$(awk '{print $14 + $15}' "/proc/$BENCH_PID/stat")
    [ $(( after - before )) -lt $(( $(getconf CLK_TCK) / 20 )) ] && return
    before=$after
  done
}

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
bench_cleanup() {
  local p
  for p in "${BENCH_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "$BENCH_PG" ]; then
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

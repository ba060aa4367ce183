#!/usr/bin/env bash
# Snapshot import end to end: `galsync admin import` uploading a CSV of N
# generated people to a real galsyncd (Release build) on loopback, three
# times: into an empty domain, again unchanged, and with 10 rows changed.
# Each line gives the wall time of the whole command (upload, parse,
# compare, write) and the report's counts.
#
#   bench/import_bench.sh [N] [BUILD_DIR]  (defaults: 1000000, build/release)
#
# galsyncd runs with its default durability (an fsync per batch), as the
# in-process build/release/import_bench does. Client and server share the
# cores.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
build="${2:-build/release}"
for b in galsyncd galsync import_bench; do
  [ -x "$build/$b" ] || { echo "build $build/$b first (see docs/benchmarks.md)"; exit 1; }
done

data=$(mktemp -d)
out=$(mktemp)
tmp=$(mktemp -d)
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$out" "$tmp"; }
trap cleanup EXIT

"$build/import_bench" csv "$n" "$tmp/people.csv"
"$build/galsyncd" --data-dir "$data" --listen 127.0.0.1:0 >"$out" 2>&1 &
pid=$!
until grep -q "listening on" "$out"; do sleep 0.1; done
base=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out" | head -1)
sed -n 's/^galsyncd admin key: //p' "$out" >"$tmp/admin.key"
curl -sf -H "Authorization: Bearer $(cat "$tmp/admin.key")" \
     -d '{"name":"bench.example"}' "$base/v1/domains" >/dev/null
echo "== $n people, $(( $(stat -c %s "$tmp/people.csv") / 1000000 )) MB of CSV"

run() {
  local label=$1 file=$2 start end
  start=$(date +%s.%N)
  "$build/galsync" admin import "$file" --format csv --source hr --delete-missing \
      --server "$base" --domain bench.example --key-file "$tmp/admin.key" \
      >"$tmp/report" 2>/dev/null
  end=$(date +%s.%N)
  printf '%-10s %6.2f s  %s\n' "$label" "$(echo "$end - $start" | bc)" \
      "$(cat "$tmp/report")"
}
run empty "$tmp/people.csv"
run unchanged "$tmp/people.csv"
# Ten rows changed, spread over the file: an "x" before the full name (the
# cell after the id; every row starts with its id, "p<offset>-p<number>").
awk -v step="$(( n / 10 ))" '/^p[0-9]+-p[0-9]+,/ { if (r++ % step == 0 && c < 10) { sub(/,/, ",x"); c++ } } { print }' \
    "$tmp/people.csv" >"$tmp/changed.csv"
run "10 changed" "$tmp/changed.csv"

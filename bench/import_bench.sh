#!/usr/bin/env bash
# Snapshot import end to end: `galsync admin import` uploading a CSV of N
# generated people to a real galsyncd (Release build) on loopback, three
# times: into an empty domain, again unchanged, and with 10 rows changed.
# Each line gives the wall time of the whole command (upload, parse,
# compare, write) and the report's counts. Before the second and third
# runs the script waits until galsyncd is idle (it rebuilds its search
# index after the first run's million adds).
#
#   bench/import_bench.sh [N] [BUILD_DIR]  (defaults: 1000000, build/release)
#
# galsyncd runs with its default durability (an fsync per batch), as the
# in-process build/release/import_bench does. Client and server share the
# cores.
. "$(dirname "$0")/lib.sh"
bench_need galsyncd galsync import_bench
tmp=$BENCH_TMP

"$build/import_bench" csv "$n" "$tmp/people.csv"
bench_galsyncd
base=$BENCH_BASE
echo "$BENCH_KEY" >"$tmp/admin.key"
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
# The adds made galsyncd rebuild its search index in the background; a
# nightly re-import meets an idle server, so wait for that.
bench_wait_idle
run unchanged "$tmp/people.csv"
bench_wait_idle
# Ten rows changed, spread over the file: an "x" before the full name (the
# cell after the id; every row starts with its id, "p<offset>-p<number>").
awk -v step="$(( n / 10 ))" '/^p[0-9]+-p[0-9]+,/ { if (r++ % step == 0 && c < 10) { sub(/,/, ",x"); c++ } } { print }' \
    "$tmp/people.csv" >"$tmp/changed.csv"
run "10 changed" "$tmp/changed.csv"

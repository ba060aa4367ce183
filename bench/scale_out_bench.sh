#!/usr/bin/env bash
# The PostgreSQL store beside SQLite on the same machine, and galsyncd
# scaled out to two instances over one PostgreSQL:
#   1. in process (galsync_bench), each store in turn: batched import of N
#      people, durable single writes, a 1,000-change page, a no-change poll,
#      a full sync
#   2. over HTTP, galsyncd --demo N on PostgreSQL: no-change polls/s and
#      durable single writes/s (wrk, keep-alive) against one instance, then
#      against two at once; and writes/s against a galsyncd on SQLite
#   3. how soon a write on one instance wakes a long-poll on the other (and,
#      for comparison, on the same instance)
#
#   bench/scale_out_bench.sh [N] [BUILD_DIR]   (defaults: 1000000, build/release)
#
# PostgreSQL runs with its durable defaults (fsync, synchronous_commit on),
# from scripts/pg-test-server.sh, on the same cores as everything else.
. "$(dirname "$0")/lib.sh"
bench_need galsyncd galsync_bench
bench_need_tool wrk curl
bench_postgres

filter='BM_(BatchedImport/1000000|SingleWrite|ServePage$|ServePage/|NoChangePoll|FullSync)'
echo "== in process, SQLite"
GALSYNC_BENCH_PEOPLE=$n "$build/galsync_bench" --benchmark_filter="$filter"
echo "== in process, PostgreSQL"
GALSYNC_BENCH_PEOPLE=$n GALSYNC_BENCH_STORE=$BENCH_PG \
  "$build/galsync_bench" --benchmark_filter="$filter"

start=$(date +%s.%N)
bench_galsyncd --store "$BENCH_PG" --demo "$n"
a=$BENCH_BASE
key=$BENCH_KEY
echo "== galsyncd --demo $n on PostgreSQL: ready in $(echo "$(date +%s.%N) - $start" | bc) s"
bench_galsyncd --store "$BENCH_PG"
b=$BENCH_BASE
auth="Authorization: Bearer $key"
path=/v1/domains/demo.example
token=$(bench_token "$a$path")

echo "== no-change polls, one instance (wrk -t2 -c64 -d10s)"
wrk -t2 -c64 -d10s -H "$auth" "$a$path/changes?token=$token" | grep -E "Requests/sec|Latency"
echo "== no-change polls, two instances at once (wrk -t1 -c32 -d10s each)"
wrk -t1 -c32 -d10s -H "$auth" "$a$path/changes?token=$token" >"$BENCH_TMP/wrk-a" &
wrk_a=$!
wrk -t1 -c32 -d10s -H "$auth" "$b$path/changes?token=$token" >"$BENCH_TMP/wrk-b" &
wait $wrk_a $!
grep -h "Requests/sec" "$BENCH_TMP/wrk-a" "$BENCH_TMP/wrk-b" |
  awk '{print "  instance " NR ": " $2 " requests/s"; s += $2} END {print "  together: " s " requests/s"}'

# Durable single writes over HTTP: PUTs of new contacts (put_contacts.lua).
puts() {  # BASE TAG SECONDS CONNECTIONS
  wrk -t1 -c"$4" -d"$3"s -s bench/put_contacts.lua -H "$auth" \
    "$1$path/contacts/" -- "$2" | awk '/Requests\/sec/ {print $2}'
}
echo "== durable single writes (PUT of new contacts), one instance (wrk -t1 -c8 -d10s): $(puts "$a" a1 10 8) requests/s"
puts "$a" a2 10 8 >"$BENCH_TMP/put-a" &
put_a=$!
puts "$b" b2 10 8 >"$BENCH_TMP/put-b" &
wait $put_a $!
echo "== durable single writes, two instances at once (wrk -t1 -c8 -d10s each): $(cat "$BENCH_TMP/put-a") + $(cat "$BENCH_TMP/put-b") requests/s"

bench_wake_stats "waiting on the same instance" "$a" "$a"
bench_wake_stats "waiting on the other instance" "$a" "$b"

# The same writes against galsyncd on SQLite, for comparison.
bench_galsyncd --demo 1000
sqlite_key=$BENCH_KEY
auth="Authorization: Bearer $sqlite_key"
echo "== durable single writes on SQLite, one instance (wrk -t1 -c8 -d10s): $(puts "$BENCH_BASE" s1 10 8) requests/s"


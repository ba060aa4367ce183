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
token=$(curl -s -H "$auth" "$a$path/changes?since=2100-01-01T00:00:00Z" |
  sed -n 's/.*"next_token":"\([^"]*\)".*/\1/p')

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

# A long-poll waits on WAITER; the write goes to WRITER; prints the time
# from just before the write is sent until the long-poll's answer is in,
# in ms (curl's own start-up and exit included, so an upper bound).
wake_ms() {
  local writer=$1 waiter=$2 i=$3
  local t
  t=$(curl -s -H "$auth" "$waiter$path/changes?since=2100-01-01T00:00:00Z" |
    sed -n 's/.*"next_token":"\([^"]*\)".*/\1/p')
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
wake_stats() {
  local name=$1 writer=$2 waiter=$3 i samples=()
  for i in $(seq 1 20); do samples+=("$(wake_ms "$writer" "$waiter" "$name$i")"); done
  printf '%s\n' "${samples[@]}" | sort -n |
    awk -v name="$name" '{v[NR]=$1} END {print "== long-poll woken by a write on the " name " instance (20 samples, ms): min " v[1] ", median " v[int((NR+1)/2)] ", max " v[NR]}'
}
wake_stats same "$a" "$a"
wake_stats other "$a" "$b"

# The same writes against galsyncd on SQLite, for comparison.
bench_galsyncd --demo 1000
sqlite_key=$BENCH_KEY
auth="Authorization: Bearer $sqlite_key"
echo "== durable single writes on SQLite, one instance (wrk -t1 -c8 -d10s): $(puts "$BENCH_BASE" s1 10 8) requests/s"


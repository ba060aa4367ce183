#!/usr/bin/env bash
# galsyncd serving sync and search from a streaming replica (--read-replica)
# beside one reading the primary: one PostgreSQL primary and one hot
# standby, both on this machine:
#   1. galsyncd A --demo N on the primary; B with --read-replica, started
#      once the replica has replayed the import
#   2. a full sync of the N people (pages of up to 5,000, http_full_sync:
#      keep-alive, every page parsed) from A and from B
#   3. no-change polls/s on B (wrk, keep-alive)
#   4. how soon a write on A wakes a long-poll on A, and on B
#   5. how soon a write on A is found by B's search
#
#   bench/read_replica_bench.sh [N] [BUILD_DIR]   (defaults: 1000000, build/release)
#
# PostgreSQL runs with its durable defaults (fsync, synchronous_commit on;
# asynchronous streaming replication), from scripts/pg-test-server.sh.
. "$(dirname "$0")/lib.sh"
bench_need galsyncd http_full_sync
bench_need_tool wrk curl psql
bench_postgres
bench_postgres_replica

start=$(date +%s.%N)
bench_galsyncd --store "$BENCH_PG" --demo "$n"
a=$BENCH_BASE
key=$BENCH_KEY
echo "== galsyncd --demo $n on the primary: ready in $(echo "$(date +%s.%N) - $start" | bc) s"
auth="Authorization: Bearer $key"
path=/v1/domains/demo.example

# Wait until the replica has replayed everything the primary has written.
lsn=$(psql -Atq "$BENCH_PG" -c "SELECT pg_current_wal_lsn()")
start=$(date +%s.%N)
for _ in $(seq 600); do
  [ "$(psql -Atq "$BENCH_PG_REPLICA" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
  sleep 0.1
done
echo "== the replica had replayed the import $(echo "$(date +%s.%N) - $start" | bc) s after it was in"
start=$(date +%s.%N)
bench_galsyncd --store "$BENCH_PG" --read-replica "$BENCH_PG_REPLICA"
b=$BENCH_BASE
echo "== galsyncd B on the replica: ready (search index built from the replica) in $(echo "$(date +%s.%N) - $start" | bc) s"

echo "== full sync of $n from A (primary), pages of 5,000 (http_full_sync)"
GALSYNC_KEY=$key "$build/http_full_sync" 127.0.0.1 "${a##*:}" demo.example 5000
echo "== full sync of $n from B (replica), the same"
GALSYNC_KEY=$key "$build/http_full_sync" 127.0.0.1 "${b##*:}" demo.example 5000

token=$(bench_token "$b$path")
echo "== no-change polls on B (wrk -t2 -c64 -d10s)"
wrk -t2 -c64 -d10s -H "$auth" "$b$path/changes?token=$token" | grep -E "Requests/sec|Latency"

bench_wake_stats "write on A, waiting on A (primary)" "$a" "$a"
bench_wake_stats "write on A, waiting on B (replica)" "$a" "$b"

# From just before a PUT on A until B's search finds the new person, in ms
# (curl polls: upper bounds).
samples=()
for i in $(seq 1 20); do
  name="Quillon$i"
  t0=$(date +%s%N)
  curl -s -o /dev/null -X PUT -H "$auth" -H "Content-Type: application/json" \
    -d "{\"name\":{\"given\":\"Replica\",\"family\":\"$name\"}}" \
    "$a$path/contacts/search-$i"
  for _ in $(seq 5000); do
    curl -s -H "$auth" "$b$path/search?q=replica%20${name,,}" | grep -q "search-$i" && break
    sleep 0.001
  done
  samples+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
printf '%s\n' "${samples[@]}" | sort -n |
  awk '{v[NR]=$1} END {print "== write on A found by search on B (20 samples, ms): min " v[1] ", median " v[int((NR+1)/2)] ", max " v[NR]}'

#!/usr/bin/env bash
# HTTP load benchmarks against a real galsyncd (Release build), on loopback:
#   1. start-up with a generated demo domain of N people (import time, RSS)
#   2. no-change polls/s with keep-alive (wrk), token up to date
#   3. a full sync over HTTP in pages of 1,000 (http_full_sync, keep-alive,
#      parsing every page as a client must): time, bytes, contacts/s
#   4. search requests/s for a few typeahead queries (wrk)
#   5. server RSS after the load
#
#   bench/http_bench.sh [N] [BUILD_DIR]     (defaults: 1000000, build/release)
#
# wrk and galsyncd share the machine's cores; the figures in
# docs/benchmarks.md say how many.
. "$(dirname "$0")/lib.sh"
bench_need galsyncd
bench_need_tool wrk

start=$(date +%s.%N)
bench_galsyncd --demo "$n" --durability normal
pid=$BENCH_PID
ready=$(date +%s.%N)
base=$BENCH_BASE
d="$base/v1/domains/demo.example"
key=$BENCH_KEY
auth="Authorization: Bearer $key"
rss() { awk '/VmRSS/ {print $2/1024 " MiB"}' "/proc/$pid/status"; }
echo "== $n demo people: ready in $(echo "$ready - $start" | bc) s; RSS $(rss)"

# A token for "now": since= a time in the future maps to last_seq.
token=$(bench_token "$d")
echo "== no-change polls (wrk -t2 -c64 -d10s, keep-alive)"
wrk -t2 -c64 -d10s -H "$auth" "$d/changes?token=$token" | grep -E "Requests/sec|Latency|requests in"

# The search index builds in the background after start: wait for it.
for _ in $(seq 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$d/search?q=j")" = 200 ] && break
  sleep 0.1
done
echo "== search index ready $(echo "$(date +%s.%N) - $start" | bc) s after start"
for q in j jo+sm smith maria.g; do
  echo "== search q=$q, top 10 (wrk -t2 -c32 -d5s, keep-alive)"
  echo "   $(curl -s -H "$auth" "$d/search?q=$q" | grep -o '"score"' | wc -l) results"
  wrk -t2 -c32 -d5s -H "$auth" "$d/search?q=$q" |
    grep -E "Requests/sec|Latency|Non-2xx"
done

echo "== full sync over HTTP, pages of 1000, one keep-alive connection"
port=${base##*:}
GALSYNC_KEY=$key "$build/http_full_sync" 127.0.0.1 "$port" demo.example 1000
echo "== RSS after load: $(rss)"

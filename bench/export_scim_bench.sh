#!/usr/bin/env bash
# Export and SCIM against a real galsyncd (Release build), on loopback:
#   1. start-up with a generated demo domain of N people
#   2. GET /export in each format with curl: seconds, bytes, contacts/s,
#      and the server's largest RSS sampled every 0.1 s meanwhile
#   3. SCIM: user creation (POST /Users, unique userNames) with wrk for
#      10 s, then GETs of `filter=userName eq "…"` (one index lookup), then
#      one list with a filter that reads every SCIM user
#
#   bench/export_scim_bench.sh [N] [BUILD_DIR]  (defaults: 1000000, build/release)
#
# The server runs with --durability normal (as bench/http_bench.sh): each
# SCIM create commits without an fsync. wrk and galsyncd share the cores.
. "$(dirname "$0")/lib.sh"
bench_need galsyncd
bench_need_tool wrk
tmp=$BENCH_TMP

bench_galsyncd --demo "$n" --durability normal
pid=$BENCH_PID
base=$BENCH_BASE
d="$base/v1/domains/demo.example"
key=$BENCH_KEY
auth="Authorization: Bearer $key"
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "== $n demo people; server RSS $(( $(rss_kib) / 1024 )) MiB before the exports"

for f in jsonl csv vcard ldif; do
  peak=$(rss_kib)
  start=$(date +%s.%N)
  curl -s -H "$auth" -o "$tmp/export" "$d/export?format=$f" &
  cpid=$!
  while kill -0 "$cpid" 2>/dev/null; do
    r=$(rss_kib); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.1
  done
  wait "$cpid"
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc)
  bytes=$(stat -c %s "$tmp/export")
  echo "== export $f: $secs s, $bytes bytes ($(( bytes / n )) B/contact)," \
       "$(echo "$n / $secs" | bc) contacts/s, server RSS peak $(( peak / 1024 )) MiB"
done

scim="$d/scim/v2"
cat >"$tmp/create.lua" <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/scim+json"
end
function request()
  n = n + 1
  local name = "bench" .. tid .. "-" .. n
  wrk.body = '{"userName":"' .. name .. '","name":{"givenName":"Bench","familyName":"' ..
             name .. '"},"emails":[{"value":"' .. name .. '@demo.example"}],"title":"Analyst"}'
  return wrk.format(nil, nil, nil, wrk.body)
end
LUA
echo "== SCIM create users (wrk -t2 -c8 -d10s, POST /Users)"
wrk -t2 -c8 -d10s -H "$auth" -s "$tmp/create.lua" "$scim/Users" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
users=$(curl -s -H "$auth" "$scim/Users?count=0" | sed -n 's/.*"totalResults":\([0-9]*\).*/\1/p')
echo "   SCIM users now: $users"
echo "== SCIM filter userName eq (wrk -t2 -c32 -d5s)"
wrk -t2 -c32 -d5s -H "$auth" "$scim/Users?filter=userName%20eq%20%22bench1-100%22" | grep -E "Requests/sec|Latency"
start=$(date +%s.%N)
matched=$(curl -s -H "$auth" "$scim/Users?count=10&filter=name.familyName%20co%20%22-99%22" |
  sed -n 's/.*"totalResults":\([0-9]*\).*/\1/p')
echo "== SCIM list with a scanning filter over $users users: $(echo "$(date +%s.%N) - $start" | bc) s, $matched matches"

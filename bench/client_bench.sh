#!/usr/bin/env bash
# Sync client benchmarks against a real galsyncd (Release build) on
# loopback, with a generated demo domain of N people:
#   1. `galsync sync` (the CLI) into a fresh replica: a full sync, timed
#      end to end with /usr/bin/time (wall time, CPU share, peak RSS)
#   2. client_bench: a full sync in process (bytes on the wire), no-change
#      sync round trips, a delta of 100,000 updated contacts, and offline
#      search of the replica (scan and in-memory index)
#
#   bench/client_bench.sh [N] [BUILD_DIR]     (defaults: 1000000, build/release)
#
# galsyncd and the client share the machine's cores.
. "$(dirname "$0")/lib.sh"
bench_need galsyncd galsync client_bench
work=$BENCH_TMP

bench_galsyncd --demo "$n" --durability normal
base=$BENCH_BASE
key=$BENCH_KEY
echo "== galsyncd with $n demo people at $base"

echo "== galsync sync: full sync into a fresh replica (CLI, end to end)"
"$build/galsync" --replica "$work/cli.db" init --server "$base" --domain demo.example --key "$key" >/dev/null
/usr/bin/time -f "wall %e s, CPU %P, max RSS %M KiB" \
  "$build/galsync" --replica "$work/cli.db" sync
echo "replica file: $(du -m "$work/cli.db" | cut -f1) MiB"

echo "== client_bench (in process)"
"$build/client_bench" --server "$base" --domain demo.example \
  --replica "$work/bench.db" --key "$key" --limit 1000 --delta 100000 --noop 1000

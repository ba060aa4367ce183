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
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
build="${2:-build/release}"
for b in galsyncd galsync client_bench; do
  [ -x "$build/$b" ] || { echo "build $build/$b first (see README)"; exit 1; }
done

work=$(mktemp -d)
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$build/galsyncd" --data-dir "$work/data" --listen 127.0.0.1:0 --demo "$n" \
  --durability normal >"$work/out" 2>/dev/null &
pid=$!
until grep -q "listening on" "$work/out"; do sleep 0.5; done
base=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/out" | head -1)
echo "== galsyncd with $n demo people at $base"
key=$(sed -n 's/^galsyncd admin key: //p' "$work/out")

echo "== galsync sync: full sync into a fresh replica (CLI, end to end)"
"$build/galsync" --replica "$work/cli.db" init --server "$base" --domain demo.example --key "$key" >/dev/null
/usr/bin/time -f "wall %e s, CPU %P, max RSS %M KiB" \
  "$build/galsync" --replica "$work/cli.db" sync
echo "replica file: $(du -m "$work/cli.db" | cut -f1) MiB"

echo "== client_bench (in process)"
"$build/client_bench" --server "$base" --domain demo.example \
  --replica "$work/bench.db" --key "$key" --limit 1000 --delta 100000 --noop 1000

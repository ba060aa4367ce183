#!/usr/bin/env bash
# Installs what is missing, builds galsync (Release) and runs galsyncd on the
# embedded store with a demo domain of generated people. Ctrl-C stops it.
#
#   scripts/demo.sh [N]          N demo people (default 10000)
#
# Data lives in ./galsync-data (delete it to start over). Extra galsyncd
# flags can be given in GALSYNCD_FLAGS, e.g. GALSYNCD_FLAGS="--listen 127.0.0.1:9090".
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-10000}"

scripts/install-deps.sh
echo "demo: building galsyncd and galsync (Release; about 2 min the first time on 2 cores)" >&2
mkdir -p build/release
log=build/release/build.log
if ! { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
         -DGALSYNC_BUILD_TESTS=OFF -DGALSYNC_BUILD_BENCH=OFF &&
       cmake --build build/release -j2 --target galsyncd galsync; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "demo: build failed; the full log is $log" >&2
  exit 1
fi

# shellcheck disable=SC2086
exec build/release/galsyncd --data-dir galsync-data --demo "$people" \
  ${GALSYNCD_FLAGS:-}

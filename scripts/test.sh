#!/usr/bin/env bash
# Installs what is missing, builds galsync with its tests, and runs every
# test (unit, integration against a real galsyncd, concurrency).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/test -j2
cd build/test
ctest --output-on-failure -j2 --timeout 600

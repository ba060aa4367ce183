#!/usr/bin/env bash
# Installs what is missing, builds galsync with its tests, and runs every
# test (unit, integration against a real galsyncd, concurrency, the stored
# fuzz corpora).
#
#   scripts/test.sh              the suite, as CI runs it (build/test)
#   scripts/test.sh --sanitize   the same suite built with AddressSanitizer
#                                and UndefinedBehaviorSanitizer (build/asan);
#                                any report fails the run
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/test
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build=build/asan
  san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGALSYNC_BUILD_BENCH=OFF
              "-DCMAKE_CXX_FLAGS=$san" "-DCMAKE_EXE_LINKER_FLAGS=$san")
  # Leaks, UB and heap errors abort the process (and so fail its test),
  # including in the galsyncd and galsync processes the tests start.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
elif [ $# -gt 0 ]; then
  echo "usage: scripts/test.sh [--sanitize]" >&2
  exit 2
fi

scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j2
cd "$build"
ctest --output-on-failure -j2 --timeout 600

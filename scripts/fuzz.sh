#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for a given time, growing the
# stored corpus in fuzz/corpus/<target>/ with the inputs that found new
# coverage (minimized by libFuzzer's -merge).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 600 s, every target
#
# A crash, leak, hang (-timeout) or memory blow-up (-rss_limit_mb) stops
# that target with the reproducer written to build/fuzz/artifacts/; replay
# it with build/fuzz/fuzz_<target> FILE. Executions per target are printed
# at the end (and recorded in docs/security.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(contact_json sync_token search_query feed_page http_request
  source_reader scim)

GALSYNC_WITH_CLANG=1 scripts/install-deps.sh
build=build/fuzz
# -fno-sanitize=function: clang 14 cannot emit that check in coroutines
# ("Cannot represent a difference across sections"); the server's handlers
# are coroutines.
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize=function"
flags+=" -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DGALSYNC_FUZZ=ON \
  -DGALSYNC_BUILD_TESTS=OFF -DGALSYNC_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p "$build/artifacts"
summary=()
status=0
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  work="$build/corpus-$t"
  mkdir -p "$corpus" "$work"
  log="$build/fuzz_$t.log"
  echo "== fuzz_$t for ${seconds}s (log: $log)"
  if ! UBSAN_OPTIONS=print_stacktrace=1 "$build/fuzz_$t" "$work" "$corpus" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1; then
    echo "fuzz_$t FAILED: see $log and $build/artifacts/" >&2
    tail -n 30 "$log" >&2
    status=1
  fi
  # Keep only inputs that add coverage, so the stored corpus stays small.
  "$build/fuzz_$t" -merge=1 "$corpus" "$work" >/dev/null 2>&1 || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  summary+=("fuzz_$t: ${runs:-?} executions in ${seconds} s, corpus $(ls "$corpus" | wc -l) files")
done
printf '%s\n' "${summary[@]}"
exit $status

#!/usr/bin/env bash
# test.sh: build and run every test, twice:
#   1. Release build: unit tests (cmocka) and integration tests (pytest
#      driving the real binary, including differential runs against Debian's
#      redis-server);
#   2. Asan build (AddressSanitizer + UndefinedBehaviorSanitizer, no
#      jemalloc): the same suite; any sanitizer report or leak fails it.
# Set EMBER_TEST_QUICK=1 to skip the Asan pass while developing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" test

jobs=$(nproc)
run_suite() {
    local type=$1 dir=$2
    echo "== $type build: $dir"
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
    cmake --build "$dir" -j"$jobs" >/dev/null
    (cd "$dir" && ctest --output-on-failure --timeout 1800)
}

run_suite Release "$root/build"
if [ "${EMBER_TEST_QUICK:-0}" != 1 ]; then
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    run_suite Asan "$root/build-asan"
fi
echo "== all tests passed"

#!/usr/bin/env bash
# test.sh: build and run every test, twice:
#   1. Release build: unit tests (cmocka) and integration tests (pytest
#      driving the real binary, including differential runs against Debian's
#      redis-server);
#   2. Asan build (AddressSanitizer + UndefinedBehaviorSanitizer, no
#      jemalloc): the same suite; any sanitizer report or leak fails it;
#   3. a short fuzz run (scripts/fuzz.sh: every libFuzzer target for
#      FUZZ_SECONDS, 20 s, from the seed corpus in tests/fuzz/corpus) when
#      clang is installed (deps.sh installs it); a crash, hang or leak fails;
#   4. static analysis (scripts/lint.sh: cppcheck, and clang-tidy with the
#      project's .clang-tidy, about 2-3 minutes on 2 cores); any finding fails.
# Set EMBER_TEST_QUICK=1 to skip the Asan pass, the fuzz run and the lint
# while developing (EMBER_TEST_FUZZ=0 skips only the fuzz run,
# EMBER_TEST_LINT=0 only the lint).
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
if [ "${EMBER_TEST_QUICK:-0}" != 1 ] && [ "${EMBER_TEST_FUZZ:-1}" != 0 ]; then
    if command -v clang >/dev/null 2>&1; then
        FUZZ_SECONDS=${FUZZ_SECONDS:-20} "$root/scripts/fuzz.sh"
    else
        echo "== fuzz: skipped, clang is not installed (scripts/deps.sh test installs it)"
    fi
fi
if [ "${EMBER_TEST_QUICK:-0}" != 1 ] && [ "${EMBER_TEST_LINT:-1}" != 0 ]; then
    "$root/scripts/lint.sh"
fi
echo "== all tests passed"

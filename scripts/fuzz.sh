#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang and
# run them.
#
#   scripts/fuzz.sh                  short run, part of the test command
#                                    (scripts/test.sh): FUZZ_SECONDS (default
#                                    20) per target
#   scripts/fuzz.sh --long           the documented long run: 10 million
#                                    executions per target (FUZZ_RUNS)
#   scripts/fuzz.sh [--long] fuzz_glob fuzz_resp ...   only these targets
#
# Each target starts from its seed corpus, tests/fuzz/corpus/<target>, which
# is only read: what a run finds goes to $dir/corpus/<target> (kept between
# long runs, so they resume), crashes, timeouts and leaks to
# $dir/artifacts/<target>/ and fail the script. The build directory is
# build-fuzz (EMBER_FUZZ_BUILD overrides). One process per target (no
# -jobs/-workers), niced; the targets run one after another.
#
# Replay a finding: build-fuzz/fuzz_resp build-fuzz/artifacts/fuzz_resp/crash-...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${EMBER_FUZZ_BUILD:-$root/build-fuzz}
mode=short
targets=()
for a in "$@"; do
    case $a in
    --long) mode=long ;;
    --short) mode=short ;;
    -h | --help)
        sed -n '2,18p' "$0"
        exit 0
        ;;
    *) targets+=("$a") ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then # every tests/fuzz/fuzz_*.c
    for f in "$root"/tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$f" .c)")
    done
fi
seconds=${FUZZ_SECONDS:-20}
runs=${FUZZ_RUNS:-10000000}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang not found (scripts/deps.sh test installs it)" >&2
    exit 1
fi
echo "== fuzz build: $dir"
cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DEMBER_FUZZ=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}" >/dev/null

# A smaller quarantine than ASan's 256 MB: the dispatcher target allocates
# and frees 16 KB reply blocks on every input, and the default quarantine
# makes it page-fault bound. Freed memory is still poisoned and reused last.
export ASAN_OPTIONS="quarantine_size_mb=64:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

status=0
summary=()
for t in "${targets[@]}"; do
    seeds=$root/tests/fuzz/corpus/$t
    work=$dir/corpus/$t
    art=$dir/artifacts/$t
    mkdir -p "$work" "$art"
    log=$dir/$t.$mode.log
    timeout=10
    [ "$t" = fuzz_glob ] && timeout=2 # hostile patterns must stay fast
    limit=(-max_total_time="$seconds")
    [ $mode = long ] && limit=(-runs="$runs")
    echo "== $t ($mode): log $log"
    before=$(find "$art" -type f | wc -l)
    rc=0
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    nice -n 10 "$dir/$t" "${limit[@]}" -timeout=$timeout -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" "${dirs[@]}" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    found=$(($(find "$art" -type f | wc -l) - before)) # crash-, timeout-, leak-, oom-*
    summary+=("$(printf '%-13s %12s execs %6ss  exit %d  findings %d' "$t" "${execs:-?}" \
        "${secs:-?}" "$rc" "$found")")
    if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
        status=1
        grep -E 'ERROR|SUMMARY|Test unit written|check failed|differ|says' "$log" | head -20 >&2 || true
    fi
done
printf '%s\n' "${summary[@]}"
if [ $status -ne 0 ]; then
    echo "== fuzz: FAILED (artifacts in $dir/artifacts)" >&2
    exit 1
fi
echo "== fuzz: no crash, hang or leak"

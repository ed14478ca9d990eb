#!/usr/bin/env bash
# lint.sh: static analysis of src/ with cppcheck and clang-tidy.
#
#   scripts/lint.sh              both; exit 1 if either reports anything
#   scripts/lint.sh cppcheck     only cppcheck
#   scripts/lint.sh tidy [files] only clang-tidy (all of src/*.c by default)
#
# cppcheck: warning, performance and portability checks; a false positive
# is silenced inline (// cppcheck-suppress id, with the reason).
# clang-tidy: the checks and their reasons are in the project's .clang-tidy
# (the static analyzer and bugprone-*, minus checks that only flag this code
# base's deliberate idioms); editors and clang-tidy pick it up by themselves.
# The compile database comes from build-lint (clang, Debug; EMBER_LINT_BUILD
# overrides). Reports go to stdout as file:line: message [check].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${EMBER_LINT_BUILD:-$root/build-lint}
what=${1:-all}
[ $# -gt 0 ] && shift

status=0

run_cppcheck() {
    command -v cppcheck >/dev/null || { echo "lint: cppcheck not installed" >&2; return 1; }
    echo "== cppcheck" >&2
    local out
    out=$(cppcheck --enable=warning,performance,portability --std=c11 --inline-suppr --quiet \
        -D__GNUC__ -D_GNU_SOURCE -DEMBER_VERSION='"0"' -I "$root/include" \
        --suppress=missingIncludeSystem \
        --template='{file}:{line}: {severity}: {message} [{id}]' "$root/src" 2>&1) || true
    if [ -n "$out" ]; then
        echo "$out"
        status=1
    fi
}

run_tidy() {
    command -v clang-tidy >/dev/null || { echo "lint: clang-tidy not installed" >&2; return 1; }
    echo "== clang-tidy" >&2
    cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
    local files=("$@")
    [ ${#files[@]} -gt 0 ] || files=("$root"/src/*.c)
    local out
    out=$(printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$dir" --quiet \
        --header-filter="$root/include/ember/.*" 2>/dev/null | grep -E '(warning|error):' | sort -u) || true
    if [ -n "$out" ]; then
        echo "$out"
        status=1
    fi
}

case $what in
cppcheck) run_cppcheck ;;
tidy) run_tidy "$@" ;;
all)
    run_cppcheck
    run_tidy
    ;;
*)
    sed -n '2,6p' "$0"
    exit 2
    ;;
esac
[ $status -eq 0 ] && echo "== lint: clean" >&2
exit $status

#!/usr/bin/env bash
# lint.sh: static analysis of src/ with cppcheck and clang-tidy.
#
#   scripts/lint.sh              both; exit 1 if either reports anything
#   scripts/lint.sh cppcheck     only cppcheck
#   scripts/lint.sh tidy [files] only clang-tidy (all of src/*.c by default)
#
# cppcheck: warning, performance and portability checks.
# clang-tidy: the static analyzer (clang-analyzer-*) and bugprone-*, minus
# checks that only flag this code base's deliberate idioms:
#   bugprone-easily-swappable-parameters           (len, cap) pairs everywhere
#   bugprone-implicit-widening-of-multiplication-result   16 * 1024 constants
#   bugprone-narrowing-conversions                 checked casts are explicit
#   bugprone-reserved-identifier                   header guards are EMBER_*
#   bugprone-macro-parentheses                     table macros take field names
#   bugprone-suspicious-missing-comma              long help lines split in two
#   bugprone-sizeof-expression                     n * sizeof(*array_of_pointers)
#   clang-analyzer-optin.performance.Padding       struct layout is for reading
#   clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
#                                                  flags every memcpy/snprintf
# The compile database comes from build-lint (clang, Debug; EMBER_LINT_BUILD
# overrides). Reports go to stdout as file:line: message [check].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${EMBER_LINT_BUILD:-$root/build-lint}
what=${1:-all}
[ $# -gt 0 ] && shift

CHECKS='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,'
CHECKS+='-bugprone-implicit-widening-of-multiplication-result,-bugprone-narrowing-conversions,'
CHECKS+='-bugprone-reserved-identifier,-bugprone-macro-parentheses,'
CHECKS+='-bugprone-suspicious-missing-comma,-bugprone-sizeof-expression,'
CHECKS+='-clang-analyzer-optin.performance.Padding,'
CHECKS+='-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'

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
        --checks="$CHECKS" \
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

#!/usr/bin/env bash
# bench/run.sh: the one command that runs ember's benchmark harness.
#
#   bench/run.sh                 full run (35 minutes to an hour on 2 cores)
#   bench/run.sh --quick         development run (a few minutes)
#   bench/run.sh --help          every option (tests, configs, parts, rounds, --ember BIN)
#
# Installs what it lacks with apt-get when run as root (only if missing), then
# hands over to bench/bench.py under Debian's own interpreter, which needs no pip.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# command -> Debian package that provides it
declare -A need=(
    [redis-server]=redis-server
    [redis-benchmark]=redis-tools
    [redis-cli]=redis-tools
    [valgrind]=valgrind
    [callgrind_control]=valgrind
    [strace]=strace
    [gnuplot]=gnuplot-nox
    [gcc]=gcc
    [cmake]=cmake
    [pkg-config]=pkg-config
    [taskset]=util-linux
)
missing=()
for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# Headers ember's build needs (CMakeLists.txt: pkg-config libuv, jemalloc).
for pc in libuv:libuv1-dev jemalloc:libjemalloc-dev; do
    if command -v pkg-config >/dev/null 2>&1 && ! pkg-config --exists "${pc%%:*}"; then
        missing+=("${pc##*:}")
    fi
done

if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing missing packages: ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    else
        echo "bench: missing packages (install them, or run as root): ${missing[*]}" >&2
    fi
fi

exec /usr/bin/python3 "$here/bench.py" "$@"

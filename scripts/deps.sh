#!/usr/bin/env bash
# deps.sh: install what ember needs on Debian 12, only what is missing.
#
#   scripts/deps.sh build   compiler, cmake, pkg-config, libuv, jemalloc
#   scripts/deps.sh test    the above plus cmocka, clang with its libFuzzer
#                           runtime (libclang-rt-14-dev, only a recommendation
#                           of clang), cppcheck and clang-tidy (scripts/lint.sh),
#                           redis-server and redis-tools (the reference server
#                           and its tools), python3-redis and python3-pytest,
#                           nodejs and npm (node-redis/ioredis tests)
#
# Uses apt-get as root (or through sudo). Installing redis-server must not
# start Debian's service on port 6379, which ember itself wants: a temporary
# policy-rc.d tells the package scripts not to start anything.
set -euo pipefail

kind=${1:-build}
pkgs=(build-essential cmake pkg-config git libuv1-dev libjemalloc-dev
      liblua5.1-0-dev lua-cjson-dev lua-bitop-dev)
if [ "$kind" = test ]; then
    pkgs+=(libcmocka-dev clang libclang-rt-14-dev cppcheck clang-tidy redis-server redis-tools
           python3 python3-redis python3-pytest procps nutcracker)
    # node and npm for the node-redis/ioredis tests (which npm-install the
    # clients themselves); a nodejs build that bundles npm counts.
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps: missing ${missing[*]} and not root (no sudo): install them and retry" >&2
        exit 1
    fi
fi

policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    added_policy=1
fi
cleanup() { [ $added_policy = 1 ] && $SUDO rm -f "$policy"; return 0; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

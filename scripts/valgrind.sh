#!/usr/bin/env bash
# valgrind.sh: the integration tests with every ember-server under valgrind
# memcheck (the documented long check of issue 9; not part of test.sh).
#
#   scripts/valgrind.sh                       every integration test
#   scripts/valgrind.sh test_protocol.py -k pipeline   pytest arguments
#
# Builds a Debug server in build-valgrind (EMBER_VALGRIND_BUILD overrides)
# and points EMBER_SERVER at a wrapper that runs it under memcheck. Any
# invalid read or write, use of uninitialised memory or definite leak makes
# valgrind exit 99 at SIGTERM, and the fixtures fail the test on a nonzero
# status; the report is in the server's log, attached to the failure.
# Debian's jemalloc is unprefixed, so valgrind is told that it is the malloc
# to replace (--soname-synonyms). BGSAVE's forked child exits without
# freeing the keyspace it inherited, so children are not checked
# (--child-silent-after-fork). Expect it to be 20-50x slower than a
# normal run; tests that measure latency or hold 10,000 connections
# (test_faults.py) may need to be deselected with -k, and INCRBYFLOAT
# results differ because valgrind runs x87 long double arithmetic at double
# precision (a known valgrind limitation, not an ember bug).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${EMBER_VALGRIND_BUILD:-$root/build-valgrind}
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 1; }

cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$dir" -j"$(nproc)" --target ember-server >/dev/null

wrapper=$dir/ember-server-valgrind
cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind --quiet --tool=memcheck --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes \\
    --child-silent-after-fork=yes --soname-synonyms=somalloc=*jemalloc* \\
    "$dir/ember-server" "\$@"
EOF
chmod +x "$wrapper"

# Under memcheck a server needs several seconds to answer its first PING and
# to exit: a plugin stretches the fixtures' deadlines before they are used.
cat >"$dir/valgrind_deadlines.py" <<'PLUGIN'
import signal

import harness

harness.IO_TIMEOUT = 60.0
harness.Server.wait_ready.__defaults__ = (90.0,)
harness.Server.stop.__defaults__ = (signal.SIGTERM, 180.0)
harness.RawConn.__init__.__defaults__ = (harness.HOST, 60.0, True)
PLUGIN

cd "$root/tests/integration"
export EMBER_TEST_QUIET=${EMBER_TEST_QUIET:-5} # test_malformed: wait longer for silence
PYTHONPATH="$dir:$root/tests/integration${PYTHONPATH:+:$PYTHONPATH}" EMBER_SERVER=$wrapper \
    exec /usr/bin/python3 -m pytest -q -p no:cacheprovider -p valgrind_deadlines "${@:-.}"

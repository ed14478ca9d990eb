#!/usr/bin/env bash
# server.sh: build ember (Release) and run it on 127.0.0.1:6379 in the
# foreground. Extra arguments go to ember-server, e.g.
#   scripts/server.sh redis.conf.example --port 7000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" build
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target ember-server >/dev/null
exec "$root/build/ember-server" "$@"

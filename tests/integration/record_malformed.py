#!/usr/bin/python3
"""Records the expectations of malformed.txt from the reference redis-server.

    /usr/bin/python3 tests/integration/record_malformed.py [--check]

For every '=== server:' group it starts /usr/bin/redis-server with those
arguments on a free loopback port, sends each case's input on its own
connection (as test_malformed.py does for ember) and rewrites the case's
'reply:' and 'closed:' lines with what redis did. Everything else in the file
(comments, inputs, 'ember:' overrides) is kept. --check only reports cases
whose recorded expectation no longer matches redis, without writing."""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REDIS_SERVER, Server  # noqa: E402
from test_malformed import TABLE, load_table, run_cases  # noqa: E402


def literal(b):
    """A bytes literal; long runs of one byte are written as b"x" * n."""
    out, i, n = [], 0, len(b)
    while i < n:
        j = i
        while j < n and b[j] == b[i]:
            j += 1
        if j - i >= 32:
            out.append(f"{bytes([b[i]])!r} * {j - i}")
            i = j
            continue
        k = i
        while k < n:
            j = k
            while j < n and b[j] == b[k]:
                j += 1
            if j - k >= 32:
                break
            k = j
        out.append(repr(b[i:k]))
        i = k
    return " + ".join(out) if out else "b''"


def main():
    check = "--check" in sys.argv[1:]
    groups, cases = load_table()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for gi, group in enumerate(groups):
            srv = Server(f"redis-malformed{gi}", REDIS_SERVER, list(group), Path(tmp) / str(gi))
            srv.start()
            try:
                mine = [c for c in cases if c.group == group]
                for c, got in zip(mine, run_cases(srv.port, mine)):
                    results[c.line] = got
            finally:
                srv.stop_and_check()

    changed = [c for c in cases if (c.reply, c.closed) != results[c.line]]
    for c in changed:
        print(f"line {c.line} {c.name!r}: recorded {c.reply!r} closed={c.closed} -> "
              f"redis {results[c.line][0]!r} closed={results[c.line][1]}")
    if check:
        sys.exit(1 if changed else 0)

    by_line = {c.line: c for c in cases}
    out, current = [], None
    for no, raw in enumerate(TABLE.read_text().splitlines(), 1):
        if raw.startswith("--- "):
            current = by_line.get(no)
        key = raw.partition(":")[0].strip()
        if current is not None and key in ("reply", "closed"):
            continue  # rewritten after the input line
        out.append(raw)
        if current is not None and key == "in":
            reply, closed = results[current.line]
            out.append(f"reply:  {literal(reply)}")
            out.append(f"closed: {'yes' if closed else 'no'}")
    TABLE.write_text("\n".join(out) + "\n")
    print(f"{len(cases)} cases recorded, {len(changed)} changed")


if __name__ == "__main__":
    main()

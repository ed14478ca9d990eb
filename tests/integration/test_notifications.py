"""Keyspace notifications: the same commands on ember and on redis-server
produce the same events, in the same order (notify-keyspace-events KEA)."""
import time

import pytest

STRING_AND_GENERIC = [
    ("SET", "a", "1"), ("SET", "b", "x", "EX", "100"), ("GETSET", "a", "2"),
    ("APPEND", "a", "z"), ("SETRANGE", "a", "0", "q"), ("INCR", "n"), ("INCRBY", "n", "5"),
    ("DECR", "n"), ("INCRBYFLOAT", "f", "1.5"), ("MSET", "m1", "1", "m2", "2"),
    ("GETEX", "b", "PERSIST"), ("GETEX", "b", "EX", "50"), ("GETDEL", "b"),
    ("SETEX", "c", "10", "v"), ("SETNX", "d", "v"), ("PSETEX", "e", "1000", "v"),
    ("GETEX", "e", "PXAT", "1"), ("DEL", "a", "c"), ("EXPIRE", "d", "100"), ("PERSIST", "d"),
    ("RENAME", "d", "d2"), ("RPUSH", "l", "x", "y"), ("LPOP", "l"), ("HSET", "h", "f", "v"),
    ("SADD", "s", "m"), ("ZADD", "z", "1", "m"), ("SET", "end", "1"),
]


def events(server, commands):
    r = server.client()
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__key*__:*")
    deadline = time.time() + 5
    while time.time() < deadline:  # wait for the psubscribe confirmation
        m = p.get_message(timeout=0.5)
        if m is not None and m["type"] == "psubscribe":
            break
    for c in commands:
        r.execute_command(*c)
    got = []
    deadline = time.time() + 5
    # The last command's key event marks the end of the stream.
    while time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m is None:
            continue
        if m["type"] == "pmessage":
            got.append((m["channel"], m["data"]))
            if m["channel"] == "__keyevent@0__:set" and m["data"] == "end":
                break
    p.close()
    r.config_set("notify-keyspace-events", "")
    return got


def test_notifications_match_redis(ember, redis_ref):
    mine = events(ember, STRING_AND_GENERIC)
    theirs = events(redis_ref, STRING_AND_GENERIC)
    assert theirs, "the reference produced no events"
    assert mine == theirs


def test_no_events_when_off(ember):
    r = ember.client()
    p = r.pubsub()
    p.psubscribe("__key*__:*")
    r.set("quiet", "1")
    r.publish("marker", "x")  # a normal channel message proves delivery works
    p.subscribe("marker")
    r.publish("marker", "y")
    seen = []
    deadline = time.time() + 5
    while time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m is None:
            continue
        seen.append(m)
        if m["type"] == "message" and m["data"] == "y":
            break
    assert not [m for m in seen if m["type"] == "pmessage"]

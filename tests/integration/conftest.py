"""Fixtures for ember's integration tests.

Run with Debian's interpreter, which sees python3-redis:

    /usr/bin/python3 -m pytest tests/integration

Environment:
    EMBER_SERVER         path of the server binary (default <repo>/build/ember-server;
                         ctest sets it).
    EMBER_DIFF_SELFTEST  "1": every "ember" server is Debian's redis-server instead, so
                         the whole suite (and the differential scripts, redis against
                         redis) can be checked for determinism and correct expectations
                         without ember.

Every server runs on a free loopback port in its own temporary directory, with its
stdout/stderr captured to a log file there. Readiness is polled (PING answered)
against a deadline. At teardown each server gets SIGTERM and must exit with status 0:
under the Asan build a leak makes the status nonzero and fails the test. The log of a
server is attached to the report of a failing test.
"""

import os

import pytest

from harness import (REDIS_CLI, REDIS_SERVER, Server, ember_binary, redis_available)


def _attach(request, server):
    servers = getattr(request.node, "_ember_servers", None)
    if servers is None:
        servers = request.node._ember_servers = []
    if server not in servers:
        servers.append(server)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in getattr(item, "_ember_servers", []):
            rep.sections.append((f"{srv.name} log (port {srv.port}, {srv.log_path})", srv.log_text()))


# ---------------------------------------------------------------------------
# ember fixtures


@pytest.fixture(scope="module")
def _ember_module(tmp_path_factory):
    srv = Server("ember", ember_binary(), [], tmp_path_factory.mktemp("ember"))
    if not os.access(srv.binary, os.X_OK):
        pytest.fail(f"ember binary {srv.binary} not found or not executable "
                    f"(build it, or set EMBER_SERVER)")
    srv.start()
    yield srv
    srv.stop_and_check()


@pytest.fixture
def ember(_ember_module, request):
    """The module's ember server, emptied (FLUSHALL) before the test. If a test
    made it die, that test fails with the log and the next one gets a new one."""
    srv = _ember_module
    if not srv.alive():
        srv.start()
    _attach(request, srv)
    try:
        srv.flushall()
    except AssertionError:
        # FLUSHALL is broken (its own tests say so): isolate with a fresh server
        # instead, so this test still starts from an empty keyspace.
        rc = srv.stop()
        assert rc == 0, f"ember exited {rc} after SIGTERM\n{srv.log_text()}"
        srv.start()
    yield srv
    if not srv.alive():
        rc = srv.stop()
        pytest.fail(f"ember died during the test (status {rc})\n--- log ---\n{srv.log_text()}")


@pytest.fixture
def r(ember):
    client = ember.client(decode=True)
    yield client
    client.close()


@pytest.fixture
def rb(ember):
    client = ember.client(decode=False)
    yield client
    client.close()


@pytest.fixture
def start_ember(tmp_path, request):
    """Factory: start_ember(*args) starts a fresh ember with extra arguments (a
    config file path first, if any) and returns its Server; each is stopped at
    teardown and must exit 0 (unless the test stopped it itself)."""
    started = []

    def start(*args, name="ember", port=None):
        srv = Server(f"{name}{len(started) + 1}", ember_binary(), [str(a) for a in args],
                     tmp_path / f"{name}{len(started) + 1}", port=port)
        started.append(srv)
        _attach(request, srv)
        return srv.start()

    yield start
    failures = []
    for srv in started:
        try:
            srv.stop_and_check()
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------
# Reference redis-server fixtures


def require_redis():
    if not redis_available():
        pytest.skip(f"{REDIS_SERVER} is not installed: differential test needs the reference server")


@pytest.fixture(scope="module")
def _redis_module(tmp_path_factory):
    require_redis()
    srv = Server("redis-ref", REDIS_SERVER, [], tmp_path_factory.mktemp("redis-ref"))
    srv.start()
    yield srv
    srv.stop_and_check()


@pytest.fixture
def redis_ref(_redis_module, request):
    """The module's reference redis-server, emptied before the test."""
    srv = _redis_module
    if not srv.alive():
        srv.start()
    _attach(request, srv)
    srv.flushall()
    return srv


@pytest.fixture
def redis_ref_optional(request):
    """The reference server if installed, else None (for tests whose expected
    bytes are written out and only double-checked against redis)."""
    if not redis_available():
        return None
    return request.getfixturevalue("redis_ref")


@pytest.fixture
def start_redis(tmp_path, request):
    """Factory like start_ember, for fresh reference redis-servers."""
    require_redis()
    started = []

    def start(*args, port=None):
        srv = Server(f"redis-ref{len(started) + 1}", REDIS_SERVER, [str(a) for a in args],
                     tmp_path / f"redis-ref{len(started) + 1}", port=port)
        started.append(srv)
        _attach(request, srv)
        return srv.start()

    yield start
    failures = []
    for srv in started:
        try:
            srv.stop_and_check()
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


@pytest.fixture
def redis_cli():
    if not os.access(REDIS_CLI, os.X_OK):
        pytest.skip(f"{REDIS_CLI} is not installed")
    return REDIS_CLI

"""The daemon's HTTP server is fair: one client's sockets cannot starve another client.

All of ``127.0.0.0/8`` is loopback on Linux, so the attacker binds its sockets
to ``127.0.0.2`` and the normal client to ``127.0.0.3``: the server sees two
client addresses (``127.0.0.1`` is a trusted proxy address and not capped).
The attacker is :class:`slowloris.Slowloris` of ``benchmarks/slowloris.py``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from daemonkit import REPO, DaemonProc, server_address, wait_for, write_seed

from feeder.service.server import PER_CLIENT_CONNECTIONS

sys.path.insert(0, str(REPO / "benchmarks"))
from slowloris import ATTACKER, CLIENT, Slowloris, percentile, timed_get


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    tmp = tmp_path_factory.mktemp("fair")
    with DaemonProc(tmp, interval=3600, settle=0) as d:
        for i in range(5):
            write_seed(d.seeds, f"s{i}.md", f"Fair article {i}")
        d.start()
        yield d
        assert d.alive(), d.log()[-3000:]


def _open(host: str, port: int, source: str, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((source, 0))
        sock.connect((host, port))
        socks.append(sock)
    return socks


def _closed_within(socks: list[socket.socket], seconds: float) -> list[socket.socket]:
    """The sockets the server closes or resets within ``seconds``."""
    sel = selectors.DefaultSelector()
    for sock in socks:
        sel.register(sock, selectors.EVENT_READ)
    closed: list[socket.socket] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        for key, _ in sel.select(timeout=left):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            with contextlib.suppress(OSError):
                assert sock.recv(1) == b""
            sel.unregister(sock)
            closed.append(sock)
    sel.close()
    return closed


@pytest.mark.slow
def test_surplus_connections_of_one_client_are_reset_at_once(daemon: DaemonProc) -> None:
    host, port = server_address(daemon)
    socks = _open(host, port, ATTACKER, PER_CLIENT_CONNECTIONS + 10)
    try:
        # Far sooner than the 10 s request-head deadline: at accept.
        closed = _closed_within(socks, 1.5)
        assert len(closed) == 10
        assert timed_get(host, port, "/feed.atom", CLIENT)[0] == 200
        with pytest.raises(OSError):  # the attacker's next connection is reset too
            timed_get(host, port, "/feed.atom", ATTACKER)
    finally:
        for sock in socks:
            sock.close()
    # Its places are free again once its sockets are closed.
    wait_for(lambda: _ok(host, port, ATTACKER), timeout=5, what="a 200 for the attacker's address")


def _ok(host: str, port: int, source: str) -> bool:
    try:
        return timed_get(host, port, "/feed.atom", source)[0] == 200
    except OSError:
        return False


@pytest.mark.slow
def test_trusted_proxy_address_is_not_capped(daemon: DaemonProc) -> None:
    """Behind nginx every client comes from 127.0.0.1: it is not one client."""
    host, port = server_address(daemon)
    socks = _open(host, port, "127.0.0.1", PER_CLIENT_CONNECTIONS + 10)
    try:
        assert _closed_within(socks, 1.0) == []
        assert timed_get(host, port, "/feed.atom", "127.0.0.1")[0] == 200
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.slow
def test_slowloris_from_one_address_does_not_starve_another(daemon: DaemonProc) -> None:
    """250 reconnecting slowloris sockets; a normal client still gets every GET, fast."""
    host, port = server_address(daemon)
    attacker = Slowloris(host, port)
    thread = threading.Thread(target=attacker.run, args=(8.0,))
    thread.start()
    statuses: list[int] = []
    latencies: list[float] = []
    try:
        wait_for(lambda: attacker.drops >= 200, timeout=5, what="the attack to be under way")
        while thread.is_alive() and len(statuses) < 40:
            status, seconds = timed_get(host, port, "/feed.atom", CLIENT)
            statuses.append(status)
            latencies.append(seconds)
            time.sleep(0.1)
    finally:
        thread.join(15)
    assert len(statuses) >= 10 and statuses == [200] * len(statuses)
    assert percentile(latencies, 99) < 2.0, sorted(latencies)
    # The attack was real: the server held exactly the per-client cap for the
    # whole attack (none of the surplus sockets lived) while it reset the others.
    end = time.monotonic()
    assert sum(1 for t in attacker.opened_at if end - t > 3) == PER_CLIENT_CONNECTIONS
    assert attacker.drops > 1000

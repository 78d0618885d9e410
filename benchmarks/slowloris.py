"""Slowloris benchmark: does a normal client still get the feed while one address attacks?

It starts ``feeder run --serve 127.0.0.1:0`` on a temporary directory (the
helpers of ``tests/daemonkit.py``), then one attacking address (``127.0.0.2``;
all of ``127.0.0.0/8`` is loopback on Linux) holds ``--sockets`` connections,
each sending one more header byte every 2 s and reconnected as soon as the
server drops it (in a process of its own), while a normal client
(``127.0.0.3``) GETs ``/feed.atom`` up to ``--requests`` times on fresh
connections. It prints the client's success rate and latency percentiles,
without an attack first and then under it, and what the attacker achieved.

    .venv/bin/python benchmarks/slowloris.py [--sockets 250] [--seconds 10] [--requests 60]

:class:`Slowloris` is also the attacker of ``tests/test_server_fair.py``.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import selectors
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]

ATTACKER = "127.0.0.2"
CLIENT = "127.0.0.3"
#: The partial request head every attacking socket starts with.
HEAD = b"GET /feed.atom HTTP/1.1\r\nHost: feeder\r\nX-Slow: "


@dataclass
class Slowloris:
    """``sockets`` connections from ``source``, each sending one more header byte
    every ``interval`` seconds and reconnected as soon as the server drops it."""

    host: str
    port: int
    source: str = ATTACKER
    sockets: int = 250
    interval: float = 2.0
    #: Connections made, and connections the server closed or reset.
    connects: int = 0
    drops: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    #: When each socket still open at the end was connected (monotonic time).
    opened_at: list[float] = field(default_factory=list)

    def _connect(self, sel: selectors.BaseSelector) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self.source, 0))
            sock.settimeout(1.0)
            sock.connect((self.host, self.port))
            sock.sendall(HEAD)
            sock.setblocking(False)
        except OSError:
            sock.close()
            self.drops += 1
            return
        self.connects += 1
        sel.register(sock, selectors.EVENT_READ, time.monotonic())

    def _drop(self, sel: selectors.BaseSelector, sock: socket.socket) -> None:
        sel.unregister(sock)
        sock.close()
        self.drops += 1

    def run(self, seconds: float) -> None:
        """Attack for ``seconds`` (or until :attr:`stop` is set), then close every socket."""
        sel = selectors.DefaultSelector()
        end = time.monotonic() + seconds
        next_byte = time.monotonic() + self.interval
        try:
            while time.monotonic() < end and not self.stop.is_set():
                for _ in range(self.sockets - len(sel.get_map())):
                    self._connect(sel)
                for key, _ in sel.select(timeout=0.05):  # readable: closed or reset
                    assert isinstance(key.fileobj, socket.socket)
                    self._drop(sel, key.fileobj)
                if time.monotonic() >= next_byte:
                    next_byte += self.interval
                    for key in list(sel.get_map().values()):
                        assert isinstance(key.fileobj, socket.socket)
                        try:
                            key.fileobj.send(b"a")
                        except OSError:
                            self._drop(sel, key.fileobj)
        finally:
            self.opened_at = [key.data for key in sel.get_map().values()]
            for key in list(sel.get_map().values()):
                assert isinstance(key.fileobj, socket.socket)
                key.fileobj.close()
            sel.close()


def timed_get(host: str, port: int, path: str, source: str) -> tuple[int, float]:
    """GET ``path`` on a new connection from ``source``: the status and seconds taken."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - start
    finally:
        conn.close()


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    rank = -(-len(ordered) * p // 100)  # ceil
    return ordered[max(0, min(len(ordered), int(rank)) - 1)]


def _attack(host: str, port: int, sockets: int, seconds: float, out: Connection) -> None:
    """Run a :class:`Slowloris` in this (child) process; send back what it achieved."""
    attacker = Slowloris(host, port, sockets=sockets)
    attacker.run(seconds)
    now = time.monotonic()
    held = sum(1 for t in attacker.opened_at if now - t > 3)
    out.send((attacker.connects, attacker.drops, held))


def _gets(
    host: str, port: int, count: int, pause: float, until: float
) -> tuple[Counter[str], list[float]]:
    """Up to ``count`` GETs from :data:`CLIENT` (stopping at ``until``): statuses and latencies."""
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    for _ in range(count):
        if time.monotonic() >= until:
            break
        try:
            status, seconds = timed_get(host, port, "/feed.atom", CLIENT)
        except OSError as e:
            statuses[type(e).__name__] += 1
            continue
        statuses[str(status)] += 1
        latencies.append(seconds)
        time.sleep(pause)
    return statuses, latencies


def _report(what: str, statuses: Counter[str], latencies: list[float]) -> None:
    done = sum(statuses.values())
    print(f"{what}: {done} GETs from {CLIENT}, statuses {dict(statuses)}")
    if done:
        print(f"  success rate {statuses['200'] / done:.1%}")
    if latencies:
        ms = [1000 * s for s in latencies]
        print(
            f"  latency ms: p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}"
            f"  p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A normal client's GETs during a slowloris attack.")
    p.add_argument("--sockets", type=int, default=250, help="attacking sockets (250)")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the attack (10)")
    p.add_argument("--requests", type=int, default=60, help="the normal client's GETs (60)")
    p.add_argument("--pause", type=float, default=0.1, help="seconds between GETs (0.1)")
    args = p.parse_args(argv)

    sys.path.insert(0, str(ROOT / "tests"))
    from daemonkit import DaemonProc, write_seed

    with tempfile.TemporaryDirectory() as tmp, DaemonProc(Path(tmp), interval=3600) as daemon:
        for i in range(20):
            write_seed(daemon.seeds, f"s{i}.md", f"Article {i}", body="Some text. " * 200)
        daemon.start()
        parts = urlsplit(daemon.base)
        host, port = parts.hostname or "", parts.port or 0
        _report("no attack", *_gets(host, port, 20, args.pause, time.monotonic() + 10))
        # The attacker runs in its own process: it does not share the client's GIL.
        ours, theirs = multiprocessing.Pipe()
        child = multiprocessing.Process(
            target=_attack, args=(host, port, args.sockets, args.seconds, theirs)
        )
        child.start()
        time.sleep(1.0)  # the attack under way: its sockets held, the rest reconnecting
        until = time.monotonic() + args.seconds - 1.5
        statuses, latencies = _gets(host, port, args.requests, args.pause, until)
        connects, drops, held = ours.recv()
        child.join()

    print(f"attack: {args.sockets} sockets from {ATTACKER} for {args.seconds:g} s")
    print(f"  connects {connects}, closed by the server {drops}, held more than 3 s {held}")
    _report("under attack", statuses, latencies)
    return 0


if __name__ == "__main__":
    sys.exit(main())

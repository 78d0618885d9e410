"""The daemon's HTTP server under load, slow and idle clients, and malformed requests.

Loopback only, bounded in count and time: ``feeder run --serve 127.0.0.1:0``
runs as a subprocess; an asyncio client sends 10 000 requests (half of them
conditional) over 100 keep-alive connections and counts anything but the
expected ``200``/``304`` as an error; ``wrk`` (Debian package ``wrk``) adds a
short run when it is installed. The requests per second are printed (run
with ``-s``) and never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemonkit import DaemonProc, http_get, server_address, wait_for, write_seed

REQUESTS = 10_000
CONNECTIONS = 100


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    tmp = tmp_path_factory.mktemp("load")
    with DaemonProc(tmp, interval=3600, settle=0) as d:
        for i in range(20):
            write_seed(d.seeds, f"s{i}.md", f"Loaded article {i}", body="Some text. " * 200)
        d.start()
        yield d
        assert d.alive(), d.log()[-3000:]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _load(host: str, port: int, etag: str, size: int) -> dict[str, Any]:
    per_conn = REQUESTS // CONNECTIONS
    counts: dict[str, int] = {"200": 0, "304": 0, "errors": 0}
    errors: list[str] = []

    async def client(n: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as e:
            counts["errors"] += per_conn
            errors.append(f"connect: {e}")
            return
        try:
            for i in range(per_conn):
                conditional = (i + n) % 2 == 1
                extra = f"If-None-Match: {etag}\r\n" if conditional else ""
                writer.write(
                    f"GET /feed.atom HTTP/1.1\r\nHost: {host}\r\n"
                    f"User-Agent: feeder-load\r\n{extra}\r\n".encode()
                )
                await writer.drain()
                status, _, body = await asyncio.wait_for(_read_response(reader), 30)
                expected = 304 if conditional else 200
                if status != expected or (status == 200 and len(body) != size):
                    counts["errors"] += 1
                    errors.append(f"status {status}, {len(body)} bytes")
                else:
                    counts[str(status)] += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as e:
            counts["errors"] += 1
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    start = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(CONNECTIONS)))
    elapsed = time.perf_counter() - start
    done = counts["200"] + counts["304"]
    return {**counts, "seconds": elapsed, "rps": done / elapsed, "first_errors": errors[:5]}


@pytest.mark.slow
def test_ten_thousand_requests_without_errors(daemon: DaemonProc) -> None:
    status, headers, body = http_get(daemon.feed_url, {"Accept-Encoding": "identity"})
    assert status == 200 and headers["etag"]
    host, port = server_address(daemon)
    result = asyncio.run(_load(host, port, headers["etag"], len(body)))
    print(
        f"load: {REQUESTS} requests over {CONNECTIONS} connections: "
        f"{result['200']} x 200, {result['304']} x 304, {result['errors']} errors, "
        f"{result['rps']:.0f} requests/s"
    )
    assert result["errors"] == 0, result["first_errors"]
    assert result["200"] + result["304"] == REQUESTS
    assert daemon.alive()


WRK_SCRIPT = """
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/feed.atom", {["If-None-Match"] = "ETAG"})
  end
  return wrk.format("GET", "/feed.atom")
end
"""


@pytest.mark.slow
def test_wrk_load_without_errors(daemon: DaemonProc, tmp_path: Path) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.skip("wrk is not installed (Debian package wrk); the asyncio load test ran")
    _, headers, _ = http_get(daemon.feed_url)
    script = tmp_path / "mix.lua"
    script.write_text(WRK_SCRIPT.replace("ETAG", headers["etag"].replace('"', '\\"')))
    proc = subprocess.run(
        [wrk, "-t2", f"-c{CONNECTIONS}", "-d3s", "--timeout", "10s", "-s", str(script),
         daemon.feed_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    print(f"wrk:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    print(f"wrk: {total} requests, {rps:.0f} requests/s")
    assert total > 0
    assert "Socket errors" not in out, out
    assert "Non-2xx or 3xx responses" not in out, out
    assert daemon.alive()


# -- slow, idle and malformed clients -------------------------------------------------


def _get(daemon: DaemonProc) -> int:
    status, _, _ = http_get(daemon.feed_url)
    return status


@pytest.mark.slow
def test_idle_and_slow_connections_do_not_block_others(daemon: DaemonProc) -> None:
    from feeder.service.server import HEAD_TIMEOUT

    host, port = server_address(daemon)
    idle = [socket.create_connection((host, port), timeout=5) for _ in range(50)]
    slow = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
    for s in slow:
        s.sendall(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        assert _get(daemon) == 200  # served at once, next to 70 stuck sockets
        # Hundreds more idle sockets (from the proxy address, which has no
        # per-client cap): the request-head deadline closes them all, and the
        # server serves throughout and after.
        idle += [socket.create_connection((host, port), timeout=5) for _ in range(200)]
        deadline = time.monotonic() + HEAD_TIMEOUT + 20
        for s in slow:  # keep trickling bytes: a slow sender gets no extension
            with contextlib.suppress(OSError):
                s.sendall(b"a")
        wait_for(lambda: _get(daemon) == 200, timeout=HEAD_TIMEOUT + 20, what="a 200 again")

        def closed(sock: socket.socket) -> bool:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                return sock.recv(1) == b""
            except ConnectionResetError:
                return True
            except OSError:
                return False

        assert all(closed(s) for s in idle[:10] + slow[:10] + idle[-10:])
    finally:
        for s in idle + slow:
            s.close()
    assert _get(daemon) == 200
    assert daemon.alive()


MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # no Host
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100),  # a TLS hello
    b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n",
    b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-%d: y\r\n" % i for i in range(50_000))
    + b"\r\n",
    b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /.feed.atom.tmp HTTP/1.1\r\nHost: x\r\n\r\n",
]


def _raw(host: str, port: int, data: bytes) -> int:
    with socket.create_connection((host, port), timeout=10) as s:
        with contextlib.suppress(OSError):  # the server may answer before it all went out
            s.sendall(data)
        head = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    assert m, f"no status line for {data[:40]!r}: {head[:80]!r}"
    return int(m.group(1))


@pytest.mark.parametrize("index", range(len(MALFORMED)))
def test_malformed_and_huge_requests_get_4xx(daemon: DaemonProc, index: int) -> None:
    host, port = server_address(daemon)
    status = _raw(host, port, MALFORMED[index])
    assert 400 <= status < 500, status
    assert _get(daemon) == 200  # and the server still answers
    assert daemon.alive()

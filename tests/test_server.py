"""The daemon's HTTP server: headers, conditional GETs, gzip, ``/``, and traversal."""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from daemonkit import DaemonProc, feed_titles, http_get, wait_for, write_seed

HOSTILE_TITLE = 'Tom & Jerry <script>alert(1)</script> "quoted"'


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    tmp = tmp_path_factory.mktemp("server")
    with DaemonProc(tmp, interval=3600, settle=0) as d:
        for i in range(6):  # enough text for gzip to be worth it
            write_seed(d.seeds, f"s{i}.md", f"Served article {i}", date=f"2024-05-0{i + 1}")
        write_seed(d.seeds, "hostile.md", HOSTILE_TITLE, date="2024-04-01")
        d.start()
        (tmp / "secret.txt").write_text("outside the output directory", encoding="utf-8")
        os.symlink(tmp / "secret.txt", d.output.parent / "link-out.txt")
        (d.output.parent / ".hidden.tmp").write_text("temporary", encoding="utf-8")
        yield d


def _raw(daemon: DaemonProc, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Send ``target`` byte for byte (no client-side normalisation of ``..``)."""
    parts = urlsplit(daemon.base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_feed_headers(daemon: DaemonProc) -> None:
    status, headers, body = http_get(daemon.feed_url)
    assert status == 200
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert headers["etag"]
    assert headers["cache-control"] == "no-cache"
    assert "Served article 0" in feed_titles(body)
    assert body == daemon.output.read_bytes()


def test_conditional_get_is_304(daemon: DaemonProc) -> None:
    # Last-Modified is only sent once the file's second is over (see feeder.server).
    second = int(daemon.output.stat().st_mtime)
    wait_for(lambda: time.time() >= second + 1, timeout=3, what="the next second")
    _, headers, _ = http_get(daemon.feed_url)
    status, again, body = http_get(daemon.feed_url, {"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert again["etag"] == headers["etag"]
    status, _, body = http_get(daemon.feed_url, {"If-Modified-Since": headers["last-modified"]})
    assert (status, body) == (304, b"")
    status, _, _ = http_get(daemon.feed_url, {"If-None-Match": '"something-else"'})
    assert status == 200


def test_head(daemon: DaemonProc) -> None:
    parts = urlsplit(daemon.feed_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.request("HEAD", parts.path)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b""
    assert int(resp.headers["content-length"]) == daemon.output.stat().st_size
    conn.close()


def test_gzip_when_accepted(daemon: DaemonProc) -> None:
    status, headers, body = http_get(daemon.feed_url, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    assert "Accept-Encoding" in headers.get("vary", "")
    assert gzip.decompress(body) == daemon.output.read_bytes()


def test_browsers_get_xml_so_the_stylesheet_applies(daemon: DaemonProc) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    _, headers, _ = http_get(daemon.feed_url, {"Accept": accept})
    assert headers["content-type"] == "application/xml; charset=utf-8"
    assert "Accept" in headers["vary"]
    status, headers, body = http_get(daemon.base + "feed.xsl")
    assert status == 200 and headers["content-type"].startswith("text/xsl")
    assert b"xsl:stylesheet" in body


def test_index_page(daemon: DaemonProc) -> None:
    status, headers, body = http_get(daemon.base)
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode("utf-8")
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="feed.atom"' in page
    assert "Served article 5" in page
    assert "<script>" not in page
    assert "Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Newest first, as in the feed.
    assert page.index("Served article 5") < page.index("Served article 0")


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/../state/daemon.pid",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/public/../../secret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/link-out.txt",
        "/.hidden.tmp",
        "/%2ehidden.tmp",
        "/feed.atom%00.html",
        "/nothing-here",
    ],
)
def test_only_the_output_directory_is_reachable(daemon: DaemonProc, target: str) -> None:
    status, body = _raw(daemon, target)
    assert status == 404, (target, body[:200])
    assert b"outside the output directory" not in body


def test_other_methods_are_refused(daemon: DaemonProc) -> None:
    status, _ = _raw(daemon, "/feed.atom", method="POST")
    assert status == 405


def test_idle_connections_do_not_block_others(daemon: DaemonProc) -> None:
    parts = urlsplit(daemon.base)
    idle = [socket.create_connection((parts.hostname, parts.port)) for _ in range(20)]
    try:
        idle[0].sendall(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n")  # never finished
        start = time.monotonic()
        status, _, _ = http_get(daemon.feed_url)
        assert status == 200
        assert time.monotonic() - start < 2
    finally:
        for sock in idle:
            sock.close()


def test_serves_only_loopback_by_default() -> None:
    from feeder.config import Settings, parse_hostport

    host, _ = parse_hostport(Settings().serve or "")
    assert host == "127.0.0.1"


def test_feed_replaced_while_serving_is_never_torn(daemon: DaemonProc) -> None:
    """Every response is one whole version, with headers that match its bytes."""
    from feeder.fsutil import atomic_write

    versions = [f"<x>{c * n}</x>".encode() for c, n in (("a", 10), ("b", 70000), ("c", 900))]
    target = daemon.output.parent / "swap.xml"
    atomic_write(target, versions[0])
    stop = threading.Event()

    def swap() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            atomic_write(target, versions[i % 3])

    writer = threading.Thread(target=swap)
    writer.start()
    try:
        for _ in range(80):
            status, headers, body = http_get(daemon.base + "swap.xml")
            assert status == 200 and body in versions
            assert int(headers["content-length"]) == len(body)
    finally:
        stop.set()
        writer.join()
        target.unlink()

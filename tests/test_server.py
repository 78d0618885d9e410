"""The daemon's HTTP server: headers, conditional GETs, gzip, ``/``, and traversal."""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from daemonkit import DaemonProc, exact_request, feed_titles, http_get, wait_for, write_seed

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
    status, _, body = exact_request(daemon, target, method=method)
    return status, body


@pytest.mark.slow
def test_feed_headers(daemon: DaemonProc) -> None:
    status, headers, body = http_get(daemon.feed_url)
    assert status == 200
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert headers["etag"]
    assert headers["cache-control"] == "no-cache"
    assert "Served article 0" in feed_titles(body)
    assert body == daemon.output.read_bytes()


@pytest.mark.slow
def test_conditional_get_is_304(daemon: DaemonProc) -> None:
    # Last-Modified is only sent once the file's second is over (see feeder.service.server).
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


def test_browsers_get_the_feed_page_and_the_stylesheet_stays(daemon: DaemonProc) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    _, headers, body = http_get(daemon.feed_url, {"Accept": accept})
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "Accept" in headers["vary"]
    assert body == (daemon.output.parent / "feed.html").read_bytes()
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


# -- content coding, entity tags and ranges (RFC 9110 §12.5.3, §8.8.3, §14) ------------

RANGE_TEXT = "".join(f"{i:04d}\n" for i in range(400)).encode()  # 2000 bytes


@pytest.fixture(scope="module")
def files(daemon: DaemonProc) -> dict[str, bytes]:
    """Files beside the feed: a text to take ranges of, a tiny text, an image."""
    public = daemon.output.parent
    contents = {
        "range.txt": RANGE_TEXT,
        "tiny.txt": b"too short to be worth compressing\n",
        "pic.png": bytes(range(256)) * 8,
    }
    for name, data in contents.items():
        (public / name).write_bytes(data)
    second = max(int((public / name).stat().st_mtime) for name in contents)
    # Last-Modified is only sent once the files' second is over (see feeder.service.server).
    wait_for(lambda: time.time() >= second + 1, timeout=3, what="the next second")
    contents["feed.atom"] = daemon.output.read_bytes()
    return contents


def _identity_etag(daemon: DaemonProc, path: str) -> str:
    status, headers, _ = exact_request(daemon, path)
    assert status == 200 and "content-encoding" not in headers
    return headers["etag"]


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("deflate, gzip;q=1.0", "gzip"),
        ("gzip;q=0", "identity"),
        ("gzip; Q=0.000", "identity"),
        ("*", "gzip"),
        ("*;q=0.5", "gzip"),
        ("br, deflate", "identity"),
        ("gzip;q=0.5, identity", "identity"),
        ("gzip;q=0.5, identity;q=0.4", "gzip"),
        ("identity;q=0, gzip;q=0.001", "gzip"),
        ("*;q=0, identity", "identity"),
        ("gzip;q=2", "identity"),  # invalid q values: the element is ignored
        ("gzip;q=abc", "identity"),
        ("gzip;q=0.0001", "identity"),
        # Nothing acceptable: sent without coding anyway (RFC 9110 §12.5.3), not 406.
        ("identity;q=0", "identity"),
        ("*;q=0", "identity"),
    ],
)
@pytest.mark.slow
def test_accept_encoding_q_values(
    daemon: DaemonProc, files: dict[str, bytes], accept: str | None, coding: str
) -> None:
    etag = _identity_etag(daemon, "/feed.atom")
    status, headers, body = exact_request(
        daemon, "/feed.atom", {} if accept is None else {"Accept-Encoding": accept}
    )
    assert status == 200
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert headers["accept-ranges"] == "bytes"
    if coding == "gzip":
        assert headers["content-encoding"] == "gzip"
        assert headers["etag"] == etag[:-1] + '-gzip"'
        assert int(headers["content-length"]) == len(body) < len(files["feed.atom"])
        assert gzip.decompress(body) == files["feed.atom"]
    else:
        assert "content-encoding" not in headers
        assert headers["etag"] == etag
        assert body == files["feed.atom"]


def test_tiny_and_binary_files_are_compressed_only_when_identity_is_refused(
    daemon: DaemonProc, files: dict[str, bytes]
) -> None:
    for path in ("/tiny.txt", "/pic.png"):
        status, headers, body = exact_request(daemon, path, {"Accept-Encoding": "gzip"})
        assert status == 200 and "content-encoding" not in headers, path
        assert body == files[path[1:]]
        assert headers["vary"] == "Accept-Encoding"
        status, headers, body = exact_request(
            daemon, path, {"Accept-Encoding": "gzip, identity;q=0"}
        )
        assert headers["content-encoding"] == "gzip", path
        assert gzip.decompress(body) == files[path[1:]]
    assert exact_request(daemon, "/pic.png")[1]["content-type"] == "image/png"


def test_gzip_etag_is_stable_and_revalidates(daemon: DaemonProc, files: dict[str, bytes]) -> None:
    etag = _identity_etag(daemon, "/feed.atom")
    gz = {"Accept-Encoding": "gzip"}
    _, first, body = exact_request(daemon, "/feed.atom", gz)
    _, again, body_again = exact_request(daemon, "/feed.atom", gz)
    gz_etag = first["etag"]
    assert gz_etag == again["etag"] == etag[:-1] + '-gzip"' and body == body_again

    def revalidate(headers: dict[str, str]) -> tuple[int, str, str | None, bytes]:
        status, got, body = exact_request(daemon, "/feed.atom", headers)
        assert "Accept-Encoding" in got["vary"]
        return status, got["etag"], got.get("content-encoding"), body

    # The client holds the gzip representation: 304 when it accepts gzip.
    assert revalidate({**gz, "If-None-Match": gz_etag}) == (304, gz_etag, None, b"")
    assert revalidate({**gz, "If-None-Match": f"W/{gz_etag}"})[:2] == (304, gz_etag)
    assert revalidate({**gz, "If-None-Match": f'"other", {gz_etag}'})[:2] == (304, gz_etag)
    assert revalidate({**gz, "If-None-Match": "*"})[:2] == (304, gz_etag)
    # It holds the identity one and accepts identity: that one is still current.
    assert revalidate({**gz, "If-None-Match": etag})[:2] == (304, etag)
    assert revalidate({"If-None-Match": f"W/{etag}"})[:2] == (304, etag)
    # Not a representation it can take: the one it can, in full.
    assert revalidate({"If-None-Match": gz_etag})[:3] == (200, etag, None)
    assert revalidate({"Accept-Encoding": "gzip;q=0", "If-None-Match": gz_etag})[:2] == (200, etag)
    refuses_identity = {"Accept-Encoding": "gzip, identity;q=0", "If-None-Match": etag}
    assert revalidate(refuses_identity)[:3] == (200, gz_etag, "gzip")
    assert revalidate({**gz, "If-None-Match": '"other"'})[:3] == (200, gz_etag, "gzip")
    # If-Modified-Since answers with the selected representation's tag.
    since = exact_request(daemon, "/feed.atom")[1]["last-modified"]
    assert revalidate({**gz, "If-Modified-Since": since})[:2] == (304, gz_etag)
    assert revalidate({"If-Modified-Since": since})[:2] == (304, etag)


@pytest.mark.parametrize(
    ("spec", "status", "part"),
    [
        ("bytes=0-9", 206, slice(0, 10)),
        ("bytes=10-", 206, slice(10, None)),
        ("bytes=-5", 206, slice(-5, None)),
        ("bytes=1990-5000", 206, slice(1990, 2000)),
        ("bytes=-5000", 206, slice(0, None)),
        ("Bytes=0-0", 206, slice(0, 1)),
        ("bytes=2000-", 416, None),
        ("bytes=-0", 416, None),
        ("bytes=0-1,5-6", 200, slice(0, None)),  # several ranges: the whole file
        ("bytes=5-1", 200, slice(0, None)),  # invalid: ignored
        ("bytes=a-b", 200, slice(0, None)),
        ("bytes=", 200, slice(0, None)),
        ("items=0-1", 200, slice(0, None)),
    ],
)
def test_range(
    daemon: DaemonProc, files: dict[str, bytes], spec: str, status: int, part: slice | None
) -> None:
    etag = _identity_etag(daemon, "/range.txt")
    # A range is of the identity representation, whatever the client accepts.
    for accept in ({}, {"Accept-Encoding": "gzip"}):
        got, headers, body = exact_request(daemon, "/range.txt", {"Range": spec, **accept})
        assert got == status, (spec, accept)
        assert headers["vary"] == "Accept-Encoding"
        if status == 416:
            assert headers["content-range"] == "bytes */2000" and body == b""
            continue
        assert part is not None
        if status == 206:
            start, stop, _ = part.indices(len(RANGE_TEXT))
            assert headers["content-range"] == f"bytes {start}-{stop - 1}/2000"
        else:
            assert "content-range" not in headers
        if status == 206 or not accept:
            assert "content-encoding" not in headers and headers["etag"] == etag
            assert body == RANGE_TEXT[part] and int(headers["content-length"]) == len(body)
        else:
            assert gzip.decompress(body) == RANGE_TEXT
        assert headers["accept-ranges"] == "bytes"


def test_if_range_and_head(daemon: DaemonProc, files: dict[str, bytes]) -> None:
    etag = _identity_etag(daemon, "/range.txt")
    _, packed, _ = exact_request(daemon, "/range.txt", {"Accept-Encoding": "gzip"})
    modified = packed["last-modified"]
    ask = {"Range": "bytes=100-199"}

    def get(headers: dict[str, str]) -> tuple[int, str | None]:
        status, got, body = exact_request(daemon, "/range.txt", {**ask, **headers})
        if status == 206:
            assert body == RANGE_TEXT[100:200]
        return status, got.get("content-encoding")

    assert get({"If-Range": etag}) == (206, None)
    assert get({"If-Range": modified}) == (206, None)
    assert get({"If-Range": f"W/{etag}"}) == (200, None)  # If-Range compares strongly
    assert get({"If-Range": '"older"'}) == (200, None)
    assert get({"If-Range": "Mon, 01 Jan 2024 00:00:00 GMT"}) == (200, None)
    # Resuming the gzip representation is not possible: the whole of it again.
    assert get({"If-Range": packed["etag"], "Accept-Encoding": "gzip"}) == (200, "gzip")
    # A client refusing identity is not sent a range of it.
    assert get({"Accept-Encoding": "gzip, identity;q=0"}) == (200, "gzip")
    # Range is defined for GET only.
    status, headers, body = exact_request(daemon, "/range.txt", ask, method="HEAD")
    assert (status, body) == (200, b"") and headers["content-length"] == "2000"
    status, headers, body = exact_request(daemon, "/range.txt", {"Accept-Encoding": "gzip"}, "HEAD")
    assert (status, body, headers["content-encoding"]) == (200, b"", "gzip")
    assert headers["content-length"] == packed["content-length"]


def test_files_bigger_than_a_snapshot_are_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_SNAPSHOT a file is streamed from one descriptor: ranges, no gzip."""
    from feeder.service import server

    monkeypatch.setattr(server, "MAX_SNAPSHOT", 1000)
    (tmp_path / "big.txt").write_bytes(RANGE_TEXT)
    http_server = server.FeedServer(tmp_path, "127.0.0.1:0")
    http_server.start()
    try:
        url = http_server.url + "big.txt"
        status, headers, body = http_get(url, {"Accept-Encoding": "gzip"})
        assert (status, body) == (200, RANGE_TEXT)
        assert "content-encoding" not in headers and headers["vary"] == "Accept-Encoding"
        assert headers["content-length"] == "2000" and headers["accept-ranges"] == "bytes"
        status, headers, body = http_get(url, {"Range": "bytes=1500-"})
        assert (status, body) == (206, RANGE_TEXT[1500:])
        assert headers["content-range"] == "bytes 1500-1999/2000"
        assert http_get(url, {"Range": "bytes=2000-"})[0] == 416
        assert http_get(url, {"If-None-Match": headers["etag"]})[0] == 304
    finally:
        http_server.stop()


def test_client_addresses() -> None:
    from feeder.service.server import client_key, trusted_networks

    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    # One IPv6 host holds a whole /64: its addresses are one client.
    assert (
        client_key("2001:db8:1:2:aaaa::1")
        == client_key("2001:db8:1:2::ffff")
        != client_key("2001:db8:1:3::1")
    )
    assert trusted_networks("*") == ()
    nets = trusted_networks("127.0.0.1, ::1,10.0.0.0/8, unix:/run/x.sock")
    assert [str(n) for n in nets] == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]

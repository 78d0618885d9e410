"""Serve the output directory over HTTP: the feeds, their pages, ``index.html``, a health check.

Starlette's :class:`~starlette.staticfiles.StaticFiles` finds the file and
refuses any path that resolves outside its directory (``..``, encoded dots and
slashes, symlinks pointing out), and uvicorn runs it on asyncio, so a slow or
idle client costs a socket, not a thread. This module answers for the file
itself, from one consistent read of one version of it:

* the media types of ``.atom``/``.xsl``/…, a 404 for hidden files (temporary
  files of atomic writes);
* content negotiation of ``gzip`` by ``Accept-Encoding`` q-values
  (:func:`choose_coding`), the gzip representation with its own ``ETag``
  (:func:`gzip_etag`), ``Vary: Accept-Encoding``;
* ``304 Not Modified`` for ``If-None-Match`` (weak comparison, against the
  ETag of either representation the client accepts) and ``If-Modified-Since``;
* a single byte ``Range`` of the identity representation (``206``/``416``,
  ``If-Range``, ``Accept-Ranges: bytes`` on every file; :func:`byte_range`);
* content negotiation of a feed's HTML page by ``Accept`` q-values
  (:func:`prefers_html`): a browser asking for ``x.atom``, ``x.rss`` or
  ``x.json`` gets ``x.html`` (the page :mod:`feeder.feeds.pages` writes beside the
  feed), with that file's own ``ETag``; every answer for a feed says
  ``Vary: Accept``;
* ``/-/health``, the daemon's health as JSON (``200`` or ``503``,
  ``Cache-Control: no-store``; :func:`health_report`).

It runs uvicorn in a thread of the daemon with a socket bound up front (a busy
port is a clear start-up error) and a protocol, :class:`HeadTimeoutH11`, that
closes connections that do not send a request head in time and the surplus
connections of any one client (:data:`PER_CLIENT_CONNECTIONS`).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import ipaddress
import logging
import mimetypes
import os
import re
import resource
import socket
import stat
import struct
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, Literal

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope
from uvicorn.protocols.http.h11_impl import H11Protocol

from feeder.config import parse_hostport
from feeder.errors import ServeError
from feeder.feeds.pages import PAGE_SUFFIX

log = logging.getLogger(__name__)

#: Media types that Python's ``mimetypes`` does not know or gets wrong.
MEDIA_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}
#: The health check's URL; nothing below ``/-/`` is ever a file.
HEALTH_PATH = "/-/health"
SERVER_DIR = "-"
#: Feed readers poll; they must revalidate every time (a cheap 304) to see news.
CACHE_CONTROL = "no-cache"
#: Files up to this size are served from one consistent in-memory read; bigger
#: ones are streamed from one open descriptor, uncompressed.
MAX_SNAPSHOT = 32 * 1024 * 1024
#: Seconds a connection may take to send a request head (idle and slowloris sockets).
HEAD_TIMEOUT = 10.0
#: Open connections one client address may hold (an IPv6 client: its /64);
#: further ones are reset as soon as they are accepted. Trusted proxies (see
#: :func:`trusted_networks`) are exempt: every client behind them shares
#: their address.
PER_CLIENT_CONNECTIONS = 32
#: Open connections in all; further ones are reset as soon as they are
#: accepted. Lowered to what the open-file limit allows (see :func:`connection_budget`).
MAX_CONNECTIONS = 1024
#: File descriptors kept for everything but client connections (the daemon's
#: files, logs, build workers).
FD_RESERVE = 256
#: Pending connections the kernel queues before the server accepts them.
LISTEN_BACKLOG = 1024
#: Bodies smaller than this are not worth compressing (sent as they are
#: unless the client refuses ``identity``).
GZIP_MIN_SIZE = 512
#: zlib level of the gzip representation (computed once per version, cached).
GZIP_LEVEL = 6
#: Bytes of gzip representations kept in memory (least recently used dropped).
GZIP_CACHE_BYTES = 16 * 1024 * 1024
#: Seconds between two log lines about refused connections.
REFUSAL_LOG_INTERVAL = 60.0
#: Chunk size of a streamed (larger than :data:`MAX_SNAPSHOT`) file.
STREAM_CHUNK = 256 * 1024

Coding = Literal["gzip", "identity"]
#: :func:`byte_range` of a range that no byte of the file satisfies.
UNSATISFIABLE = "unsatisfiable"


# -- negotiation: Accept-Encoding, ETags, conditional requests, ranges ------------


_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def _qvalue(params: Iterable[str]) -> float | None:
    """The ``q`` of one list element's parameters (1 without one), ``None`` if invalid."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) else None
    return 1.0


def accepted_codings(header: str | None) -> tuple[float, float]:
    """The quality of ``gzip`` and of ``identity`` in an ``Accept-Encoding`` value.

    RFC 9110 §12.5.3: coding names are case-insensitive (``x-gzip`` is
    ``gzip``); ``*`` stands for any coding not named; ``q=0`` means "not
    acceptable"; ``identity`` is acceptable unless ``identity;q=0`` (or
    ``*;q=0`` without an ``identity`` entry) refuses it. Elements with an
    invalid ``q`` are ignored. No header at all is taken as "identity only":
    RFC 9110 allows any coding then, but a client that does not ask may not
    decode.
    """
    named: dict[str, float] = {}
    for element in (header or "").split(","):
        name, *params = element.split(";")
        name = name.strip().lower()
        if name == "x-gzip":
            name = "gzip"
        q = _qvalue(params)
        if name and q is not None:
            named[name] = max(q, named.get(name, q))
    star = named.get("*")
    gzip_q = named.get("gzip", star if star is not None else 0.0)
    identity_q = named.get("identity", star if star is not None else 1.0)
    return gzip_q, identity_q


def choose_coding(gzip_q: float, identity_q: float, *, worth_it: bool, can_gzip: bool) -> Coding:
    """The content coding of a response, given :func:`accepted_codings`.

    ``gzip`` when the client accepts it at least as much as ``identity`` and
    the body is ``worth_it`` (compressible text, not tiny), or when the client
    refuses ``identity`` outright; never when the server ``can_gzip`` not (a
    file streamed from disk). When the client accepts neither, the body is sent
    as it is rather than ``406``: RFC 9110 §12.5.3 keeps a response without
    content coding as the interoperable answer.
    """
    if can_gzip and gzip_q > 0 and (identity_q == 0 or (worth_it and gzip_q >= identity_q)):
        return "gzip"
    return "identity"


#: The media types a feed document answers to, by suffix: its own, then the
#: generic ones its bytes are too (``application/xml`` for Atom and RSS).
FEED_TYPES = {
    ".atom": ("application/atom+xml", "application/xml", "text/xml"),
    ".rss": ("application/rss+xml", "application/xml", "text/xml"),
    ".json": ("application/feed+json", "application/json"),
}


def media_ranges(header: str | None) -> list[tuple[str, str, float]]:
    """The ``(type, subtype, q)`` of each element of an ``Accept`` value (lower case).

    Parameters other than ``q`` are ignored; elements that are no media
    range or have an invalid ``q`` are dropped (RFC 9110 §12.5.1).
    """
    ranges: list[tuple[str, str, float]] = []
    for element in (header or "").split(","):
        media, *params = element.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        q = _qvalue(params)
        if slash and kind and sub and q is not None and (kind != "*" or sub == "*"):
            ranges.append((kind, sub, q))
    return ranges


def media_quality(ranges: list[tuple[str, str, float]], media: str) -> float:
    """The quality ``ranges`` give ``media``: that of the most specific range matching it.

    ``text/html`` beats ``text/*``, which beats ``*/*``; an unmatched type
    is not acceptable (0). Of equally specific ranges the highest ``q`` counts.
    """
    kind, _, sub = media.partition("/")
    best, quality = -1, 0.0
    for r_kind, r_sub, q in ranges:
        if (r_kind, r_sub) == (kind, sub):
            rank = 2
        elif (r_kind, r_sub) == (kind, "*"):
            rank = 1
        elif (r_kind, r_sub) == ("*", "*"):
            rank = 0
        else:
            continue
        if rank > best:
            best, quality = rank, q
        elif rank == best:
            quality = max(quality, q)
    return quality


def prefers_html(accept: str | None, feed_types: Iterable[str]) -> bool:
    """Whether a client with ``Accept: accept`` would rather have HTML than the feed.

    True when ``text/html`` has a higher quality than every one of the
    feed's ``feed_types`` and no lower one than anything the client names:
    a browser's ``text/html,…,application/xml;q=0.9,*/*;q=0.8``. A feed
    reader naming its formats (even with ``text/html;q=0.5`` among them),
    ``*/*`` alone (a tie) or no ``Accept`` at all gets the feed.
    """
    if not accept:
        return False
    ranges = media_ranges(accept)
    html = media_quality(ranges, "text/html")
    if html <= 0 or html < max(q for _, _, q in ranges):
        return False
    return all(html > media_quality(ranges, t) for t in feed_types)


def gzip_etag(etag: str) -> str:
    """The entity tag of the gzip representation: ``"abc"`` → ``"abc-gzip"``.

    RFC 9110 §8.8.3: different representations of a resource need different
    strong entity tags, or a cache could answer a range or a conditional
    request of one with the bytes of the other.
    """
    return etag[:-1] + '-gzip"'


def _entity_tags(header: str) -> list[str]:
    """The opaque tags of an ``If-None-Match`` list, ``W/`` dropped (weak comparison)."""
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def none_match(header: str, candidates: list[str]) -> str | None:
    """The first of ``candidates`` that ``If-None-Match: header`` names, or ``None``.

    RFC 9110 §13.1.2 compares weakly (``W/"x"`` matches ``"x"``); ``*`` matches
    any current representation, so the first candidate.
    """
    if header.strip() == "*":
        return candidates[0]
    tags = _entity_tags(header)
    return next((etag for etag in candidates if etag in tags), None)


def _http_date(value: str) -> float | None:
    """The POSIX time of an HTTP date, ``None`` if it is not one."""
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")


def byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """The one byte range ``Range: header`` asks of ``size`` bytes, end inclusive.

    Returns ``(first, last)``, :data:`UNSATISFIABLE` (answered ``416``), or
    ``None`` when the header is to be ignored and the whole file sent (RFC
    9110 §14.2 lets a server ignore any ``Range``): a unit other than
    ``bytes``, invalid syntax, more than one range (no ``multipart/byteranges``
    here), or an empty file.
    """
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges = [part.strip() for part in spec.split(",") if part.strip()]
    if len(ranges) != 1 or size == 0:
        return None
    match = _RANGE_SPEC.fullmatch(ranges[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        if not last:
            return None
        suffix = int(last)
        return (max(0, size - suffix), size - 1) if suffix else UNSATISFIABLE
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, min(int(last), size - 1) if last else size - 1


def _compressible(path: Path) -> bool:
    """Whether the media type of ``path`` is text that gzip shrinks."""
    media = MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or ""
    media = media.split(";", 1)[0]
    return (
        media.startswith("text/")
        or media.endswith(("+xml", "+json", "/xml", "/json", "/javascript"))
        or media == "image/svg+xml"
    )


class GzipCache:
    """gzip representations of file versions, computed once, least recently used dropped.

    One compression runs at a time (a second request of the same version waits
    for the first one's result instead of compressing again). The output is
    deterministic (``mtime=0``), so a version's gzip bytes and ETag are stable.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._work = threading.Lock()

    def _get(self, key: tuple[int, ...]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def compress(self, key: tuple[int, ...], data: bytes) -> bytes:
        """The gzip representation of ``data``, the version ``key`` (blocking)."""
        found = self._get(key)
        if found is not None:
            return found
        with self._work:
            found = self._get(key)
            if found is not None:
                return found
            packed = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
            with self._lock:
                if len(packed) <= self.budget:
                    self._items[key] = packed
                    self._size += len(packed)
                    while self._size > self.budget:
                        _, dropped = self._items.popitem(last=False)
                        self._size -= len(dropped)
            return packed


_GZIP_CACHE = GzipCache(GZIP_CACHE_BYTES)


@dataclass
class _Version:
    """One version of a file: its ``fstat``, and its bytes or its open descriptor."""

    stat: os.stat_result
    data: bytes | None = None
    file: IO[bytes] | None = None

    @property
    def key(self) -> tuple[int, ...]:
        """What tells this version apart (an atomic replace makes a new inode)."""
        st = self.stat
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _open_version(path: Path) -> _Version | None:
    """Read one version of ``path`` (kept open when too big to read), or ``None``."""
    try:
        f = path.open("rb")
    except OSError:
        return None
    try:
        stat_result = os.fstat(f.fileno())
        if stat_result.st_size > MAX_SNAPSHOT:
            return _Version(stat_result, file=f)
        with f:
            return _Version(stat_result, data=f.read())
    except OSError:
        f.close()
        return None


async def _stream(f: IO[bytes], start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``f`` from ``start``, read in a worker thread; closes ``f``."""
    try:
        fd = f.fileno()
        while length > 0:
            chunk = await anyio.to_thread.run_sync(os.pread, fd, min(STREAM_CHUNK, length), start)
            if not chunk:
                break
            start += len(chunk)
            length -= len(chunk)
            yield chunk
    finally:
        f.close()


class FeedFiles(StaticFiles):
    """Static files of the output directory with feed-friendly headers.

    A file is read through one open descriptor (into memory up to
    :data:`MAX_SNAPSHOT`), so a feed replaced by an atomic rename between the
    ``stat`` and the read can never be sent with the headers of one version and
    the bytes of another.
    """

    async def check_config(self) -> None:
        """Accept a missing directory: it appears with the first build (404 until then)."""

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """The located file, unconditionally: :meth:`get_response` answers the conditions."""
        return FileResponse(full_path, status_code=status_code, stat_result=stat_result)

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Refuse hidden files (``.feed.atom.tmp…``) and ``/-/``, then answer from one version.

        A feed document asked for by a client that prefers HTML (a browser,
        :func:`prefers_html`) is answered with the feed's page when there is
        one beside it (``x.atom`` → ``x.html``, see :mod:`feeder.feeds.pages`): its
        own bytes, ``ETag`` and ``Content-Type``, with ``Vary: Accept``.
        """
        parts = Path(path).parts
        if any(part.startswith(".") for part in parts) or parts[:1] == (SERVER_DIR,):
            return PlainTextResponse("Not Found", status_code=404)
        page = self._page_for(path, scope)
        if page is not None:
            found = await anyio.to_thread.run_sync(self._regular_file, page)
            if found is not None:
                return await self._serve(found, scope, negotiated=True)
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        return await self._serve(Path(response.path), scope)

    @staticmethod
    def _page_for(path: str, scope: Scope) -> str | None:
        """The page that answers for the feed document ``path``, if the client prefers HTML."""
        stem, suffix = os.path.splitext(path)
        types = FEED_TYPES.get(suffix.lower())
        if types is None or not stem or scope["method"] not in ("GET", "HEAD"):
            return None
        if not prefers_html(Headers(scope=scope).get("accept"), types):
            return None
        return stem + PAGE_SUFFIX

    def _regular_file(self, path: str) -> Path | None:
        """``path`` below the directory if it is a regular file there (``lookup_path``'s rules)."""
        try:
            full_path, stat_result = self.lookup_path(path)
        except (OSError, ValueError):
            return None
        if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
            return None
        return Path(full_path)

    async def _serve(self, file: Path, scope: Scope, *, negotiated: bool = False) -> Response:
        """Answer for ``file`` from one version of it (404 if it went away meanwhile)."""
        version = await anyio.to_thread.run_sync(_open_version, file)
        if version is None:  # removed since it was found
            return PlainTextResponse("Not Found", status_code=404)
        try:
            answer = await self._answer(file, version, scope)
        except BaseException:
            if version.file is not None:
                version.file.close()
            raise
        if version.file is not None and not isinstance(answer, StreamingResponse):
            version.file.close()
        return self._decorate(answer, file, scope, negotiated=negotiated)

    async def _answer(self, file: Path, version: _Version, scope: Scope) -> Response:
        """The response for one version: 304, 416, 206 or 200, identity or gzip."""
        request = Headers(scope=scope)
        stat_result = version.stat
        size = stat_result.st_size
        fresh = FileResponse(file, stat_result=stat_result)
        etag = fresh.headers["etag"]
        headers = {"etag": etag, "accept-ranges": "bytes"}
        if int(stat_result.st_mtime) < int(time.time()):
            headers["last-modified"] = fresh.headers["last-modified"]
        # else: modified this very second: another version may follow within it,
        # with the same one-second Last-Modified, and a client comparing dates
        # (curl checks If-Modified-Since itself) would miss it. Only the ETag holds.
        gzip_q, identity_q = accepted_codings(request.get("accept-encoding"))
        in_memory = version.data is not None
        worth_it = size >= GZIP_MIN_SIZE and _compressible(file)
        coding = choose_coding(gzip_q, identity_q, worth_it=worth_it, can_gzip=in_memory)
        tags = {"identity": etag, "gzip": gzip_etag(etag)}

        # RFC 9110 §13.2.2: If-None-Match, else If-Modified-Since, then If-Range.
        if_none_match = request.get("if-none-match")
        if if_none_match is not None:
            # The selected representation's tag first; the other one's too when
            # the client accepts it: a cache holding either may revalidate it.
            held = [tags[coding]]
            if coding == "gzip" and identity_q > 0:
                held.append(tags["identity"])
            elif coding == "identity" and in_memory and gzip_q > 0:
                held.append(tags["gzip"])
            matched = none_match(if_none_match, held)
            if matched is not None:
                return NotModifiedResponse(Headers({**headers, "etag": matched}))
        elif "last-modified" in headers and (since := request.get("if-modified-since")):
            since_t = _http_date(since)
            modified = _http_date(headers["last-modified"])
            if since_t is not None and modified is not None and modified <= since_t:
                return NotModifiedResponse(Headers({**headers, "etag": tags[coding]}))

        # A range is a range of the identity representation (a slice of a gzip
        # stream is useless to a client), so it is served when identity is.
        wanted = request.get("range")
        if_range = request.get("if-range")
        if (
            wanted is not None
            and scope["method"] == "GET"
            and (coding == "identity" or identity_q > 0)
            and (if_range is None or self._range_holds(if_range, headers))
        ):
            span = byte_range(wanted, size)
            if span == UNSATISFIABLE:
                refused = {"content-range": f"bytes */{size}", "accept-ranges": "bytes"}
                return Response(status_code=416, headers=refused)
            if isinstance(span, tuple):
                first, last = span
                headers["content-range"] = f"bytes {first}-{last}/{size}"
                return self._body(version, first, last + 1, headers, status=206)

        head = scope["method"] == "HEAD"
        if coding == "gzip" and version.data is not None:
            data = version.data
            packed = await anyio.to_thread.run_sync(_GZIP_CACHE.compress, version.key, data)
            headers.update({"etag": tags["gzip"], "content-encoding": "gzip"})
            headers["content-length"] = str(len(packed))
            return Response(b"" if head else packed, headers=headers)
        if head:
            return Response(b"", headers={**headers, "content-length": str(size)})
        return self._body(version, 0, size, headers, status=200)

    @staticmethod
    def _range_holds(if_range: str, headers: dict[str, str]) -> bool:
        """Whether ``If-Range`` names this identity version (RFC 9110 §13.1.5).

        An entity tag compares strongly (a weak one never matches); a date must
        equal ``Last-Modified`` (none is sent within the second of a change).
        """
        if_range = if_range.strip()
        if if_range.startswith(('"', "W/")):
            return if_range == headers["etag"]
        modified = headers.get("last-modified")
        return modified is not None and _http_date(if_range) == _http_date(modified)

    @staticmethod
    def _body(
        version: _Version, start: int, end: int, headers: dict[str, str], *, status: int
    ) -> Response:
        """Bytes ``start``–``end`` of the version, from memory or streamed from its descriptor."""
        headers = {**headers, "content-length": str(end - start)}
        if version.data is not None:
            return Response(version.data[start:end], status_code=status, headers=headers)
        assert version.file is not None
        body = _stream(version.file, start, end - start)
        return StreamingResponse(body, status_code=status, headers=headers)

    @staticmethod
    def _decorate(
        response: Response, path: Path, scope: Scope, *, negotiated: bool = False
    ) -> Response:
        """Set the media type from :data:`MEDIA_TYPES`, ``Vary`` and ``Cache-Control``.

        Every answer for a feed document's URL (the feed, or its page
        ``negotiated`` in its place) says ``Vary: Accept``, so caches keep
        the representations apart, as ``Vary: Accept-Encoding`` does the
        gzip and identity ones. An Atom document that has no page (archive
        pages) goes to a browser as ``application/xml``: Chromium shows
        ``application/atom+xml`` as plain text and would never apply
        ``feed.xsl``.
        """
        suffix = path.suffix.lower()
        media_type = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
        vary = ["Accept-Encoding"]
        if negotiated or suffix in FEED_TYPES:
            vary.insert(0, "Accept")
        accept = Headers(scope=scope).get("accept")
        if suffix == ".atom" and prefers_html(accept, FEED_TYPES[suffix]):
            media_type = MEDIA_TYPES[".xml"]
        response.headers["vary"] = ", ".join(vary)
        if media_type is not None and response.status_code in (200, 206):
            if media_type.startswith("text/") and "charset=" not in media_type:
                media_type += "; charset=utf-8"
            response.headers["content-type"] = media_type
        response.headers["cache-control"] = CACHE_CONTROL
        return response


# -- connections: per-client and global caps, request-head deadline ----------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_key(host: str) -> str:
    """The client a peer address is counted as: an IPv4 address, an IPv6 /64.

    One IPv6 host usually holds a whole /64, so its addresses count as one; an
    IPv4-mapped IPv6 address counts as its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def trusted_networks(spec: str | list[str]) -> tuple[Network, ...]:
    """The proxy networks of uvicorn's ``forwarded_allow_ips`` (``FORWARDED_ALLOW_IPS``).

    These are the peers whose ``X-Forwarded-For`` the server believes (by
    default ``127.0.0.1`` and ``::1``, where the nginx of docs/daemon.md
    connects from); every client behind them shares their address, so they are
    exempt from :data:`PER_CLIENT_CONNECTIONS`. ``*`` trusts the headers of any
    peer, not any peer's connection count: it exempts nobody.
    """
    entries = spec.split(",") if isinstance(spec, str) else spec
    networks: list[Network] = []
    for entry in entries:
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
    return tuple(networks)


def connection_budget() -> int:
    """:data:`MAX_CONNECTIONS`, or less when the open-file limit would be hit first."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft - FD_RESERVE))


def _raise_fd_limit() -> None:
    """Raise the soft open-file limit towards what :data:`MAX_CONNECTIONS` needs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = MAX_CONNECTIONS + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@dataclass
class Fairness:
    """Connection counts of one uvicorn server, shared by its protocol instances."""

    per_client: int
    total: int
    trusted: tuple[Network, ...]
    open: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    logged_at: float = float("-inf")

    def classify(self, host: str) -> tuple[str, bool]:
        """The :func:`client_key` of ``host`` and whether it is a trusted proxy (exempt)."""
        return _classify(host, self.trusted)

    def note_refusal(self, key: str, now: float) -> None:
        """Count a refused connection; log the counts at most every :data:`REFUSAL_LOG_INTERVAL`."""
        self.refused[key] += 1
        if now - self.logged_at < REFUSAL_LOG_INTERVAL:
            return
        self.logged_at = now
        top, count = self.refused.most_common(1)[0]
        log.warning(
            "closed %d surplus connection(s) since the last report, %d from %s "
            "(at most %d per client, %d in all)",
            sum(self.refused.values()), count, top, self.per_client, self.total,
        )  # fmt: skip
        self.refused.clear()


@functools.lru_cache(maxsize=4096)
def _classify(host: str, trusted: tuple[Network, ...]) -> tuple[str, bool]:
    """:meth:`Fairness.classify`, cached: a reconnecting client is parsed once."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host, False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return client_key(host), any(ip in network for network in trusted)


_FAIRNESS: weakref.WeakKeyDictionary[Any, Fairness] = weakref.WeakKeyDictionary()


def _fairness(server_state: Any, config: Any) -> Fairness:
    """The :class:`Fairness` of the server owning ``server_state`` (made on first use)."""
    fair = _FAIRNESS.get(server_state)
    if fair is None:
        trusted = trusted_networks(config.forwarded_allow_ips)
        fair = Fairness(PER_CLIENT_CONNECTIONS, connection_budget(), trusted)
        _FAIRNESS[server_state] = fair
    return fair


def _reset(transport: Any) -> None:
    """Close a connection at once with a TCP reset (no FIN handshake, no TIME_WAIT)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class HeadTimeoutH11(H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol, fair to every client.

    uvicorn times a connection out only once a response is complete, and any
    byte received disarms that timer: a client that connects and sends nothing,
    or sends its headers a byte at a time, would keep its connection for ever.
    Here a connection that has not sent a whole request head
    :data:`HEAD_TIMEOUT` seconds after it opened (or after its last response)
    is closed. And a connection is reset as soon as it is accepted when its
    client already holds :data:`PER_CLIENT_CONNECTIONS` (trusted proxies
    excepted) or the server :func:`connection_budget`: one client's sockets,
    however slow, cannot take the places of others.
    """

    _head_timer: Any = None
    _refused = False
    _counted: str | None = None

    def connection_made(self, transport: Any) -> None:
        fair = _fairness(self.server_state, self.config)
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple | list) and peer else ""
        key, exempt = fair.classify(host)
        if len(self.connections) >= fair.total or (
            not exempt and fair.open[key] >= fair.per_client
        ):
            self._refused = True
            fair.note_refusal(key, time.monotonic())
            _reset(transport)
            return
        if not exempt:
            fair.open[key] += 1
            self._counted = key
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        if self._counted is not None:
            fair = _fairness(self.server_state, self.config)
            fair.open[self._counted] -= 1
            if fair.open[self._counted] <= 0:
                del fair.open[self._counted]
            self._counted = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timeout)

    def _head_timeout(self) -> None:
        self._head_timer = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()


#: A health check: whether the daemon is healthy, and its ``status()``.
Health = Callable[[], tuple[bool, Mapping[str, Any]]]


def health_report(health: Health | None) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of :data:`HEALTH_PATH`.

    ``200`` and ``"ok"`` while ``health`` says healthy (or without one: the
    server answers, nothing else is known), ``503`` and ``"failing"`` once
    it does not (or cannot say). Only the failure count and the last poll
    are shown, not the daemon's paths.
    """
    try:
        healthy, status = health() if health is not None else (True, {})
    except Exception:
        log.exception("the health check failed")
        healthy, status = False, {}
    body = {
        "status": "ok" if healthy else "failing",
        "consecutive_failures": int(status.get("consecutive_failures") or 0),
        "last_poll": status.get("last_poll"),
    }
    return (200 if healthy else 503), body


def make_app(directory: Path, health: Health | None = None) -> Starlette:
    """The ASGI application serving ``directory`` (``/`` is its ``index.html``).

    :data:`HEALTH_PATH` answers from ``health`` (see :func:`health_report`);
    it is a route, matched before any file, and nothing below ``/-/`` is a file.
    """

    async def check(request: Request) -> Response:
        code, body = await anyio.to_thread.run_sync(health_report, health)
        return JSONResponse(body, status_code=code, headers={"cache-control": "no-store"})

    files = FeedFiles(directory=directory, html=True, check_dir=False)
    return Starlette(
        routes=[Route(HEALTH_PATH, check, methods=["GET", "HEAD"]), Mount("/", app=files)]
    )


def bind(serve: str) -> socket.socket:
    """Open a listening TCP socket on ``HOST:PORT`` (port 0 picks a free one)."""
    host, port = parse_hostport(serve)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ServeError(f"cannot resolve {serve!r}: {e.strerror}") from e
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError as e:
        sock.close()
        raise ServeError(f"cannot listen on {serve}: {e.strerror or e}") from e
    sock.set_inheritable(False)
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL (``http://host:port/``) a bound socket is reachable at."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class FeedServer:
    """uvicorn serving one directory in a background thread."""

    def __init__(self, directory: Path, serve: str, *, health: Health | None = None) -> None:
        self.directory = directory
        self.serve = serve
        #: What :data:`HEALTH_PATH` reports (the daemon's ``healthy`` and ``status()``).
        self.health = health
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> None:
        """Bind, start uvicorn, and wait until it accepts connections."""
        self._sock = bind(self.serve)
        self.url = url_of(self._sock)
        _raise_fd_limit()
        debug = logging.getLogger("uvicorn.access").isEnabledFor(logging.DEBUG)
        config = uvicorn.Config(
            make_app(self.directory, self.health),
            log_config=None,
            access_log=debug,
            lifespan="off",
            proxy_headers=True,
            server_header=False,
            timeout_keep_alive=15,
            timeout_graceful_shutdown=2,
            h11_max_incomplete_event_size=16 * 1024,
            http=HeadTimeoutH11,
        )
        server = uvicorn.Server(config)
        self._server = server
        sock = self._sock
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="feeder-http", daemon=True
        )
        self._thread.start()
        ready = threading.Event()
        while not server.started and self._thread.is_alive():
            ready.wait(0.01)
        if not server.started:
            raise ServeError(f"the HTTP server on {self.serve} did not start")

    def request_stop(self) -> None:
        """Ask uvicorn to stop accepting and finish open responses (returns at once)."""
        if self._server is not None:
            self._server.should_exit = True

    def stop(self, timeout: float = 2.5) -> None:
        """Ask uvicorn to finish open responses and stop; force it after ``timeout``."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(1.0)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

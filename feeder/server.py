"""Serve the output directory over HTTP: the feed, its stylesheet and ``index.html``.

Starlette's :class:`~starlette.staticfiles.StaticFiles` already does what a
feed reader needs from a static server — ``ETag`` and ``Last-Modified``,
``304 Not Modified`` for ``If-None-Match``/``If-Modified-Since``, ``HEAD``,
and refusing any path that resolves outside its directory (``..``, encoded
dots and slashes, symlinks pointing out) — and uvicorn runs it on asyncio, so
a slow or idle client costs a socket, not a thread, and never blocks others.
This module adds the media types of ``.atom``/``.xsl``, gzip, a 404 for hidden
files (temporary files of atomic writes), and runs uvicorn in a thread of the
daemon with a socket bound up front, so a busy port is a clear start-up error,
and a protocol, :class:`HeadTimeoutH11`, that closes connections that do not
send a request head in time and the surplus connections of any one client
(:data:`PER_CLIENT_CONNECTIONS`).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import os
import resource
import socket
import struct
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import parse_hostport
from .errors import FeederError

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
#: Feed readers poll; they must revalidate every time (a cheap 304) to see news.
CACHE_CONTROL = "no-cache"
#: Files up to this size are served from one consistent in-memory read.
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
#: Seconds between two log lines about refused connections.
REFUSAL_LOG_INTERVAL = 60.0


class ServeError(FeederError):
    """The HTTP server cannot listen on the configured address."""


class FeedFiles(StaticFiles):
    """Static files of the output directory with feed-friendly headers.

    A file is read through one open descriptor into memory (feeds are small),
    so a feed replaced by an atomic rename between the ``stat`` and the read
    can never be sent with the headers of one version and the bytes of another.
    """

    async def check_config(self) -> None:
        """Accept a missing directory: it appears with the first build (404 until then)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Refuse hidden files (``.feed.atom.tmp…``), then serve a consistent snapshot."""
        if any(part.startswith(".") for part in Path(path).parts):
            return PlainTextResponse("Not Found", status_code=404)
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        snap = await anyio.to_thread.run_sync(_snapshot, Path(response.path))
        if snap is None:  # vanished or too big: stream it as Starlette does
            return self._decorate(response, Path(response.path), scope)
        data, stat_result = snap
        fresh = FileResponse(response.path, stat_result=stat_result)
        if int(stat_result.st_mtime) >= int(time.time()):
            # Modified this very second: another version may follow within it, with
            # the same one-second Last-Modified, and a client comparing dates (curl
            # checks If-Modified-Since itself) would miss it. Only the ETag holds.
            del fresh.headers["last-modified"]
        if self.is_not_modified(fresh.headers, Headers(scope=scope)):
            return self._decorate(NotModifiedResponse(fresh.headers), Path(response.path), scope)
        headers = {k: v for k, v in fresh.headers.items() if k in ("etag", "last-modified")}
        headers["content-type"] = fresh.headers["content-type"]
        return self._decorate(Response(data, headers=headers), Path(response.path), scope)

    @staticmethod
    def _decorate(response: Response, path: Path, scope: Scope) -> Response:
        """Set the media type from :data:`MEDIA_TYPES` and ``Cache-Control``.

        A browser asking for the feed (it accepts ``text/html`` but not Atom)
        gets it as ``application/xml``: Chromium shows ``application/atom+xml``
        as plain text and would never apply ``feed.xsl``. Feed readers get
        ``application/atom+xml``; ``Vary: Accept`` keeps caches apart.
        """
        suffix = path.suffix.lower()
        media_type = MEDIA_TYPES.get(suffix)
        if suffix == ".atom":
            response.headers["vary"] = "Accept"
            if _browser(Headers(scope=scope).get("accept", "")):
                media_type = MEDIA_TYPES[".xml"]
        if media_type is not None and response.status_code != 304:
            response.headers["content-type"] = media_type
        response.headers["cache-control"] = CACHE_CONTROL
        return response


def _browser(accept: str) -> bool:
    """Whether an ``Accept`` header is a browser's (HTML wanted, Atom not named)."""
    accept = accept.lower()
    return "text/html" in accept and "application/atom+xml" not in accept


def _snapshot(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The bytes and ``fstat`` of one version of ``path``, or ``None``."""
    try:
        with path.open("rb") as f:
            stat_result = os.fstat(f.fileno())
            if stat_result.st_size > MAX_SNAPSHOT:
                return None
            return f.read(), stat_result
    except OSError:
        return None


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


def make_app(directory: Path) -> Starlette:
    """The ASGI application serving ``directory`` (``/`` is its ``index.html``)."""
    files = FeedFiles(directory=directory, html=True, check_dir=False)
    return Starlette(
        routes=[Mount("/", app=files)],
        middleware=[Middleware(GZipMiddleware, minimum_size=512)],
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

    def __init__(self, directory: Path, serve: str) -> None:
        self.directory = directory
        self.serve = serve
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> None:
        """Bind, start uvicorn, and wait until it accepts connections."""
        self._sock = bind(self.serve)
        self.url = url_of(self._sock)
        _raise_fd_limit()
        debug = logging.getLogger().isEnabledFor(logging.DEBUG)
        config = uvicorn.Config(
            make_app(self.directory),
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

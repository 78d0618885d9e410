"""The daemon's control channel: a pid file that is also a lock, and a Unix socket.

Both live in the state directory, which belongs to one output feed:

``daemon.pid``
    Holds the daemon's pid and is kept ``flock``-ed for the daemon's lifetime.
    The kernel drops the lock when the process dies, however it dies, so a
    stale file left by ``kill -9`` never blocks a new daemon: a file that can
    be locked belongs to nobody.
``control.sock``
    A Unix stream socket (mode 0600: only the daemon's user can use it). A
    client sends one JSON line, ``{"cmd": "rebuild"}``, ``{"cmd": "status"}``
    or ``{"cmd": "ping"}``, and reads one JSON line back: ``{"ok": true,
    "result": {...}}`` (``"status"`` for a status) or ``{"ok": false,
    "error": "..."}``. Only the lock holder ever binds it, so
    the daemon may remove a stale socket file before binding; a client that
    finds the file but cannot connect knows no daemon is running.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import json as _json
import logging
import os
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from feeder.config import Settings
from feeder.errors import AlreadyRunning, NotRunning
from feeder.fsutil import make_dirs
from feeder.model import plural

log = logging.getLogger(__name__)

PID_FILE = "daemon.pid"
SOCKET_FILE = "control.sock"
#: Unix socket paths are limited to 107 bytes; longer ones go through /proc.
_MAX_SUN_PATH = 100
_MAX_REQUEST = 4096

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class PidLock:
    """The exclusive ``daemon.pid`` of a state directory, held while the daemon runs."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / PID_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Lock the pid file and write our pid, or raise :class:`AlreadyRunning`."""
        make_dirs(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            other = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise AlreadyRunning(
                    f"a feeder daemon (pid {other}) is already running on {self.path.parent}"
                ) from e
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the pid file and drop the lock (unlink first: nobody may lock a doomed file)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def read_pid(state_dir: Path) -> int | None:
    """The pid of the daemon running on ``state_dir``, or ``None`` if the file is unlocked."""
    path = state_dir / PID_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else None
        return None  # we could lock it: stale
    finally:
        os.close(fd)


@contextlib.contextmanager
def _short_path(path: Path) -> Iterator[str]:
    """A path to ``path`` short enough for ``sockaddr_un`` (via ``/proc/self/fd``)."""
    if len(os.fsencode(path)) <= _MAX_SUN_PATH:
        yield str(path)
        return
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{dir_fd}/{path.name}"
    finally:
        os.close(dir_fd)


class _RequestHandler(socketserver.StreamRequestHandler):
    server: _ControlServer

    def handle(self) -> None:
        line = self.rfile.readline(_MAX_REQUEST)
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("request must be a JSON object")
            reply = self.server.handler(request)
        except ValueError as e:
            reply = {"ok": False, "error": f"bad request: {e}"}
        with contextlib.suppress(OSError):
            self.wfile.write(json.dumps(reply).encode() + b"\n")


class _ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: str, handler: Handler) -> None:
        self.handler = handler
        super().__init__(address, _RequestHandler)


class ControlServer:
    """Serves ``control.sock`` in a thread; each request runs ``handler`` in its own thread."""

    def __init__(self, state_dir: Path, handler: Handler) -> None:
        self.path = state_dir / SOCKET_FILE
        self._handler = handler
        self._server: _ControlServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the socket (replacing a stale file: the caller holds the pid lock)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with _short_path(self.path) as address:
            old_umask = os.umask(0o177)
            try:
                self._server = _ControlServer(address, self._handler)
            finally:
                os.umask(old_umask)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="feeder-control", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and remove the socket file."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def request(state_dir: Path, payload: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Send one request to the daemon of ``state_dir`` and return its reply.

    Raises :class:`NotRunning` when no daemon listens and ``TimeoutError``
    when the reply does not come within ``timeout`` seconds.
    """
    path = state_dir / SOCKET_FILE
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(min(timeout, 5.0))
        try:
            with _short_path(path) as address:
                sock.connect(address)
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as e:
            raise NotRunning(f"no feeder daemon is running on {state_dir}") from e
        sock.settimeout(timeout)
        sock.sendall(json.dumps(payload).encode() + b"\n")
        with sock.makefile("rb") as f:
            line = f.readline()
    finally:
        sock.close()
    if not line:
        raise NotRunning(f"the feeder daemon on {state_dir} closed the connection (stopping?)")
    reply = json.loads(line)
    if not isinstance(reply, dict):
        raise ValueError("malformed reply from the daemon")
    return reply


def summary(result: dict[str, Any]) -> str:
    """A one-line description of a build result (as :meth:`BuildResult.to_json` gives it)."""
    state = "updated" if result.get("changed") else "unchanged"
    skipped = len(result.get("skipped") or ())
    entries = plural(int(result.get("entries") or 0), "entry", "entries")
    seeds = plural(int(result.get("seeds") or 0), "seed")
    return (
        f"{result.get('output')}: {state}, {entries} from {seeds} "
        f"({result.get('parsed')} parsed, {result.get('rendered')} rendered, {skipped} skipped) "
        f"in {float(result.get('duration_s') or 0):.2f} s"
    )


def trigger(settings: Settings, *, timeout: float = 300.0, json: bool = False) -> int:
    """Ask the running daemon to rebuild now and wait for it; return the exit code.

    Prints a one-line summary on stderr (and the result as JSON on stdout
    with ``json=True``). Exit 1, with a clear message, when no daemon runs on
    the settings' state directory or the rebuild failed.
    """
    state_dir = settings.resolved_state_dir
    try:
        reply = request(state_dir, {"cmd": "rebuild"}, timeout=timeout)
    except NotRunning as e:
        print(f"feeder: {e}; start one with `feeder run`", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"feeder: no answer from the daemon within {timeout:g} s", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"feeder: cannot talk to the daemon on {state_dir}: {e}", file=sys.stderr)
        return 1
    if not reply.get("ok"):
        print(f"feeder: the daemon's rebuild failed: {reply.get('error')}", file=sys.stderr)
        return 1
    result = reply.get("result") or {}
    print(f"feeder: rebuilt {summary(result)}", file=sys.stderr)
    if json:
        print(_json.dumps(result, ensure_ascii=False))
    return 0


def status(settings: Settings, *, json: bool = False) -> int:
    """Print what the running daemon says of itself (``feeder status``); exit 1 without one."""
    state_dir = settings.resolved_state_dir
    try:
        reply = request(state_dir, {"cmd": "status"}, timeout=10.0)
    except NotRunning as e:
        print(f"feeder: {e}; start one with `feeder run`", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:  # TimeoutError included
        print(f"feeder: cannot talk to the daemon on {state_dir}: {e}", file=sys.stderr)
        return 1
    info = reply.get("status")
    if not reply.get("ok") or not isinstance(info, dict):
        print(f"feeder: the daemon did not answer: {reply.get('error')}", file=sys.stderr)
        return 1
    if json:
        print(_json.dumps(info, ensure_ascii=False))
    else:
        print(describe_status(info))
    return 0


def describe_status(info: dict[str, Any]) -> str:
    """``feeder status`` as lines of text."""
    last = info.get("last_poll") or {}
    lines = [
        f"daemon:     pid {info.get('pid')}, up {float(info.get('uptime_s') or 0):.0f} s, "
        f"healthy: {'yes' if info.get('healthy') else 'no'}",
        f"seeds:      {info.get('seeds_dir')} ({plural(int(info.get('seeds') or 0), 'seed')}, "
        f"{int(info.get('skipped') or 0)} skipped)",
        f"state:      {info.get('state_dir')}",
        f"serving:    {info.get('serving') or '(not serving)'}",
    ]
    if last:
        outcome = last.get("error") or last.get("result")
        lines.append(
            f"last poll:  {last.get('time')} ({last.get('cause')}, "
            f"{float(last.get('duration_s') or 0):.2f} s): {outcome}"
        )
    else:
        lines.append("last poll:  none yet")
    if info.get("consecutive_failures"):
        lines.append(f"failures:   {info['consecutive_failures']} in a row")
    lines.append(f"next poll:  {info.get('next_poll') or '(none scheduled)'}")
    for feed in info.get("feeds") or ():
        entries = plural(int(feed.get("entries") or 0), "entry", "entries")
        lines.append(f"feed:       {feed.get('name')}: {entries} ({feed.get('output')})")
    return "\n".join(lines)

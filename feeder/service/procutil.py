"""Process plumbing of the daemon: signals as messages, and systemd readiness.

Kept apart from :mod:`feeder.service.daemon` so the daemon reads as policy (what to do
on a signal) rather than mechanism (how a signal reaches the main loop).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Collection
from typing import Any


def sd_notify(message: str) -> None:
    """Tell systemd (``Type=notify``) about our state; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock,
    ):
        sock.sendto(message.encode(), address)


class SignalInbox:
    """Signals delivered as bytes on a socket pair (``signal.set_wakeup_fd``).

    The Python-level handlers do nothing; the interpreter's C handler writes
    the signal number to the socket, and the main loop reads it when it is
    ready. So no handler ever runs inside a lock, worker threads are never
    interrupted, and child processes inherit no blocked signal mask.
    Outside the main thread signals are left alone and :meth:`wait` only sleeps.
    """

    def __init__(self, signals: Collection[int]) -> None:
        self._signals = frozenset(signals)
        self._reader, self._writer = socket.socketpair()
        self._old: dict[int, Any] = {}
        self._old_fd = -1
        self.active = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> SignalInbox:
        if self.active:
            for sock in (self._reader, self._writer):
                sock.setblocking(False)
            self._old_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
            for sig in self._signals:
                self._old[sig] = signal.signal(sig, _ignore)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            for sig, handler in self._old.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(self._old_fd)
        self._reader.close()
        self._writer.close()

    def wait(self, timeout: float) -> list[int]:
        """The signals received, waiting up to ``timeout`` seconds for one."""
        if not self.active:
            time.sleep(timeout)
            return []
        ready, _, _ = select.select([self._reader], [], [], timeout)
        if not ready:
            return []
        try:
            return [n for n in self._reader.recv(64) if n in self._signals]
        except BlockingIOError:
            return []


def _ignore(signum: int, frame: object) -> None:
    """Python-level handler: the signal number already went to the wake-up socket."""

"""The worker processes of one build, shared by its parse and render stages.

A cold build of many seeds parses them in worker processes; the same workers
then render the entries that reach a feed, so both cores serve both stages and
the processes start once. They come from a ``forkserver``: the daemon is
multi-threaded, and ``fork()`` from a threaded process can inherit a lock held
by another thread. The server imports the parsing and rendering stacks once,
so every worker starts with them loaded; a build that expects to need the
workers calls :meth:`Workers.prestart` early, and the server does those
imports while the build scans the seed directory.

No worker outlives the command that started it, even one killed with SIGKILL.
The fork server already exits when the pipe it calls "alive" reaches EOF, that
is when every process holding its write end is gone; but multiprocessing hands
that end to every worker too, so the workers kept the server running, and the
server (and the resource tracker, whose pipe they also hold) kept them. Each
worker therefore starts with :func:`_worker_init`: it closes its copy of that
pipe, and asks the kernel to kill it when the fork server dies
(``PR_SET_PDEATHSIG``). When the command dies, by any signal, its end of the
pipe closes, the server exits, the kernel kills the workers, and the resource
tracker, its pipe closed, exits last. Without ``prctl`` (not Linux) a thread of
each worker watches its parent instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # multiprocessing is imported only when a pool starts (~10 ms)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

#: Modules the forkserver imports before it forks any worker: parsing, then rendering.
PRELOAD = [
    "feeder.build.workers",  # first: the server's pid is recorded in _LOADED_IN
    "ctypes",  # prctl, in each worker's initializer
    "feeder.build.ingest",
    "feeder.build.learning",
    "feeder.seeds.parse",
    "yaml",
    "feeder.seeds.normalize",
    "feeder.content.entry",
    "feeder.content.render",
    "feeder.content.clean",
]

#: The process that imported this module. The fork server imports it (see
#: :data:`PRELOAD`) and its workers inherit the value: the parent they must not
#: outlive, known even when that parent is already gone.
_LOADED_IN = os.getpid()
#: ``prctl(2)`` option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: How often a worker without ``prctl`` checks that its parent is alive (seconds).
WATCH_PARENT_S = 1.0


class Workers:
    """A lazily started process pool; use as a context manager around a build."""

    def __init__(self) -> None:
        self.size = min(os.cpu_count() or 1, 4)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def parallel(self) -> bool:
        """Whether this machine has the cores for workers to pay off."""
        return self.size >= 2

    @property
    def started(self) -> bool:
        return self._pool is not None

    def prestart(self) -> None:
        """Start the fork server now (it imports :data:`PRELOAD` meanwhile), if it pays off."""
        if self.parallel:
            from multiprocessing import forkserver

            self._context()
            forkserver.ensure_running()

    def pool(self) -> ProcessPoolExecutor:
        """The pool, started on first use."""
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                max_workers=self.size, mp_context=self._context(), initializer=_worker_init
            )
        return self._pool

    @staticmethod
    def _context() -> BaseContext:
        import multiprocessing

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _worker_init() -> None:
    """The initializer of every worker: die with the fork server, and do not keep it running."""
    # The fork server imported this module: the value is its pid. Imported here
    # (a preload that failed), the parent is whoever it is now.
    parent = _LOADED_IN if os.getpid() != _LOADED_IN else os.getppid()
    if not _set_parent_death_signal(signal.SIGKILL):
        _watch_parent(parent)
    if os.getppid() != parent:  # the server died before the signal was set
        os._exit(1)
    _release_fork_server()


def _set_parent_death_signal(signum: int) -> bool:
    """Have the kernel send ``signum`` to this process when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ok: bool = libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc or no prctl
        return False
    return ok


def _watch_parent(parent: int) -> None:
    """Exit once the parent ``parent`` is gone (the process is reparented)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_PARENT_S)
        os._exit(1)

    threading.Thread(target=watch, name="feeder-watch-parent", daemon=True).start()


def _release_fork_server() -> None:
    """Close this process's copy of the write end of the fork server's "alive" pipe.

    multiprocessing gives it to every process the server starts, so that the
    server stays up while any of them may ask it for a process of its own;
    workers never do, and with every copy closed the server exits as soon as
    the command that started it does.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
        with contextlib.suppress(OSError):
            os.close(fd)

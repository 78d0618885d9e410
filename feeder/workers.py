"""The worker processes of one build, shared by its parse and render stages.

A cold build of many seeds parses them in worker processes; the same workers
then render the entries that reach a feed, so both cores serve both stages and
the processes start once. They come from a ``forkserver``: the daemon is
multi-threaded, and ``fork()`` from a threaded process can inherit a lock held
by another thread. The server imports the parsing and rendering stacks once,
so every worker starts with them loaded; a build that expects to need the
workers calls :meth:`Workers.prestart` early, and the server does those
imports while the build scans the seed directory.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # multiprocessing is imported only when a pool starts (~10 ms)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

#: Modules the forkserver imports before it forks any worker: parsing, then rendering.
PRELOAD = [
    "feeder.ingest",
    "feeder.parse",
    "yaml",
    "feeder.normalize",
    "feeder.content",
    "feeder.render",
    "feeder.clean",
]


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

            self._pool = ProcessPoolExecutor(max_workers=self.size, mp_context=self._context())
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

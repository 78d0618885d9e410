"""The worker processes of one build, shared by its parse and render stages.

A cold build of many seeds parses them in worker processes; the same workers
then render the entries that reach a feed, so both cores serve both stages.
How the workers start depends on the process that starts them:

- **Forked from it** (``fork``), when it runs one thread, as ``feeder build``
  does. The workers start at once with everything it has imported: the build
  imports the parsing stack and forks them as soon as it knows it needs them
  (:meth:`Workers.prestart`), then imports the rendering stack itself while
  they parse (:meth:`Workers.prepare_render`), and forks the workers that
  render once it has (:meth:`Workers.pool` with ``render``). No core waits
  for a worker's imports, and each stack is imported once.
- **From a fork server** (``forkserver``) otherwise: the daemon is
  multi-threaded, and ``fork()`` from a threaded process can inherit a lock
  held by another thread. The server imports both stacks once (:data:`PRELOAD`)
  and forks every worker from itself; :meth:`Workers.prestart` starts it early,
  so it does those imports while the build scans the seed directory.

No worker outlives the command that started it, even one killed with SIGKILL.
Each worker starts with :func:`_worker_init`: it asks the kernel to kill it
when its parent (the command, or the fork server) dies (``PR_SET_PDEATHSIG``).
The fork server already exits when the pipe it calls "alive" reaches EOF, that
is when every process holding its write end is gone; but multiprocessing hands
that end to every worker too, so the workers kept the server running, and the
server (and the resource tracker, whose pipe they also hold) kept them. A
worker of the server therefore also closes its copy of that pipe. When the
command dies, by any signal, its end of the pipe closes, the server exits, the
kernel kills the workers, and the resource tracker, its pipe closed, exits
last. Without ``prctl`` (not Linux) a thread of each worker watches its
parent instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Literal

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # multiprocessing is imported only when a pool starts (~10 ms)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

#: How workers start: forked from the command, or from a fork server (see the module doc).
StartMethod = Literal["fork", "forkserver"]
#: What a worker imports to parse seeds (and fingerprint them for learning).
PARSE_STACK = (
    "ctypes",  # prctl, in each worker's initializer
    "feeder.build.ingest",
    "feeder.build.learning",
    "feeder.seeds.parse",
    "yaml",
    "feeder.seeds.normalize",
)
#: What a worker imports to render entries.
RENDER_STACK = ("feeder.content.entry", "feeder.content.render", "feeder.content.clean")
#: Modules the fork server imports before it forks any worker: parsing, then rendering.
PRELOAD = [
    "feeder.build.workers",  # first: the server's pid is recorded in _LOADED_IN
    *PARSE_STACK,
    *RENDER_STACK,
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
    """A lazily started process pool; use as a context manager around a build.

    ``method`` is how its workers start (``"fork"`` or ``"forkserver"``, see
    the module doc); by default, forked where the process runs one thread
    when the pool starts.
    """

    def __init__(self, method: StartMethod | None = None) -> None:
        self.size = min(os.cpu_count() or 1, 4)
        self._method = method
        self._pool: ProcessPoolExecutor | None = None
        #: Whether the workers of the current pool have the render stack (a fork
        #: server's always do; forked ones when this process had it).
        self._can_render = False
        self._importing: threading.Thread | None = None  # see prepare_render

    @property
    def parallel(self) -> bool:
        """Whether this machine has the cores for workers to pay off."""
        return self.size >= 2

    @property
    def started(self) -> bool:
        return self._pool is not None

    def _start_method(self) -> StartMethod:
        if self._method is not None:
            return self._method
        import multiprocessing

        forkable = "fork" in multiprocessing.get_all_start_methods()
        return "fork" if forkable and threading.active_count() == 1 else "forkserver"

    def prestart(self) -> None:
        """Start the workers now, if they pay off: the build will need them.

        Forked: the parsing stack is imported here, then the workers are forked
        at once. From the fork server: the server starts, and imports
        :data:`PRELOAD` while the build goes on.
        """
        if not self.parallel or self._pool is not None:
            return
        if self._start_method() == "fork":
            _import(PARSE_STACK)
            self.pool().submit(int)  # forks them all, from this thread
        else:
            from multiprocessing import forkserver

            self._context("forkserver")
            forkserver.ensure_running()

    def prepare_render(self) -> None:
        """While the workers parse: import the render stack, if a pool that renders will fork.

        The imports run in a thread of their own (~150-250 ms), so that this
        process goes on taking the workers' results meanwhile; a pool forked
        afterwards (:meth:`pool`) waits for them, and starts with the stack.
        Workers that come from the fork server have it already.
        """
        if self._pool is not None and not self._can_render and self._importing is None:
            self._importing = threading.Thread(
                target=_import_quietly, args=(RENDER_STACK,), name="feeder-import", daemon=True
            )
            self._importing.start()

    def wait_imports(self) -> None:
        """Wait for the imports of :meth:`prepare_render`.

        A fork needs this process alone, and this process must not import the
        same modules in two threads at once (two imports that need each
        other's module would deadlock): the parse calls this once it is done.
        """
        if self._importing is not None:
            self._importing.join()
            self._importing = None

    def pool(self, *, render: bool = False) -> ProcessPoolExecutor:
        """The pool, started on first use.

        ``render``: the tasks render entries. Workers forked before this
        process had the render stack would each import it with their first
        task; they are replaced by workers forked now, with it (when this
        process runs one thread once they are gone).
        """
        if render and self._pool is not None and not self._can_render:
            self.close()
        if self._pool is None:
            self.wait_imports()
            from concurrent.futures import ProcessPoolExecutor

            method = self._start_method()
            if method == "fork" and render:
                _import(RENDER_STACK)
            self._can_render = method == "forkserver" or all(
                name in sys.modules for name in RENDER_STACK
            )
            self._pool = ProcessPoolExecutor(
                max_workers=self.size, mp_context=self._context(method), initializer=_worker_init
            )
        return self._pool

    @staticmethod
    def _context(method: StartMethod) -> BaseContext:
        import multiprocessing

        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        return ctx

    def close(self) -> None:
        self.wait_imports()
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


def _import(names: Sequence[str]) -> None:
    """Import the modules ``names`` in this process (a worker forked afterwards has them)."""
    import importlib

    for name in names:
        importlib.import_module(name)


def _import_quietly(names: Sequence[str]) -> None:
    """:func:`_import` in a thread: a module that fails to import fails again where it is used.

    The build imports each of these modules itself before it uses it; that
    import raises the same error, in the build's own thread, and is reported there.
    """
    try:
        _import(names)
    except Exception:  # raised again by the build's own import
        log.debug("importing %s ahead failed", names, exc_info=True)


def _worker_init() -> None:
    """The initializer of every worker: die with its parent, and do not keep a fork server up."""
    # The process that imported this module: the fork server, or the command
    # that forked this worker. Imported here (a preload that failed), the
    # parent is whoever it is now.
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

"""The inter-process build lock.

``feeder build`` run by hand, the daemon's polls and ``feeder trigger`` all
build through :func:`build_lock`, so two builds never interleave their
writes. The lock is an ``fcntl`` lock held by an open file: the kernel
releases it when its process dies, so a lock left by a killed process is
taken over at once, never stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import LockTimeout, StateError

LOCK_NAME = "build.lock"


@contextmanager
def build_lock(state_dir: Path, *, timeout: float = 600.0) -> Iterator[None]:
    """Hold the build lock of ``state_dir`` for the duration of the block."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StateError(state_dir, f"cannot create the state directory: {e.strerror or e}") from e
    lock = FileLock(str(state_dir / LOCK_NAME), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as e:
        raise LockTimeout(
            f"{state_dir / LOCK_NAME}: another feeder build held the lock for {timeout:.0f} s"
        ) from e
    except OSError as e:  # a read-only or full state directory, a file in the way
        raise StateError(
            state_dir / LOCK_NAME, f"cannot take the build lock: {e.strerror or e}"
        ) from e
    try:
        yield
    finally:
        lock.release()

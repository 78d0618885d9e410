"""The inter-process locks: the build lock of a state, the claim of an output.

``feeder build`` run by hand, the daemon's polls and ``feeder trigger`` all
build through :func:`build_lock`, so two builds never interleave their
writes. The lock is an ``fcntl`` lock held by an open file: the kernel
releases it when its process dies, so a lock left by a killed process is
taken over at once, never stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feeder.errors import LockTimeout, OutputClaimed, StateError
from feeder.fsutil import make_dirs

LOCK_NAME = "build.lock"


@contextmanager
def build_lock(state_dir: Path, *, timeout: float = 600.0) -> Iterator[None]:
    """Hold the build lock of ``state_dir`` for the duration of the block."""
    # Imported here, by the builds that take the lock: filelock costs 15-30 ms
    # of imports that the other commands (and the output claim) never need.
    from filelock import FileLock, Timeout

    try:
        make_dirs(state_dir)
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


#: The claim file in the output directory (hidden: the server never serves it).
CLAIM_NAME = ".feeder-output.lock"


class OutputClaim:
    """One output directory written from one state directory at a time.

    Two daemons (or a daemon and ``feeder build``) with different state
    directories on one output would overwrite each other's feeds; their build
    locks, one per state, cannot see each other. The claim is an ``fcntl``
    lock on :data:`CLAIM_NAME` in the output directory, holding the state
    directory of its holder (and a daemon's pid). A holder with the *same* state directory
    is no conflict — the build lock orders their builds — so ``feeder build``
    beside its own daemon goes ahead. The kernel drops the lock with its
    process. Where the claim file cannot be created at all (a read-only
    output), there is nothing to protect and the build reports its own error.
    """

    def __init__(self, output_dir: Path, state_dir: Path, *, role: str) -> None:
        self.path = output_dir / CLAIM_NAME
        self.state_dir = state_dir.resolve()
        self.role = role
        self._fd: int | None = None

    def acquire(self, *, wait_for_same_state: bool = False) -> None:
        """Claim the output or raise :class:`OutputClaimed`; see the class doc.

        ``wait_for_same_state`` (the daemon) waits for a holder with the same
        state directory to finish instead of going ahead without the claim.
        """
        try:
            make_dirs(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            if str(self.state_dir) != holder.get("state_dir"):
                os.close(fd)
                who = f"{holder.get('role', 'process')}"
                if "pid" in holder:
                    who += f" (pid {holder['pid']})"
                raise OutputClaimed(
                    f"{self.path.parent}: already written by a feeder {who} with the state "
                    f"directory {holder.get('state_dir', '?')}; one output, one state"
                ) from None
            if not wait_for_same_state:
                os.close(fd)
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
        # A build's record is the same every time (no pid): a build that
        # changes nothing does not even touch the claim file.
        record: dict[str, Any] = {"role": self.role, "state_dir": str(self.state_dir)}
        if self.role == "daemon":
            record["pid"] = os.getpid()
        data = (json.dumps(record) + "\n").encode()
        if os.pread(fd, len(data) + 1, 0) != data:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        self._fd = fd

    def release(self) -> None:
        """Give the claim up (the file stays: unlinking would race a new holder)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OutputClaim:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, Any]:
    """The record the claim's holder wrote (it may be a moment late: read a few times)."""
    for _ in range(20):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(os.pread(fd, 4096, 0) or b"null")
            if isinstance(data, dict):
                return data
        time.sleep(0.01)
    return {}

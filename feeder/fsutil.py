"""Atomic writes of published files.

A reader of the output directory (a feed reader, nginx, our own server) only
ever sees the previous or the next complete file: data goes to a temporary
file in the same directory, is flushed to disk, and is renamed over the
target. Identical bytes are not rewritten, so ``Last-Modified`` and ``ETag``
stay stable and conditional GETs keep answering ``304``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically; return False when nothing changed.

    Raises :class:`OSError` (the caller wraps it) and leaves the previous file
    untouched and no temporary file behind when anything fails.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def file_signature(path: Path) -> str:
    """``size:mtime_ns`` of ``path`` ("" when it is missing): did someone else touch it?"""
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def remove_stale_temps(directory: Path) -> int:
    """Delete temporary files left in ``directory`` by a writer that was killed.

    Only names :func:`atomic_write` makes (``.NAME.RANDOM.tmp``) are touched;
    call it while holding the build lock, when no other write can be in flight.
    """
    removed = 0
    try:
        candidates = list(directory.glob(".*.tmp"))
    except OSError:
        return 0
    for path in candidates:
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed

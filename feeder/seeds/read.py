"""Reading one seed file: its bytes, safely, into a :class:`~feeder.model.Document`.

A seed is read with raw reads of at most its size plus one byte, refusing
what is not a regular file, what is too large and what changes while it
is read (a crawler still writing it: retried at the next build).

Many seeds read in a row are announced to the kernel first (:func:`prefetch`):
a seed is a few KB, too small for the kernel's own read-ahead, so seeds that
are not in the page cache would otherwise be read from the disk one at a
time, each waiting for the one before.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from feeder.errors import SeedError
from feeder.model import Document, SeedFile

#: Seeds larger than this are skipped unread (a scraped article is a few hundred KB at most).
MAX_SEED_BYTES = 64 * 1024 * 1024
#: The bytes of each file :func:`prefetch` asks for: a whole seed, as seeds go. A
#: larger file's rest is read ahead by the kernel itself as it is read in order,
#: and a chunk of 128 large files asks for 128 MiB at most.
PREFETCH_BYTES = 1024 * 1024
#: How a seed is opened: read-only, and non-blocking, so that a FIFO swapped in
#: for a seed cannot hang the build.
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


def prefetch(paths: Iterable[str | Path]) -> None:
    """Ask the kernel to start reading the files at ``paths`` now, without waiting for the reads.

    ``POSIX_FADV_WILLNEED`` queues the reads of files that are not in the
    page cache, all of them together, while the caller reads the first; on
    a disk or a network file system that serves many requests at a time,
    the files are then read in a fraction of the time one-by-one reads take
    (10 000 seeds of 7 KB after the cache was dropped: 1.7 s one by one,
    0.6 s announced 64 at a time). A cached file costs an ``open``, the
    advice and a ``close`` (~4 µs). The first :data:`PREFETCH_BYTES` of each
    file are asked for. It is only advice: a path that cannot be
    opened, or a file system that does not take it, is left for the read
    itself to report, and nothing is waited for.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:  # Windows, macOS
        return
    for path in paths:
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError:
            continue
        try:
            advise(fd, 0, PREFETCH_BYTES, os.POSIX_FADV_WILLNEED)
        except OSError:  # a FIFO (ESPIPE), a file system without it
            pass
        finally:
            os.close(fd)


def read_document(seed: SeedFile) -> Document:
    """Read and parse one seed, refusing files that change while being read."""
    return read_path(seed.rel, seed.path)


def read_path(rel: str, path: str | Path) -> Document:
    """The seed at ``path`` (``rel`` in messages), parsed; :class:`SeedError` when it cannot be."""
    data = read_bytes(rel, path)
    from feeder.seeds.parse import parse_bytes

    return parse_bytes(data, rel)


def read_body(rel: str, path: str | Path) -> tuple[str, str]:
    """(digest, Markdown body) of the seed at ``path``, its front matter split off unread.

    What learning a site's chrome needs of a seed (the body's lines, and the
    digest that says whether it still is the version the state has): the
    same read and decoding as :func:`read_path`, without the front matter's
    parse (~20 % of reading a seed on average; most of it for a seed whose
    front matter needs YAML).
    """
    data = read_bytes(rel, path)
    from feeder.seeds.parse import body_of

    return body_of(data, rel)


def read_bytes(rel: str, path: str | Path) -> bytes:
    """The bytes of the seed at ``path``, read safely; :class:`SeedError` when they cannot be."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError as e:
        raise SeedError(rel, "file vanished before it could be read", transient=True) from e
    except IsADirectoryError as e:
        raise SeedError(rel, "is a directory") from e
    except OSError as e:
        raise SeedError(rel, f"cannot read: {e.strerror or e}", transient=True) from e
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            kind = "is a directory" if stat.S_ISDIR(before.st_mode) else "not a regular file"
            raise SeedError(rel, kind)
        if before.st_size > MAX_SEED_BYTES:
            raise SeedError(rel, f"file too large ({before.st_size >> 20} MiB)")
        # One byte more than the size says: a file still growing is caught,
        # and no buffer larger than the file is ever allocated.
        data = _read_upto(fd, before.st_size + 1)
        after = os.fstat(fd)
    except OSError as e:
        raise SeedError(rel, f"cannot read: {e.strerror or e}", transient=True) from e
    finally:
        os.close(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise SeedError(rel, "file changed while being read", transient=True)
    return data


def _read_upto(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``fd``, fewer at the end of the file (raw reads, no buffer).

    Reads go on until ``size`` or the end: a network file system may return
    fewer bytes than asked before the end.
    """
    parts: list[bytes] = []
    got = 0
    while got < size:
        more = os.read(fd, size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return parts[0] if len(parts) == 1 else b"".join(parts)

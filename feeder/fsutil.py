"""Atomic writes of published files.

A reader of the output directory (a feed reader, nginx, our own server) only
ever sees the previous or the next complete file: data goes to a temporary
file in the same directory, is flushed to disk, and is renamed over the
target. A build writes all its files through one :class:`Publication`: staged
first, renamed into place only once every one of them was written.
Identical bytes are not rewritten, so ``Last-Modified`` and ``ETag``
stay stable and conditional GETs keep answering ``304``.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path


def make_dirs(directory: Path) -> None:
    """``mkdir -p``, saying *Not a directory* when a file stands in the way.

    ``Path.mkdir(exist_ok=True)`` reports a regular file at ``directory``
    or above it as ``File exists``, which hides the reason.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        blocker = next(
            (p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()),
            directory,
        )
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(blocker)) from e


def atomic_write(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically; return False when nothing changed.

    Raises :class:`OSError` (the caller wraps it) and leaves the previous file
    untouched and no temporary file behind when anything fails.
    """
    with Publication() as pub:
        wrote = pub.stage(path, data)
        pub.publish()
        pub.finish()
    return wrote


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


def _temps(directory: Path) -> list[Path]:
    """The temporary files :func:`atomic_write` makes (``.NAME.RANDOM.tmp``) in ``directory``."""
    try:
        return list(directory.glob(".*.tmp"))
    except OSError:
        return []


def has_stale_temps(directory: Path) -> bool:
    """Whether ``directory`` holds temporary files :func:`atomic_write` makes.

    Left by a killed writer, or being written by a build now: either way a
    build must take the lock to tell (see :func:`remove_stale_temps`).
    """
    return bool(_temps(directory))


def remove_stale_temps(directory: Path) -> int:
    """Delete temporary files left in ``directory`` by a writer that was killed.

    Only names :func:`atomic_write` makes (``.NAME.RANDOM.tmp``) are touched;
    call it while holding the build lock, when no other write can be in flight.
    """
    removed = 0
    candidates = _temps(directory)
    for path in candidates:
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed


class Publication:
    """The published files of one build: staged, then put in place all or none.

    :meth:`stage` writes each file's new bytes to a temporary file beside its
    final path (flushed to disk); nothing a reader sees changes until
    :meth:`publish` renames them all. Until :meth:`finish`, the previous
    version of every replaced file is kept (a hard link), so :meth:`revert`
    puts every published file back as it was — when a rename fails midway,
    or when what must follow the publication (the state's commit) fails. A
    build that fails before publishing calls :meth:`discard` (or leaves the
    ``with`` block with an exception) and has changed no published file.

    Files are renamed by ``level``, lowest first — what others link to (the
    stylesheet, archive pages) before the feeds, the feeds before the lists
    of feeds — so a published link never points at a file that is not there
    yet. :meth:`retire` names files to delete once the publication is final
    (feeds no longer configured).
    """

    #: Files nothing else needs: stylesheets, archive pages.
    LEAF = 0
    #: Subscription documents (they link to archives and to the stylesheet).
    FEED = 1
    #: Pages that list feeds (``index.html``, ``feeds.opml``).
    LIST = 2

    def __init__(self) -> None:
        self._staged: list[tuple[int, Path, str]] = []
        self._retired: list[Path] = []
        #: (final path, its previous version) of every file renamed so far; see
        #: :func:`_keep_previous` for the version's values.
        self._published: list[tuple[Path, str | None]] = []

    def __enter__(self) -> Publication:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.revert()
        self.discard()

    def stage(self, path: Path, data: bytes, *, level: int = FEED) -> bool:
        """Stage ``data`` as the next ``path``; False when the file already holds it.

        Raises :class:`OSError` (the caller wraps it, naming the file),
        ``IsADirectoryError`` at once when ``path`` is a directory.
        """
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return False
        except OSError:
            pass
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        make_dirs(path.parent)
        tmp = _write_temp(path, data)
        self._staged.append((level, path, tmp))
        return True

    def signature(self, path: Path) -> str:
        """:func:`file_signature` that ``path`` has once published."""
        for _, final, tmp in reversed(self._staged):
            if final == path:
                return file_signature(Path(tmp))
        return file_signature(path)

    def retire(self, path: Path) -> None:
        """Delete ``path`` once the publication is final (:meth:`finish`)."""
        self._retired.append(path)

    def publish(self) -> None:
        """Rename every staged file into place, by level; on a failure, revert and raise."""
        staged = sorted(self._staged, key=lambda item: item[0])
        self._staged = []
        try:
            for i, (_, path, tmp) in enumerate(staged):
                old = _keep_previous(path, tmp + ".old.tmp")
                try:
                    os.replace(tmp, path)
                except BaseException:
                    self._staged = staged[i:]
                    if old:
                        os.unlink(old)
                    raise
                self._published.append((path, old))
        except BaseException:
            self.revert()
            raise
        for directory in sorted({path.parent for path, _ in self._published}):
            _fsync_dir(directory)

    def finish(self) -> None:
        """Make the publication final: drop the previous versions, delete retired files."""
        for _, old in self._published:
            if old:
                with contextlib.suppress(OSError):
                    os.unlink(old)
        self._published = []
        for path in self._retired:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._retired = []

    def revert(self) -> None:
        """Put every file published since the last :meth:`finish` back as it was."""
        for path, old in reversed(self._published):
            with contextlib.suppress(OSError):
                if old is None:
                    path.unlink()
                elif old:
                    os.replace(old, path)
        self._published = []
        self._retired = []

    def discard(self) -> None:
        """Remove the staged files not published: the published files stay as they are."""
        for _, _, tmp in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged = []


def _keep_previous(path: Path, name: str) -> str | None:
    """Hard-link the current ``path`` as ``name``: the version a revert restores.

    Returns ``name``; ``None`` when there is no current file (a revert
    removes the new one); ``""`` where the file system has no hard links (a
    revert then leaves the new file in place).
    """
    try:
        os.link(path, name)
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    return name


def _write_temp(path: Path, data: bytes) -> str:
    """A flushed temporary file holding ``data`` beside ``path`` (``.NAME.RANDOM.tmp``)."""
    import tempfile  # only a build that writes needs it (it imports shutil, random, ...)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp

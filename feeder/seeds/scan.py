"""Which files of the seed directory are seeds, and their stat signatures.

Seeds are regular files ending in ``.txt`` or ``.md`` (any case), anywhere
below the seed directory. Hidden files and directories, editor backups
(``~``, ``.swp``, ``#…#``), temporary files, and directories named like
seeds are not seeds. A symlink is followed only when it stays inside the
seed directory; one pointing outside is refused and reported.

The walk is what a poll that finds nothing changed costs, so it does little
more per file than ``os.scandir`` and ``stat`` do: the seeds are kept as
three columns (paths relative to the seed directory, sizes, modification
times) in the order the directories list them, with no object per seed, and
sorted only when something asks for them sorted. Each directory is listed
through a descriptor of it, so each file is looked up by its name in that
directory (``fstatat``) rather than by its whole path from the root.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
import os
import stat
import struct
from array import array
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from struct import pack

from feeder.model import SeedFile

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown")
_BACKUP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".bak", ".orig")
#: A name starting so is not a seed (hidden, an editor's lock or backup).
_NOT_SEED_START = ".#~"

#: Seeds whose sizes and mtimes :func:`scan` moves to its arrays at a time.
BATCH = 4096

#: (rel, path, size, mtime_ns) of a seed: what a changed seed is read from.
SeedStat = tuple[str, str, int, int]


def digest(
    rels: list[str] | tuple[str, ...],
    sizes: array[int],
    mtimes: array[int],
    more: list[str] | None = None,
    *,
    names: str | None = None,
) -> str:
    """A digest of seeds (and ``more`` text) that depends on their values alone.

    (``marshal``'s bytes also depend on which objects are shared or interned.)
    The counts and the integers come first, at fixed widths; then the paths
    and ``more``, which hold no NUL, each NUL-terminated. ``names`` is
    ``"\\0".join(rels)`` where the caller has it already (the walk does).
    """
    h = hashlib.sha256(len(rels).to_bytes(8, "little"))
    h.update(sizes)
    h.update(mtimes)
    if rels:
        h.update(("\0".join(rels) if names is None else names).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    h.update("\0".join([*(more or ()), ""]).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class ScanResult:
    """The seeds found and the files refused (``(rel, reason)``, sorted by ``rel``).

    :attr:`rels`, :attr:`sizes` and :attr:`mtimes` are the seeds in walk
    order (directories in name order, each one's files as it lists them);
    :attr:`runs` says where each directory's seeds start and the top-level
    group (see :mod:`feeder.build.changes`) they belong to. The sorted order is
    an array of positions made on demand (:attr:`order`, :meth:`groups`);
    an object per seed is made only when asked for: :meth:`stat`,
    :meth:`seed`, and every one at once in :attr:`stats` and :attr:`seeds`.
    """

    def __init__(
        self,
        root: str,
        rels: list[str],
        sizes: array[int],
        mtimes: array[int],
        runs: list[tuple[int, str]],
        refused: tuple[tuple[str, str], ...],
        names: str | None = None,
    ) -> None:
        self.root = root
        self.rels = rels
        self.sizes = sizes
        self.mtimes = mtimes
        self.runs = runs
        self.refused = refused
        self._names = names  # "\0".join(rels), where the walk made it, until the digest
        self._join = root if root.endswith(os.sep) else root + os.sep

    @property
    def count(self) -> int:
        """How many seeds were found."""
        return len(self.rels)

    def path(self, rel: str) -> str:
        """The path of the seed at ``rel`` (as ``os.scandir`` spells it)."""
        return self._join + rel

    def digest(self) -> str:
        """A digest of the whole walk, in walk order (refused files included).

        Equal digests mean the same seeds with the same signatures, listed in
        the same order; a directory listed in another order gives another
        digest, which costs one comparison by groups, never a missed change.
        """
        refused = [f"{rel}\0{reason}" for rel, reason in self.refused]
        names, self._names = self._names, None  # used once: not held for the walk's life
        return digest(self.rels, self.sizes, self.mtimes, refused, names=names)

    @cached_property
    def order(self) -> array[int]:
        """The seeds' positions in the columns, sorted by ``rel``."""
        return array("q", sorted(range(len(self.rels)), key=self.rels.__getitem__))

    def groups(self) -> dict[str, array[int]]:
        """group → the positions of its seeds, sorted by ``rel`` (groups with seeds only)."""
        bounds = [*(start for start, _ in self.runs[1:]), len(self.rels)]
        spans: dict[str, list[range]] = {}
        for (start, group), end in zip(self.runs, bounds, strict=True):
            if start < end:
                spans.setdefault(group, []).append(range(start, end))
        if len(spans) == 1:  # one group (a flat directory): the walk's own order
            return {group: self.order for group in spans}
        key = self.rels.__getitem__
        return {
            group: array("q", sorted(itertools.chain.from_iterable(parts), key=key))
            for group, parts in spans.items()
        }

    def stat(self, i: int) -> SeedStat:
        """The seed at position ``i`` as it is read."""
        rel = self.rels[i]
        return rel, self._join + rel, self.sizes[i], self.mtimes[i]

    @cached_property
    def stats(self) -> tuple[SeedStat, ...]:
        """Every seed, sorted by ``rel``."""
        return tuple(map(self.stat, self.order))

    @cached_property
    def seeds(self) -> tuple[SeedFile, ...]:
        return tuple(SeedFile(rel, Path(p), size, m) for rel, p, size, m in self.stats)

    def seed(self, rel: str) -> SeedFile | None:
        """The seed at ``rel``, or None if the scan did not find one there."""
        order, rels = self.order, self.rels
        k = bisect.bisect_left(order, rel, key=rels.__getitem__)  # no index of every seed
        if k == len(order) or rels[order[k]] != rel:
            return None
        i = order[k]
        return SeedFile(rel, Path(self._join + rel), self.sizes[i], self.mtimes[i])

    def by_rel(self) -> Mapping[str, SeedFile]:
        """A read-only mapping rel → seed that makes each ``SeedFile`` when asked for."""
        return _SeedLookup(self)


class _SeedLookup(Mapping[str, SeedFile]):
    def __init__(self, found: ScanResult) -> None:
        self._found = found

    def __getitem__(self, rel: str) -> SeedFile:
        seed = self._found.seed(rel)
        if seed is None:
            raise KeyError(rel)
        return seed

    def __iter__(self) -> Iterator[str]:
        rels = self._found.rels
        return (rels[i] for i in self._found.order)

    def __len__(self) -> int:
        return len(self._found.rels)


def is_seed_name(name: str) -> bool:
    """True for a file name feeder treats as a seed (:func:`scan` inlines it: keep them alike)."""
    # No backup suffix ends like a seed's, so the seed suffix alone decides.
    return (name.endswith(SUFFIXES) or name.lower().endswith(SUFFIXES)) and (
        name[0] not in _NOT_SEED_START
    )


def scan(root: Path, *, many: int = 0, on_many: Callable[[], None] | None = None) -> ScanResult:
    """Walk ``root`` (raises OSError if it cannot be listed) in a stable order.

    ``on_many()`` is called once as soon as ``many`` seeds are found, while
    the walk goes on (a cold build starts its workers then).
    """
    rels: list[str] = []
    sizes: array[int] = array("q")
    mtimes: array[int] = array("q")
    # The integers go to lists first, and to the arrays a batch at a time:
    # ``array.append`` parses its argument as a format, a list's append does
    # not, and one ``struct.pack`` of a batch costs less than the appends
    # (the walk runs ~3 % fewer instructions). The batches keep the lists short.
    new_sizes: list[int] = []
    new_mtimes: list[int] = []
    runs: list[tuple[int, str]] = []
    refused: list[tuple[str, str]] = []
    add_rel, add_size, add_mtime = rels.append, new_sizes.append, new_mtimes.append
    suffixes = SUFFIXES
    not_start = _NOT_SEED_START
    regular = stat.S_IFREG >> 12

    pending = on_many is not None and many > 0  # on_many() not called yet

    def flush() -> int:
        """Move the batch to the arrays, call ``on_many`` if due; the next count to stop at."""
        nonlocal pending
        count = len(new_sizes)
        if count:
            sizes.frombytes(pack(f"{count}q", *new_sizes))
            try:
                mtimes.frombytes(pack(f"{count}q", *new_mtimes))
            except struct.error:  # a time out of the 64-bit range: see _bounded_ns
                mtimes.frombytes(pack(f"{count}q", *map(_bounded_ns, new_mtimes)))
            new_sizes.clear()
            new_mtimes.clear()
        found = len(rels)
        if pending and found >= many:
            pending = False
            on_many()  # type: ignore[misc]
        return found + BATCH if not pending else min(found + BATCH, many)

    stop_at = flush()

    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    seen_dirs: set[tuple[int, int]] = set()
    first = True
    while stack:
        directory, prefix = stack.pop()
        start, refused_start = len(rels), len(refused)
        runs.append((start, prefix.partition("/")[0]))
        others = []  # directories and symlinks: walked in name order (see below)
        join = directory if directory.endswith(os.sep) else directory + os.sep
        dir_fd = -1
        try:
            # Listed through a descriptor: each entry's stat is an fstatat()
            # relative to it, ~10 % of a poll cheaper than a stat of the
            # whole path. (Its entries' ``path`` is then their bare name.)
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            with os.scandir(dir_fd) as listing:
                # The loop of every poll: one stat per seed, nothing per seed
                # that a bare walk does not do but keep three fields (and
                # is_seed_name inlined: a call per file is 4 % of a poll).
                for entry in listing:
                    name = entry.name
                    if (name.endswith(suffixes) or name.lower().endswith(suffixes)) and name[
                        0
                    ] not in not_start:
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError:
                            refused.append((prefix + name, "broken symlink or unreadable file"))
                            continue
                        if st.st_mode >> 12 == regular:
                            add_rel(prefix + name)
                            add_size(st.st_size)
                            add_mtime(st.st_mtime_ns)
                            if len(rels) >= stop_at:
                                stop_at = flush()
                        elif stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode):
                            others.append(entry)
                    elif name[0] != ".":
                        try:  # from the directory listing itself, no system call
                            plain = not entry.is_symlink() and not entry.is_dir(
                                follow_symlinks=False
                            )
                        except OSError:
                            plain = False
                        if not plain:
                            others.append(entry)
        except OSError as e:  # the listing itself failed: none of the directory is taken
            if dir_fd >= 0:
                os.close(dir_fd)
            if first:
                raise
            log.warning("%s: cannot list directory: %s", directory, e.strerror)
            stop_at = flush()
            del rels[start:], sizes[start:], mtimes[start:], refused[refused_start:]
            continue
        first = False
        try:
            # In name order, so which of two paths to one directory (a symlink)
            # is walked, and so every seed's rel, never depends on the listing.
            for entry in sorted(others, key=_by_name, reverse=True):
                name = entry.name
                rel = prefix + name
                try:
                    is_link = entry.is_symlink()
                    st = entry.stat(follow_symlinks=True)
                except OSError:
                    if is_seed_name(name):
                        refused.append((rel, "broken symlink or unreadable file"))
                    continue
                if is_link:
                    target = os.path.realpath(join + name)
                    if os.path.commonpath([real_root, target]) != real_root:
                        if is_seed_name(name) or stat.S_ISDIR(st.st_mode):
                            refused.append((rel, "symlink pointing outside the seed directory"))
                        continue
                if stat.S_ISDIR(st.st_mode):
                    key = (st.st_dev, st.st_ino)
                    if key not in seen_dirs:
                        seen_dirs.add(key)
                        stack.append((join + name, rel + "/"))
                elif stat.S_ISREG(st.st_mode) and is_seed_name(name):
                    add_rel(rel)
                    add_size(st.st_size)
                    add_mtime(st.st_mtime_ns)
                    if len(rels) >= stop_at:
                        stop_at = flush()
        finally:  # the entries' stat() above is relative to it
            os.close(dir_fd)
    flush()
    # The paths joined once: ASCII tells at once that all are UTF-8 (isascii
    # reads a flag), and the digest of every poll hashes this same text.
    names = "\0".join(rels)
    ascii_only = names.isascii() and all(rel.isascii() for rel, _ in refused)
    if not ascii_only and _refuse_names_not_utf8(names, rels, sizes, mtimes, runs, refused):
        names = "\0".join(rels)
    return ScanResult(str(root), rels, sizes, mtimes, runs, tuple(sorted(refused)), names)


#: Why a seed whose path is not UTF-8 is not read.
NOT_UTF8 = "file name is not valid UTF-8 (shown with its bytes escaped): rename it to publish it"


def _refuse_names_not_utf8(
    names: str,
    rels: list[str],
    sizes: array[int],
    mtimes: array[int],
    runs: list[tuple[int, str]],
    refused: list[tuple[str, str]],
) -> bool:
    """Move the seeds whose path is not UTF-8 from the columns to ``refused``; any moved?

    ``os.scandir`` spells such a name's bytes as lone surrogates, which the
    state (SQLite text), the JSON report and the terminal cannot carry: one
    such file would fail the whole build. It is refused instead, reported
    with its bytes escaped (``bad\\xffname.md``), and read once it is renamed.
    The walk calls it only where some path is not ASCII; one encode of
    ``names`` (the paths, joined) and of the refused ones then tells whether
    there is anything to do.
    """
    try:
        names.encode("utf-8")
        "".join([rel for rel, _ in refused]).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return False
    refused[:] = [(_escaped(rel), why) for rel, why in refused]  # a broken symlink's name, say
    keep: list[int] = []
    for i, rel in enumerate(rels):
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            refused.append((_escaped(rel), NOT_UTF8))
        else:
            keep.append(i)
    rels[:] = [rels[i] for i in keep]
    sizes[:] = array("q", [sizes[i] for i in keep])
    mtimes[:] = array("q", [mtimes[i] for i in keep])
    runs[:] = [(bisect.bisect_left(keep, start), group) for start, group in runs]
    return True


def _escaped(rel: str) -> str:
    """``rel`` with the bytes that are not UTF-8 spelled ``\\xff`` (printable, storable)."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


_by_name = attrgetter("name")

#: The file times a walk keeps: nanoseconds in 64 bits (as SQLite and the
#: digest hold them), from 1677-09-21 to 2262-04-11.
NS_MIN, NS_MAX = -(2**63), 2**63 - 1


def _bounded_ns(ns: int) -> int:
    """A file time held within :data:`NS_MIN`..:data:`NS_MAX`.

    A filesystem can keep a time beyond that (``touch -d 2400-01-01``, an
    archive unpacked with garbage times): such a seed is published with the
    bound as its time, rather than failing the walk and with it every
    build. Its size still tells a change of it apart.
    """
    return min(max(ns, NS_MIN), NS_MAX)

"""Which files of the seed directory are seeds, and their stat signatures.

Seeds are regular files ending in ``.txt`` or ``.md`` (any case), anywhere
below the seed directory. Hidden files and directories, editor backups
(``~``, ``.swp``, ``#…#``), temporary files, and directories named like
seeds are not seeds. A symlink is followed only when it stays inside the
seed directory; one pointing outside is refused and reported.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from pathlib import Path

from feeder.model import SeedFile

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown")
_BACKUP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".bak", ".orig")


#: (rel, path, size, mtime_ns) of a seed: all a poll compares, and cheap to make.
SeedStat = tuple[str, str, int, int]


@dataclass(frozen=True)
class ScanResult:
    """The seeds found (sorted by ``rel``) and the files refused.

    :attr:`stats` are plain tuples; :class:`SeedFile` objects (with a
    ``Path`` each, costly by the hundred thousand) are made only on demand:
    :attr:`seeds` for all of them, :meth:`seed` for one.
    """

    stats: tuple[SeedStat, ...]
    refused: tuple[tuple[str, str], ...]  #: (rel, reason) of files that look like seeds
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def seeds(self) -> tuple[SeedFile, ...]:
        return tuple(SeedFile(rel, Path(p), size, m) for rel, p, size, m in self.stats)

    def seed(self, rel: str) -> SeedFile | None:
        """The seed at ``rel``, or None if the scan did not find one there."""
        if not self._index and self.stats:
            self._index.update((s[0], i) for i, s in enumerate(self.stats))
        i = self._index.get(rel)
        if i is None:
            return None
        rel, p, size, mtime_ns = self.stats[i]
        return SeedFile(rel, Path(p), size, mtime_ns)

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
        return (s[0] for s in self._found.stats)

    def __len__(self) -> int:
        return len(self._found.stats)


def is_seed_name(name: str) -> bool:
    """True for a file name feeder treats as a seed."""
    if name.endswith(".md"):  # the common case (no backup suffix ends so)
        return not name.startswith((".", "#", "~"))
    low = name.lower()
    if name.startswith((".", "#", "~")) or low.endswith(_BACKUP_SUFFIXES):
        return False
    return low.endswith(SUFFIXES)


def scan(root: Path, *, many: int = 0, on_many: Callable[[], None] | None = None) -> ScanResult:
    """Walk ``root`` (raises OSError if it cannot be listed) in a stable order.

    ``on_many()`` is called once as soon as ``many`` seeds are found, while
    the walk goes on (a cold build starts its workers then).
    """
    seeds: list[SeedStat] = []
    refused: list[tuple[str, str]] = []

    def add(rel: str, path: str, st: os.stat_result) -> None:
        seeds.append((rel, path, st.st_size, st.st_mtime_ns))
        if len(seeds) == many and on_many is not None:
            on_many()

    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    seen_dirs: set[tuple[int, int]] = set()
    first = True
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as e:
            if first:
                raise
            log.warning("%s: cannot list directory: %s", directory, e.strerror)
            continue
        first = False
        others = []  # directories and symlinks: walked in name order (see below)
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:  # from the directory listing itself, no system call
                plain = not entry.is_symlink() and not entry.is_dir(follow_symlinks=False)
            except OSError:
                plain = False
            if not plain:
                others.append(entry)
                continue
            if not is_seed_name(name):
                continue
            try:
                st = entry.stat()
            except OSError:
                refused.append((prefix + name, "broken symlink or unreadable file"))
                continue
            if stat.S_ISREG(st.st_mode):
                add(prefix + name, entry.path, st)
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
                target = os.path.realpath(entry.path)
                if os.path.commonpath([real_root, target]) != real_root:
                    if is_seed_name(name) or stat.S_ISDIR(st.st_mode):
                        refused.append((rel, "symlink pointing outside the seed directory"))
                    continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key not in seen_dirs:
                    seen_dirs.add(key)
                    stack.append((entry.path, rel + "/"))
            elif stat.S_ISREG(st.st_mode) and is_seed_name(name):
                add(rel, entry.path, st)
    seeds.sort()  # by rel: rels are unique
    return ScanResult(tuple(seeds), tuple(sorted(refused)))


_by_name = attrgetter("name")

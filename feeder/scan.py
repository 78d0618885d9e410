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
from dataclasses import dataclass
from pathlib import Path

from .model import SeedFile

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown")
_BACKUP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".bak", ".orig")


@dataclass(frozen=True)
class ScanResult:
    seeds: tuple[SeedFile, ...]
    refused: tuple[tuple[str, str], ...]  #: (rel, reason) of files that look like seeds


def is_seed_name(name: str) -> bool:
    """True for a file name feeder treats as a seed."""
    low = name.lower()
    if name.startswith((".", "#", "~")) or low.endswith(_BACKUP_SUFFIXES):
        return False
    return low.endswith(SUFFIXES)


def scan(root: Path) -> ScanResult:
    """Walk ``root`` (raises OSError if it cannot be listed) in a stable order."""
    seeds: list[SeedFile] = []
    refused: list[tuple[str, str]] = []
    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    seen_dirs: set[tuple[int, int]] = set()
    first = True
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as e:
            if first:
                raise
            log.warning("%s: cannot list directory: %s", directory, e.strerror)
            continue
        first = False
        for entry in sorted(entries, key=lambda e: e.name, reverse=True):
            name = entry.name
            if name.startswith("."):
                continue
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
                seeds.append(SeedFile(rel, Path(entry.path), st.st_size, st.st_mtime_ns))
    seeds.sort(key=lambda s: s.rel)
    return ScanResult(tuple(seeds), tuple(sorted(refused)))

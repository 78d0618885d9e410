"""What changed since the last build: a fresh walk compared with the state.

The walk is summed up per top-level directory of the seed directory (the
seeds directly in it form one more group): a digest of every seed's path
and stat signature. The state keeps the digests of the walk it was last
brought up to date with. A poll compares digests first; only the groups
whose digest differs have their rows read from the state and compared seed
by seed. Crawlers mostly write one directory per site, so a new article
costs the rows of its own directory, not those of the whole tree; and a
poll that finds every digest equal reads no row at all.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import time
from collections.abc import Iterable
from dataclasses import dataclass

from feeder.model import Skipped
from feeder.seeds.scan import ScanResult, SeedStat
from feeder.build.state import State

#: The state's record of the last walk it is up to date with.
INFO_KEY = "scan_groups"
#: The reason given for a seed modified less than ``settle_seconds`` ago.
DEFERRED = "still being written; retried at the next build"
#: The pseudo-group of refused files (symlinks out of the tree, unreadable files).
REFUSED = "\x00refused"


def group_of(rel: str) -> str:
    """The group of a seed: its top-level directory, or "" for a seed at the top."""
    head, slash, _ = rel.partition("/")
    return head if slash else ""


@dataclass(frozen=True)
class Walk:
    """A walk's seeds by group, and each group's digest."""

    groups: dict[str, list[SeedStat]]
    digests: dict[str, str]


@dataclass(frozen=True)
class Changes:
    """Seeds to read, rows to forget, and seeds left for the next build."""

    changed: list[SeedStat]
    removed: list[str]
    deferred: list[Skipped]


def summarize(found: ScanResult) -> Walk:
    """Group ``found`` and digest each group (and the refused files)."""
    groups: dict[str, list[SeedStat]] = {}
    for seed in found.stats:
        groups.setdefault(group_of(seed[0]), []).append(seed)
    # marshal: built in and fast on tuples of str and int; its format may
    # change with Python, which costs one full comparison then.
    digests = {g: hashlib.sha256(marshal.dumps(seeds)).hexdigest() for g, seeds in groups.items()}
    digests[REFUSED] = hashlib.sha256(marshal.dumps(found.refused)).hexdigest()
    return Walk(groups, digests)


def stored(st: State) -> dict[str, str]:
    """The digests the state is up to date with ({} when unknown)."""
    raw = st.get(INFO_KEY)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def compare(st: State, walk: Walk, last: dict[str, str], *, settle_seconds: float) -> Changes:
    """The seeds of ``walk`` that differ from the state, in the groups whose digest moved.

    A seed modified less than ``settle_seconds`` ago is deferred (it may
    still be being written).
    """
    dirty = {g for g in walk.digests.keys() | last.keys() if walk.digests.get(g) != last.get(g)}
    dirty.discard(REFUSED)
    known = st.signatures(dirty)
    settle_ns = int(settle_seconds * 1e9)
    now_ns = time.time_ns()
    changed: list[SeedStat] = []
    deferred: list[Skipped] = []
    present: set[str] = set()
    for group in sorted(dirty):
        for seed in walk.groups.get(group, ()):
            rel, _, size, mtime_ns = seed
            present.add(rel)
            if known.get(rel) == (size, mtime_ns):
                continue
            if settle_ns and now_ns - mtime_ns < settle_ns:
                deferred.append(Skipped(rel, DEFERRED))
                continue
            changed.append(seed)
    removed = [rel for rel in known if rel not in present]
    return Changes(sorted(changed), sorted(removed), deferred)


def remember(st: State, walk: Walk, unsettled: Iterable[str]) -> None:
    """Record ``walk`` as the one the state is now up to date with.

    The groups of ``unsettled`` seeds (deferred, or to be retried) are not
    up to date: their digests are left out, so the next poll compares them.
    """
    digests = dict(walk.digests)
    for rel in unsettled:
        digests.pop(group_of(rel), None)
    st.put(INFO_KEY, json.dumps(digests, sort_keys=True))

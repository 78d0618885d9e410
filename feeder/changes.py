"""What changed since the last build: a fresh walk compared with the state.

The state keeps two records of the walk it was last brought up to date
with. The first is a digest of the whole walk, in the order the directories
list their files: a poll whose walk has that digest has nothing to compare
and reads nothing more (a listing in another order only costs the second
step). The second sums the walk up per group: a top-level directory of the
seed directory, or the seeds directly in it; a group of more than
:data:`SPLIT` seeds (a flat directory of a crawler's articles) is cut into
ranges of paths of about that many seeds each. Each group or range has a
digest of its seeds' paths and stat signatures; only those whose digest
differs have their rows read from the state and compared seed by seed. So
a new article costs the rows of its own directory, or of its range of a
large one, never those of the whole tree.
"""

from __future__ import annotations

import bisect
import itertools
import json
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from .model import Skipped
from .scan import ScanResult, SeedStat, Signature, digest
from .state import State

#: The state's record of the groups of the last walk it is up to date with.
INFO_KEY = "scan_groups"
#: The state's digest of that whole walk ("" when a poll must compare groups).
WALK_KEY = "scan_walk"
#: The version of :data:`INFO_KEY`'s record (another one is read as unknown).
VERSION = 2
#: A group of more seeds than this is compared in ranges of about as many.
SPLIT = 1024
#: The reason given for a seed modified less than ``settle_seconds`` ago.
DEFERRED = "still being written; retried at the next build"

#: A group's digest, or its ranges: ``[[lowest rel, digest], ...]`` ("" for the first).
Digests = str | list[list[str]]


def group_of(rel: str) -> str:
    """The group of a seed: its top-level directory, or "" for a seed at the top."""
    head, slash, _ = rel.partition("/")
    return head if slash else ""


def _digest(seeds: list[Signature]) -> str:
    rels, sizes, mtimes = zip(*seeds, strict=True) if seeds else ((), (), ())
    return digest(rels, array("q", sizes), array("q", mtimes))


@dataclass(frozen=True)
class Walk:
    """A walk and its digest; its groups (sorted) are made when a poll compares them."""

    found: ScanResult
    digest: str

    @cached_property
    def groups(self) -> dict[str, list[Signature]]:
        return self.found.groups()


@dataclass(frozen=True)
class Last:
    """What the state says of the walk it is up to date with."""

    walk: str = ""
    _state: State | None = field(default=None, compare=False)

    def groups(self) -> dict[str, Digests]:
        """group → its digests ({} when unknown)."""
        raw = self._state.get(INFO_KEY) if self._state is not None else None
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        if not isinstance(data, dict) or data.get("v") != VERSION:
            return {}
        groups = data.get("groups")
        if not isinstance(groups, dict):
            return {}
        # A damaged record leaves its group unknown (compared row by row).
        return {g: d for g, d in groups.items() if isinstance(d, str) or _ranges_ok(d)}


def _ranges_ok(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)
            for r in value
        )
        and value[0][0] == ""
        and all(a[0] < b[0] for a, b in itertools.pairwise(value))
    )


#: Nothing known (a fresh or reset state).
NOTHING = Last()


@dataclass(frozen=True)
class Changes:
    """Seeds to read, rows to forget, and seeds left for the next build."""

    changed: list[SeedStat]
    removed: list[str]
    deferred: list[Skipped]


def summarize(found: ScanResult) -> Walk:
    """``found`` and the digest of the whole walk."""
    return Walk(found, found.digest())


def stored(st: State) -> Last:
    """What the state is up to date with."""
    return Last(st.get(WALK_KEY) or "", st)


def unchanged(walk: Walk, last: Last) -> bool:
    """The walk is the one the state was last brought up to date with."""
    return bool(last.walk) and walk.digest == last.walk


def _ranges(seeds: list[Signature], lows: list[str]) -> list[list[Signature]]:
    """``seeds`` (sorted) cut at ``lows`` (sorted, the first ""): one part per low."""
    cuts = [bisect.bisect_left(seeds, (low,)) for low in lows[1:]]
    return [seeds[a:b] for a, b in zip([0, *cuts], [*cuts, len(seeds)], strict=True)]


def compare(st: State, walk: Walk, last: Last, *, settle_seconds: float) -> Changes:
    """The seeds of ``walk`` that differ from the state, in the groups whose digest moved.

    A seed modified less than ``settle_seconds`` ago is deferred (it may
    still be being written).
    """
    groups, old = walk.groups, last.groups()
    dirty: set[str] = set()  # whole groups whose rows are read
    spans: list[tuple[str, str, str | None]] = []  # (group, low, high): ranges read
    compared: list[Signature] = []
    for group in sorted(groups.keys() | old.keys()):
        seeds = groups.get(group, [])
        was = old.get(group)
        if isinstance(was, list):
            lows = [low for low, _ in was]
            for i, (part, (low, digest)) in enumerate(zip(_ranges(seeds, lows), was, strict=True)):
                if _digest(part) != digest:
                    spans.append((group, low, lows[i + 1] if i + 1 < len(lows) else None))
                    compared += part
        elif _digest(seeds) != was:
            dirty.add(group)
            compared += seeds
    known = st.signatures(dirty) if dirty else {}
    for group, low, high in spans:
        known.update(st.signatures_between(group, low, high))
    settle_ns = int(settle_seconds * 1e9)
    now_ns = time.time_ns()
    changed: list[SeedStat] = []
    deferred: list[Skipped] = []
    present: set[str] = set()
    path = walk.found.path
    for rel, size, mtime_ns in compared:
        present.add(rel)
        if known.get(rel) == (size, mtime_ns):
            continue
        if settle_ns and now_ns - mtime_ns < settle_ns:
            deferred.append(Skipped(rel, DEFERRED))
            continue
        changed.append((rel, path(rel), size, mtime_ns))
    removed = [rel for rel in known if rel not in present]
    return Changes(sorted(changed), sorted(removed), deferred)


def remember(st: State, walk: Walk, unsettled: Iterable[str]) -> None:
    """Record ``walk`` as the one the state is now up to date with.

    The groups (or ranges) of ``unsettled`` seeds (deferred, or to be
    retried) are not up to date: their digests are left out, and so is the
    whole walk's, so the next poll compares them.
    """
    digests: dict[str, Digests] = {}
    for group, seeds in walk.groups.items():
        if len(seeds) <= SPLIT:
            digests[group] = _digest(seeds)
            continue
        parts = -(-len(seeds) // SPLIT)
        cuts = [len(seeds) * i // parts for i in range(parts + 1)]
        digests[group] = [
            [seeds[a][0] if a else "", _digest(seeds[a:b])] for a, b in itertools.pairwise(cuts)
        ]
    pending = False
    for rel in unsettled:
        pending = True
        group = group_of(rel)
        ranges = digests.get(group)
        if isinstance(ranges, list):
            lows = [low for low, _ in ranges]
            ranges[bisect.bisect_right(lows, rel) - 1][1] = ""
        else:
            digests.pop(group, None)
    st.put(INFO_KEY, json.dumps({"v": VERSION, "groups": digests}, sort_keys=True))
    st.put(WALK_KEY, "" if pending else walk.digest)

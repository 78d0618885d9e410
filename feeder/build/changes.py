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
import logging
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import overload

from feeder.build.state import State
from feeder.model import Skipped
from feeder.seeds.scan import ScanResult, SeedStat, digest

log = logging.getLogger(__name__)

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
#: The warning for a seed modified later than now (``compare``), its path and time.
FUTURE = "%s: modified in the future (%s, by this machine's clock): read now, not deferred"


def _utc(ns: int) -> str:
    """A file time in ISO 8601 UTC; in seconds since the epoch past the years datetime holds."""
    try:
        return datetime.fromtimestamp(ns // 10**9, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{ns // 10**9} s since the epoch"


#: A group's digest, or its ranges: ``[[lowest rel, digest], ...]`` ("" for the first).
Digests = str | list[list[str]]


def group_of(rel: str) -> str:
    """The group of a seed: its top-level directory, or "" for a seed at the top."""
    head, slash, _ = rel.partition("/")
    return head if slash else ""


def _digest(found: ScanResult, positions: Sequence[int]) -> str:
    """The digest of the seeds at ``positions`` (sorted by rel) of ``found``."""
    return digest(
        list(map(found.rels.__getitem__, positions)),
        array("q", map(found.sizes.__getitem__, positions)),
        array("q", map(found.mtimes.__getitem__, positions)),
    )


def _cut(found: ScanResult, positions: Sequence[int], lows: list[str]) -> list[Sequence[int]]:
    """``positions`` (sorted by rel) cut at ``lows`` (sorted, the first ""): a part per low."""
    key = found.rels.__getitem__
    cuts = [bisect.bisect_left(positions, low, key=key) for low in lows[1:]]
    return [positions[a:b] for a, b in zip([0, *cuts], [*cuts, len(positions)], strict=True)]


@dataclass(frozen=True)
class Walk:
    """A walk and its digest; its groups (sorted) are made when a poll compares them."""

    found: ScanResult
    digest: str

    @cached_property
    def groups(self) -> dict[str, array[int]]:
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


class Seeds(Sequence[SeedStat]):
    """Seeds of a walk (their positions), each made a :data:`SeedStat` when taken."""

    def __init__(self, found: ScanResult, positions: Sequence[int]) -> None:
        self._found = found
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, i: int) -> SeedStat: ...
    @overload
    def __getitem__(self, i: slice) -> list[SeedStat]: ...
    def __getitem__(self, i: int | slice) -> SeedStat | list[SeedStat]:
        if isinstance(i, slice):
            return list(map(self._found.stat, self._positions[i]))
        return self._found.stat(self._positions[i])


@dataclass(frozen=True)
class Changes:
    """Seeds to read, rows to forget, and seeds left for the next build."""

    changed: Seeds  #: sorted by rel
    removed: list[str]
    deferred: list[Skipped]
    #: group → the digest of each of its ranges as the walk has it now (``None``:
    #: not worked out), for the groups compared in the ranges the state knew.
    ranges: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)


def summarize(found: ScanResult) -> Walk:
    """``found`` and the digest of the whole walk."""
    return Walk(found, found.digest())


def stored(st: State) -> Last:
    """What the state is up to date with."""
    return Last(st.get(WALK_KEY) or "", st)


def record(st: State) -> tuple[str | None, str | None]:
    """The state's record of its walk, as it stands: it changes with every build that moves it.

    A walk made while no build moved it is no older than the one the state is
    up to date with, and can be compared with the state in its place.
    """
    return st.get(WALK_KEY), st.get(INFO_KEY)


def unchanged(walk: Walk, last: Last) -> bool:
    """The walk is the one the state was last brought up to date with."""
    return bool(last.walk) and walk.digest == last.walk


def compare(st: State, walk: Walk, last: Last, *, settle_seconds: float) -> Changes:
    """The seeds of ``walk`` that differ from the state, in the groups whose digest moved.

    A seed modified less than ``settle_seconds`` ago is deferred (it may
    still be being written), and so is one whose time is that little ahead
    of this clock (a writer's clock a little fast). A seed whose time is
    further ahead is read now, with a warning: its time says nothing of
    whether it is complete (a timestamp kept by a copy, a clock far off),
    and deferring it until then would keep it out of the feed for as long.
    The parts whose digest moved are compared one
    at a time, a large one in ranges of :data:`SPLIT` seeds: no more rows
    are held at once, whatever the size of the tree.
    """
    found = walk.found
    rels = found.rels
    groups, old = walk.groups, last.groups()
    settle_ns = int(settle_seconds * 1e9)
    now_ns = time.time_ns()
    changed: list[int] = []
    removed: list[str] = []
    deferred: list[Skipped] = []

    def against(known: dict[str, tuple[int, int]], positions: Sequence[int]) -> None:
        present = set()
        for i in positions:
            rel, mtime_ns = rels[i], found.mtimes[i]
            present.add(rel)
            if known.get(rel) == (found.sizes[i], mtime_ns):
                continue
            if settle_ns and -settle_ns < now_ns - mtime_ns < settle_ns:
                deferred.append(Skipped(rel, DEFERRED))
                continue
            if mtime_ns > now_ns:
                log.warning(FUTURE, rel, _utc(mtime_ns))
            changed.append(i)
        removed.extend(rel for rel in known if rel not in present)

    nothing: Sequence[int] = ()
    ranges: dict[str, list[tuple[str, str | None]]] = {}
    for group in sorted(groups.keys() | old.keys()):
        positions = groups.get(group, nothing)
        was = old.get(group)
        now: list[tuple[str, str | None]] | None = None
        if isinstance(was, list):
            lows = [low for low, _ in was]
            now = ranges[group] = []
        elif was is not None and _digest(found, positions) == was:
            continue
        elif len(positions) <= SPLIT:
            against(st.signatures({group}), positions)
            continue
        else:  # a large group, all to compare: in ranges, no more than SPLIT rows at a time
            lows = ["", *(rels[positions[k]] for k in range(SPLIT, len(positions), SPLIT))]
            was = [[low, ""] for low in lows]
        for k, (part, (low, digest_)) in enumerate(
            zip(_cut(found, positions, lows), was, strict=True)
        ):
            digest_now = _digest(found, part) if digest_ else None
            if now is not None:
                now.append((low, digest_now))
            if digest_now is None or digest_now != digest_:  # "": not known to be up to date
                high = lows[k + 1] if k + 1 < len(lows) else None
                against(st.signatures_between(group, low, high), part)
    changed.sort(key=rels.__getitem__)
    return Changes(Seeds(found, changed), sorted(removed), deferred, ranges)


def remember(
    st: State,
    walk: Walk,
    unsettled: Iterable[str],
    ranges: Mapping[str, Sequence[tuple[str, str | None]]] | None = None,
) -> None:
    """Record ``walk`` as the one the state is now up to date with.

    The groups (or ranges) of ``unsettled`` seeds (deferred, or to be
    retried) are not up to date: their digests are left out, and so is the
    whole walk's, so the next poll compares them. A large group keeps the
    ranges :func:`compare` found it in (``ranges``, with the digests it
    worked out) while none of them is empty or grown past twice
    :data:`SPLIT`; otherwise it is cut anew into even ranges.
    """
    found = walk.found
    digests: dict[str, Digests] = {}
    for group, positions in walk.groups.items():
        if len(positions) <= SPLIT:
            digests[group] = _digest(found, positions)
            continue
        kept = _kept_ranges(found, positions, (ranges or {}).get(group))
        if kept is not None:
            digests[group] = kept
            continue
        parts = -(-len(positions) // SPLIT)
        cuts = [len(positions) * i // parts for i in range(parts + 1)]
        digests[group] = [
            [found.rels[positions[a]] if a else "", _digest(found, positions[a:b])]
            for a, b in itertools.pairwise(cuts)
        ]
    pending = False
    for rel in unsettled:
        pending = True
        group = group_of(rel)
        recorded = digests.get(group)
        if isinstance(recorded, list):
            lows = [low for low, _ in recorded]
            recorded[bisect.bisect_right(lows, rel) - 1][1] = ""
        else:
            digests.pop(group, None)
    st.put(INFO_KEY, json.dumps({"v": VERSION, "groups": digests}, sort_keys=True))
    st.put(WALK_KEY, "" if pending else walk.digest)


def _kept_ranges(
    found: ScanResult,
    positions: Sequence[int],
    known: Sequence[tuple[str, str | None]] | None,
) -> list[list[str]] | None:
    """The ranges ``known`` of a large group with their digests now; None to cut it anew."""
    if not known or known[0][0] != "":
        return None
    lows = [low for low, _ in known]
    parts = _cut(found, positions, lows)
    if any(not part or len(part) > 2 * SPLIT for part in parts):
        return None
    return [
        [low, digest_ if digest_ is not None else _digest(found, part)]
        for (low, digest_), part in zip(known, parts, strict=True)
    ]

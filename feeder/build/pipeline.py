"""One build: scan → parse what changed → pick the feed's entries → render → write.

Everything a build learns is kept in the state (:mod:`feeder.build.state`), so the
next build reads only the seeds whose stat signature changed, renders only
entries that are published and not cached, and leaves the feed alone when
its bytes would not change. The state is committed only once the feed is
written: a build that fails (or is killed) leaves the previous feed and the
previous state, and the next build simply does the work again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feeder import __version__
from feeder.build import changes, learning
from feeder.build import extra as more_feeds
from feeder.build.lock import build_lock
from feeder.build.state import DB_NAME, SeedRecord, State, quarantine
from feeder.build.workers import Workers
from feeder.config import Settings, fingerprint
from feeder.errors import OutputError, SeedDirError, ShrinkRefused, StateCorrupt, StateError
from feeder.fsutil import Publication, file_signature, has_stale_temps, remove_stale_temps
from feeder.model import (
    BuildResult,
    Entry,
    EntryMeta,
    FeedReport,
    Rendered,
    SeedFile,
    Skipped,
    duplicate_reason,
)
from feeder.seeds.scan import ScanResult, SeedStat, scan

# The parsing and rendering stacks (ingest, entry; yaml, markdown, nh3, bs4,
# ...) are imported where they are used: a poll that finds nothing changed
# never loads them.
if TYPE_CHECKING:
    from feeder.build.ingest import Progress

log = logging.getLogger(__name__)

#: Entries to render in the workers the parse started (fewer: in this process).
RENDER_IN_WORKERS_FROM = 8
#: Seeds to store that are worth building the state's indexes afresh for.
BULK_FROM = 1000
#: Entries to render that are worth starting workers for.
START_WORKERS_TO_RENDER = 400

#: A build that finds fewer than this share of the seeds the state knows is refused.
SHRINK_SHARE = 0.5


@dataclass(frozen=True)
class _Look:
    """A walk made before the build lock, and the state's record then (:func:`changes.record`)."""

    walk: changes.Walk
    record: tuple[str | None, str | None]


def _render_key(meta: EntryMeta, context: str) -> str:
    return hashlib.sha256(f"{meta.digest}|{meta.id}|{context}".encode()).hexdigest()


def build(
    settings: Settings,
    *,
    settle_seconds: float = 0.0,
    full: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Bring the feed up to date with the seed directory; see the module doc.

    Raises :class:`FeederError` subclasses for fatal problems (seed directory
    missing, output unwritable, state locked or unusable, a shrink refused);
    bad seeds are skipped and reported. A state proven corrupt is moved aside
    (:func:`~feeder.build.state.quarantine`) and the build runs once more on a fresh
    one; any other exception is a bug and propagates with the state untouched.
    ``progress(done, total)`` is told how the parsing of changed seeds goes.

    Whether anything changed is first looked at without the lock
    (:func:`_look`): a build that finds nothing to do takes no lock, opens
    the state read-only and writes nothing, and one that finds changes
    hands its walk to the locked build.
    """
    start = time.perf_counter()
    state_dir = settings.resolved_state_dir
    looked = None if full else _look(settings, start)
    if isinstance(looked, BuildResult):
        return looked
    run = functools.partial(
        _build_in_state,
        settings,
        settle_seconds=settle_seconds,
        full=full,
        start=start,
        progress=progress,
    )
    with build_lock(state_dir):
        try:
            return run(looked=looked)
        except StateCorrupt as e:
            moved = quarantine(state_dir)
            log.error("%s; moved it aside to %s and rebuilding the state from scratch", e, moved)
            return run(looked=None)


def _look(settings: Settings, start: float) -> BuildResult | _Look | None:
    """The result of a build with nothing to do, worked out without the build lock.

    The state is read in two short snapshots, one before the walk and one
    after it. When no build moved the state's record of its walk between
    them, this walk is no older than the state's. If it is the same walk
    and every published file is as written, the build's result is returned.
    Otherwise the walk is returned for the locked build, which uses it in
    place of its own unless a build has moved the record since.

    None means the state cannot tell without the lock: there is none yet,
    it is empty or of other settings, a writer is committing, stale
    temporary files are left in the output, or it cannot be read. The
    locked build then does it all and reports any error as it does.
    """
    state_dir = settings.resolved_state_dir
    if not (state_dir / DB_NAME).is_file():
        return None
    try:
        with (
            State.open(state_dir, busy_timeout=0, readonly=True) as st,
            st.errors_as_state_errors(),
        ):
            with st.snapshot():
                before = changes.record(st)
                if st.get("fingerprint") != _settings_key(settings) or st.is_empty():
                    return None
            walk = changes.summarize(_scan(settings))
            with st.snapshot():
                if changes.record(st) != before or has_stale_temps(settings.output.parent):
                    return None
                if changes.unchanged(walk, changes.stored(st)) and _intact(st, settings):
                    return _unchanged(st, settings, walk.found, start, cached=True)
            return _Look(walk, before)
    except StateError as e:
        log.debug("%s; the build looks again under its lock", e)
        return None


def _build_in_state(
    settings: Settings,
    *,
    settle_seconds: float,
    full: bool,
    start: float,
    progress: Progress | None = None,
    looked: _Look | None = None,
) -> BuildResult:
    """One build in one state transaction, its files published all or none.

    Everything the build writes is staged (:class:`~feeder.fsutil.Publication`)
    and renamed into place just before the state commits; a build that fails
    anywhere — a feed, a page, a rename, the state's commit — leaves every
    published file and the state as they were.
    """
    state_dir = settings.resolved_state_dir
    with (
        State.open(state_dir, busy_timeout=settings.busy_timeout) as st,
        st.errors_as_state_errors(),
        Workers() as workers,
        Publication() as pub,
    ):
        try:
            st.begin()
            result = _build(
                st,
                settings,
                settle_seconds=settle_seconds,
                full=full,
                start=start,
                progress=progress,
                workers=workers,
                pub=pub,
                looked=looked,
            )
            try:
                pub.publish()
            except OSError as e:
                where = e.filename or settings.output
                raise OutputError(where, f"cannot publish: {e.strerror or e}") from e
            st.commit()  # a failure here reverts the publication (leaving the block)
        except BaseException:
            st.rollback()
            raise
        pub.finish()
    return result


def _build(
    st: State,
    settings: Settings,
    *,
    settle_seconds: float,
    full: bool,
    start: float,
    pub: Publication,
    progress: Progress | None = None,
    workers: Workers | None = None,
    looked: _Look | None = None,
) -> BuildResult:
    """The steps of one build: walk, compare, store what changed, publish."""
    walk, reset, empty = _walk(st, settings, workers, full=full, looked=looked)
    found = walk.found
    out = settings.output

    def unchanged(deferred: Sequence[Skipped] = (), *, cached: bool = False) -> BuildResult:
        return _unchanged(st, settings, found, start, deferred, cached=cached)

    # The poll that finds nothing changed: the walk is the one the state was
    # last brought up to date with (same digests) and the feed is as written.
    last = changes.NOTHING if reset else changes.stored(st)
    intact = _intact(st, settings)
    if changes.unchanged(walk, last) and intact:
        remove_stale_temps(out.parent)
        return unchanged(cached=True)

    if not settings.allow_shrink:
        _refuse_shrink(st, settings.seeds, out, found=found.count)
    diff = changes.compare(st, walk, last, settle_seconds=settle_seconds)
    remove_stale_temps(out.parent)
    if not diff.changed and not diff.removed and intact:
        changes.remember(st, walk, (d.path for d in diff.deferred), diff.ranges)
        return unchanged(diff.deferred)

    transient = _store_changes(st, settings, diff, progress, workers, found=found, empty=empty)
    # Unchanged until a seed changes: the next no-change poll checks this alone.
    changes.remember(st, walk, (s.path for s in (*diff.deferred, *transient)), diff.ranges)
    if diff.deferred and not st.get("output") and _published_count(out):
        # A fresh state with seeds still being written: publishing now would
        # drop their entries from a feed that has them; the next poll does it.
        log.info("%d seeds still being written; publishing once they settle", len(diff.deferred))
        return unchanged(diff.deferred)

    entries, wrote, rendered, reports = _publish(st, settings, found, pub, workers)
    return BuildResult(
        output=out,
        seeds=found.count,
        entries=entries,
        changed=wrote,
        skipped=_skipped(st, found.refused, diff.deferred, transient, store=True),
        deferred=len(diff.deferred),
        duration_s=time.perf_counter() - start,
        parsed=len(diff.changed),
        rendered=rendered,
        feeds=reports,
    )


def _unchanged(
    st: State,
    settings: Settings,
    found: ScanResult,
    start: float,
    deferred: Sequence[Skipped] = (),
    *,
    cached: bool = False,
) -> BuildResult:
    """The result of a build that wrote nothing: the feed as the last build left it."""
    return BuildResult(
        output=settings.output,
        seeds=found.count,
        entries=int(st.get("entries") or 0),
        changed=False,
        skipped=_skipped(st, found.refused, deferred, (), cached=cached),
        deferred=len(deferred),
        duration_s=time.perf_counter() - start,
        feeds=more_feeds.last_reports(st),
    )


def _intact(st: State, settings: Settings) -> bool:
    """Every published file is as the last build wrote it, under these settings."""
    return (
        _output_intact(st, settings.output, settings.max_entries)
        and more_feeds.intact(st, settings)
        and learning.rules_current(
            st, min_seeds=settings.learn_min_seeds, share=settings.learn_share
        )
    )


def _settings_key(settings: Settings) -> str:
    """The settings a state's rows depend on (another key resets the state)."""
    return f"{__version__}|{fingerprint(settings)}|{settings.feed!r}"


def _walk(
    st: State,
    settings: Settings,
    workers: Workers | None,
    *,
    full: bool,
    looked: _Look | None = None,
) -> tuple[changes.Walk, bool, bool]:
    """(the walk, whether the state was reset, whether it is empty) of this build.

    Settings that change rendered entries reset the state. The walk
    :func:`_look` made before the lock is used when no build has moved the
    state's record since. A build that will read every seed starts its
    workers as soon as the walk shows there are enough seeds to parse in
    them: they get ready (imports included) while the walk goes on.
    """
    key = _settings_key(settings)
    reset = full or st.get("fingerprint") != key
    if reset:
        st.reset()
        st.put("fingerprint", key)
    empty = st.is_empty()
    if looked is not None and not reset and changes.record(st) == looked.record:
        return looked.walk, reset, empty
    cold = workers is not None and empty
    found = _scan(
        settings,
        many=_parallel_from() if cold else 0,
        on_many=workers.prestart if workers is not None and cold else None,
    )
    return changes.summarize(found), reset, empty


def _scan(
    settings: Settings, *, many: int = 0, on_many: Callable[[], None] | None = None
) -> ScanResult:
    """Walk the seed directory (see :func:`feeder.seeds.scan.scan`)."""
    try:
        return scan(settings.seeds, many=many, on_many=on_many)
    except OSError as e:
        raise SeedDirError(f"{settings.seeds}: seed directory unusable: {e.strerror or e}") from e


def _parallel_from() -> int:
    """Changed seeds from which the parse runs in workers (see :mod:`feeder.build.ingest`)."""
    from feeder.build.ingest import PARALLEL_FROM

    return PARALLEL_FROM


def _store_changes(
    st: State,
    settings: Settings,
    diff: changes.Changes,
    progress: Progress | None,
    workers: Workers | None,
    *,
    found: ScanResult,
    empty: bool,
) -> list[Skipped]:
    """Forget the removed seeds, store the changed ones, mark their sites' chrome stale.

    Returns the seeds to retry at the next build.
    """
    # The sites whose articles come or go: their learned chrome is out of date.
    # (An empty state knows no site yet: no lookup per seed.)
    touched = set() if empty else st.sites_of([*diff.removed, *(s[0] for s in diff.changed)])
    st.forget(diff.removed)
    transient = _store_parsed(
        st,
        diff.changed,
        settings,
        progress,
        workers,
        total=found.count,
        sites=touched,
        fingerprint=not empty,
    )
    learning.mark_touched(
        st, touched, min_seeds=settings.learn_min_seeds, share=settings.learn_share
    )
    return transient


def _publish(
    st: State,
    settings: Settings,
    found: ScanResult,
    pub: Publication,
    workers: Workers | None,
) -> tuple[int, bool, int, tuple[FeedReport, ...]]:
    """Render the published entries and stage every output; (entries, wrote, rendered, reports)."""
    from feeder.feeds.atom import render_feed

    out = settings.output
    plan = more_feeds.plan(st, settings)  # None without [[feeds]] / [per_source]
    extra = plan.metas if plan else ()
    entries, rendered = _render_published(st, settings, found.by_rel(), extra, workers)
    split = len(entries) - len(extra)
    entries, more = entries[:split], entries[split:]
    newest = max((e.meta.updated for e in (*entries, *more)), default=None)
    empty_updated = newest or _dir_time(settings.seeds)
    try:
        data = render_feed(entries, feed=settings.feed, empty_updated=empty_updated)
        wrote = pub.stage(out, data)
    except OSError as e:
        raise OutputError(out, f"cannot write the feed: {e.strerror or e}") from e
    by_id = {e.meta.id: e for e in more}
    reports = more_feeds.write(st, settings, plan, by_id, pub, empty_updated)
    _write_pages(settings, entries, more_feeds.page_links(plan), pub)
    st.put("output", pub.signature(out))
    st.put("entries", str(len(entries)))
    st.put("max_entries", str(settings.max_entries))
    return len(entries), wrote, rendered, reports


def _store_parsed(
    st: State,
    changed: Sequence[SeedStat],
    settings: Settings,
    progress: Progress | None,
    workers: Workers | None,
    *,
    total: int,
    sites: set[str],
    fingerprint: bool = False,
) -> list[Skipped]:
    """Parse the changed seeds into the state; return those to retry at the next build.

    The sites of the seeds stored are added to ``sites``. ``fingerprint``:
    their lines' fingerprints are worked out now (see
    :func:`~feeder.build.ingest.parse_seeds`).
    """
    from feeder.build.ingest import CHUNK, parse_seeds

    transient: list[Skipped] = []
    records: list[SeedRecord] = []
    # Most of the table rewritten (a cold build): index once, after the inserts.
    bulk = len(changed) >= BULK_FROM and 2 * len(changed) >= total
    with st.bulk_load() if bulk else contextlib.nullcontext():
        for parsed in parse_seeds(changed, settings, progress, workers, fingerprint=fingerprint):
            if parsed.transient or parsed.record is None:
                transient.append(Skipped(parsed.rel, parsed.error or "retry"))
                continue
            if parsed.error:
                log.warning("%s: skipped: %s", parsed.rel, parsed.error, extra={"seed_skip": True})
            for w in parsed.warnings:
                log.warning("%s: %s", parsed.rel, w)
            records.append(parsed.record)
            if parsed.record[8]:
                sites.add(parsed.record[8])
            if len(records) >= CHUNK:
                st.record_many(records)
                records.clear()
        st.record_many(records)
    return transient


def _refuse_shrink(st: State, seeds: Path, out: Path, *, found: int) -> None:
    """Raise :class:`ShrinkRefused` when ``found`` seeds would shrink a published feed by far.

    No seed at all, or fewer than :data:`SHRINK_SHARE` of the seeds the
    state knows, while the published feed has entries: more likely a dropped
    mount or an emptied directory than an operator deleting articles.
    """
    known = st.seed_count()
    if found and found >= SHRINK_SHARE * known:
        return
    published = int(st.get("entries") or 0) if st.get("output") else _published_count(out)
    if not published or not out.exists():
        return
    raise ShrinkRefused(
        f"{seeds}: found {found} seeds where the state knows {known} and {out} has "
        f"{published} entries; keeping the published feeds (a dropped mount or an emptied "
        "directory?). Use --allow-shrink or [build] allow_shrink = true to publish anyway"
    )


def _dir_time(directory: Path) -> datetime:
    """The modification time of ``directory``: a feed's ``updated`` when no entry gives one."""
    try:
        return datetime.fromtimestamp(directory.stat().st_mtime, tz=UTC)
    except OSError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def _published_count(out: Path) -> int:
    """Entries in the feed file at ``out`` (0 when there is none)."""
    try:
        data = out.read_bytes()
    except OSError:
        return 0
    return len(re.findall(rb"<entry[\s>]", data))


def _render_published(
    st: State,
    settings: Settings,
    current: Mapping[str, SeedFile],
    extra: Sequence[EntryMeta] = (),
    workers: Workers | None = None,
) -> tuple[list[Entry], int]:
    """Render (or take from the cache) every entry that goes into the feed.

    ``extra`` are the entries of the other feeds (:mod:`feeder.build.extra`): they
    are rendered and kept in the cache too, and returned after the feed's own.
    Many entries to render, or workers already started by the parse, and the
    rendering happens in the workers.
    """
    from feeder.content.entry import make_cleaner, render_task, render_with_warnings

    metas = [*st.published(settings.max_entries), *extra]
    if not metas:
        st.keep_rendered(())
        return [], 0
    cleaner, rules_digest = make_cleaner(settings)
    context = f"{fingerprint(settings)}|{rules_digest}|{__version__}"
    chrome = learning.chrome_for(
        st,
        metas,
        current,
        min_seeds=settings.learn_min_seeds,
        share=settings.learn_share,
        workers=workers,
    )
    keys = [
        _render_key(meta, f"{context}|{_digest(ch)}" if ch else context)
        for meta, ch in zip(metas, chrome, strict=True)
    ]
    found = [st.rendered(key) for key in keys]
    todo = [i for i, cached in enumerate(found) if cached is None]
    results: Iterable[tuple[Rendered, tuple[str, ...]]]
    if (
        workers is not None
        and workers.parallel
        and (
            (workers.started and len(todo) >= RENDER_IN_WORKERS_FROM)
            or len(todo) >= START_WORKERS_TO_RENDER
        )
    ):
        # Largest seed first: the workers end together rather than one waiting
        # on the other's last big article (rendering takes time with the size).
        seeds = {i: current.get(metas[i].rel) for i in todo}
        order = sorted(todo, key=lambda i: -_size(seeds[i]))
        done = dict(
            zip(
                order,
                workers.pool(render=True).map(
                    render_task,
                    [metas[i] for i in order],
                    [seeds[i] for i in order],
                    [settings] * len(order),
                    [chrome[i] for i in order],
                ),
                strict=True,
            )
        )
        results = (done[i] for i in todo)
    else:
        results = (
            render_with_warnings(
                metas[i], current.get(metas[i].rel), settings, cleaner, chrome=chrome[i]
            )
            for i in todo
        )
    for i, (value, warnings) in zip(todo, results, strict=True):
        for text in warnings:  # logged here: a worker process has no handler of ours
            log.warning("%s", text)
        st.store_rendered(keys[i], value)
        found[i] = value
    st.keep_rendered(keys)
    entries = [Entry(meta, value) for meta, value in zip(metas, found, strict=True) if value]
    return entries, len(todo)


def _size(seed: SeedFile | None) -> int:
    """The size of ``seed``'s file as the walk saw it (0: gone)."""
    return seed.size if seed else 0


def _digest(values: Sequence[int]) -> str:
    return hashlib.sha256(repr(tuple(values)).encode()).hexdigest()[:16]


def _write_pages(
    settings: Settings,
    entries: list[Entry],
    feeds: Sequence[tuple[str, str, str]],
    pub: Publication,
) -> None:
    from feeder.feeds.pages import write_pages

    try:
        write_pages(
            output=settings.output, feed=settings.feed, entries=entries, feeds=feeds, pub=pub
        )
    except OSError as e:
        where = e.filename or settings.output.parent
        raise OutputError(where, f"cannot write pages: {e.strerror or e}") from e


def _output_intact(st: State, path: Path, max_entries: int) -> bool:
    """The feed on disk is the one the last build wrote, with this many entries at most."""
    sig = st.get("output")
    return bool(sig) and sig == file_signature(path) and st.get("max_entries") == str(max_entries)


def _skipped(
    st: State,
    refused: Iterable[tuple[str, str]],
    deferred: Iterable[Skipped],
    transient: Iterable[Skipped],
    *,
    cached: bool = False,
    store: bool = False,
) -> tuple[Skipped, ...]:
    """Every seed that is not an entry, and why, sorted by path.

    The errors and duplicates come from the state, and change only when
    seeds do: ``store`` keeps them in the state, ``cached`` reads them from
    there (a no-change poll need not query every row).
    """
    kept = st.get("skipped") if cached else None
    refused, deferred, transient = tuple(refused), tuple(deferred), tuple(transient)
    if kept and not (refused or deferred or transient):
        return _kept_skipped(kept)  # a daemon's no-change polls: decoded once
    if kept:
        errors, duplicates = json.loads(kept)
    else:
        errors, duplicates = st.errors(), st.duplicates()
        if store:
            st.put("skipped", json.dumps([errors, duplicates], ensure_ascii=False))
    return _sorted_skipped(errors, refused, duplicates, (*deferred, *transient))


@functools.lru_cache(maxsize=2)
def _kept_skipped(kept: str) -> tuple[Skipped, ...]:
    """The skipped seeds the state keeps as ``kept`` (the same text, the same tuple)."""
    errors, duplicates = json.loads(kept)
    return _sorted_skipped(errors, (), duplicates, ())


def _sorted_skipped(
    errors: Iterable[Sequence[str]],
    refused: Iterable[tuple[str, str]],
    duplicates: Iterable[Sequence[str]],
    more: Iterable[Skipped],
) -> tuple[Skipped, ...]:
    items = [Skipped(rel, reason) for rel, reason in errors]
    items += [Skipped(rel, reason) for rel, reason in refused]
    items += [Skipped(rel, duplicate_reason(winner)) for rel, winner in duplicates]
    items += more
    return tuple(sorted(items, key=lambda s: s.path))

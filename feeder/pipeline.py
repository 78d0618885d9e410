"""One build: scan → parse what changed → pick the feed's entries → render → write.

Everything a build learns is kept in the state (:mod:`feeder.state`), so the
next build reads only the seeds whose stat signature changed, renders only
entries that are published and not cached, and leaves the feed alone when
its bytes would not change. The state is committed only once the feed is
written: a build that fails (or is killed) leaves the previous feed and the
previous state, and the next build simply does the work again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from . import __version__, changes
from . import feeds as more_feeds
from .config import Settings, fingerprint
from .content import make_cleaner, render_entry, render_task
from .errors import FeederError, OutputError, StateError
from .fsutil import atomic_write, file_signature, remove_stale_temps
from .ingest import CHUNK, PARALLEL_FROM, Progress, parse_seeds
from .lock import build_lock
from .model import BuildResult, Entry, EntryMeta, Rendered, SeedFile, Skipped
from .scan import scan
from .state import DB_NAME, SeedRecord, State
from .workers import Workers

# The parsing stack (yaml, markdown, nh3, bs4, ...) is imported where it is
# used (see feeder.ingest): a poll that finds nothing changed never loads it.

log = logging.getLogger(__name__)

#: Entries to render in the workers the parse started (fewer: in this process).
RENDER_IN_WORKERS_FROM = 8
#: Seeds to store that are worth building the state's indexes afresh for.
BULK_FROM = 1000
#: Entries to render that are worth starting workers for.
START_WORKERS_TO_RENDER = 400

#: SQLite errors that say the disk, not the state, is the problem (no rebuild).
_STATE_IO_ERRORS = frozenset(
    getattr(sqlite3, name, -1)
    for name in (
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
        "SQLITE_READONLY",
        "SQLITE_IOERR",
        "SQLITE_FULL",
        "SQLITE_CANTOPEN",
        "SQLITE_PERM",
    )
)


class SeedDirError(FeederError):
    """The seed directory is missing or cannot be listed."""


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
    missing, output unwritable); bad seeds are skipped and reported.
    ``progress(done, total)`` is told how the parsing of changed seeds goes.
    """
    start = time.perf_counter()
    state_dir = settings.resolved_state_dir
    with build_lock(state_dir):
        try:
            return _build_in_state(
                settings, settle_seconds=settle_seconds, full=full, start=start, progress=progress
            )
        except FeederError:
            raise
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as e:
            # Corruption past the header (State.open only checks the header)
            # surfaces as any error while reading rows: the state is a cache, so
            # drop it and build once more from scratch. I/O errors are not that.
            if getattr(e, "sqlite_errorcode", None) in _STATE_IO_ERRORS:
                raise StateError(f"{state_dir}: cannot use the state: {e}") from e
            log.warning(
                "%s: state unusable (%s: %s); rebuilding it from scratch",
                state_dir,
                type(e).__name__,
                str(e)[:200],
            )
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(str(state_dir / DB_NAME) + suffix).unlink(missing_ok=True)
            return _build_in_state(
                settings, settle_seconds=settle_seconds, full=full, start=start, progress=progress
            )


def _build_in_state(
    settings: Settings,
    *,
    settle_seconds: float,
    full: bool,
    start: float,
    progress: Progress | None = None,
) -> BuildResult:
    with State.open(settings.resolved_state_dir) as st, Workers() as workers:
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
            )
            st.commit()
        except BaseException:
            st.rollback()
            raise
    return result


def _build(
    st: State,
    settings: Settings,
    *,
    settle_seconds: float,
    full: bool,
    start: float,
    progress: Progress | None = None,
    workers: Workers | None = None,
) -> BuildResult:
    fp = f"{__version__}|{fingerprint(settings)}|{settings.feed!r}"
    reset = full or st.get("fingerprint") != fp
    if reset:
        st.reset()
        st.put("fingerprint", fp)
    # A build that will read every seed starts its workers as soon as the
    # walk shows there are enough seeds to parse in them: they get ready
    # (imports included) while the walk goes on.
    cold = workers is not None and st.is_empty()
    try:
        found = scan(
            settings.seeds,
            many=PARALLEL_FROM if cold else 0,
            on_many=workers.prestart if workers is not None and cold else None,
        )
    except OSError as e:
        raise SeedDirError(f"{settings.seeds}: seed directory unusable: {e.strerror or e}") from e

    out = settings.output
    # The poll that finds nothing changed: the walk is the one the state was
    # last brought up to date with (same digests) and the feed is as written.
    walk = changes.summarize(found)
    last = {} if reset else changes.stored(st)
    if (
        walk.digests == last
        and _output_intact(st, out, settings.max_entries)
        and more_feeds.intact(st, settings)
    ):
        remove_stale_temps(out.parent)
        return BuildResult(
            output=out,
            seeds=len(found.stats),
            entries=int(st.get("entries") or 0),
            changed=False,
            skipped=_skipped(st, found.refused, (), (), cached=True),
            duration_s=time.perf_counter() - start,
            feeds=more_feeds.last_reports(st),
        )

    diff = changes.compare(st, walk, last, settle_seconds=settle_seconds)
    changed, removed, deferred = diff.changed, diff.removed, diff.deferred

    remove_stale_temps(out.parent)
    if (
        not changed
        and not removed
        and _output_intact(st, out, settings.max_entries)
        and more_feeds.intact(st, settings)
    ):
        changes.remember(st, walk, (d.path for d in deferred))
        return BuildResult(
            output=out,
            seeds=len(found.stats),
            entries=int(st.get("entries") or 0),
            changed=False,
            skipped=_skipped(st, found.refused, deferred, ()),
            deferred=len(deferred),
            duration_s=time.perf_counter() - start,
            feeds=more_feeds.last_reports(st),
        )

    st.forget(removed)
    transient: list[Skipped] = []
    records: list[SeedRecord] = []
    # Most of the table rewritten (a cold build): index once, after the inserts.
    bulk = len(changed) >= BULK_FROM and 2 * len(changed) >= len(found.stats)
    with st.bulk_load() if bulk else contextlib.nullcontext():
        for parsed in parse_seeds(changed, settings, progress, workers):
            if parsed.transient or parsed.record is None:
                transient.append(Skipped(parsed.rel, parsed.error or "retry"))
                continue
            if parsed.error:
                log.warning("%s: skipped: %s", parsed.rel, parsed.error, extra={"seed_skip": True})
            for w in parsed.warnings:
                log.warning("%s: %s", parsed.rel, w)
            records.append(parsed.record)
            if len(records) >= CHUNK:
                st.record_many(records)
                records.clear()
        st.record_many(records)
    # Unchanged until a seed changes: the next no-change poll checks this alone.
    changes.remember(st, walk, (s.path for s in (*deferred, *transient)))

    current = found.by_rel()
    plan = more_feeds.plan(st, settings)  # None without [[feeds]] / [per_source]
    extra = plan.metas if plan else ()
    entries, rendered = _render_published(st, settings, current, extra, workers)
    split = len(entries) - len(extra)
    entries, more = entries[:split], entries[split:]
    from .atom import render_feed

    data = render_feed(entries, feed=settings.feed)
    try:
        wrote = atomic_write(out, data)
    except OSError as e:
        raise OutputError(out, f"cannot write the feed: {e.strerror or e}") from e
    reports = more_feeds.write(st, settings, plan, {e.meta.id: e for e in more})
    _write_pages(settings, entries, more_feeds.page_links(plan))
    st.put("output", file_signature(out))
    st.put("entries", str(len(entries)))
    st.put("max_entries", str(settings.max_entries))
    return BuildResult(
        output=out,
        seeds=len(found.stats),
        entries=len(entries),
        changed=wrote,
        skipped=_skipped(st, found.refused, deferred, transient, store=True),
        deferred=len(deferred),
        duration_s=time.perf_counter() - start,
        parsed=len(changed),
        rendered=rendered,
        feeds=reports,
    )


def _render_published(
    st: State,
    settings: Settings,
    current: Mapping[str, SeedFile],
    extra: Sequence[EntryMeta] = (),
    workers: Workers | None = None,
) -> tuple[list[Entry], int]:
    """Render (or take from the cache) every entry that goes into the feed.

    ``extra`` are the entries of the other feeds (:mod:`feeder.feeds`): they
    are rendered and kept in the cache too, and returned after the feed's own.
    Many entries to render, or workers already started by the parse, and the
    rendering happens in the workers.
    """
    metas = [*st.published(settings.max_entries), *extra]
    if not metas:
        st.keep_rendered(())
        return [], 0
    cleaner, rules_digest = make_cleaner(settings)
    context = f"{fingerprint(settings)}|{rules_digest}|{__version__}"
    keys = [_render_key(meta, context) for meta in metas]
    found = [st.rendered(key) for key in keys]
    todo = [i for i, cached in enumerate(found) if cached is None]
    results: Iterable[Rendered]
    if (
        workers is not None
        and workers.parallel
        and (
            (workers.started and len(todo) >= RENDER_IN_WORKERS_FROM)
            or len(todo) >= START_WORKERS_TO_RENDER
        )
    ):
        results = workers.pool().map(
            render_task,
            [metas[i] for i in todo],
            [current.get(metas[i].rel) for i in todo],
            [settings] * len(todo),
        )
    else:
        results = (
            render_entry(metas[i], current.get(metas[i].rel), settings, cleaner) for i in todo
        )
    for i, value in zip(todo, results, strict=True):
        st.store_rendered(keys[i], value)
        found[i] = value
    st.keep_rendered(keys)
    entries = [Entry(meta, value) for meta, value in zip(metas, found, strict=True) if value]
    return entries, len(todo)


def _write_pages(
    settings: Settings, entries: list[Entry], feeds: Sequence[tuple[str, str, str]] = ()
) -> None:
    try:
        from .pages import write_pages
    except ImportError:  # pages are optional for a bare build
        return
    try:
        write_pages(output=settings.output, feed=settings.feed, entries=entries, feeds=feeds)
    except OSError as e:
        raise OutputError(settings.output.parent, f"cannot write pages: {e.strerror or e}") from e


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
    if kept:
        errors, duplicates = json.loads(kept)
    else:
        errors, duplicates = st.errors(), st.duplicates()
        if store:
            st.put("skipped", json.dumps([errors, duplicates], ensure_ascii=False))
    items = [Skipped(rel, reason) for rel, reason in errors]
    items += [Skipped(rel, reason) for rel, reason in refused]
    items += [
        Skipped(rel, f"duplicate of {winner} (same article; the newest fetch is published)")
        for rel, winner in duplicates
    ]
    items += [*deferred, *transient]
    return tuple(sorted(items, key=lambda s: s.path))

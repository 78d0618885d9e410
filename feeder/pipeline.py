"""One build: scan → parse what changed → pick the feed's entries → render → write.

Everything a build learns is kept in the state (:mod:`feeder.state`), so the
next build reads only the seeds whose stat signature changed, renders only
entries that are published and not cached, and leaves the feed alone when
its bytes would not change. The state is committed only once the feed is
written: a build that fails (or is killed) leaves the previous feed and the
previous state, and the next build simply does the work again.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .config import Settings, fingerprint
from .errors import FeederError, OutputError, SeedError
from .fsutil import atomic_write
from .lock import build_lock
from .model import BuildResult, Document, Entry, EntryMeta, Rendered, SeedFile, Skipped
from .normalize import entry_meta, render
from .parse import parse_bytes
from .scan import scan
from .state import SeedRow, State

log = logging.getLogger(__name__)

#: Seeds larger than this are skipped unread (a scraped article is a few hundred KB at most).
MAX_SEED_BYTES = 64 * 1024 * 1024
#: Parse in worker processes from this many changed seeds on.
PARALLEL_FROM = 400


class SeedDirError(FeederError):
    """The seed directory is missing or cannot be listed."""


@dataclass(frozen=True)
class _Parsed:
    seed: SeedFile
    meta: EntryMeta | None
    error: str | None
    transient: bool = False


def read_document(seed: SeedFile) -> Document:
    """Read and parse one seed, refusing files that change while being read."""
    try:
        with open(seed.path, "rb") as f:
            before = os.fstat(f.fileno())
            if before.st_size > MAX_SEED_BYTES:
                raise SeedError(seed.rel, f"file too large ({before.st_size >> 20} MiB)")
            data = f.read(MAX_SEED_BYTES + 1)
            after = os.fstat(f.fileno())
    except FileNotFoundError as e:
        raise SeedError(seed.rel, "file vanished before it could be read", transient=True) from e
    except IsADirectoryError as e:
        raise SeedError(seed.rel, "is a directory") from e
    except OSError as e:
        raise SeedError(seed.rel, f"cannot read: {e.strerror or e}", transient=True) from e
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise SeedError(seed.rel, "file changed while being read", transient=True)
    return parse_bytes(data, seed.rel)


def _parse_one(seed: SeedFile, settings: Settings) -> _Parsed:
    try:
        doc = read_document(seed)
        meta = entry_meta(doc, settings=settings, mtime=seed.mtime_ns / 1e9)
    except SeedError as e:
        return _Parsed(seed, None, e.reason, e.transient)
    except Exception as e:  # a bug must not take the whole feed down
        log.debug("%s: unexpected error", seed.rel, exc_info=True)
        return _Parsed(seed, None, f"internal error: {type(e).__name__}: {e}")
    return _Parsed(seed, meta, None)


def _parse_all(seeds: list[SeedFile], settings: Settings) -> Iterator[_Parsed]:
    workers = min(os.cpu_count() or 1, 4)
    if len(seeds) < PARALLEL_FROM or workers < 2:
        for seed in seeds:
            yield _parse_one(seed, settings)
        return
    # forkserver: the daemon is multi-threaded, and fork() from a threaded
    # process can inherit a lock held by another thread.
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        yield from pool.map(_parse_one, seeds, [settings] * len(seeds), chunksize=64)


def _cleaner(settings: Settings) -> tuple[Callable[[str, EntryMeta], str], str]:
    from .clean import clean_html
    from .sites import load_rules

    rules = load_rules(settings.sites_dir)

    def clean(html: str, meta: EntryMeta) -> str:
        return clean_html(
            html, url=meta.link, title=meta.title, source=meta.source, rules=rules
        ).html

    return clean, rules.digest


def _render_key(meta: EntryMeta, context: str) -> str:
    return hashlib.sha256(f"{meta.digest}|{meta.id}|{context}".encode()).hexdigest()


def build(settings: Settings, *, settle_seconds: float = 0.0, full: bool = False) -> BuildResult:
    """Bring the feed up to date with the seed directory; see the module doc.

    Raises :class:`FeederError` subclasses for fatal problems (seed directory
    missing, output unwritable); bad seeds are skipped and reported.
    """
    start = time.perf_counter()
    with build_lock(settings.resolved_state_dir), State.open(settings.resolved_state_dir) as st:
        try:
            st.begin()
            result = _build(st, settings, settle_seconds=settle_seconds, full=full, start=start)
            st.commit()
        except BaseException:
            st.rollback()
            raise
    return result


def _build(
    st: State, settings: Settings, *, settle_seconds: float, full: bool, start: float
) -> BuildResult:
    try:
        found = scan(settings.seeds)
    except OSError as e:
        raise SeedDirError(f"{settings.seeds}: seed directory unusable: {e.strerror or e}") from e
    fp = f"{__version__}|{fingerprint(settings)}|{settings.feed!r}"
    if full or st.get("fingerprint") != fp:
        st.reset()
        st.put("fingerprint", fp)

    known = st.signatures()
    current = {s.rel: s for s in found.seeds}
    removed = [rel for rel in known if rel not in current]
    settle_ns = int(settle_seconds * 1e9)
    now_ns = time.time_ns()
    changed: list[SeedFile] = []
    deferred: list[Skipped] = []
    for seed in found.seeds:
        if known.get(seed.rel) == (seed.size, seed.mtime_ns):
            continue
        if settle_ns and now_ns - seed.mtime_ns < settle_ns:
            deferred.append(Skipped(seed.rel, "still being written; retried at the next build"))
            continue
        changed.append(seed)

    out = settings.output
    if not changed and not removed and _output_intact(st, out):
        return BuildResult(
            output=out,
            seeds=len(found.seeds),
            entries=int(st.get("entries") or 0),
            changed=False,
            skipped=_skipped(st, found.refused, deferred, ()),
            duration_s=time.perf_counter() - start,
        )

    st.forget(removed)
    transient: list[Skipped] = []
    for parsed in _parse_all(changed, settings):
        row = SeedRow(parsed.seed.rel, parsed.seed.size, parsed.seed.mtime_ns)
        if parsed.transient:
            transient.append(Skipped(parsed.seed.rel, parsed.error or "retry"))
            continue
        if parsed.error:
            log.warning("%s: skipped: %s", parsed.seed.rel, parsed.error, extra={"seed_skip": True})
        else:
            for w in parsed.meta.warnings if parsed.meta else ():
                log.warning("%s: %s", parsed.seed.rel, w)
        st.record(row, meta=parsed.meta, error=parsed.error)

    entries, rendered = _render_published(st, settings, current)
    from .atom import render_feed

    data = render_feed(entries, feed=settings.feed)
    try:
        wrote = atomic_write(out, data)
    except OSError as e:
        raise OutputError(out, f"cannot write the feed: {e.strerror or e}") from e
    _write_pages(settings, entries)
    st.put("output", _output_signature(out))
    st.put("entries", str(len(entries)))
    return BuildResult(
        output=out,
        seeds=len(found.seeds),
        entries=len(entries),
        changed=wrote,
        skipped=_skipped(st, found.refused, deferred, transient),
        duration_s=time.perf_counter() - start,
        parsed=len(changed),
        rendered=rendered,
    )


def _render_published(
    st: State, settings: Settings, current: dict[str, SeedFile]
) -> tuple[list[Entry], int]:
    """Render (or take from the cache) every entry that goes into the feed."""
    metas = st.published(settings.max_entries)
    cleaner: Callable[[str, EntryMeta], str] | None = None
    context = ""
    entries: list[Entry] = []
    keys: list[str] = []
    rendered = 0
    for meta in metas:
        if cleaner is None:
            cleaner, rules_digest = _cleaner(settings)
            context = f"{fingerprint(settings)}|{rules_digest}|{__version__}"
        key = _render_key(meta, context)
        cached = st.rendered(key)
        if cached is None:
            cached = _render_one(meta, settings, current, cleaner)
            st.store_rendered(key, cached)
            rendered += 1
        keys.append(key)
        entries.append(Entry(meta, cached))
    st.keep_rendered(keys)
    return entries, rendered


def _render_one(
    meta: EntryMeta,
    settings: Settings,
    current: dict[str, SeedFile],
    cleaner: Callable[[str, EntryMeta], str],
) -> Rendered:
    seed = current.get(meta.rel)
    try:
        if seed is None:
            raise SeedError(meta.rel, "file vanished", transient=True)
        doc = read_document(seed)
        if doc.digest != meta.digest:
            raise SeedError(meta.rel, "file changed since it was scanned", transient=True)
        return render(doc, meta, settings=settings, clean=cleaner)
    except Exception as e:  # the entry stays, with a pointer to the original
        log.warning("%s: content not rendered (%s); linking to the original", meta.rel, e)
        from html import escape

        link = f'<p><a href="{escape(meta.link)}">Read the original article</a></p>'
        return Rendered(content=link if meta.link else "<p>(content unavailable)</p>", summary="")


def _write_pages(settings: Settings, entries: list[Entry]) -> None:
    try:
        from .pages import write_pages
    except ImportError:  # pages are optional for a bare build
        return
    try:
        write_pages(output=settings.output, feed=settings.feed, entries=entries)
    except OSError as e:
        raise OutputError(settings.output.parent, f"cannot write pages: {e.strerror or e}") from e


def _output_signature(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _output_intact(st: State, path: Path) -> bool:
    sig = st.get("output")
    return bool(sig) and sig == _output_signature(path)


def _skipped(
    st: State,
    refused: Iterable[tuple[str, str]],
    deferred: Iterable[Skipped],
    transient: Iterable[Skipped],
) -> tuple[Skipped, ...]:
    items = [Skipped(rel, reason) for rel, reason in st.errors()]
    items += [Skipped(rel, reason) for rel, reason in refused]
    items += [
        Skipped(rel, f"duplicate of {winner} (same article; the newest fetch is published)")
        for rel, winner in st.duplicates()
    ]
    items += [*deferred, *transient]
    return tuple(sorted(items, key=lambda s: s.path))

"""Reading seeds: the files that changed → the rows the state keeps.

Every changed seed is read once, split, and normalized into its entry's
metadata (the cheap part of an entry); the content is rendered later, and
only for entries that reach a feed. Many seeds are parsed in worker
processes, in chunks, so a cold build of a large directory uses every core.
"""

from __future__ import annotations

import itertools
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import NamedTuple

from feeder.config import Settings
from feeder.seeds.read import read_document, read_path
from feeder.errors import SeedError
from feeder.feeds.filters import with_text
from feeder.content.learned import fingerprints, site_of
from feeder.model import Document, SeedFile
from feeder.seeds.scan import SeedStat
from feeder.build.state import SeedRecord, SeedRow, seed_record
from feeder.build.workers import Workers

log = logging.getLogger(__name__)

#: Parse in worker processes from this many changed seeds on (starting the
#: workers costs about as much as parsing this many in the calling process).
PARALLEL_FROM = 1500
#: Seeds handed to a worker at a time, and rows stored per ``executemany``.
CHUNK = 128

#: ``progress(done, total)``: called while the changed seeds are parsed.
Progress = Callable[[int, int], None]


class _Parsed(NamedTuple):
    """What a worker sends back: small and flat, cheap to pickle."""

    rel: str
    record: SeedRecord | None  #: the row to store; None when retried at the next build
    error: str | None
    transient: bool
    warnings: tuple[str, ...]








def _parse_one(stat: SeedStat, settings: Settings) -> _Parsed:
    from feeder.seeds.normalize import entry_meta

    rel, path, size, mtime_ns = stat
    row = SeedRow(rel, size, mtime_ns)
    try:
        doc = read_path(rel, path)
        meta = entry_meta(doc, settings=settings, mtime=mtime_ns / 1e9)
        meta = with_text(meta, doc.body, settings.feeds)
    except SeedError as e:
        record = None if e.transient else seed_record(row, meta=None, error=e.reason)
        return _Parsed(rel, record, e.reason, e.transient, ())
    except Exception as e:  # a bug must not take the whole feed down
        log.debug("%s: unexpected error", rel, exc_info=True)
        error = f"internal error: {type(e).__name__}: {e}"
        return _Parsed(rel, seed_record(row, meta=None, error=error), error, False, ())
    site = blocks = None
    if settings.learn_min_seeds:
        site = site_of(meta.canonical_url, meta.source)
        blocks = fingerprints(doc.body)
    record = seed_record(row, meta=meta, error=None, site=site, blocks=blocks)
    return _Parsed(rel, record, None, False, meta.warnings)


def _parse_chunk(stats: list[SeedStat], settings: Settings) -> list[_Parsed]:
    return [_parse_one(stat, settings) for stat in stats]


def parse_seeds(
    seeds: list[SeedStat],
    settings: Settings,
    progress: Progress | None = None,
    workers: Workers | None = None,
) -> Iterator[_Parsed]:
    """Parse ``seeds`` (in ``workers`` when there are many), in order.

    The workers start with the render stack imported too (see
    :mod:`feeder.build.workers`), so rendering in the same workers starts warm.
    """
    total = len(seeds)
    if progress:
        progress(0, total)
    if total < PARALLEL_FROM or workers is None or not workers.parallel:
        for done, seed in enumerate(seeds, 1):
            yield _parse_one(seed, settings)
            if progress and (done % CHUNK == 0 or done == total):
                progress(done, total)
        return
    done = 0
    for results in _parse_parallel(seeds, settings, workers):
        yield from results
        done += len(results)
        if progress:
            progress(done, total)


def _parse_parallel(
    seeds: list[SeedStat], settings: Settings, workers: Workers
) -> Iterator[list[_Parsed]]:
    """The parsed chunks of ``seeds``, in order, parsed by ``workers``.

    Starting the worker processes takes a few hundred milliseconds (their
    imports); meanwhile this process parses chunks itself, so no core idles
    while the pool comes up. A helper thread hands the rest to the pool.
    """
    chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    slots: list[Future[list[_Parsed]] | list[_Parsed] | None] = [None] * len(chunks)
    claim = itertools.count()  # next() is atomic: each chunk is claimed once
    pool_ready = threading.Event()
    failure: list[BaseException] = []

    def submit_all() -> None:
        try:
            pool = workers.pool()
            while (i := next(claim)) < len(chunks):
                slots[i] = pool.submit(_parse_chunk, chunks[i], settings)
                pool_ready.set()  # the first submit returns once the processes run
        except BaseException as e:  # re-raised in the calling thread
            failure.append(e)
        finally:
            pool_ready.set()

    submitter = threading.Thread(target=submit_all, name="feeder-submit", daemon=True)
    submitter.start()
    try:
        while not pool_ready.is_set() and (i := next(claim)) < len(chunks):
            slots[i] = _parse_chunk(chunks[i], settings)
    finally:
        submitter.join()
    if failure:
        raise failure[0]
    from feeder.feeds import atom  # noqa: F401 - the feed writer, while the workers parse

    for i, slot in enumerate(slots):
        assert slot is not None
        slots[i] = None  # each chunk's rows are freed once stored: memory stays flat
        yield slot if isinstance(slot, list) else slot.result()

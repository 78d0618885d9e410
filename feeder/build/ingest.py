"""Reading seeds: the files that changed → the rows the state keeps.

Every changed seed is read once, split, and normalized into its entry's
metadata (the cheap part of an entry); the content is rendered later, and
only for entries that reach a feed. Many seeds are parsed in worker
processes, in chunks, so a cold build of a large directory uses every core.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import NamedTuple

from feeder.build.state import SeedRecord, SeedRow, seed_record
from feeder.build.workers import Workers
from feeder.config import Settings
from feeder.content.learned import site_of
from feeder.errors import SeedError
from feeder.feeds.filters import with_text
from feeder.seeds.read import prefetch, read_path
from feeder.seeds.scan import SeedStat

log = logging.getLogger(__name__)

#: Parse in worker processes from this many changed seeds on (starting the
#: workers costs about as much as parsing this many in the calling process).
PARALLEL_FROM = 1500
#: Seeds handed to a worker at a time, and rows stored per ``executemany``.
CHUNK = 128
#: At most this many seeds read by one build are fingerprinted as they are read
#: (:func:`parse_seeds`): a crawl's new articles. More is a directory touched or
#: restored as a whole, whose seeds are mostly not learned from soon.
FINGERPRINT_UP_TO = 512

#: ``progress(done, total)``: called while the changed seeds are parsed.
Progress = Callable[[int, int], None]


class _Parsed(NamedTuple):
    """What a worker sends back: small and flat, cheap to pickle."""

    rel: str
    record: SeedRecord | None  #: the row to store; None when retried at the next build
    error: str | None
    transient: bool
    warnings: tuple[str, ...]


def _parse_one(stat: SeedStat, settings: Settings, fingerprint: bool = False) -> _Parsed:
    """One seed's row, with its lines' fingerprints when ``fingerprint`` (:func:`parse_seeds`)."""
    from feeder.seeds.normalize import entry_meta

    rel, path, size, mtime_ns = stat
    row = SeedRow(rel, size, mtime_ns)
    site = blocks = None
    try:
        doc = read_path(rel, path)
        meta = entry_meta(doc, settings=settings, mtime=mtime_ns / 1e9)
        meta = with_text(meta, doc.body, settings.feeds)
        # The site, to learn its chrome from; the lines' fingerprints when
        # asked for, else once they are needed (feeder.build.learning).
        if settings.learn_min_seeds:
            site = site_of(meta.canonical_url, meta.source)
            if fingerprint:
                from feeder.content.learned import fingerprints

                blocks = fingerprints(doc.body)
    except SeedError as e:
        record = None if e.transient else seed_record(row, meta=None, error=e.reason)
        return _Parsed(rel, record, e.reason, e.transient, ())
    except Exception as e:  # a bug must not take the whole feed down
        log.debug("%s: unexpected error", rel, exc_info=True)
        error = f"internal error: {type(e).__name__}: {e}"
        return _Parsed(rel, seed_record(row, meta=None, error=error), error, False, ())
    record = seed_record(row, meta=meta, error=None, site=site, blocks=blocks)
    return _Parsed(rel, record, None, False, meta.warnings)


def _parse_chunk(
    stats: list[SeedStat], settings: Settings, fingerprint: bool = False
) -> list[_Parsed]:
    """The chunk's seeds parsed in turn, their files announced to the kernel first."""
    prefetch(stat[1] for stat in stats)
    return [_parse_one(stat, settings, fingerprint) for stat in stats]


def parse_seeds(
    seeds: Sequence[SeedStat],
    settings: Settings,
    progress: Progress | None = None,
    workers: Workers | None = None,
    *,
    fingerprint: bool = False,
) -> Iterator[_Parsed]:
    """Parse ``seeds`` (in ``workers`` when there are many), in order.

    ``fingerprint``: work out the lines' fingerprints of each seed now, from
    the body at hand, rather than read it again if its site's chrome is
    learned (:mod:`feeder.build.learning`), when there are at most
    :data:`FINGERPRINT_UP_TO` seeds. That pays where most seeds parsed are
    soon learned from: the few new seeds of a build on a known state are
    their sites' newest articles (~150 µs a seed now, against ~210 to read
    it again). A cold build reads every seed, and learns from few of them;
    so does a build that finds most of a known directory touched.

    The workers that render afterwards start with the render stack imported
    (see :mod:`feeder.build.workers`): this process imports it while they
    parse, or the fork server has.
    """
    total = len(seeds)
    fingerprint = fingerprint and total <= FINGERPRINT_UP_TO
    if progress:
        progress(0, total)
    if total < PARALLEL_FROM or workers is None or not workers.parallel:
        for start in range(0, total, CHUNK):
            yield from _parse_chunk(list(seeds[start : start + CHUNK]), settings, fingerprint)
            if progress:
                progress(min(start + CHUNK, total), total)
        return
    done = 0
    for results in _parse_parallel(seeds, settings, workers, fingerprint):
        yield from results
        done += len(results)
        if progress:
            progress(done, total)


#: Chunks handed to the pool and not yet taken back, per worker: enough to keep
#: every worker busy, few enough that neither the seeds waiting to be parsed nor
#: their rows waiting to be stored pile up in memory, however many there are.
AHEAD_PER_WORKER = 3


def _parse_parallel(
    seeds: Sequence[SeedStat], settings: Settings, workers: Workers, fingerprint: bool
) -> Iterator[list[_Parsed]]:
    """The parsed chunks of ``seeds``, in order, parsed by ``workers``.

    Workers forked from this process start at once; those of a fork server
    take a few hundred milliseconds (its imports), and meanwhile this process
    parses chunks itself, so no core idles while the pool comes up. A helper
    thread hands the rest to the pool, a few chunks ahead of the ones taken
    back. Each chunk's seeds are taken from ``seeds`` only when it is handed
    over.
    """
    count = -(-len(seeds) // CHUNK)
    slots: list[Future[list[_Parsed]] | list[_Parsed] | None] = [None] * count
    claim = itertools.count()  # next() is atomic: each chunk is claimed once
    pool_ready = threading.Event()
    filled = threading.Condition()  # a slot was filled, or the helper thread ended
    ahead = threading.Semaphore(AHEAD_PER_WORKER * workers.size)
    failure: list[BaseException] = []
    submitting = True
    stop = threading.Event()  # the chunks are no longer wanted (an error)

    def chunk(i: int) -> list[SeedStat]:
        return list(seeds[i * CHUNK : (i + 1) * CHUNK])

    def submit_all() -> None:
        nonlocal submitting
        try:
            pool = workers.pool()
            while (i := next(claim)) < count:
                ahead.acquire()
                if stop.is_set():
                    break
                future = pool.submit(_parse_chunk, chunk(i), settings, fingerprint)
                with filled:
                    slots[i] = future
                    filled.notify_all()
                pool_ready.set()  # the first submit returns once the processes run
        except BaseException as e:  # re-raised in the calling thread
            failure.append(e)
        finally:
            pool_ready.set()
            with filled:
                submitting = False
                filled.notify_all()

    workers.prestart()  # forked workers are forked from this thread, before any other starts
    submitter = threading.Thread(target=submit_all, name="feeder-submit", daemon=True)
    submitter.start()
    try:
        while not pool_ready.is_set() and (i := next(claim)) < count:
            done = _parse_chunk(chunk(i), settings, fingerprint)
            with filled:
                slots[i] = done
        from feeder.feeds import atom  # noqa: F401 - the feed writer, while the workers parse

        workers.prepare_render()

        for i in range(count):
            with filled:
                while slots[i] is None and submitting and not failure:
                    filled.wait()
                slot = slots[i]
                slots[i] = None  # each chunk's rows are freed once stored: memory stays flat
            if slot is None:
                raise failure[0] if failure else RuntimeError(f"chunk {i} was never parsed")
            if isinstance(slot, list):
                yield slot
            else:
                parsed = slot.result()
                ahead.release()
                yield parsed
    finally:
        stop.set()
        ahead.release()  # the helper thread, if it waits, sees the stop
        submitter.join()
        workers.wait_imports()

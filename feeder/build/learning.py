"""Learned chrome kept up to date on demand (the rules are :mod:`feeder.content.learned`).

A site's chrome is learned from its newest articles: at most
:data:`LEARN_FROM` of them (or ``min_seeds``, when that is more), one per
article, in the feed's order. Templates change over the years; the newest
articles are the ones rendered, and a bound on them bounds the work of
learning however many articles a site has.

Nothing is learned while seeds are stored: the sites whose articles came or
went are only marked stale (:func:`mark_touched`). Before entries are
rendered, the stale sites among theirs are learned again
(:func:`chrome_for`), and only then are the fingerprints of their newest
articles worked out, for those whose row has none yet: a cold build of many
seeds fingerprints the newest articles of the few sites it renders, not
every seed it reads. A site no rendered entry belongs to stays stale, at no
cost, until one does. A build on a known state that reads a few hundred
seeds at most fingerprints them as it reads them
(:func:`feeder.build.ingest.parse_seeds`): they are mostly new articles,
their sites' newest, soon learned from; their files are then never read
again to learn. A seed fingerprinted here is read for its body alone
(:func:`feeder.seeds.read.read_body`).

What is learned is a function of the seeds alone: the same seeds give the
same chrome, whatever order they came in and whichever builds saw them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from feeder.build.state import State
from feeder.errors import SeedError
from feeder.model import EntryMeta, SeedFile

if TYPE_CHECKING:  # imported where used: a build that renders nothing never needs them
    from feeder.build.workers import Workers
    from feeder.content.learned import Learned

log = logging.getLogger(__name__)

#: Newest articles of a site its chrome is learned from.
LEARN_FROM = 64
#: Fingerprints to work out from which the workers do it (when they are running).
IN_WORKERS_FROM = 256
#: Seeds fingerprinted per task handed to a worker.
CHUNK = 64

#: What one seed to fingerprint is: (rel, path, digest of the version the state has).
_Task = tuple[str, str, str]


def rules(*, min_seeds: int, share: float) -> str:
    """The learning rules, as the state remembers them: when they change, every site is stale."""
    return f"{min_seeds}|{share}|newest {LEARN_FROM}"


def rules_current(st: State, *, min_seeds: int, share: float) -> bool:
    """Whether the state's learned chrome follows these rules (if not, a build relearns it all)."""
    return st.get("learn") == rules(min_seeds=min_seeds, share=share)


def mark_touched(st: State, touched: Iterable[str], *, min_seeds: int, share: float) -> None:
    """Mark the ``touched`` sites stale (all, when the rules changed since the last build)."""
    st.mark_stale(touched)
    params = rules(min_seeds=min_seeds, share=share)
    if st.get("learn") != params:
        st.mark_all_stale()
        st.put("learn", params)


def chrome_for(
    st: State,
    metas: Sequence[EntryMeta],
    current: Mapping[str, SeedFile],
    *,
    min_seeds: int,
    share: float,
    workers: Workers | None = None,
) -> list[tuple[int, ...]]:
    """Each entry's fingerprints that are its site's learned chrome (stale sites learned first).

    ``current`` are the seeds of this build's walk: the articles a site is
    learned from are read from them, and so is an entry whose fingerprints
    were never needed before (an older article, beyond its site's newest).
    """
    from feeder.content.learned import chrome_of, site_of

    if min_seeds <= 0 or not metas:
        return [()] * len(metas)
    sites = [site_of(m.canonical_url, m.source) for m in metas]
    stale = sorted(st.stale(set(sites)))
    for site, found in learn_sites(
        st, stale, current.get, min_seeds=min_seeds, share=share, workers=workers
    ).items():
        st.store_learned(site, found)
    learned = st.learned(set(sites))
    if not learned:
        return [()] * len(metas)
    blocks = st.blocks_of(m.rel for m, site in zip(metas, sites, strict=True) if site in learned)
    todo = [
        (m.rel, str(seed.path), m.digest)
        for m in metas
        if m.rel in blocks and blocks[m.rel] is None and (seed := current.get(m.rel))
    ]
    blocks.update(_fingerprint_missing(st, todo, workers))
    return [
        chrome_of(blocks.get(m.rel), learned.get(site))
        for m, site in zip(metas, sites, strict=True)
    ]


def learn_sites(
    st: State,
    sites: Sequence[str],
    seed_of: Callable[[str], SeedFile | None],
    *,
    min_seeds: int,
    share: float,
    workers: Workers | None = None,
    store: bool = True,
) -> dict[str, Learned | None]:
    """Each of ``sites``' chrome, from its newest articles; their missing fingerprints worked out.

    ``seed_of(rel)`` is the seed file of ``rel`` (None: gone).

    The fingerprints of all the sites' articles are worked out together (in
    the workers, when there are many). They are kept in the state unless
    ``store`` is false (a read-only state). An article whose file is gone,
    or is no longer the version the state has, counts without lines: the
    next build sees it changed, reads it, and marks its site stale again.
    """
    from feeder.content.learned import learn

    limit = max(LEARN_FROM, min_seeds)
    articles = {site: st.newest_articles(site, limit) for site in sites}
    todo: list[_Task] = [
        (rel, str(seed.path), digest)
        for rows in articles.values()
        for rel, blocks, digest in rows
        if blocks is None and (seed := seed_of(rel))
    ]
    found = _fingerprint_missing(st, todo, workers, store=store)
    return {
        site: learn(
            (found.get(rel, blocks) for rel, blocks, _ in rows), min_seeds=min_seeds, share=share
        )
        for site, rows in articles.items()
    }


def _fingerprint_missing(
    st: State, todo: Sequence[_Task], workers: Workers | None, *, store: bool = True
) -> dict[str, bytes]:
    """rel → fingerprints of the seeds of ``todo`` as the state has them; kept if ``store``."""
    found = dict(_fingerprint_all(todo, workers)) if todo else {}
    if store and found:
        st.store_blocks(found.items())
    return found


def _fingerprint_all(todo: Sequence[_Task], workers: Workers | None) -> Iterable[tuple[str, bytes]]:
    """(rel, fingerprints) of the seeds of ``todo`` that still are the version the state has.

    In chunks either way, so that each chunk's files are announced to the
    kernel together (:func:`~feeder.seeds.read.prefetch`), a bounded number at a time.
    """
    chunks = [list(todo[i : i + CHUNK]) for i in range(0, len(todo), CHUNK)]
    if workers is not None and workers.started and len(todo) >= IN_WORKERS_FROM:
        results = workers.pool().map(fingerprint_chunk, chunks)
    else:
        results = map(fingerprint_chunk, chunks)
    for done in results:
        yield from done


def fingerprint_chunk(todo: Sequence[_Task]) -> list[tuple[str, bytes]]:
    """(rel, packed fingerprints) of each seed of ``todo`` read unchanged (in a worker, too)."""
    from feeder.content.learned import fingerprints
    from feeder.seeds.read import prefetch, read_body

    out: list[tuple[str, bytes]] = []
    prefetch(path for _, path, _ in todo)
    for rel, path, digest in todo:
        try:
            found, body = read_body(rel, path)
        except SeedError as e:
            log.debug("%s: not fingerprinted: %s", rel, e.reason)
            continue
        if found == digest:
            out.append((rel, fingerprints(body)))
    return out

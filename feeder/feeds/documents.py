"""Write the documents of the extra feeds: every format, RFC 5005 archive pages, OPML.

Archive partition (RFC 5005): a feed's matching entries are counted from the
oldest. Archive page ``k`` (1 = oldest) holds entries ``(k-1)·n … k·n-1`` in
that order, where ``n`` is the feed's ``max_entries``; the subscription
document holds the rest, 1 to ``n`` of the newest. A new entry therefore
lands in the subscription document, and only when it is full does a new
archive page appear (its older neighbour gains a ``next-archive`` link); the
other pages keep their bytes and :class:`~feeder.fsutil.Publication` leaves
them alone. Entries that arrive out of date order shift the pages after them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from feeder.config import FeedSettings
from feeder.errors import OutputError
from feeder.fsutil import Publication
from feeder.model import Entry, EntryMeta

log = logging.getLogger(__name__)

OPML_NAME = "feeds.opml"
MEDIA = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class PlannedFeed:
    """One extra feed with the entries it holds, ready to be written."""

    name: str
    #: Title, ids and public addresses of its subscription documents.
    feed: FeedSettings
    #: Relative path of each format's subscription document, keyed by format.
    outputs: Mapping[str, str]
    #: Entries of the subscription document (and archives), newest first.
    metas: tuple[EntryMeta, ...]
    #: Entries per document (0 = all).
    size: int
    archive: bool
    #: Entries that matched the filters (``metas`` may hold fewer without archive).
    matched: int


@dataclass(frozen=True)
class Document:
    """One file to write: a format of the subscription document or of an archive page."""

    rel: str
    fmt: str
    metas: tuple[EntryMeta, ...]
    feed: FeedSettings
    links: tuple[tuple[str, str], ...]
    archive: bool
    next_url: str = ""


def archive_path(rel: str, page: int) -> str:
    """``topics/sec.atom`` → ``topics/sec-archive-3.atom``."""
    stem, dot, ext = rel.rpartition(".")
    return f"{stem}-archive-{page}.{ext}" if dot and "/" not in ext else f"{rel}-archive-{page}"


def partition(
    metas: Sequence[EntryMeta], size: int
) -> tuple[tuple[EntryMeta, ...], list[tuple[EntryMeta, ...]]]:
    """(subscription entries, archive pages oldest first), each newest first."""
    oldest = list(reversed(metas))
    pages = (len(oldest) - 1) // size if oldest else 0
    archives = [tuple(reversed(oldest[k * size : (k + 1) * size])) for k in range(pages)]
    return tuple(reversed(oldest[pages * size :])), archives


def documents(planned: PlannedFeed, base_url: str) -> list[Document]:
    """Every document of ``planned``: formats × (subscription + archive pages)."""
    if planned.archive:
        current, archives = partition(planned.metas, planned.size)
    else:
        current = planned.metas[: planned.size] if planned.size else planned.metas
        archives = []
    out: list[Document] = []
    last = len(archives)
    for fmt, rel in planned.outputs.items():

        def url(page: int, rel: str = rel) -> str:
            return urljoin(base_url, archive_path(rel, page) if page else rel)

        links: list[tuple[str, str]] = []
        if planned.archive:
            links = [("current", url(0))] + ([("prev-archive", url(last))] if last else [])
        feed = replace(planned.feed, self_url=url(0))
        out.append(
            Document(rel, fmt, current, feed, tuple(links), False, url(last) if last else "")
        )
        for k, page in enumerate(archives, 1):
            links = [("current", url(0))]
            links += [("prev-archive", url(k - 1))] if k > 1 else []
            links += [("next-archive", url(k + 1))] if k < last else []
            feed = replace(planned.feed, self_url=url(k))
            nxt = url(k - 1) if k > 1 else ""
            out.append(Document(archive_path(rel, k), fmt, page, feed, tuple(links), True, nxt))
    return out


def render_document(doc: Document, entries: Sequence[Entry], empty_updated: datetime) -> bytes:
    """The bytes of ``doc`` in its format (``empty_updated``: see ``atom.render_feed``)."""
    if doc.fmt == "rss":
        from feeder.feeds.rss import render_rss

        return render_rss(
            entries,
            feed=doc.feed,
            links=doc.links,
            archive=doc.archive,
            empty_updated=empty_updated,
        )
    if doc.fmt == "json":
        from feeder.feeds.jsonfeed import render_json

        return render_json(entries, feed=doc.feed, next_url=doc.next_url)
    from feeder.feeds.atom import STYLESHEET, render_feed

    up = "../" * doc.rel.count("/")
    return render_feed(
        entries,
        feed=doc.feed,
        links=doc.links,
        archive=doc.archive,
        stylesheet=up + STYLESHEET,
        empty_updated=empty_updated,
    )


def write_documents(
    docs: Sequence[Document],
    entries: Mapping[str, Entry],
    directory: Path,
    pub: Publication,
    empty_updated: datetime,
) -> tuple[list[Path], bool]:
    """Stage ``docs`` below ``directory`` (only changed bytes); (paths, anything written)."""
    paths: list[Path] = []
    wrote = False
    for doc in docs:
        path = directory / doc.rel
        data = render_document(doc, [entries[m.id] for m in doc.metas], empty_updated)
        level = Publication.LEAF if doc.archive else Publication.FEED
        try:
            if pub.stage(path, data, level=level):
                wrote = True
                log.debug("wrote %s (%d entries)", path, len(doc.metas))
        except OSError as e:
            raise OutputError(path, f"cannot write the feed: {e.strerror or e}") from e
        paths.append(path)
    return paths, wrote


def render_opml(title: str, feeds: Sequence[tuple[str, str, str]]) -> bytes:
    """OPML 2.0 listing ``feeds`` as ``(title, xmlUrl, htmlUrl)``; no dates (no clock).

    Titles (a per-source feed's holds the scraped source name) are plain text,
    but OPML lets ``text`` hold HTML and some importers read it so: they go
    through :func:`~feeder.feeds.jsonfeed.inert_text`, the same text either way.
    """
    from feeder.feeds.jsonfeed import inert_text

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_text(inert_text(title))}</title>",
        "  </head>",
        "  <body>",
    ]
    for name, xml_url, html_url in feeds:
        shown = _attr(inert_text(name))
        lines.append(
            f'    <outline type="rss" text={shown} title={shown}'
            f" xmlUrl={_attr(xml_url)} htmlUrl={_attr(html_url)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def _text(value: str) -> str:
    """``value`` as XML character data."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    """A quoted XML attribute value (``xml.sax.saxutils`` costs 15 ms of start-up)."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    escaped = escaped.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return '"' + escaped + '"'

"""Entries → RSS 2.0 bytes, with feedgen (like :mod:`feeder.atom`, the only other
module that imports it).

The same entries, ids and content as the Atom document, written the way the
W3C Feed Validator wants them: ``guid isPermaLink="false"`` (the ids are
``urn:uuid:``, not addresses), RFC 822 dates, an ``atom:link rel="self"``, a
channel ``description``, the source as ``dc:creator`` (RSS ``author`` must be
an e-mail address). feedgen's traps are closed as in :mod:`feeder.atom`:
entries are appended in feed order, and ``lastBuildDate`` is the newest
entry's ``updated``, never the clock, so the same seeds give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feedgen.feed import FeedGenerator
from lxml import etree

from . import __version__
from .atom import ATOM_NS, EPOCH, FH_NS, GENERATOR_URI
from .config import FeedSettings
from .model import Entry


def render_rss(
    entries: Sequence[Entry],
    *,
    feed: FeedSettings,
    links: Iterable[tuple[str, str]] = (),
    archive: bool = False,
) -> bytes:
    """Serialize ``entries`` (in feed order) as RSS 2.0; ``links``/``archive`` as in Atom."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(feed.title)
    fg.description(feed.subtitle or feed.title)
    # feedgen makes the last link the channel's <link>: the page, not the feed.
    fg.link(href=feed.self_url, rel="self", type="application/rss+xml")
    fg.link(href=feed.alternate_url, rel="alternate")
    fg.language(feed.language)
    fg.generator(f"feeder {__version__}", uri=GENERATOR_URI)
    # Sets lastBuildDate too (feedgen would stamp the wall clock otherwise).
    fg.updated(max((e.meta.updated for e in entries), default=EPOCH))
    for entry in entries:
        m, r = entry.meta, entry.rendered
        fe = fg.add_entry(order="append")
        fe.id(m.id)
        fe.guid(m.id, permalink=False)
        fe.title(m.title)
        if m.link:
            fe.link(href=m.link, rel="alternate")
        fe.pubDate(m.published)
        fe.description(r.summary or r.content)
        fe.content(r.content, type="CDATA")
        fe.dc.dc_creator(m.source)
        for tag in m.tags:
            fe.category(term=tag)
    root, doc = fg._create_rss()
    channel = root.find("channel")
    anchor = channel.find("item") if channel is not None else None
    extra: list[etree._Element] = [
        etree.Element(f"{{{ATOM_NS}}}link", rel=rel, href=href, type="application/rss+xml")
        for rel, href in links
    ]
    if archive:
        extra.append(etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS}))
    for element in extra:
        if anchor is not None:
            anchor.addprevious(element)
        elif channel is not None:
            channel.append(element)
    data: bytes = etree.tostring(doc, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return data

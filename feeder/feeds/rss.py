"""Entries → RSS 2.0 bytes, with feedgen (like :mod:`feeder.feeds.atom`, the only other
module that imports it).

The same entries, ids and content as the Atom document, written the way the
W3C Feed Validator wants them: ``guid isPermaLink="false"`` (the ids are
``urn:uuid:``, not addresses), RFC 822 dates, an ``atom:link rel="self"``, a
channel ``description``, the source as ``dc:creator`` (RSS ``author`` must be
an e-mail address). feedgen's traps are closed as in :mod:`feeder.feeds.atom`:
entries are appended in feed order, and ``lastBuildDate`` is the newest
entry's ``updated``, never the clock, so the same seeds give the same bytes.

RSS leaves open which elements are HTML, and readers differ; this module
writes every element so that both readings are safe:

* ``description`` and ``content:encoded`` are HTML (the specification says so
  of ``description``): ``content:encoded`` is the sanitized Atom content, and
  ``description`` the plain-text summary HTML-escaped (``<name () example
  org>`` shows as written, an ``<img onerror>`` in inline code as text), or the
  content where there is no summary. The channel ``description`` is escaped
  the same way.
* ``title`` (item and channel) is plain text that many readers (feedparser
  among them) treat as HTML when it looks like HTML. A title that HTML would
  read as something else (``<script>``, ``<b>``, ``&amp;``) is HTML-escaped by
  :func:`html_text`, so read as HTML, and read by feedparser, it is the
  original text; any other title (nearly all, ``Tom & Jerry`` and ``a <= b``
  included) is written as is, so a reader that shows titles as plain text
  shows it unchanged.
* ``category`` and ``dc:creator`` (the source), plain text that feedparser
  hands on as such, go through :func:`~feeder.feeds.jsonfeed.inert_text`: the same
  text as plain text, and no markup when read as HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from feedgen.feed import FeedGenerator
from lxml import etree

from feeder import __version__
from feeder.config import FeedSettings
from feeder.content.language import of_feed
from feeder.feeds.atom import ATOM_NS, EPOCH, FH_NS, GENERATOR_URI, generated
from feeder.feeds.jsonfeed import inert_text, same_in_html
from feeder.model import Entry


def html_text(text: str) -> str:
    """Plain ``text`` as HTML that reads as ``text`` (for RSS titles).

    Text an HTML parser reads as itself (:func:`~feeder.feeds.jsonfeed.same_in_html`:
    ``Tom & Jerry``, ``AT&T``, ``MailEnable <= 10.54``, nearly every title) is
    returned unchanged. Any other has its ``&``, ``<`` and ``>`` HTML-escaped,
    the common practice, which feedparser's guess of whether a title is HTML
    also decodes back to ``text`` (escaping only some would leave it strings,
    ``<>`` or ``&T;``, that its sanitizer drops or its guess mistakes).
    """
    return text if same_in_html(text) else escape(text, quote=False)


def render_rss(
    entries: Sequence[Entry],
    *,
    feed: FeedSettings,
    links: Iterable[tuple[str, str]] = (),
    archive: bool = False,
    empty_updated: datetime = EPOCH,
) -> bytes:
    """Serialize ``entries`` (in feed order) as RSS 2.0; the options as in Atom."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(html_text(feed.title))
    fg.description(escape(feed.subtitle or feed.title, quote=False))
    # feedgen makes the last link the channel's <link>: the page, not the feed.
    fg.link(href=feed.self_url, rel="self", type="application/rss+xml")
    fg.link(href=feed.alternate_url, rel="alternate")
    language = of_feed(feed.language, (e.rendered.language for e in entries))
    if language:
        fg.language(language)
    fg.generator(f"feeder {__version__}", uri=GENERATOR_URI)
    # Sets lastBuildDate too (feedgen would stamp the wall clock otherwise).
    fg.updated(max((e.meta.updated for e in entries), default=empty_updated))
    for entry in entries:
        m, r = entry.meta, entry.rendered
        fe = fg.add_entry(order="append")
        fe.id(m.id)
        fe.guid(m.id, permalink=False)
        fe.title(html_text(m.title))
        if m.link:
            fe.link(href=m.link, rel="alternate")
        fe.pubDate(m.published)
        fe.description(escape(r.summary, quote=False) if r.summary else r.content)
        fe.content(r.content, type="CDATA")
        fe.dc.dc_creator(inert_text(m.source))
        for tag in m.tags:
            fe.category(term=inert_text(tag))
    doc = generated(fg.rss_str(pretty=False))
    root = doc.getroot()
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

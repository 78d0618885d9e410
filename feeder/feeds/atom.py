"""Entries → Atom 1.0 bytes. The only module that imports feedgen.

feedgen has three traps this module closes: ``add_entry`` prepends by
default (entries are appended here, in feed order); the feed's ``updated``
defaults to the wall clock (it is set to the newest entry's ``updated``, so
the same seeds give the same bytes); and it raises a bare ``ValueError`` on
XML-invalid characters (every string is cleaned before it gets there). It
also writes ``atom:source`` with only a title and a link: the element is
written here instead, with the ``id`` and ``updated`` validators ask for.
feedgen is used through its public API only; what it cannot express is
added to the tree of its output (:func:`generated`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from lxml import etree

from feeder import __version__
from feeder.config import FeedSettings
from feeder.content.language import differs, of_feed
from feeder.model import Entry
from feeder.seeds.dates import rfc3339

ATOM_NS = "http://www.w3.org/2005/Atom"
#: RFC 5005 (feed paging and archiving).
FH_NS = "http://purl.org/syndication/history/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STYLESHEET = "feed.xsl"
GENERATOR_URI = "https://pypi.org/project/feeder/"
#: ``updated`` of a feed with no entries when nothing better is known (never the clock).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _a(tag: str) -> str:
    """An Atom element's name, as the parsed document has it."""
    return f"{{{ATOM_NS}}}{tag}"


def render_feed(
    entries: Sequence[Entry],
    *,
    feed: FeedSettings,
    links: Iterable[tuple[str, str]] = (),
    archive: bool = False,
    stylesheet: str = STYLESHEET,
    empty_updated: datetime = EPOCH,
) -> bytes:
    """Serialize ``entries`` (already in feed order) as an Atom document.

    ``links`` are extra ``(rel, href)`` feed links (RFC 5005 ``current``,
    ``prev-archive``, ``next-archive``); ``archive`` marks an archive document
    (``fh:archive``); ``stylesheet`` is the href of ``feed.xsl`` as seen from
    the document. The defaults give the main feed, byte for byte as before.
    ``empty_updated`` is the feed's ``updated`` when it has no entry (the
    build passes its newest entry's: a plausible time, never the clock).
    """
    fg = FeedGenerator()
    fg.id(feed.feed_id)
    fg.title(feed.title)
    if feed.subtitle:
        fg.subtitle(feed.subtitle)
    fg.author({"name": feed.author})
    fg.link(href=feed.self_url, rel="self", type="application/atom+xml")
    fg.link(href=feed.alternate_url, rel="alternate", type="text/html")
    fg.generator("feeder", __version__, GENERATOR_URI)
    fg.updated(max((e.meta.updated for e in entries), default=empty_updated))

    for entry in entries:
        m, r = entry.meta, entry.rendered
        fe = fg.add_entry(order="append")
        fe.id(m.id)
        fe.title(m.title)
        fe.updated(m.updated)
        fe.published(m.published)
        fe.author({"name": m.source})
        if m.link:
            fe.link(href=m.link, rel="alternate", type="text/html")
        fe.content(r.content, type="html")
        if r.summary:
            fe.summary(r.summary)
        for tag in m.tags:
            fe.category(term=tag)

    doc = generated(fg.atom_str(pretty=False))
    root = doc.getroot()
    language = of_feed(feed.language, (e.rendered.language for e in entries))
    if language:
        root.set(XML_LANG, language)
    for element, entry in zip(root.iterfind(_a("entry")), entries, strict=True):
        if differs(entry.rendered.language, language):
            element.set(XML_LANG, entry.rendered.language)
    _add_sources(root, entries)
    _add_paging(root, links, archive)
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{stylesheet}"')
    )
    data: bytes = etree.tostring(doc, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return data


def generated(data: bytes) -> etree._ElementTree:
    """feedgen's document, through its public serializer, as a tree to extend.

    feedgen cannot write what feeder adds to its output — ``atom:source``
    with an id and ``updated``, RFC 5005 paging, ``xml:lang`` per entry, the
    stylesheet instruction — so the document it serializes is parsed again
    (white space dropped: the final serialization indents it) and those are
    added here and in :mod:`feeder.feeds.rss`, the one place that does.
    """
    parser = etree.XMLParser(
        remove_blank_text=True, strip_cdata=False, resolve_entities=False, huge_tree=True
    )
    return etree.fromstring(data, parser).getroottree()


def _add_sources(root: etree._Element, entries: Sequence[Entry]) -> None:
    """Give every entry an ``atom:source`` (title, id, updated, link to the site)."""
    newest: dict[str, datetime] = {}
    for e in entries:
        m = e.meta
        if m.source_id not in newest or m.updated > newest[m.source_id]:
            newest[m.source_id] = m.updated
    for element, e in zip(root.iterfind(_a("entry")), entries, strict=True):
        m = e.meta
        source = etree.SubElement(element, _a("source"))
        etree.SubElement(source, _a("id")).text = m.source_id
        etree.SubElement(source, _a("title")).text = m.source
        etree.SubElement(source, _a("updated")).text = rfc3339(newest[m.source_id])
        if m.source_link:
            etree.SubElement(source, _a("link"), rel="alternate", href=m.source_link)


def _add_paging(root: etree._Element, links: Iterable[tuple[str, str]], archive: bool) -> None:
    """Add RFC 5005 links and ``fh:archive`` among the feed's metadata, before any entry."""
    extra: list[etree._Element] = []
    for rel, href in links:
        link = etree.Element(_a("link"), rel=rel, href=href)
        link.set("type", "application/atom+xml")
        extra.append(link)
    if archive:
        extra.append(etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS}))
    first = root.find(_a("entry"))
    for element in extra:
        if first is None:
            root.append(element)
        else:
            first.addprevious(element)

"""The static pages published next to the feeds: ``index.html``, feed pages, ``feed.xsl``.

``index.html`` is what a person (or a browser's feed autodiscovery) finds at
``/``: the feed's title, a subscribe link and the newest entries. Every feed
(the main one, each ``[[feeds]]`` and per-source feed) also gets a page of its
own beside its Atom document, the same name with ``.html``
(``topics/x.atom`` → ``topics/x.html``; see :func:`feed_pages`): its title,
its address to copy, autodiscovery links to its formats and its entries with
their full content. The daemon sends that page to a browser that asks for the
feed's own URL (see :mod:`feeder.service.server`), so no XSLT is needed to read a
feed in a browser. They are plain files, not server routes, so they work the
same behind nginx or caddy. ``feed.xsl`` is the stylesheet the Atom documents
name in ``<?xml-stylesheet?>``, for browsers that still apply XSLT to a feed
served as it is.

Every scraped string is untrusted: all text goes through :func:`html.escape`,
entry links are limited to ``http``/``https`` (the links to the feed files are
relative and never read as a scheme), the content is the sanitized HTML of
the feeds (:mod:`feeder.content.sanitize`) as it is, and the pages forbid scripts
with a ``Content-Security-Policy``. ``feed.xsl`` prints every string of the
feed as text too (``xsl:value-of``, never ``disable-output-escaping``) and
links only ``http(s)`` addresses. The pages hold no clock: the same entries
give the same bytes.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from feeder.config import FeedSettings
from feeder.content.language import differs, of_feed
from feeder.errors import OutputError
from feeder.feedconf import RESERVED
from feeder.fsutil import Publication
from feeder.model import Entry

log = logging.getLogger(__name__)

INDEX_NAME = "index.html"
XSL_NAME = "feed.xsl"
#: Suffix of a feed's page, in place of its Atom document's.
PAGE_SUFFIX = ".html"
#: Suffixes of feed documents whose URL may answer with the feed's page
#: (``feeder.service.server`` and the nginx/caddy rules of docs/daemon.md).
FEED_SUFFIXES = (".atom", ".rss", ".json")
#: Entries listed on a page; the feed itself may hold more.
MAX_LISTED = 100
_SUMMARY_CHARS = 280
#: No scripts, no remote content: the page is text and one inline style sheet.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
#: A feed page shows the articles' images too (fetched without a Referer, like a
#: feed reader does); still no script, frame, font, form or other remote content.
FEED_PAGE_CSP = (
    "default-src 'none'; img-src http: https:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

_CSS = """\
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
header{border-bottom:1px solid #ddd;margin-bottom:1.5rem}
h1{margin:0 0 .25rem}
.sub{color:#555;margin:0 0 1rem}
.subscribe{display:inline-block;margin:0 0 1rem;padding:.3rem .8rem;border-radius:.3rem;
background:#f26522;color:#fff;text-decoration:none}
ol{list-style:none;padding:0}
li{margin:0 0 1.4rem}
h2{font-size:1.15rem;margin:0}
.meta{color:#666;font-size:.9rem}
p.summary{margin:.3rem 0 0}
"""

_PAGE_CSS = """\
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
header{border-bottom:1px solid #ddd;margin-bottom:1.5rem;padding-bottom:.5rem}
h1{margin:0 0 .25rem}
.note{background:#fff6e5;border:1px solid #f0d9a8;border-radius:.3rem;padding:.5rem .8rem}
.sub{color:#555;margin:0 0 1rem}
.address label{display:block;font-weight:600}
.address input{box-sizing:border-box;width:100%;font:inherit;font-family:ui-monospace,monospace;
padding:.3rem .5rem;border:1px solid #bbb;border-radius:.3rem;background:#f8f8f8}
article{margin:0 0 1.8rem}
h2{font-size:1.15rem;margin:0}
.meta{color:#666;font-size:.9rem}
p.summary{margin:.3rem 0}
details{margin:.3rem 0}
summary{cursor:pointer;color:#444}
.content{overflow-wrap:anywhere}
.content img{max-width:100%;height:auto}
.content pre{overflow-x:auto}
"""


def _safe_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL, else ``None`` (no ``javascript:`` links)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def _local_href(path: str) -> str:
    """A relative link to ``path`` that no browser reads as a scheme (``a:b`` → ``./a:b``)."""
    if ":" in path.split("/", 1)[0]:
        return "./" + path
    return path


def _relative(target: str, page: str) -> str:
    """The relative link from the page ``page`` to ``target`` (both relative to the output)."""
    base = posixpath.dirname(page)
    return _local_href(posixpath.relpath(target, base) if base else target)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def page_name(rel: str) -> str:
    """The page of the feed whose Atom document is ``rel`` (``x/y.atom`` → ``x/y.html``)."""
    stem, dot, ext = rel.rpartition(".")
    return (stem if dot and "/" not in ext else rel) + PAGE_SUFFIX


def _feed_groups(links: Sequence[tuple[str, str, str]]) -> list[list[str]]:
    """The documents of each feed in ``links`` (as :func:`~feeder.build.extra.page_links` has them).

    Each feed's documents come together, its Atom document first (every
    ``[[feeds]]`` and per-source feed has one).
    """
    groups: list[list[str]] = []
    for _, media, href in links:
        if media == "application/atom+xml" or not groups:
            groups.append([])
        groups[-1].append(href)
    return groups


def feed_pages(main: str, links: Sequence[tuple[str, str, str]] = ()) -> dict[str, str]:
    """The page of each feed, keyed by its Atom document (all relative to the output).

    ``main`` is the main feed's file name, ``links`` the other feeds'
    documents as :func:`feeder.build.extra.page_links` gives them. A feed's page is
    :func:`page_name` of its Atom document, and the server answers a browser
    asking for ``X.atom``, ``X.rss`` or ``X.json`` with ``X.html`` when it
    exists. So a feed gets no page (logged at DEBUG) when that name is
    taken: by a document or a page of feeder's, or because a document of
    another feed would lead a browser to it (``x.atom`` of one feed,
    ``x.rss`` of another). Deterministic: the build calls it once for the
    main feed and once for the others, with the same arguments.
    """
    groups = [[main], *_feed_groups(links)]
    owner: dict[str, int] = {}
    for i, docs in enumerate(groups):
        for doc in docs:
            owner.setdefault(doc, i)
    taken = set(owner) | RESERVED
    pages: dict[str, str] = {}
    for i, docs in enumerate(groups):
        page = page_name(docs[0])
        stem = page[: -len(PAGE_SUFFIX)]
        leading = [stem + s for s in FEED_SUFFIXES if owner.get(stem + s, i) != i]
        if page in taken or leading:
            why = f"{page} is taken" if page in taken else f"{leading[0]} would lead to it"
            log.debug("%s: no feed page: %s", docs[0], why)
            continue
        taken.add(page)
        pages[docs[0]] = page
    return pages


# -- index.html -----------------------------------------------------------------


def _entry_html(entry: Entry) -> str:
    meta = entry.meta
    title = escape(meta.title or meta.link or "(untitled)")
    link = _safe_url(meta.link)
    heading = f'<a href="{escape(link)}" rel="noreferrer">{title}</a>' if link else title
    stamp = meta.published.isoformat()
    parts = [
        f"<li>\n<h2>{heading}</h2>",
        f'<div class="meta">{escape(meta.source)} · '
        f'<time datetime="{escape(stamp)}">{escape(meta.published.date().isoformat())}</time>'
        "</div>",
    ]
    if entry.rendered.summary:
        summary = escape(_shorten(entry.rendered.summary, _SUMMARY_CHARS))
        parts.append(f'<p class="summary">{summary}</p>')
    parts.append("</li>")
    return "\n".join(parts)


def render_index(
    *,
    feed_name: str,
    feed: FeedSettings,
    entries: Sequence[Entry],
    feeds: Sequence[tuple[str, str, str]] = (),
    pages: Mapping[str, str] | None = None,
) -> str:
    """The HTML of ``index.html`` for ``entries`` (newest first), fully escaped.

    ``feeds`` are the other feeds' documents as ``(title, media type, href)``:
    each gets an autodiscovery link and a line in a list of feeds. ``pages``
    maps a feed's Atom href to its page (:func:`feed_pages`), linked from
    the header (the main feed's) and the list. Without them the page is
    exactly the single-feed page.
    """
    pages = pages or {}
    title = escape(feed.title)
    href = escape(_local_href(feed_name))
    items = "\n".join(_entry_html(e) for e in entries[:MAX_LISTED])
    if not items:
        items = "<li>No entries yet.</li>"
    discovery, listing = _feed_links(feeds, pages)
    more = ""
    if len(entries) > MAX_LISTED:
        more = f'<p class="meta">{len(entries) - MAX_LISTED} more in the feed.</p>\n'
    main_page = ""
    if feed_name in pages:
        page_href = escape(_local_href(pages[feed_name]))
        main_page = f'<p class="meta"><a href="{page_href}">Read the feed in the browser</a></p>\n'
    language = of_feed(feed.language, (e.rendered.language for e in entries)) or "und"
    alternate = (
        f'<link rel="alternate" type="application/atom+xml" title="{title}" href="{href}">\n'
    )
    return f"""{_head(language, _CSP, title, alternate + discovery, _CSS)}
<body>
<header>
<h1>{title}</h1>
<p class="sub">{escape(feed.subtitle)}</p>
<a class="subscribe" href="{href}" type="application/atom+xml">Subscribe (Atom feed)</a>
{main_page}{listing}</header>
<main>
<ol>
{items}
</ol>
{more}</main>
</body>
</html>
"""


def _head(language: str, csp: str, title: str, links: str, css: str) -> str:
    """The start of a generated page, to ``</head>``: one policy, no referrer, its own CSS.

    ``title`` is escaped already; ``links`` are ``<link>`` lines, each ending a line.
    """
    return f"""<!DOCTYPE html>
<html lang="{escape(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
{links}<style>
{css}</style>
</head>"""


_FORMAT_NAMES = {
    "application/atom+xml": "Atom",
    "application/rss+xml": "RSS",
    "application/feed+json": "JSON Feed",
}


def _feed_links(feeds: Sequence[tuple[str, str, str]], pages: Mapping[str, str]) -> tuple[str, str]:
    """(autodiscovery ``<link>`` lines, the list of feeds) of the other feeds; empty without."""
    if not feeds:
        return "", ""
    heads: list[str] = []
    rows: dict[str, list[str]] = {}
    for title, media, href in feeds:
        t, m, h = escape(title), escape(media), escape(_local_href(href))
        heads.append(f'<link rel="alternate" type="{m}" title="{t}" href="{h}">\n')
        name = escape(_FORMAT_NAMES.get(media, media))
        row = rows.setdefault(t, [])
        if href in pages:
            row.append(f'<a href="{escape(_local_href(pages[href]))}">Page</a>')
        row.append(f'<a href="{h}" type="{m}">{name}</a>')
    items = "".join(f"<li>{t}: {' · '.join(links)}</li>\n" for t, links in rows.items())
    listing = (
        '<details class="feeds"><summary>More feeds (<a href="feeds.opml">OPML</a>)</summary>\n'
        f"<ul>\n{items}</ul>\n</details>\n"
    )
    return "".join(heads), listing


# -- a feed's page ------------------------------------------------------------------


def _entry_lang(entry: Entry) -> str:
    """The language of ``entry`` ("" if unknown); its article says it unless the page does."""
    return entry.rendered.language


def _time(label: str, when: datetime) -> str:
    stamp = escape(when.isoformat())
    shown = escape(when.isoformat(sep=" ", timespec="minutes"))
    return f'{label} <time datetime="{stamp}">{shown}</time>'


def _article(entry: Entry, page_lang: str) -> str:
    meta = entry.meta
    title = escape(meta.title or meta.link or "(untitled)")
    link = _safe_url(meta.link)
    heading = f'<a href="{escape(link)}" rel="noreferrer">{title}</a>' if link else title
    lang = _entry_lang(entry)
    lang_attr = f' lang="{escape(lang)}"' if differs(lang, page_lang) else ""
    dates = [_time("published", meta.published)]
    if meta.updated != meta.published:
        dates.append(_time("updated", meta.updated))
    source = f'<span class="source">{escape(meta.source)}</span> · ' if meta.source else ""
    parts = [
        f'<article class="entry"{lang_attr}>',
        f"<h2>{heading}</h2>",
        f'<p class="meta">{source}{" · ".join(dates)}</p>',
    ]
    if entry.rendered.summary:
        parts.append(f'<p class="summary">{escape(entry.rendered.summary)}</p>')
    if entry.rendered.content.strip():
        # The content is the sanitized HTML of the feeds, as it is (feeder.content.sanitize).
        parts += [
            "<details><summary>Full article</summary>",
            f'<div class="content">\n{entry.rendered.content}\n</div>',
            "</details>",
        ]
    parts.append("</article>")
    return "\n".join(parts)


def render_feed_page(
    *,
    page: str,
    feed: FeedSettings,
    formats: Sequence[tuple[str, str]],
    entries: Sequence[Entry],
) -> str:
    """The HTML page of one feed: its header, address and entries (newest first).

    ``page`` is the page's path relative to the output directory (links are
    made relative to it); ``formats`` are the feed's documents as ``(media
    type, path relative to the output)``, the Atom one first. At most
    :data:`MAX_LISTED` entries are shown, each with its full content.
    """
    title = escape(feed.title)
    language = of_feed(feed.language, (e.rendered.language for e in entries)) or "und"
    heads, links = [], []
    for media, rel in formats:
        m, h = escape(media), escape(_relative(rel, page))
        heads.append(f'<link rel="alternate" type="{m}" title="{title}" href="{h}">\n')
        links.append(f'<a href="{h}" type="{m}">{escape(_FORMAT_NAMES.get(media, media))}</a>')
    links.append(f'<a href="{escape(_relative(INDEX_NAME, page))}">All feeds</a>')
    articles = "\n".join(_article(e, language) for e in entries[:MAX_LISTED])
    count = len(entries)
    shown = f"{count} entr{'y' if count == 1 else 'ies'}"
    if count > MAX_LISTED:
        shown += f", the newest {MAX_LISTED} below; the feed has them all"
    if not articles:
        articles = "<p>No entries yet.</p>"
    subtitle = f'<p class="sub">{escape(feed.subtitle)}</p>\n' if feed.subtitle else ""
    return f"""{_head(language, FEED_PAGE_CSP, title, "".join(heads), _PAGE_CSS)}
<body>
<header>
<p class="note">This is a web feed. To subscribe, copy its address into your feed reader.</p>
<h1>{title}</h1>
{subtitle}<p class="address"><label for="feed-address">Feed address</label>
<input id="feed-address" type="text" readonly spellcheck="false" autocomplete="off"
 value="{escape(feed.self_url)}"></p>
<p class="meta">{" · ".join(links)}</p>
</header>
<main>
<p class="meta">{shown}</p>
{articles}
</main>
</body>
</html>
"""


def write_feed_page(
    *,
    directory: Path,
    page: str,
    feed: FeedSettings,
    formats: Iterable[tuple[str, str]],
    entries: Sequence[Entry],
    pub: Publication,
) -> Path:
    """Stage the page ``page`` of one feed below ``directory``; return its path.

    Raises :class:`~feeder.errors.OutputError` naming the file when it cannot be written.
    """
    path = directory / page
    html = render_feed_page(page=page, feed=feed, formats=list(formats), entries=entries)
    try:
        if pub.stage(path, html.encode("utf-8"), level=Publication.LIST):
            log.debug("wrote %s (%d entries)", path, min(len(entries), MAX_LISTED))
    except OSError as e:
        raise OutputError(path, f"cannot write the feed's page: {e.strerror or e}") from e
    return path


def stylesheet() -> bytes:
    """The bytes of the packaged ``feed.xsl``."""
    return (resources.files("feeder") / "data" / XSL_NAME).read_bytes()


def write_pages(
    *,
    output: Path,
    feed: FeedSettings,
    entries: Sequence[Entry],
    feeds: Sequence[tuple[str, str, str]] = (),
    pub: Publication | None = None,
) -> None:
    """Stage ``index.html``, the main feed's page and ``feed.xsl`` next to ``output``.

    Each is written only if it changed. ``entries`` arrive in feed order
    (newest first). The stylesheet is published before the feeds that point
    at it, the pages after them (the main feed's page before ``index.html``,
    which links to it). Without ``pub`` all are published at once. Raises
    ``OSError`` like :meth:`~feeder.fsutil.Publication.stage`, or
    :class:`~feeder.errors.OutputError` for the feed's page; the caller
    decides how fatal it is.
    """
    if pub is None:
        with Publication() as own:
            write_pages(output=output, feed=feed, entries=entries, feeds=feeds, pub=own)
            own.publish()
            own.finish()
        return
    directory = output.parent
    pages = feed_pages(output.name, feeds)
    if output.name in pages:
        write_feed_page(
            directory=directory,
            page=pages[output.name],
            feed=feed,
            formats=[("application/atom+xml", output.name)],
            entries=entries,
            pub=pub,
        )
    page = render_index(feed_name=output.name, feed=feed, entries=entries, feeds=feeds, pages=pages)
    page_bytes = page.encode("utf-8")
    if pub.stage(directory / INDEX_NAME, page_bytes, level=Publication.LIST):
        log.debug("wrote %s (%d entries)", directory / INDEX_NAME, min(len(entries), MAX_LISTED))
    if pub.stage(directory / XSL_NAME, stylesheet(), level=Publication.LEAF):
        log.debug("wrote %s", directory / XSL_NAME)

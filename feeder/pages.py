"""The static pages published next to the feed: ``index.html`` and ``feed.xsl``.

``index.html`` is what a person (or a browser's feed autodiscovery) finds at
``/``: the feed's title, a subscribe link and the newest entries. It is a
plain file, not a server route, so it works the same behind nginx or caddy.
``feed.xsl`` is the stylesheet the feed names in ``<?xml-stylesheet?>`` so a
browser opening the feed shows a readable page instead of raw XML.

Every scraped string is untrusted: all text goes through :func:`html.escape`,
entry links are limited to ``http``/``https`` (the links to the feed files are
relative and never read as a scheme), and the page forbids scripts with a
``Content-Security-Policy``. ``feed.xsl`` prints every string of the feed as
text too (``xsl:value-of``, never ``disable-output-escaping``) and links only
``http(s)`` addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from html import escape
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from .config import FeedSettings
from .fsutil import Publication
from .model import Entry

log = logging.getLogger(__name__)

INDEX_NAME = "index.html"
XSL_NAME = "feed.xsl"
#: Entries listed on the page; the feed itself may hold more.
MAX_LISTED = 100
_SUMMARY_CHARS = 280
#: No scripts, no remote content: the page is text and one inline style sheet.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"

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


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
) -> str:
    """The HTML of ``index.html`` for ``entries`` (newest first), fully escaped.

    ``feeds`` are the other feeds' documents as ``(title, media type, href)``:
    each gets an autodiscovery link and a line in a list of feeds. Without
    them the page is exactly the single-feed page.
    """
    title = escape(feed.title)
    href = escape(_local_href(feed_name))
    items = "\n".join(_entry_html(e) for e in entries[:MAX_LISTED])
    if not items:
        items = "<li>No entries yet.</li>"
    discovery, listing = _feed_links(feeds)
    more = ""
    if len(entries) > MAX_LISTED:
        more = f'<p class="meta">{len(entries) - MAX_LISTED} more in the feed.</p>\n'
    return f"""<!DOCTYPE html>
<html lang="{escape(feed.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="alternate" type="application/atom+xml" title="{title}" href="{href}">
{discovery}<style>
{_CSS}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="sub">{escape(feed.subtitle)}</p>
<a class="subscribe" href="{href}" type="application/atom+xml">Subscribe (Atom feed)</a>
{listing}</header>
<main>
<ol>
{items}
</ol>
{more}</main>
</body>
</html>
"""


_FORMAT_NAMES = {
    "application/atom+xml": "Atom",
    "application/rss+xml": "RSS",
    "application/feed+json": "JSON Feed",
}


def _feed_links(feeds: Sequence[tuple[str, str, str]]) -> tuple[str, str]:
    """(autodiscovery ``<link>`` lines, the list of feeds) of the other feeds; empty without."""
    if not feeds:
        return "", ""
    heads: list[str] = []
    rows: dict[str, list[str]] = {}
    for title, media, href in feeds:
        t, m, h = escape(title), escape(media), escape(_local_href(href))
        heads.append(f'<link rel="alternate" type="{m}" title="{t}" href="{h}">\n')
        name = escape(_FORMAT_NAMES.get(media, media))
        rows.setdefault(t, []).append(f'<a href="{h}" type="{m}">{name}</a>')
    items = "".join(f"<li>{t}: {' · '.join(links)}</li>\n" for t, links in rows.items())
    listing = (
        '<details class="feeds"><summary>More feeds (<a href="feeds.opml">OPML</a>)</summary>\n'
        f"<ul>\n{items}</ul>\n</details>\n"
    )
    return "".join(heads), listing


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
    """Stage ``index.html`` and ``feed.xsl`` next to ``output``, each only if it changed.

    ``entries`` arrive in feed order (newest first). The stylesheet is
    published before the feeds that point at it, the page after them.
    Without ``pub`` both are published at once. Raises ``OSError`` like
    :meth:`~feeder.fsutil.Publication.stage`; the caller decides how fatal it is.
    """
    if pub is None:
        with Publication() as own:
            write_pages(output=output, feed=feed, entries=entries, feeds=feeds, pub=own)
            own.publish()
            own.finish()
        return
    directory = output.parent
    page = render_index(feed_name=output.name, feed=feed, entries=entries, feeds=feeds)
    page_bytes = page.encode("utf-8")
    if pub.stage(directory / INDEX_NAME, page_bytes, level=Publication.LIST):
        log.debug("wrote %s (%d entries)", directory / INDEX_NAME, min(len(entries), MAX_LISTED))
    if pub.stage(directory / XSL_NAME, stylesheet(), level=Publication.LEAF):
        log.debug("wrote %s", directory / XSL_NAME)

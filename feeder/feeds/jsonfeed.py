"""Entries → JSON Feed 1.1 bytes (https://www.jsonfeed.org/version/1.1/), with :mod:`json`.

The same entries, ids and content as the Atom document. Every field the
specification requires is written (``version``, ``title``, ``items`` with
``id`` and ``content_html``), plus what readers use (``home_page_url``,
``feed_url``, dates in RFC 3339, ``authors``, ``tags``). Keys keep a fixed
order and nothing depends on the clock, so the same seeds give the same bytes.
Each item and the feed also carry JSON Feed 1.0's single ``author`` object
beside 1.1's ``authors``, so a 1.0 reader shows an author too.

``content_html`` is the sanitized HTML of the Atom content. Every other string
(titles, ``summary``, author names, tags) is plain text, as the specification
says, passed through :func:`inert_text`: a reader that wrongly puts it into a
page as HTML still shows the text and never gets markup out of it.

RFC 5005 paging maps onto JSON Feed's ``next_url``: the subscription document
points to the newest archive page, each archive page to the next older one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from html import unescape
from typing import Any

from feeder.config import FeedSettings
from feeder.content.language import of_feed
from feeder.model import Entry
from feeder.seeds.dates import rfc3339

VERSION = "https://jsonfeed.org/version/1.1"
#: U+2060 WORD JOINER: invisible, zero width, and plain text to every HTML parser.
WORD_JOINER = "\u2060"
#: Where HTML may open a tag, end tag, comment or processing instruction.
_TAG_OPEN = re.compile(r"<(?=[\w/!?])")
#: What may be a character reference (``&amp;``, ``&#60;``, ``&copy2024``).
_REFERENCE = re.compile(r"&[#\w]+;?")


def same_in_html(text: str) -> bool:
    """True when an HTML parser reads ``text`` as exactly these characters.

    False when some ``<`` opens markup (see :func:`inert_text`) or some ``&``
    begins a character reference that :func:`html.unescape` would decode
    (``&amp;``, ``&#60;``, ``&copy2024``); ``AT&T``, ``a < b`` or ``<=`` are
    read as themselves.
    """
    if "<" not in text and "&" not in text:
        return True
    if _TAG_OPEN.search(text):
        return False
    return all(unescape(ref) == ref for ref in _REFERENCE.findall(text))


def inert_text(text: str) -> str:
    """``text`` (plain text) so that read as HTML it is still that text, never markup.

    An HTML parser opens a tag (an end tag, a comment, a processing
    instruction) at a ``<`` followed by a letter, ``/``, ``!`` or ``?`` (digits
    and ``_`` count too here, as in feedparser's guess), and decodes a
    character reference at an ``&``. A WORD JOINER (U+2060,
    invisible) after each such ``<``, and after each ``&`` that begins a
    reference :func:`html.unescape` would decode, leaves both read as
    themselves. Plain-text readers show the same text; a reader that treats the
    field as HTML finds no element in it. Text without either is unchanged.
    """
    if same_in_html(text):
        return text
    text = _REFERENCE.sub(_inert_reference, text)
    return _TAG_OPEN.sub("<" + WORD_JOINER, text)


def _inert_reference(match: re.Match[str]) -> str:
    ref = match.group()
    return "&" + WORD_JOINER + ref[1:] if unescape(ref) != ref else ref


def render_json(entries: Sequence[Entry], *, feed: FeedSettings, next_url: str = "") -> bytes:
    """Serialize ``entries`` (in feed order) as a JSON Feed 1.1 document."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "title": inert_text(feed.title),
        "home_page_url": feed.alternate_url,
        "feed_url": feed.self_url,
    }
    if feed.subtitle:
        doc["description"] = inert_text(feed.subtitle)
    if next_url:
        doc["next_url"] = next_url
    language = of_feed(feed.language, (e.rendered.language for e in entries))
    if language:
        doc["language"] = language
    author = {"name": inert_text(feed.author)}
    doc["author"] = author  # JSON Feed 1.0
    doc["authors"] = [author]
    doc["items"] = [_item(e) for e in entries]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(entry: Entry) -> dict[str, Any]:
    m, r = entry.meta, entry.rendered
    item: dict[str, Any] = {"id": m.id}
    if m.link:
        item["url"] = m.link
    item["title"] = inert_text(m.title)
    item["content_html"] = r.content
    if r.summary:
        item["summary"] = inert_text(r.summary)
    item["date_published"] = rfc3339(m.published)
    item["date_modified"] = rfc3339(m.updated)
    author = {"name": inert_text(m.source), **({"url": m.source_link} if m.source_link else {})}
    item["author"] = author  # JSON Feed 1.0
    item["authors"] = [author]
    if m.tags:
        item["tags"] = [inert_text(tag) for tag in m.tags]
    if r.language:
        item["language"] = r.language
    return item

"""Entries → JSON Feed 1.1 bytes (https://www.jsonfeed.org/version/1.1/), with :mod:`json`.

The same entries, ids and content as the Atom document. Every field the
specification requires is written (``version``, ``title``, ``items`` with
``id`` and ``content_html``), plus what readers use (``home_page_url``,
``feed_url``, dates in RFC 3339, ``authors``, ``tags``). Keys keep a fixed
order and nothing depends on the clock, so the same seeds give the same bytes.
RFC 5005 paging maps onto JSON Feed's ``next_url``: the subscription document
points to the newest archive page, each archive page to the next older one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .config import FeedSettings
from .dates import rfc3339
from .model import Entry

VERSION = "https://jsonfeed.org/version/1.1"


def render_json(entries: Sequence[Entry], *, feed: FeedSettings, next_url: str = "") -> bytes:
    """Serialize ``entries`` (in feed order) as a JSON Feed 1.1 document."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.alternate_url,
        "feed_url": feed.self_url,
    }
    if feed.subtitle:
        doc["description"] = feed.subtitle
    if next_url:
        doc["next_url"] = next_url
    doc["language"] = feed.language
    doc["authors"] = [{"name": feed.author}]
    doc["items"] = [_item(e) for e in entries]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(entry: Entry) -> dict[str, Any]:
    m, r = entry.meta, entry.rendered
    item: dict[str, Any] = {"id": m.id}
    if m.link:
        item["url"] = m.link
    item["title"] = m.title
    item["content_html"] = r.content
    if r.summary:
        item["summary"] = r.summary
    item["date_published"] = rfc3339(m.published)
    item["date_modified"] = rfc3339(m.updated)
    item["authors"] = [{"name": m.source, **({"url": m.source_link} if m.source_link else {})}]
    if m.tags:
        item["tags"] = list(m.tags)
    return item

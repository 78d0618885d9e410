"""Document → entry: a table of per-field normalizers, then the content pipeline.

:func:`entry_meta` is cheap and runs for every seed (it decides which
entries reach the feed); :func:`render` is the expensive part (Markdown,
cleaning, sanitizing) and runs only for entries that are published.
A field that cannot be read falls back to something sensible with a
warning; a seed with nothing to publish raises :class:`SeedError`.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from html.entities import html5
from pathlib import PurePosixPath
from typing import Any

from feeder.config import Settings
from feeder.content.imageproxy import proxy_images
from feeder.content.language import SAMPLE_CHARS
from feeder.content.language import detect as detect_language
from feeder.content.language import tag as language_tag
from feeder.content.learned import chrome_keys
from feeder.content.learned import strip_html as strip_learned
from feeder.content.sanitize import sanitize_html, strip_invalid_xml
from feeder.errors import DateError, SeedError, URLError
from feeder.model import Document, EntryMeta, Rendered
from feeder.seeds.dates import parse_date
from feeder.seeds.urls import canonical, entry_id, host, origin, public_link, tag_uri

#: Front-matter names of each field, in order of preference (keys are folded:
#: lower case, ``-`` and spaces as ``_``).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "title": ("title", "page_title", "headline", "og_title", "name", "subject"),
    "url": (
        "url",
        "source_url",
        "original_url",
        "canonical_url",
        "link",
        "permalink",
        "original_link",
        "article_url",
        "origin_url",
        "href",
        "uri",
        "web_url",
    ),
    "source": (
        "source",
        "source_name",
        "site_name",
        "site",
        "publisher",
        "feed_title",
        "feed_name",
        "feed",
        "blog",
        "account",
        "channel",
        "website",
    ),
    "date": (
        "date",
        "published",
        "published_at",
        "date_published",
        "publish_date",
        "pubdate",
        "pub_date",
        "created",
        "created_at",
        "posted",
        "posted_at",
        "issued",
        "datetime",
        "time",
    ),
    "fetch_date": (
        "fetch_date",
        "fetched_at",
        "fetched",
        "date_fetched",
        "fetch_time",
        "captured",
        "captured_at",
        "clipped_at",
        "clipped",
        "crawled_at",
        "crawl_date",
        "crawled",
        "scraped_at",
        "scraped",
        "retrieved",
        "retrieved_at",
        "accessed",
        "accessed_at",
        "ingested",
        "ingested_at",
        "saved_at",
        "downloaded_at",
        "collected_at",
        "collected",
        "curated_at",
        "distilled_at",
        "updated",
        "updated_at",
        "modified",
        "modified_at",
        "date_modified",
    ),
    "tags": ("tags", "categories", "category", "keywords", "topics", "labels"),
    "language": ("lang", "language", "locale", "content_language", "inlanguage"),
}
MAX_TAGS = 20
#: Markdown beyond this many characters per byte of ``max_content_bytes`` is not rendered.
MARKDOWN_CAP_FACTOR = 4
#: Markdown beyond this many lines and markup characters (:data:`_MARKUP`) is
#: not rendered. Rendering and cleaning cost ~0.1-0.4 ms for each element
#: made, and the elements follow the markup, not the bytes: 300 KB of table
#: rows took 20 s and 370 MB, and the 4 MiB that the byte cap lets through
#: would take minutes. The most of 10 000 realistic seeds is ~1 900.
MAX_MARKUP = 20_000
#: What opens a block (a line) or an inline element: tags and autolinks, links
#: and images, emphasis, code, table cells, entities, strikethrough.
_MARKUP_CHARS = "\n<[*_`|&~"
_MARKUP = re.compile(f"[{re.escape(_MARKUP_CHARS)}]")
#: A publication date this far past the fetch is not believed.
FUTURE_SLACK = timedelta(days=1)

_HEADING = re.compile(r"^\s{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_HTML_HEADING = re.compile(r"<h[1-3][^>]*>(.*?)</h[1-3]>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|pre|blockquote|tr|table|ul|ol|figure)>")


#: A no-break space whose escape leaked into the text (``\xa0``, ``\u00a0``, or
#: ``xa0`` right after a CJK character, its backslash lost): crawlers' repr() bugs.
_LEAKED_NBSP = re.compile(r"\\(?:xa0|u00a0)|(?<=[^\x00-\x7f])xa0(?![0-9a-zA-Z])")


#: Where :func:`html.unescape` may change a text: a character reference, a named
#: one with its ``;``, or one of the legacy names it reads without (``&amp``,
#: ``&not``). Elsewhere (``&mid=1&idx=2`` in a url) it returns the text as it is.
_LEGACY_NAMES = "|".join(sorted(name for name in html5 if not name.endswith(";")))
_MAY_UNESCAPE = re.compile(f"&(?:#|[A-Za-z0-9]+;|(?:{_LEGACY_NAMES}))")


def fold(text: str) -> str:
    """Decode entities, drop XML-invalid characters, fold white space.

    White space is what ``str.split`` splits on (the characters ``\\s`` matches
    in a ``str`` pattern): each run of it becomes one space, none at either end.
    """
    if "xa0" in text or "u00a0" in text:
        text = _LEAKED_NBSP.sub(" ", text)
    if "&" in text and _MAY_UNESCAPE.search(text):
        text = html.unescape(text)
    return " ".join(strip_invalid_xml(text).split())


#: Front-matter name → (field, rank among the field's names), for :func:`_picks`.
_FIELD_OF = {
    alias: (name, rank) for name, aliases in ALIASES.items() for rank, alias in enumerate(aliases)
}


#: A name read inside a mapping ranks after every name at the top.
_NESTED_RANK = 1000


def _folded(key: object) -> str:
    return str(key).strip().lower().replace("-", "_").replace(" ", "_")


def _picks(meta: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """field → (name, value): each field's first name in :data:`ALIASES` that has a value.

    One pass over the front matter's few keys, not over every field's names.
    A mapping is looked into, one level, for what the top does not give:
    ``source: {source_name: …, source_url: …, published_at: …}`` and
    ``og: {title: …}`` are read as ``source_name``, ``source_url``,
    ``published_at`` and ``og_title``. Inside a mapping ``PARENT``, a key
    ``KEY`` counts as ``PARENT_KEY`` when that is a field's name, else as
    ``KEY`` itself only when that is a qualified name (with ``_``): so
    ``author: {name: …, url: …}`` gives neither a title nor a url. The name
    returned is the one warnings show (``source.published_at``).
    """
    best: dict[str, tuple[int, str, Any]] = {}
    nested: list[tuple[str, str, Any]] | None = None  # (name, shown, value): after the top
    for key, value in meta.items():
        spot = _FIELD_OF.get(key)
        if spot is None or value in (None, "", []) or isinstance(value, dict):
            if isinstance(value, dict):  # not Mapping: an ABC check costs 0.2 µs a key
                nested = [*(nested or ()), *_inner_names(key, value)]
            continue
        name, rank = spot
        have = best.get(name)
        if have is None or rank < have[0]:
            best[name] = (rank, key, value)
    for key, shown, value in nested or ():
        name, rank = _FIELD_OF[key]
        rank += _NESTED_RANK
        have = best.get(name)
        if value not in (None, "", []) and (have is None or rank < have[0]):
            best[name] = (rank, shown, value)
    return {name: (key, value) for name, (_, key, value) in best.items()}


def _inner_names(parent: str, mapping: Mapping[Any, Any]) -> Iterator[tuple[str, str, Any]]:
    """(field name, name shown, value) of the keys of ``parent``'s mapping that name a field."""
    for inner, value in mapping.items():
        if isinstance(value, dict):
            continue
        child = _folded(inner)
        joined = f"{parent}_{child}"
        if joined in _FIELD_OF:
            yield joined, f"{parent}.{child}", value
        elif "_" in child and child in _FIELD_OF:
            yield child, f"{parent}.{child}", value


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if v not in (None, "")), "")
    if isinstance(value, dict):
        return ""
    return fold(str(value)) if value is not None else ""


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.strip().strip("[]").split(",")
    if not isinstance(value, list):
        value = [value]
    out: dict[str, None] = {}
    for item in value:
        if isinstance(item, dict | list) or item is None:
            continue
        tag = fold(str(item)).strip("'\"")[:100]
        if tag:
            out.setdefault(tag, None)
    return tuple(out)[:MAX_TAGS]


def _first_heading(body: str) -> str:
    m = _HEADING.search(body)
    if m:
        return fold(_TAG.sub("", m.group(1)).replace("*", "").replace("`", ""))
    m = _HTML_HEADING.search(body)
    return fold(_TAG.sub("", m.group(1))) if m else ""


def _date_field(
    picked: tuple[str, Any] | None,
    tz: tzinfo,
    warn: Callable[[str], None],
    *,
    fallback_note: str,
) -> datetime | None:
    """The date ``picked`` (name, value), or None with a warning when it is unreadable."""
    if picked is None:
        return None
    key, raw = picked
    try:
        return parse_date(raw, tz=tz)[0]
    except DateError as e:
        warn(f"{key}: {e}{fallback_note}")
        return None


def entry_meta(doc: Document, *, settings: Settings, mtime: float) -> EntryMeta:
    """The metadata of ``doc`` as an entry, or :class:`SeedError` if it has none.

    ``mtime`` (the file's modification time) is the date of last resort.
    """
    picked = _picks(doc.meta)
    warnings = list(doc.warnings)
    warn: Callable[[str], None] = warnings.append

    link = canon = ""
    url_text = _text(picked["url"][1]) if "url" in picked else ""
    if url_text:
        try:
            canon = canonical(url_text)  # raises URLError for an unusable url
            link, notes = public_link(url_text)  # no password, no disguised host
            warnings.extend(notes)
        except URLError as e:
            warn(f"url ignored: {e}")
            link = canon = ""
    else:
        warn("no url")
    site = host(link) if link else ""

    title = _text(picked["title"][1]) if "title" in picked else ""
    if not title:
        title = _first_heading(doc.body)
        if title:
            warn("no title: used the first heading")
        else:
            title = PurePosixPath(doc.rel).stem
            warn("no title: used the file name")
    title = title[:500]

    source = (_text(picked["source"][1]) if "source" in picked else "")[:200] or site or "unknown"

    tz = settings.tz_for_host(site)
    fallback = datetime.fromtimestamp(mtime, tz=UTC)
    fetched = _date_field(picked.get("fetch_date"), tz, warn, fallback_note="")
    # Name the value actually used: the fetch date, else the file's mtime.
    used = (
        "used the fetch date"
        if fetched
        else f"used the file's modification time ({fallback.isoformat(timespec='seconds')})"
    )
    published = _date_field(picked.get("date"), tz, warn, fallback_note=f"; {used}")
    if "date" not in picked:
        warn(f"no date: {used}")
    limit = (fetched or fallback) + FUTURE_SLACK
    if published is not None and published > limit:
        warn(f"date {published.date()} is after the fetch: {used}")
        published = None
    if published is None:
        published = fetched or fallback
    updated = max(fetched or published, published)

    if not doc.body.strip() and not link:
        raise SeedError(doc.rel, "nothing to publish: no article text and no url")
    if canon:
        ident = entry_id(canon)
    else:
        ident = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'feeder-seed:' + doc.rel)}"

    feed = settings.feed
    return EntryMeta(
        rel=doc.rel,
        digest=doc.digest,
        id=ident,
        canonical_url=canon,
        link=link,
        title=title,
        source=source,
        source_id=tag_uri(feed.tag_authority, feed.tag_date, "source:" + source),
        source_link=origin(link) if link else "",
        published=published,
        updated=updated,
        tags=_tags(picked["tags"][1] if "tags" in picked else None),
        language=language_tag(picked["language"][1] if "language" in picked else None),
        warnings=tuple(warnings),
    )


def summarize(content: str, limit: int) -> str:
    """A plain-text excerpt of about ``limit`` characters, cut between words where it can."""
    text = fold(_TAG.sub(" ", _BLOCK_END.sub(" ", content)))
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：、") + "…"


def _truncate(content: str, *, limit: int, link: str) -> str:
    """Cut ``content`` to at most ``limit`` bytes of HTML at a tag boundary, with a note."""
    note = (
        "<p><em>[Truncated: this article is too long for the feed. "
        + (
            f'Read the whole of it at <a href="{html.escape(link)}">the original</a>.'
            if link
            else "The rest was left out."
        )
        + "]</em></p>"
    )
    budget = limit - len(note.encode()) - 64
    head = content.encode()[:budget].decode("utf-8", errors="ignore")
    ends = [m.end() for m in _BLOCK_END.finditer(head)]
    head = head[: ends[-1]] if ends else head[: head.rfind("<")] if "<" in head else head
    return sanitize_html(head, base_url="") + note


def _cut_markup(text: str, limit: int) -> str:
    """``text`` up to its ``limit``-th markup character, cut at a paragraph or line end."""
    for i, m in enumerate(_MARKUP.finditer(text)):
        if i == limit:
            at = m.start()
            break
    else:
        return text
    for sep in ("\n\n", "\n"):
        end = text.rfind(sep, 0, at)
        if end > at // 2:
            return text[:end]
    return text[:at]


def render(
    doc: Document,
    meta: EntryMeta,
    *,
    settings: Settings,
    clean: Callable[[str, EntryMeta], str] | None = None,
    chrome: Sequence[int] = (),
) -> Rendered:
    """Markdown → cleaned → sanitized HTML, capped in size, with a summary and a language.

    ``clean`` is the content-cleaning stage (site rules and main-content
    extraction); it is passed in so the pipeline loads the rules once.
    ``chrome`` are the fingerprints of lines learned as the site's chrome
    (:mod:`feeder.content.learned`): what of them the page's own cleaning left is
    taken out after it.
    """
    from feeder.content.render import render_markdown

    text = strip_invalid_xml(doc.body)
    # The HTML is capped at max_content_bytes anyway: rendering and cleaning
    # megabytes beyond that is wasted time (a 64 MiB seed would take seconds),
    # and so is markup beyond MAX_MARKUP (a long table would take minutes).
    cap = MARKDOWN_CAP_FACTOR * settings.max_content_bytes
    cut = len(text) > cap
    if cut:
        end = text.rfind("\n\n", 0, cap)
        text = text[: end if end > cap // 2 else cap]
    if sum(map(text.count, _MARKUP_CHARS)) > MAX_MARKUP:
        text = _cut_markup(text, MAX_MARKUP)
        cut = True
    learned = chrome_keys(text, chrome, title=meta.title) if chrome else []
    body = render_markdown(text)
    if clean is not None:
        body = clean(body, meta)
    if learned:
        body, _ = strip_learned(body, learned)
    content = sanitize_html(body, base_url=meta.link)
    truncated = False
    if cut or len(content.encode()) > settings.max_content_bytes:
        content = _truncate(content, limit=settings.max_content_bytes, link=meta.link)
        truncated = True
    if settings.image_proxy:
        content = proxy_images(
            content, template=settings.image_proxy, hosts=settings.image_proxy_hosts
        )
    if not _TAG.sub("", content).strip() and "<img" not in content:
        content = (
            f'<p><a href="{html.escape(meta.link)}">Read the original article</a></p>'
            if meta.link
            else "<p>(no text)</p>"
        )
    return Rendered(
        content=content,
        summary=summarize(content, settings.summary_chars),
        truncated=truncated,
        language=meta.language or detect_language(meta.title + "\n" + _text_of(content)),
    )


def _text_of(content: str) -> str:
    """The visible text of sanitized HTML, roughly (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub(" ", content[: 4 * SAMPLE_CHARS]))


def dedupe(metas: Sequence[EntryMeta]) -> tuple[list[EntryMeta], list[tuple[EntryMeta, str]]]:
    """One entry per id: the newest fetch wins (ties: the later path).

    Returns the winners and the (loser, reason) pairs, for the report.
    """
    best: dict[str, EntryMeta] = {}
    for m in metas:
        cur = best.get(m.id)
        if cur is None or (m.updated, m.rel) > (cur.updated, cur.rel):
            best[m.id] = m
    winners = list(best.values())
    losers = [
        (m, f"duplicate of {best[m.id].rel} (same article, older fetch)")
        for m in metas
        if best[m.id] is not m
    ]
    return winners, losers


def feed_order(metas: list[EntryMeta]) -> list[EntryMeta]:
    """Newest first: published, then updated, then id (a total order)."""
    return sorted(metas, key=lambda m: (m.published, m.updated, m.id), reverse=True)

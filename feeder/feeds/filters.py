"""Which entries a feed holds: :class:`Matcher` applies a feed's :class:`Filters`.

Matching sees only :class:`~feeder.model.EntryMeta`: the state does not keep
bodies, so when a feed filters on content the parse step stores a capped,
plain-text copy of the body in ``EntryMeta.text`` (:func:`search_text`). It
is filled only when some feed needs it, so a configuration without content
filters stores and decodes nothing more than before.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, tzinfo
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from feeder.feedconf import FeedSpec, Filters
from feeder.model import EntryMeta

#: Characters of body text kept for content filters (a keyword further on is not seen).
TEXT_CHARS = 16_000
_MARKUP = re.compile(r"<[^>]*>|!?\[([^\]]*)\]\([^)]*\)|[*_`#>|~]+")


def search_text(body: str) -> str:
    """The Markdown ``body`` as searchable text: markup and link targets gone,
    white space folded, at most :data:`TEXT_CHARS` characters."""
    return " ".join(_MARKUP.sub(r" \1 ", body).split())[:TEXT_CHARS]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _instant(value: datetime | date, tz: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value if value.tzinfo else value.replace(tzinfo=tz)


class Matcher:
    """A compiled :class:`Filters`: call :meth:`matches` on each entry."""

    def __init__(self, filters: Filters, tz: tzinfo) -> None:
        self.f = filters
        self.title = "title" in filters.match_in
        self.content = "content" in filters.match_in
        self.regex = [re.compile(r, re.IGNORECASE) for r in filters.regex]
        self.exclude_regex = [re.compile(r, re.IGNORECASE) for r in filters.exclude_regex]
        self.since = _instant(filters.since, tz) if filters.since else None
        self.until = _instant(filters.until, tz) if filters.until else None

    @staticmethod
    def _glob(value: str, patterns: Sequence[str]) -> bool:
        folded = value.casefold()
        return any(fnmatchcase(folded, p.casefold()) for p in patterns)

    def _texts(self, meta: EntryMeta) -> list[str]:
        return [t for t, on in ((meta.title, self.title), (meta.text, self.content)) if on]

    def _keyword(self, meta: EntryMeta, words: Sequence[str]) -> bool:
        texts = [t.casefold() for t in self._texts(meta)]
        return any(w.casefold() in t for w in words for t in texts)

    def _regex(self, meta: EntryMeta, patterns: Sequence[re.Pattern[str]]) -> bool:
        texts = self._texts(meta)
        return any(p.search(t) for p in patterns for t in texts)

    def matches(self, meta: EntryMeta) -> bool:
        """True when ``meta`` passes every configured criterion and no exclusion."""
        f = self.f
        if self.since and meta.published < self.since:
            return False
        if self.until and meta.published >= self.until:
            return False
        host = _host(meta.link)
        tags = [t.casefold() for t in meta.tags]
        wanted = [
            not f.source or self._glob(meta.source, f.source),
            not f.host or self._glob(host, f.host),
            not f.tag or any(t.casefold() in tags for t in f.tag),
            not f.keyword or self._keyword(meta, f.keyword),
            not self.regex or self._regex(meta, self.regex),
        ]
        if not all(wanted):
            return False
        return not (
            (f.exclude_source and self._glob(meta.source, f.exclude_source))
            or (f.exclude_host and self._glob(host, f.exclude_host))
            or (f.exclude_tag and any(t.casefold() in tags for t in f.exclude_tag))
            or (f.exclude_keyword and self._keyword(meta, f.exclude_keyword))
            or (self.exclude_regex and self._regex(meta, self.exclude_regex))
        )


def source_slug(source: str) -> str:
    """A stable, URL-safe file name stem for ``source``: ASCII slug plus a short hash.

    ``Krebs on Security`` → ``krebs-on-security-3f1a…``; a name without ASCII
    letters (``安全客``) → ``source-…``. The hash of the exact name keeps two
    sources that fold to one slug apart, and is the same on every machine.
    """
    ascii_name = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'source'}-{digest}"


def with_text(meta: EntryMeta, body: str, feeds: Sequence[FeedSpec]) -> EntryMeta:
    """``meta`` with its searchable text when some feed filters on content, else as is."""
    if any(spec.filters.needs_text for spec in feeds):
        return replace(meta, text=search_text(body))
    return meta

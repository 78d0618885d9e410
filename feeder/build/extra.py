"""The extra feeds of a build: ``[[feeds]]`` and ``[per_source]`` (issue #7).

The pipeline calls three functions, all no-ops without extra feeds:

* :func:`plan` picks, from the state's published entries (every seed was
  parsed once, by the build), the entries of each feed. The pipeline renders
  the union of them with the main feed's entries, through the one cache.
* :func:`write` stages every feed's documents (formats, archive pages) and
  ``feeds.opml`` in the build's publication, retires the files of feeds no
  longer configured, and remembers in the state what it wrote.
* :func:`intact` tells the no-change path whether those files and the
  configuration are still the ones of the last build.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from feeder.build.state import State
from feeder.config import Settings
from feeder.errors import OutputError
from feeder.feedconf import FeedSpec, Filters
from feeder.feeds.documents import (
    MEDIA,
    OPML_NAME,
    PlannedFeed,
    documents,
    render_opml,
    write_documents,
)
from feeder.feeds.filters import Matcher, source_slug
from feeder.fsutil import Publication, file_signature
from feeder.model import Entry, EntryMeta, FeedReport

log = logging.getLogger(__name__)

#: Key of the state's ``info`` table holding what the last build wrote.
INFO_KEY = "feeds"


@dataclass(frozen=True)
class Plan:
    """Every extra feed of a build and the entries they need rendered."""

    feeds: tuple[PlannedFeed, ...]
    #: The union of the feeds' entries, each id once.
    metas: tuple[EntryMeta, ...]


def configured(settings: Settings) -> bool:
    """True when the configuration asks for feeds beyond the main one."""
    return bool(settings.feeds) or bool(settings.per_source and settings.per_source.enabled)


def _planned(
    settings: Settings, spec: FeedSpec, metas: Sequence[EntryMeta], feed_id: str
) -> PlannedFeed:
    size = settings.max_entries if spec.max_entries is None else spec.max_entries
    feed = replace(
        settings.feed,
        title=spec.title,
        subtitle=spec.subtitle or settings.feed.subtitle,
        id=feed_id,
        self_url=urljoin(settings.feed.self_url, spec.output),
    )
    kept = tuple(metas) if spec.archive or not size else tuple(metas[:size])
    return PlannedFeed(spec.name, feed, spec.outputs(), kept, size, spec.archive, len(metas))


def plan_from(settings: Settings, published: Sequence[EntryMeta]) -> Plan:
    """The plan of ``settings``' extra feeds over ``published`` (newest first)."""
    from feeder.seeds.urls import tag_uri

    tz = ZoneInfo(settings.timezone)
    authority, day = settings.feed.tag_authority, settings.feed.tag_date
    feeds: list[PlannedFeed] = []
    for spec in settings.feeds:
        matcher = Matcher(spec.filters, tz)
        chosen = [m for m in published if matcher.matches(m)]
        feeds.append(_planned(settings, spec, chosen, tag_uri(authority, day, f"feed:{spec.name}")))
    ps = settings.per_source
    if ps is not None and ps.enabled:
        skip = Matcher(Filters(source=ps.exclude_source), tz)
        by_source: dict[str, list[EntryMeta]] = {}
        for m in published:
            if not (ps.exclude_source and skip.matches(m)):
                by_source.setdefault(m.source, []).append(m)
        for source in sorted(by_source):
            slug = source_slug(source)
            spec = FeedSpec(
                name=slug,
                title=ps.title.replace("{source}", source),
                output=f"{ps.directory}/{slug}.atom",
                subtitle=f"Articles from {source}",
                formats=ps.formats,
                max_entries=ps.max_entries,
                archive=ps.archive,
            )
            feed_id = tag_uri(authority, day, f"feed:source:{source}")
            feeds.append(_planned(settings, spec, by_source[source], feed_id))
    union: dict[str, EntryMeta] = {}
    for planned in feeds:
        for m in planned.metas:
            union.setdefault(m.id, m)
    return Plan(tuple(feeds), tuple(union.values()))


def plan(st: State, settings: Settings) -> Plan | None:
    """The plan of this build, or ``None`` without extra feeds (nothing is read)."""
    if not configured(settings):
        return None
    return plan_from(settings, st.published(0))


def _config_key(settings: Settings) -> str:
    parts = [settings.feeds, settings.per_source, settings.output, settings.max_entries]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _stored(st: State) -> dict[str, object] | None:
    raw = st.get(INFO_KEY)
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def intact(st: State, settings: Settings) -> bool:
    """True when the extra feeds need no writing: same configuration, files untouched."""
    stored = _stored(st)
    if not configured(settings):
        return stored is None
    if stored is None or stored.get("config") != _config_key(settings):
        return False
    files = stored.get("files")
    return isinstance(files, dict) and all(file_signature(Path(p)) == s for p, s in files.items())


def last_reports(st: State) -> tuple[FeedReport, ...]:
    """The feeds of the last build, as unchanged (for a build that had nothing to do)."""
    stored = _stored(st) or {}
    reports = stored.get("reports")
    if not isinstance(reports, list):
        return ()
    return tuple(
        FeedReport(r["name"], tuple(r["outputs"]), r["entries"], False, r.get("matched", 0))
        for r in reports
    )


def write(
    st: State,
    settings: Settings,
    the_plan: Plan | None,
    entries: Mapping[str, Entry],
    pub: Publication,
    empty_updated: datetime,
) -> tuple[FeedReport, ...]:
    """Stage every extra feed and ``feeds.opml`` in ``pub``; record them in the state.

    A feed that matches nothing says ``empty_updated`` (the build's newest
    entry's ``updated``) instead of 1970.

    Files of feeds no longer configured are retired: deleted once the rest is
    published.
    """
    stored = _stored(st)
    if the_plan is None and stored is None:
        return ()
    from feeder.feeds.pages import feed_pages, write_feed_page

    directory = settings.output.parent
    reports: list[FeedReport] = []
    written: list[Path] = []
    pages = feed_pages(settings.output.name, page_links(the_plan))
    for planned in the_plan.feeds if the_plan else ():
        if planned.archive:
            planned = _in_first_published_order(st, planned)
        docs = documents(planned, settings.feed.self_url)
        paths, changed = write_documents(docs, entries, directory, pub, empty_updated)
        written += paths
        current = next((d for d in docs if d.rel == planned.outputs["atom"]), None)
        n = len(current.metas) if current else 0
        if planned.outputs["atom"] in pages:  # the feed's HTML page, beside its Atom document
            written.append(
                write_feed_page(
                    directory=directory,
                    page=pages[planned.outputs["atom"]],
                    feed=planned.feed,
                    formats=[(MEDIA[fmt], rel) for fmt, rel in planned.outputs.items()],
                    entries=[entries[m.id] for m in (current.metas if current else ())],
                    pub=pub,
                )
            )
        reports.append(
            FeedReport(planned.name, tuple(map(str, paths)), n, changed, planned.matched)
        )
    if the_plan is not None:
        written.append(_write_opml(settings, the_plan, pub))
    keep = {str(p) for p in written}
    old = stored.get("files") if stored else None
    for name in old if isinstance(old, dict) else ():
        path = Path(name)
        if name not in keep and directory in path.parents:
            log.info("%s: no longer configured; removed", path)
            pub.retire(path)
    if the_plan is None:
        st.put(INFO_KEY, "")  # nothing configured any more
        return ()
    record = {
        "config": _config_key(settings),
        "files": {str(p): pub.signature(p) for p in written},
        "reports": [r.to_json() for r in reports],
    }
    st.put(INFO_KEY, json.dumps(record, ensure_ascii=False, sort_keys=True))
    return tuple(reports)


def _in_first_published_order(st: State, planned: PlannedFeed) -> PlannedFeed:
    """``planned`` with its entries in the order they first reached this feed, newest first.

    RFC 5005 archive pages should not change once written: paging by
    publication order (not by date) keeps them so, and an entry that
    arrives back-dated lands on the newest page. Entries new to the feed
    are numbered in date order, oldest first, after every known one.
    """
    known = st.feed_order(planned.name)
    new = [m.id for m in reversed(planned.metas) if m.id not in known]
    if new:
        start = max(known.values(), default=0) + 1
        added = {ident: start + i for i, ident in enumerate(new)}
        st.add_feed_order(planned.name, added)
        known.update(added)
    ordered = sorted(planned.metas, key=lambda m: known[m.id], reverse=True)
    return replace(planned, metas=tuple(ordered))


def _write_opml(settings: Settings, the_plan: Plan, pub: Publication) -> Path:
    main = (settings.feed.title, settings.feed.self_url, settings.feed.alternate_url)
    items = [main] + [(p.feed.title, p.feed.self_url, p.feed.alternate_url) for p in the_plan.feeds]
    path = settings.output.parent / OPML_NAME
    try:
        pub.stage(path, render_opml(settings.feed.title, items), level=Publication.LIST)
    except OSError as e:
        raise OutputError(path, f"cannot write the feed list: {e.strerror or e}") from e
    return path


def page_links(the_plan: Plan | None) -> list[tuple[str, str, str]]:
    """``(title, media type, href)`` of every extra feed document, for ``index.html``."""
    from feeder.feeds.documents import MEDIA

    out: list[tuple[str, str, str]] = []
    for planned in the_plan.feeds if the_plan else ():
        for fmt, rel in planned.outputs.items():
            out.append((planned.feed.title, MEDIA[fmt], rel))
    return out

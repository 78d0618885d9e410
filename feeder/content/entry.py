"""The expensive stage: the content of entries that reach a feed.

An entry's seed is read again (bodies are never kept in memory or in the
state), rendered, cleaned and sanitized. A seed that cannot be rendered any
more keeps its entry, with a link to the original instead of its text. The
same functions run in the calling process or in a build's worker processes.

No text is lost silently: a seed whose Markdown had to be flattened or
repaired, whose rendering lost text (:func:`feeder.content.render.collect_notes`),
or whose cleaning dropped most of what reads as its article for where it
stood (more than :data:`CLEAN_LOSS_SHARE`), gets a warning naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from html import escape

from feeder.config import Settings
from feeder.errors import SeedError
from feeder.model import EntryMeta, Rendered, SeedFile
from feeder.seeds.read import read_document

log = logging.getLogger(__name__)

Cleaner = Callable[[str, EntryMeta], str]

#: Cleaning may drop this share of the article-like prose for its place alone unreported.
CLEAN_LOSS_SHARE = 0.6
#: ... and this much (units: characters, a CJK one counting 3), whatever the share.
CLEAN_LOSS_MIN_UNITS = 200.0
#: Part of the render cache key: rendered content changes when this does.
CONTENT_VERSION = "text-1"


def make_cleaner(settings: Settings) -> tuple[Cleaner, str]:
    """The cleaning stage and the digest of its rules (part of the cache key).

    The rules alone are loaded here; the cleaner itself (and BeautifulSoup,
    100 ms of imports) only when an entry is actually rendered, so a build
    whose entries are all cached never pays for it.
    """
    from feeder.content.sites import load_rules

    rules = load_rules(settings.sites_dir)

    def clean(html: str, meta: EntryMeta) -> str:
        from feeder.content.clean import clean_html
        from feeder.content.render import note

        cleaned = clean_html(html, url=meta.link, title=meta.title, source=meta.source, rules=rules)
        if (
            cleaned.article_loss > CLEAN_LOSS_SHARE
            and cleaned.article_dropped >= CLEAN_LOSS_MIN_UNITS
        ):
            note(
                f"cleaning dropped {cleaned.article_loss:.0%} of what reads as the article"
                f" ({cleaned.article_dropped:.0f} of {cleaned.article_units:.0f} units of prose)"
                " as outside it; `feeder check --explain` shows what"
            )
        return cleaned.html

    return clean, f"{rules.digest}|{CONTENT_VERSION}"


def render_entry(
    meta: EntryMeta,
    seed: SeedFile | None,
    settings: Settings,
    cleaner: Cleaner,
    *,
    chrome: Sequence[int] = (),
) -> Rendered:
    """Render ``meta``'s seed, logging its warnings; on any failure, a link to the original.

    ``chrome`` are the fingerprints of its lines that are its site's learned
    chrome (:mod:`feeder.content.learned`): they go before the Markdown is rendered.
    """
    rendered, warnings = render_with_warnings(meta, seed, settings, cleaner, chrome=chrome)
    for text in warnings:
        log.warning("%s", text)
    return rendered


def render_with_warnings(
    meta: EntryMeta,
    seed: SeedFile | None,
    settings: Settings,
    cleaner: Cleaner,
    *,
    chrome: Sequence[int] = (),
) -> tuple[Rendered, tuple[str, ...]]:
    """:func:`render_entry`, the warnings (each naming the seed) returned, not logged.

    A worker process has no log handler of the command's: its warnings go
    back with the result and the command logs them.
    """
    from feeder.content.render import collect_notes
    from feeder.seeds.normalize import render

    try:
        if seed is None:
            raise SeedError(meta.rel, "file vanished", transient=True)
        doc = read_document(seed)
        if doc.digest != meta.digest:
            raise SeedError(meta.rel, "file changed since it was scanned", transient=True)
        with collect_notes() as notes:
            rendered = render(doc, meta, settings=settings, clean=cleaner, chrome=chrome)
        return rendered, tuple(f"{meta.rel}: {text}" for text in notes)
    except Exception as e:  # the entry stays, with a pointer to the original
        link = f'<p><a href="{escape(meta.link)}">Read the original article</a></p>'
        content = link if meta.link else "<p>(content unavailable)</p>"
        warning = f"{meta.rel}: content not rendered ({e}); linking to the original"
        return Rendered(content=content, summary=""), (warning,)


#: A worker's cleaners, by rules directory: the rules are loaded once per process.
_CLEANERS: dict[str, Cleaner] = {}


def render_task(
    meta: EntryMeta, seed: SeedFile | None, settings: Settings, chrome: Sequence[int] = ()
) -> tuple[Rendered, tuple[str, ...]]:
    """:func:`render_with_warnings` in a worker process."""
    key = str(settings.sites_dir)
    cleaner = _CLEANERS.get(key)
    if cleaner is None:
        cleaner = _CLEANERS[key] = make_cleaner(settings)[0]
    return render_with_warnings(meta, seed, settings, cleaner, chrome=chrome)

"""``feeder check``: every seed through parse, normalize and render, nothing written.

It reports, per file, why a seed would be skipped (duplicates included:
the older fetches of one article) and which fallbacks it needed, so a
crawler's output can be fixed at the source. ``--explain`` shows what
content cleaning removes from one seed and by which rule.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from feeder.build.learning import learn_sites
from feeder.build.state import DB_NAME, State
from feeder.config import Settings
from feeder.content.entry import make_cleaner
from feeder.content.learned import (
    Learned,
    chrome_keys,
    chrome_of,
    fingerprint,
    fingerprints,
    site_of,
)
from feeder.content.learned import strip_html as strip_learned
from feeder.content.render import collect_notes
from feeder.errors import FeederError, SeedDirError, SeedError
from feeder.model import SeedFile, duplicate_reason
from feeder.seeds.normalize import entry_meta, render
from feeder.seeds.read import read_document
from feeder.seeds.scan import scan

if TYPE_CHECKING:
    from feeder.content.clean import Cleaned


def check_seeds(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Problems per seed (relative path → one-line messages); empty when all is well."""
    try:
        found = scan(settings.seeds)
    except OSError as e:
        raise SeedDirError(f"{settings.seeds}: seed directory unusable: {e.strerror or e}") from e
    cleaner, _ = make_cleaner(settings)
    problems: dict[str, tuple[str, ...]] = {rel: (reason,) for rel, reason in found.refused}
    # id → (updated, rel) of its newest fetch so far, as the state ranks them.
    newest: dict[str, tuple[float, str]] = {}
    hidden: list[tuple[str, str]] = []  # (rel, id) of every fetch that is not the newest
    for seed in found.seeds:
        try:
            doc = read_document(seed)
            meta = entry_meta(doc, settings=settings, mtime=seed.mtime_ns / 1e9)
            with collect_notes() as notes:  # what rendering flattened, repaired or lost
                render(doc, meta, settings=settings, clean=cleaner)
        except SeedError as e:
            problems[seed.rel] = (f"skipped: {e.reason}",)
            continue
        if meta.warnings or notes:
            problems[seed.rel] = (*meta.warnings, *notes)
        rank = (meta.updated.timestamp(), seed.rel)
        best = newest.get(meta.id)
        if best is None or rank > best:
            if best is not None:
                hidden.append((best[1], meta.id))
            newest[meta.id] = rank
        else:
            hidden.append((seed.rel, meta.id))
    for rel, ident in hidden:
        reason = f"skipped: {duplicate_reason(newest[ident][1])}"
        problems[rel] = (*problems.get(rel, ()), reason)
    return dict(sorted(problems.items()))


@dataclass(frozen=True)
class Explanation:
    """What cleaning does to one seed: ``--explain``'s text, or its JSON."""

    path: Path
    title: str
    url: str
    rules: tuple[str, ...]
    cleaned: Cleaned
    #: The seed's site and how many of its articles the state knows.
    site: str = ""
    site_articles: int = 0
    #: (line, in how many of the site's articles) of each line dropped as learned chrome.
    learned: tuple[tuple[str, int], ...] = ()

    def text(self) -> str:
        from feeder.content.clean import explain

        head = [
            f"{self.path}",
            f"  title:  {self.title}",
            f"  url:    {self.url or '(none)'}",
            f"  rules:  {', '.join(self.rules) or '(generic only)'}",
        ]
        if self.learned:
            head.append(
                f"learned chrome of {self.site} ({self.site_articles} articles): "
                f"{len(self.learned)} line(s) dropped:"
            )
            head += [
                f"  [learned: in {n} of {self.site_articles}] {text}" for text, n in self.learned
            ]
        return "\n".join(head) + "\n" + explain(self.cleaned)

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "title": self.title,
            "url": self.url,
            "rules": list(self.rules),
            "site": self.site,
            "site_articles": self.site_articles,
            "learned": [{"text": text, "articles": n} for text, n in self.learned],
            "fallback": self.cleaned.fallback,
            "dropped": [{"rule": d.rule, "text": d.text} for d in self.cleaned.dropped],
        }


def explain_seed(path: Path, *, settings: Settings) -> Explanation:
    """What cleaning does to the seed at ``path`` (read, never published)."""
    from feeder.content.clean import clean_html
    from feeder.content.render import render_markdown
    from feeder.content.sites import load_rules

    try:
        st = path.stat()
    except OSError as e:
        raise FeederError(f"{path}: cannot read: {e.strerror or e}") from e
    seed = SeedFile(path.name, path, st.st_size, st.st_mtime_ns)
    doc = read_document(seed)
    meta = entry_meta(doc, settings=settings, mtime=st.st_mtime)
    rules = load_rules(settings.sites_dir)
    site = site_of(meta.canonical_url, meta.source)
    found = _learned(settings, site)
    cleaned = clean_html(
        render_markdown(doc.body),
        url=meta.link,
        title=meta.title,
        source=meta.source,
        rules=rules,
    )
    dropped: list[str] = []
    if found is not None:
        keys = chrome_keys(doc.body, chrome_of(fingerprints(doc.body), found), title=meta.title)
        _, dropped = strip_learned(cleaned.html, keys)
    names = tuple(r.name for r in rules.for_url(meta.link))
    learned = tuple((key, found.counts[fingerprint(key)]) for key in dropped) if found else ()
    articles = found.seeds if found else 0
    return Explanation(path, meta.title, meta.link, names, cleaned, site, articles, learned)


def _learned(settings: Settings, site: str) -> Learned | None:
    """The learned chrome of ``site`` as the next build would have it (the state read only).

    A site marked stale since (its articles came or went) is learned again
    here, from its newest articles on disk, and nothing is stored.
    """
    state_dir = settings.resolved_state_dir
    if not site or not (state_dir / DB_NAME).is_file():
        return None
    with State.open(state_dir, busy_timeout=settings.busy_timeout, readonly=True) as st:
        if not st.stale([site]):
            return st.learned([site]).get(site)
        found = learn_sites(
            st,
            [site],
            functools.partial(_seed_at, settings.seeds),
            min_seeds=settings.learn_min_seeds,
            share=settings.learn_share,
            store=False,
        )
        return found[site]


def _seed_at(root: Path, rel: str) -> SeedFile | None:
    """The seed ``rel`` under ``root`` as it is now on disk (None: gone)."""
    path = root / rel
    try:
        st = path.stat()
    except OSError:
        return None
    return SeedFile(rel, path, st.st_size, st.st_mtime_ns)

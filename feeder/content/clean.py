"""Clean an entry's HTML: keep the article, drop the page chrome around it.

Seeds are whole scraped pages, so the HTML rendered from their Markdown holds
navigation menus, login links, share widgets, related posts, footers and, on
WeChat, the page furniture after the article. Cleaning runs before
sanitizing, in four steps over the fragment's top-level blocks:

1. the title repeated at the top of the body and the cover image go;
2. the site rules that match the entry's URL (:mod:`feeder.content.sites`) cut at
   their start/end markers and drop the lines and sections they name;
3. the generic extractor (:mod:`feeder.content.extract`) keeps the best-scoring run
   of prose blocks and drops chrome lines and link lists inside it;
4. if that leaves too little of the page's prose, the result falls back to
   the lightly cleaned whole body (steps 1-2 and obvious chrome lines only),
   because an entry with some chrome beats an entry without its article;
   a short article (a few blocks of text, :data:`SHORT_BODY_BLOCKS`) loses
   nothing for where it stands, only what reads as chrome wherever it stands;
5. images are judged like text (:mod:`feeder.content.images`): logos, avatars,
   icons, QR codes, pixels, decorations and promotional pictures go, the
   figures and the lead image stay.

When unsure, the cleaner keeps: embeds and empty blocks count for nothing
either way, and how much of what reads as article text was dropped for its
place alone is measured (:attr:`Cleaned.article_loss`) for a warning.

Every drop is recorded (:class:`Drop`) so ``feeder check --explain`` can show
which rule removed what; each dropped image has a record of its own, ``[img]``
and its URL as text.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

from feeder.content import extract as generic
from feeder.content.blocks import Block, has_element, measure, split_blocks
from feeder.content.images import MAY_HOLD_PLACEHOLDERS, judge_images, real_sources
from feeder.content.sites import SiteRule, SiteRules, fold
from feeder.content.soup import BeautifulSoup, NavigableString, Tag
from feeder.content.tables import prune_tables

logger = logging.getLogger(__name__)

#: Inputs larger than this are not cleaned (only ever seen on broken scrapes).
MAX_HTML_CHARS = 5_000_000
#: The generic result must keep this share of the page's prose, else fall back.
MIN_KEPT_SHARE = 0.3
#: ... and at least this much prose (units, see :func:`feeder.content.blocks.units`).
MIN_KEPT_UNITS = 60.0
#: A site marker is ignored when it would leave less prose than this share.
MIN_MARKER_SHARE = 0.2
#: A body of this many blocks of text or fewer, and this much prose (units) at most,
#: is a short article: nothing in it is dropped for where it stands, only what
#: reads as chrome wherever it stands.
SHORT_BODY_BLOCKS = 6
SHORT_BODY_UNITS = 800.0
_TEXT_MAX = 120
_COVER_ALTS = frozenset({"cover_image", "cover", "封面"})


@dataclass(frozen=True)
class Drop:
    """One removal: which rule removed which text (shortened)."""

    rule: str
    text: str


@dataclass(frozen=True)
class Cleaned:
    """The cleaned (still unsanitized) fragment and the record of what went."""

    html: str
    dropped: tuple[Drop, ...]
    fallback: bool
    #: The prose of the paragraph-sized blocks that read as article text (units)...
    article_units: float = 0.0
    #: ... and how much of it went for where it stood (outside the best run of blocks).
    article_dropped: float = 0.0

    @property
    def article_loss(self) -> float:
        """The share of the article-like prose that cleaning dropped for its place alone."""
        return self.article_dropped / self.article_units if self.article_units else 0.0


def _shorten(text: str) -> str:
    text = fold(text)
    return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 1] + "…"


def _prose(blocks: list[Block]) -> float:
    return sum(max(b.units - b.link_units, 0.0) for b in blocks if b.live)


def _drop_top(blocks: list[Block], title: str) -> None:
    """Drop the title heading(s) and cover image repeated at the top of the body."""
    for b in blocks:
        if b.kind == "heading" and generic.title_matches(b.text, title):
            b.dropped = "title"
        elif b.kind == "image" and any(
            str(img.get("alt") or "").strip().casefold() in _COVER_ALTS
            for img in b.el.find_all("img")
        ):
            b.dropped = "cover-image"
        elif b.kind in ("rule", "image", "embed") and not has_element(b.el, ("a",)):
            continue
        else:
            break


def _drop_byline(blocks: list[Block], source: str) -> None:
    """Drop the lines at the top of the article that only repeat the site's name."""
    name = fold(source)
    if len(name) < 2:
        return
    for b in blocks:
        if not b.live:
            continue
        if b.kind not in ("para", "heading", "image", "rule"):
            break
        if b.kind == "para":
            if b.text.replace(name, "").strip():
                break
            b.dropped = "byline"


def _marker(blocks: list[Block], patterns: tuple[re.Pattern[str], ...], *, end: bool) -> int:
    """The index of the first usable marker block, or -1."""
    if not patterns:
        return -1
    total = _prose(blocks)
    for i, b in enumerate(blocks):
        if b.live and any(p.fullmatch(b.text) for p in patterns):
            rest = blocks[:i] if end else blocks[i + 1 :]
            if _prose(rest) >= MIN_MARKER_SHARE * total:
                return i
            logger.debug("marker %r ignored: too little text would remain", b.text[:60])
    return -1


#: A line of an account card is at most this long (in units: characters, a CJK one counting 3).
_CARD_LINE = 50.0


def _drop_lines(block: Block, rule: SiteRule, drops: list[Drop]) -> None:
    """Remove the whole lines of a multi-line paragraph that ``rule`` names."""
    name = f"site:{rule.name}:drop_lines"
    changed = False
    for node in list(block.el.contents):  # the lines are the element's own strings
        if type(node) is not NavigableString or "\n" not in node:
            continue
        lines = str(node).split("\n")
        kept = []
        for i, line in enumerate(lines):
            first_ok = i > 0 or _edge(node.previous_sibling)
            last_ok = i < len(lines) - 1 or _edge(node.next_sibling)
            whole = (0 < i < len(lines) - 1) or (first_ok and last_ok)
            if whole and rule.drops_line(fold(line)):
                drops.append(Drop(name, _shorten(line)))
            else:
                kept.append(line)
        if len(kept) != len(lines):
            node.replace_with(NavigableString("\n".join(kept)))
            changed = True
    if changed:
        measure(block)
    if not block.text and not has_element(block.el, ("img", "video", "iframe", "table")):
        block.dropped = name


def _edge(sibling: object) -> bool:
    return sibling is None or (isinstance(sibling, Tag) and sibling.name == "br")


def _apply_site(blocks: list[Block], rule: SiteRule, drops: list[Drop]) -> bool:
    """Apply one site rule to the live blocks; True if it found the article's start."""
    live = [b for b in blocks if b.live]
    tag = f"site:{rule.name}"
    started = False
    for patterns, keep_marker, key in (
        (rule.start_after, False, "start_after"),
        (rule.start_at, True, "start_at"),
    ):
        i = _marker(live, patterns, end=False)
        if i >= 0:
            for b in live[: i + (0 if keep_marker else 1)]:
                b.dropped = b.dropped or f"{tag}:{key}"
            live = live[i + (0 if keep_marker else 1) :]
            started = True
    for patterns, keep_marker, key in (
        (rule.end_at, False, "end_at"),
        (rule.end_after, True, "end_after"),
    ):
        i = _marker(live, patterns, end=True)
        if i >= 0:
            for b in live[i + (1 if keep_marker else 0) :]:
                b.dropped = b.dropped or f"{tag}:{key}"
            live = live[: i + (1 if keep_marker else 0)]
    for k, b in enumerate(live):
        if b.live and any(p.fullmatch(b.text) for p in rule.drop_sections):
            generic.drop_section(live, k, len(live) - 1, f"{tag}:drop_sections")
    for b in live:
        if not b.live:
            continue
        if rule.drops_line(b.text):
            b.dropped = f"{tag}:drop_lines"
        elif rule.drop_lines or rule.drop_patterns:
            _drop_lines(b, rule, drops)
    if rule.end_card:
        _drop_end_card(live, f"{tag}:end_card")
    return started


def _drop_end_card(blocks: list[Block], name: str) -> None:
    """Drop the trailing run of short lines and images (an account's card).

    The card starts one line before its first image at the earliest (a
    source line such as "（来源：新华社）" before it stays), holds an image and
    two lines or more, and follows a real paragraph: an article that ends in
    short lines keeps them.
    """
    run: list[Block] = []
    for b in reversed([b for b in blocks if b.live]):
        if b.kind == "image" or (b.kind in ("para", "other") and 0 < b.units <= _CARD_LINE):
            run.append(b)
        else:
            break
    else:
        return  # the whole page would be the card
    run.reverse()
    first_image = next((i for i, b in enumerate(run) if b.kind == "image"), None)
    if first_image is None:
        return
    card = run[max(0, first_image - 1) :]
    if sum(1 for b in card if b.kind != "image") >= 2:
        for b in card:
            b.dropped = name


#: Void elements that lxml's HTML parser lets hold what follows them.
_VOID_HOLDERS = ("embed", "source", "track", "wbr", "keygen")
_HAS_VOID_HOLDER = re.compile(r"<(?:embed|source|track|wbr|keygen)[\s/>]", re.I)


def _empty_voids(soup: BeautifulSoup) -> None:
    """Move out what lxml put inside void elements (``<embed>`` holding the rest of the page)."""
    for el in soup.find_all(_VOID_HOLDERS):
        for child in reversed(list(el.contents)):
            el.insert_after(child.extract())


#: An image whose inline data the scraper cut short, left as Markdown text.
_DATA_IMAGE = re.compile(r"!\[[^\]\n]{0,200}\]\(data:[^)\s]{0,200}\)?")


def _strip_data_images(soup: BeautifulSoup) -> None:
    """Remove the text of images whose data URI was cut (``![](data:image/svg+xml;base64...)``)."""
    for node in list(soup.find_all(string=lambda t: "](data:" in t)):
        if type(node) is NavigableString:
            node.replace_with(NavigableString(_DATA_IMAGE.sub("", str(node))))


def _unwrap(soup: BeautifulSoup, rules: tuple[SiteRule, ...]) -> None:
    names = sorted({t for r in rules for t in r.unwrap})
    if names:
        for el in soup.find_all(names):
            el.unwrap()


_IMAGE_TEXT_MAX = 300


def _image_text(src: str) -> str:
    """The text of an image's :class:`Drop`: ``[img]`` and its URL."""
    src = src.strip() or "(no source)"
    return "[img] " + (src if len(src) <= _IMAGE_TEXT_MAX else src[: _IMAGE_TEXT_MAX - 1] + "…")


def _record(blocks: list[Block], drops: list[Drop]) -> None:
    """Add one :class:`Drop` per run of consecutive blocks dropped by the same rule.

    Each image of a dropped block gets a :class:`Drop` of its own, its URL as text.
    """
    run_rule: str | None = None
    run_text: list[str] = []
    images: list[Drop] = []
    for b in [*blocks, None]:
        rule = b.dropped if b is not None else None
        if rule != run_rule and run_rule is not None:
            if run_text:
                drops.append(Drop(run_rule, _shorten(" ".join(t for t in run_text if t))))
            drops.extend(images)
            images = []
        if rule != run_rule:
            run_text = []
        run_rule = rule
        if b is not None and rule is not None:
            srcs = [str(img.get("src") or "") for img in b.el.find_all("img")]
            if b.el.name == "img":
                srcs = [str(b.el.get("src") or "")]
            images.extend(Drop(rule, _image_text(src)) for src in srcs if src.strip())
            if b.text or not srcs:
                run_text.append(b.text or "[" + (b.el.name or "?") + "]")


def _light(blocks: list[Block]) -> None:
    """The fallback's light cleaning: only unmistakable chrome lines go."""
    for b in blocks:
        if b.live and b.units < 90 and generic.CHROME_LINE.fullmatch(b.text):
            b.dropped = "generic:chrome-line"


def clean_html(html: str, *, url: str, title: str, source: str, rules: SiteRules) -> Cleaned:
    """Keep the article of ``html`` (rendered from a seed's Markdown body), drop the chrome.

    ``url`` selects the site rules, ``title`` finds the repeated title
    heading, ``source`` (the site or feed name) is only used in log messages.
    Never raises on any input: on an internal limit it returns ``html`` as is.
    """
    if not html.strip():
        return Cleaned(html=html, dropped=(), fallback=False)
    if len(html) > MAX_HTML_CHARS:
        _warn("content of %s (%s) too large to clean; kept as is", url, source)
        return Cleaned(html=html, dropped=(), fallback=True)
    try:
        return _clean(html, url=url, title=title, source=source, rules=rules)
    except RecursionError:
        _warn("content of %s (%s) too deeply nested to clean; kept as is", url, source)
        return Cleaned(html=html, dropped=(), fallback=True)


def _warn(message: str, url: str, source: str) -> None:
    """A warning for the seed being rendered (:func:`~feeder.content.render.note`), else logged."""
    from feeder.content.render import note

    if not note(message % (url or "(no url)", source)):
        logger.warning(message, url, source)


def _clean(html: str, *, url: str, title: str, source: str, rules: SiteRules) -> Cleaned:
    soup = BeautifulSoup(html, "lxml")
    if _HAS_VOID_HOLDER.search(html):
        _empty_voids(soup)
    site_rules = rules.for_url(url)
    _unwrap(soup, site_rules)
    if "<table" in html:
        prune_tables(soup)
    if "](data:" in html:
        _strip_data_images(soup)
    if "<img" in html and MAY_HOLD_PLACEHOLDERS.search(html):
        real_sources(soup)
    blocks = split_blocks(soup)
    drops: list[Drop] = []
    _drop_top(blocks, title)
    started = False
    for rule in site_rules:
        started = _apply_site(blocks, rule, drops) or started
    before = [b.dropped for b in blocks]
    total = _prose(blocks)
    short = (
        sum(1 for b in blocks if b.live and b.units > 0) <= SHORT_BODY_BLOCKS
        and total <= SHORT_BODY_UNITS
    )
    live = [b for b in blocks if b.live]
    names = generic.site_names(source)
    generic.extract(blocks, title, pin_start=started, names=names)
    _drop_byline(blocks, source)
    kept = _prose(blocks)
    ref = _reference_prose(live, names)
    fallback = False
    if total > 0 and (kept < MIN_KEPT_SHARE * ref or kept < min(MIN_KEPT_UNITS, total)):
        logger.info(
            "cleaning %s (%s) kept %.0f of %.0f units of text: using the whole body instead",
            url or title,
            source,
            kept,
            total,
        )
        for b, was in zip(blocks, before, strict=True):
            b.dropped = was
        _light(blocks)
        fallback = True
    elif short:  # a few lines: nothing goes for where it stands, only what reads as chrome
        for b in blocks:
            if b.dropped in generic.POSITIONAL:
                b.dropped = None
        live = [b for b in blocks if b.live]
        counts = Counter(b.text for b in live if b.text and b.units < 200)
        generic.trim(live, 0, len(live) - 1, counts)
    image_drops = judge_images(blocks, url=url, title=title, source=source, fallback=fallback)
    _drop_trailing_headings(blocks)
    _record(blocks, drops)
    drops.extend(Drop(rule, _image_text(src)) for rule, src in image_drops)
    out = "\n".join(str(b.el) for b in blocks if b.live)
    article, lost = _article_prose(blocks)
    return Cleaned(
        html=out,
        dropped=tuple(drops),
        fallback=fallback,
        article_units=article,
        article_dropped=lost,
    )


def _drop_trailing_headings(blocks: list[Block]) -> None:
    """Drop the headings and rules that end the kept blocks with nothing under them.

    A heading heads what follows it; at the very end, what it headed was
    dropped as chrome ("If you enjoyed this post, share it:" above its share
    links, "Related posts" above the list). Never the only block kept.
    """
    live = [b for b in blocks if b.live]
    while len(live) > 1 and live[-1].kind in ("heading", "rule"):
        live.pop().dropped = "generic:trailing-heading"


def _reference_prose(blocks: list[Block], names: tuple[str, ...]) -> float:
    """The prose the kept article is measured against to tell whether extraction failed.

    ``blocks`` were live before extraction. Link lists (menus, whose labels
    and dates are not prose) do not count, nor what follows the first block
    after the kept ones that ends an article (:func:`feeder.content.extract.ends_article`: a
    "Comments" or "Recent posts" heading, the footer, the author's box): the
    page's comments and sidebars may outweigh a short article.
    """
    last = max((i for i, b in enumerate(blocks) if b.live), default=-1)
    total = 0.0
    for i, b in enumerate(blocks):
        if i > last and generic.ends_article(b, names):
            break
        if b.link_density < 0.5:
            total += max(b.units - b.link_units, 0.0)
    return total


#: A block of at least this much prose (units) that reads as prose is article text.
ARTICLE_BLOCK_UNITS = 80.0


def _article_prose(blocks: list[Block]) -> tuple[float, float]:
    """The prose of the article-like blocks kept or dropped for their place, and of those dropped.

    What a rule classified (site rules, chrome lines, notices, link sections,
    trailing sections) is not counted: only what the extractor was unsure of.
    """
    counts: dict[str, int] = {}
    for b in blocks:
        counts[b.text] = counts.get(b.text, 0) + 1
    total = lost = 0.0
    for b in blocks:
        if b.dropped not in (None, "generic:outside-article"):
            continue
        if b.units - b.link_units < ARTICLE_BLOCK_UNITS:
            continue
        if not generic.reads_as_prose(b, counts[b.text] > 1):
            continue
        total += b.units - b.link_units
        if b.dropped:
            lost += b.units - b.link_units
    return total, lost


def explain(cleaned: Cleaned) -> str:
    """A readable report of what cleaning dropped, by which rule, and whether it fell back."""
    lines = []
    if cleaned.fallback:
        lines.append("fallback: the article could not be isolated; the whole body was kept")
    else:
        lines.append("extraction: article isolated")
    if cleaned.article_dropped:
        lines.append(
            f"outside the article: {cleaned.article_loss:.0%} of the prose that reads as article"
            f" text ({cleaned.article_dropped:.0f} of {cleaned.article_units:.0f} units)"
        )
    if not cleaned.dropped:
        lines.append("nothing dropped")
    by_rule: dict[str, int] = {}
    for d in cleaned.dropped:
        by_rule[d.rule] = by_rule.get(d.rule, 0) + 1
    if by_rule:
        lines.append(f"{len(cleaned.dropped)} drop(s) by {len(by_rule)} rule(s):")
        for rule, n in sorted(by_rule.items()):
            lines.append(f"  {rule}: {n}")
        lines.append("dropped:")
        lines.extend(f"  [{d.rule}] {d.text}" for d in cleaned.dropped)
    return "\n".join(lines)

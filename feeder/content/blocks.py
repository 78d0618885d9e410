"""The block model shared by the cleaner and the generic extractor.

HTML rendered from a scraped page's Markdown is flat: the page's menus,
article, share widgets and footer all become consecutive top-level elements
(paragraphs, headings, lists, tables, code blocks). Cleaning therefore works
on that list of *blocks*, each with its folded text and the amount of that
text that sits inside links, which is what tells chrome from prose.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from feeder.content.sanitize import DROP_WITH_CONTENT
from feeder.content.sites import fold
from feeder.content.soup import BeautifulSoup, NavigableString, Tag

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_WRAPPERS = frozenset({"div", "section", "article", "main", "center", "body"})
_CJK_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_SPACE_RE = re.compile(r"\s")
#: How many Latin characters one CJK character is worth (a CJK character is a word).
CJK_WEIGHT = 3.0


def units(text: str) -> float:
    """The amount of text in ``text``: non-space characters, CJK ones weighted."""
    if not text:
        return 0.0
    cjk = len(_CJK_RE.findall(text))
    spaces = len(_SPACE_RE.findall(text))
    return float(len(text) - spaces - cjk) + CJK_WEIGHT * cjk


@dataclass(eq=False)
class Block:
    """One top-level element of the fragment and what the cleaner knows of it."""

    el: Tag
    text: str
    units: float
    link_units: float
    kind: str  # heading | pre | table | list | para | image | rule | embed | other
    level: int = 0
    #: The link text that points within the page (a table of contents) or spells
    #: out its own address (a reference): part of an article as much as of chrome.
    ref_units: float = 0.0
    #: The block's ``<img>`` elements once asked for (:func:`images`); :func:`measure` forgets.
    imgs: list[Tag] | None = None
    #: The rule that dropped this block, ``None`` while it is kept.
    dropped: str | None = None

    @property
    def link_density(self) -> float:
        """The share of the block's text that is link text (0 when it has none)."""
        return self.link_units / self.units if self.units else 0.0

    @property
    def live(self) -> bool:
        return self.dropped is None


def _kind(el: Tag) -> tuple[str, int]:
    name = el.name or ""
    if name in HEADINGS:
        return "heading", int(name[1])
    if name == "pre":
        return "pre", 0
    if name == "table":
        return "table", 0
    if name in ("ul", "ol", "dl"):
        return "list", 0
    if name == "hr":
        return "rule", 0
    if name in ("p", "blockquote", "div", "section", "article"):
        return "para", 0
    return "other", 0


_MEDIA = frozenset({"img", "video", "iframe"})


def _outer_links(el: Tag) -> Iterator[Tag]:
    """The ``<a>`` elements below ``el`` that are not inside another ``<a>``.

    A walk over ``contents`` that stops at each link: the same elements as
    ``find_all("a")`` filtered by ``find_parent("a") is None`` below an
    element outside any link, without bs4's per-call filter objects (this
    runs for every block of every rendered entry).
    """
    for child in el.contents:
        if type(child) is Tag:
            if child.name == "a":
                yield child
            else:
                yield from _outer_links(child)


def has_element(el: Tag, names: Collection[str]) -> bool:
    """Whether an element named in ``names`` is below ``el`` (``el.find(names)``, lighter)."""
    return any(type(d) is Tag and d.name in names for d in el.descendants)


def _inside_link(el: Tag) -> bool:
    parent = el.parent
    while parent is not None:
        if parent.name == "a":
            return True
        parent = parent.parent
    return False


_URL_TEXT = re.compile(r"\s*(?:https?://|www\.)\S+\s*", re.I)


def _is_reference(a: Tag) -> bool:
    """True if link ``a`` points within the page (``#section``) or its text is an address."""
    href = str(a.get("href") or "").strip()
    if href.startswith("#") and len(href) > 1:
        return True
    return bool(_URL_TEXT.fullmatch(a.get_text()))


def measure(block: Block) -> None:
    """(Re)compute ``block``'s text, size, link size and kind from its element.

    An embed (``<iframe>``, ``<form>``, ``<script>``, …: what the sanitizer
    removes with its content) has no text: it tells nothing of where the
    article is.
    """
    el = block.el
    block.imgs = None
    if el.name in DROP_WITH_CONTENT:
        block.text, block.units, block.link_units, block.ref_units = "", 0.0, 0.0, 0.0
        block.kind, block.level = "embed", 0
        return
    block.text = fold(el.get_text(" "))
    block.units = units(block.text)
    links: Iterable[Tag] = ()  # below a link, every link is nested in one
    if el.name != "a" and not _inside_link(el):
        links = _outer_links(el)
    block.link_units = block.ref_units = 0.0
    for a in links:
        size = units(fold(a.get_text(" ")))
        block.link_units += size
        if _is_reference(a):
            block.ref_units += size
    if el.name == "a":
        block.link_units = block.units
        block.ref_units = block.units if _is_reference(el) else 0.0
    block.kind, block.level = _kind(el)
    if not block.text and block.kind in ("para", "other") and has_element(el, _MEDIA):
        block.kind = "image"


def images(block: Block) -> list[Tag]:
    """The ``<img>`` elements of ``block`` (the element itself if it is one)."""
    if block.imgs is None:
        el = block.el
        block.imgs = (
            [el]
            if el.name == "img"
            else [d for d in el.descendants if type(d) is Tag and d.name == "img"]
        )
    return block.imgs


def split_blocks(soup: BeautifulSoup) -> list[Block]:
    """The top-level blocks of the parsed fragment, looking through lone wrappers."""
    root: Tag = soup.body if soup.body is not None else soup
    for _ in range(8):  # a page wrapped in <div><article>…: use the innermost list
        children = [c for c in root.children if isinstance(c, Tag)]
        loose = any(isinstance(c, NavigableString) and c.strip() for c in root.children)
        if len(children) == 1 and children[0].name in _WRAPPERS and not loose:
            root = children[0]
        else:
            break
    blocks: list[Block] = []
    for child in list(root.children):
        if isinstance(child, Tag):
            el = child
        elif type(child) is NavigableString and child.strip():
            el = soup.new_tag("p")
            child.replace_with(el)
            el.append(child)
        else:
            continue
        block = Block(el=el, text="", units=0.0, link_units=0.0, kind="other")
        measure(block)
        blocks.append(block)
    return blocks

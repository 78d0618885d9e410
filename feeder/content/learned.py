"""Chrome learned from a site's other seeds: blocks that recur across its articles.

A crawler revisits the same sites, so a seed directory holds many articles
of each, all cut from the same templates: the same menu lines, "follow us"
boxes, reprint notices and promo images recur in article after article,
while each article's own text appears once. That is the strongest signal
a per-page extractor never has.

Each line of a seed's Markdown body that could be a template's (:func:`lines`:
not code, not a table row, not a long paragraph) gets a fingerprint of its
text (:func:`fingerprints`: links and images without the query of their
target). The state keeps, per seed, its site (:func:`site_of`: the url's
host; for WeChat, the account) and, once they are needed, its fingerprints
(:mod:`feeder.build.learning` decides which articles a site is learned
from, and when). For a site with at least ``min_seeds`` articles, a
fingerprint found in at least ``share`` of those it is learned from (and
in 3 at least) is chrome (:func:`learn`). Before an entry is rendered, its
lines that are learned chrome are dropped from its Markdown (:func:`drop`),
except a line that is its title, and not at all when they would take most
of its text.

Everything here is a pure function of the seeds' text: the same seeds give
the same learned chrome, in whatever order they arrived.
"""

from __future__ import annotations

import math
import re
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Lines of one seed looked at, from its start (a bound on the state's size).
MAX_SCAN = 2000
#: Lines longer than this are an article's own paragraphs, not template chrome.
MAX_LINE_CHARS = 240
#: A fingerprint must recur in at least this many articles to be chrome.
MIN_COUNT = 3
#: Learned chrome is not applied when it would drop more than this share of a body's text.
MAX_DROP_SHARE = 0.6

#: A fenced code block, fences included (an unclosed one runs to the end), with the
#: newline before it: searched for from a newline (a literal, found fast), line by
#: line, never backtracking (possessive runs).
_FENCED = re.compile(
    r"\n {0,3}+(`{3,}+|~{3,}+)[^\n]*+\n(?:(?:[^\n]*+\n)*? {0,3}+\1[^\n]*+|.*\Z)", re.S
)
#: Lines that start or end fenced code.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)
#: The query and fragment of a link's or image's target (they carry ids and tracking).
#: Possessive: a target without a query fails at once instead of backtracking.
_QUERY = re.compile(r"(\]\([^)\s?#]*+)[?#][^)\s]*+")
#: Keys that say nothing: an image without a source.
_EMPTY_KEYS = frozenset({"![]()"})


def site_of(canonical_url: str, source: str) -> str:
    """The site whose template a seed was cut from: its host; a WeChat account.

    WeChat articles all live on ``mp.weixin.qq.com``; each account (its
    ``__biz``) has a template of its own. Without a url, the source names it.
    """
    if not canonical_url:
        return f"source:{source}" if source else ""
    # A canonical url (feeder.seeds.urls.canonical): scheme and host lower-cased.
    rest = canonical_url.partition("://")[2]
    host = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    if host == "mp.weixin.qq.com":
        _, found, tail = rest.partition("__biz=")
        biz = tail.split("&", 1)[0].split("#", 1)[0] if found else ""
        return f"wechat:{biz}" if biz else f"wechat-source:{source}"
    return host


def _eligible(line: str) -> bool:
    """Not a table row, not indented code, between 2 and :data:`MAX_LINE_CHARS` long."""
    return 2 <= len(line) <= MAX_LINE_CHARS and line[0] not in "|\t" and line[:4] != "    "


def lines(body: str) -> list[tuple[int, str]]:
    """(index, key) of the lines of a Markdown body that can recur as chrome.

    Lines, not paragraphs: a template's lines recur one by one, and a line
    is the unit the Markdown can lose without breaking. The key is the line
    stripped, its link and image targets without their query (it carries
    ids and tracking). Left out: lines longer than :data:`MAX_LINE_CHARS`
    (an article's own paragraphs), code (fenced or indented), table rows (a
    row gone would break its table), images without a source.
    """
    text = body.split("\n", MAX_SCAN)[:MAX_SCAN]
    skip = _fenced(text) if "```" in body or "~~~" in body else set()
    out: list[tuple[int, str]] = []
    for i, line in enumerate(text):
        if _eligible(line) and i not in skip:
            key = line.strip()
            if "](" in key:
                key = _QUERY.sub(r"\1", key)
            if len(key) >= 2 and key not in _EMPTY_KEYS:
                out.append((i, key))
    return out


def _fenced(text: list[str]) -> set[int]:
    """Indexes of the lines of fenced code blocks, fences included."""
    inside: set[int] = set()
    fence = ""
    for i, line in enumerate(text):
        m = _FENCE.match(line)
        if fence:
            inside.add(i)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
        elif m:
            fence = m.group(1)
            inside.add(i)
    return inside


def fingerprint(key: str) -> int:
    """A fingerprint of a line's key, stable across processes and runs (CRC-32 and length)."""
    data = key.encode("utf-8")
    return (len(data) << 32) | zlib.crc32(data)


def fingerprints(body: str) -> bytes:
    """The sorted, distinct fingerprints of ``body``'s lines, packed for the state.

    The same lines as :func:`lines` (a test holds them equal), gathered
    faster (~150 µs a realistic seed, against ~240 through :func:`lines`):
    this runs for each article a site is learned from and each seed a build
    on a known state reads (:mod:`feeder.build.learning`). Fenced code is cut out
    of the text as a whole (line positions are not needed here), and the
    lines that hold a link have their targets cut in one pass over them all
    (a key holds no newline, and no target spans one).
    """
    if "```" in body or "~~~" in body:
        body = _FENCED.sub("\n", "\n" + body)[1:]
    most = MAX_LINE_CHARS
    keys = {
        line.strip()
        for line in body.split("\n", MAX_SCAN)[:MAX_SCAN]
        if 2 <= len(line) <= most and line[0] not in "|\t" and line[:4] != "    "
    }
    if "](" in body:
        linked = [key for key in keys if "](" in key]
        if linked:
            keys.difference_update(linked)
            # split() with the one group kept is sub(r"\1") without a Python call per match
            keys.update("".join(_QUERY.split("\n".join(linked))).split("\n"))
    keys.difference_update(_EMPTY_KEYS)
    crc = zlib.crc32
    fps = {(len(data) << 32) | crc(data) for data in [k.encode() for k in keys if len(k) >= 2]}
    return array("q", sorted(fps)).tobytes()


def unpack(data: bytes | None) -> array[int]:
    """The fingerprints :func:`fingerprints` packed."""
    out = array("q")
    if data:
        out.frombytes(data)
    return out


@dataclass(frozen=True)
class Learned:
    """A site's learned chrome: fingerprint → in how many of its ``seeds`` articles."""

    seeds: int
    counts: dict[int, int]


def learn(articles: Iterable[bytes | None], *, min_seeds: int, share: float) -> Learned | None:
    """The chrome of a site from its articles' packed fingerprints (one per article).

    None when the site has fewer than ``min_seeds`` articles or nothing recurs.
    """
    total = 0
    counts: Counter[int] = Counter()
    for packed in articles:
        total += 1
        counts.update(unpack(packed))
    if min_seeds <= 0 or total < min_seeds:
        return None
    need = max(MIN_COUNT, math.ceil(share * total))
    chrome = {fp: n for fp, n in counts.items() if n >= need}
    return Learned(total, chrome) if chrome else None


def chrome_of(packed: bytes | None, learned: Learned | None) -> tuple[int, ...]:
    """The fingerprints of one seed that are its site's learned chrome, sorted."""
    if learned is None or not packed:
        return ()
    return tuple(fp for fp in unpack(packed) if fp in learned.counts)


def drop(body: str, chrome: Sequence[int], *, title: str = "") -> tuple[str, list[str]]:
    """``body`` without its lines whose fingerprint is in ``chrome``; and their keys.

    A line that reads as the title stays (the cleaner handles the title).
    When the lines would take more than :data:`MAX_DROP_SHARE` of the
    body's text, none is dropped: a site's articles sharing most of their
    text (one article republished under several addresses) are not chrome.
    """
    if not chrome:
        return body, []
    wanted = set(chrome)
    title_key = title.strip().lstrip("# ")
    found = [
        (i, key)
        for i, key in lines(body)
        if fingerprint(key) in wanted and key.lstrip("# ") != title_key
    ]
    if not found:
        return body, []
    if sum(len(key) for _, key in found) > MAX_DROP_SHARE * len(" ".join(body.split())):
        return body, []
    text = body.split("\n")
    for i, _ in found:
        text[i] = ""
    return "\n".join(text), [key for _, key in found]


#: Markdown that a line's visible text does not show.
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LEAD = re.compile(r"^(?:#{1,6}\s+|[-*+]\s+|\d{1,9}[.)]\s+|>\s*)+")
_MD_MARKS = str.maketrans("", "", "*_`")
_IMAGE_TARGET = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^)\s>?#]+)")
#: Elements a learned line becomes once rendered.
_LINE_ELEMENTS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "figcaption")


def _target(url: str) -> str:
    """A link's or image's target without its query and fragment (they carry ids)."""
    return url.split("?", 1)[0].split("#", 1)[0]


def shown(key: str) -> tuple[str, tuple[str, ...]]:
    """What a reader sees of a line: its text (white space folded) and its images' targets."""
    images = tuple(_IMAGE_TARGET.findall(key))
    text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub(" ", key))
    text = _MD_LEAD.sub("", text.strip()).translate(_MD_MARKS)
    return " ".join(text.split()), images


def strip_html(html: str, keys: Sequence[str]) -> tuple[str, list[str]]:
    """``html`` (rendered and cleaned) without the elements that show a learned line.

    Applied after the page's own cleaning, so the cleaner still sees every
    landmark of the page (a footer line, a related-posts heading) and learned
    chrome only takes what survived it: an element whose text is a learned
    line's, an image whose source is a learned image line's. Returns the
    HTML and the keys of the lines found.
    """
    if not keys or not html.strip():
        return html, []
    from lxml import html as lhtml

    texts: dict[str, str] = {}
    targets: dict[str, str] = {}
    for key in keys:
        text, images = shown(key)
        if text:
            texts.setdefault(text, key)
        elif images:
            targets.update((_target(url), key) for url in images)
    root = lhtml.fragment_fromstring(html, create_parent="div")
    found: dict[str, None] = {}
    for element in list(root.iter(*_LINE_ELEMENTS)):
        text = " ".join(element.text_content().split())
        if text and text in texts and element.getparent() is not None:
            found[texts[text]] = None
            element.drop_tree()
    for image in list(root.iter("img")):
        src = _target(image.get("src") or "")
        if src in targets and image.getparent() is not None:
            found[targets[src]] = None
            parent = image.getparent()
            image.drop_tree()
            empty = parent is not None and parent.tag == "p" and len(parent) == 0
            if empty and not parent.text_content().strip() and parent.getparent() is not None:
                parent.drop_tree()
    if not found:
        return html, []
    out = (root.text or "") + "".join(lhtml.tostring(child, encoding="unicode") for child in root)
    return out, list(found)


def chrome_keys(body: str, chrome: Sequence[int], *, title: str = "") -> list[str]:
    """The keys of ``body``'s lines that are learned chrome (see :func:`drop` for the rules)."""
    return drop(body, chrome, title=title)[1]

"""Make rendered article HTML safe and self-contained for feed readers.

An allow-list sanitizer (nh3, the Rust ``ammonia`` library) removes scripts,
styles, frames, forms, event handlers and every URL scheme but http(s) and
mailto, whatever their spelling (case, tabs, entities). Relative links and
images are resolved against the article's url, because feed readers ignore
``xml:base``. Empty images and links are dropped; every image is fetched
without a Referer (WeChat's image host refuses foreign ones).
"""

from __future__ import annotations

import html as _html
import re
from functools import partial
from urllib.parse import urljoin, urlsplit, urlunsplit

import nh3

from feeder.content.nesting import bound_depth

TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
        "var",
    }
)
#: Removed together with everything inside them.
DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "form",
        "noscript",
        "template",
        "svg",
        "math",
        "select",
        "textarea",
        "button",
        "frameset",
        "frame",
        "applet",
        "meta",
        "title",
        "head",
        "link",
        "base",
    }
)
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "reversed"},
    "code": {"class"},
    "pre": {"class"},
    "q": {"cite"},
    "blockquote": {"cite"},
    "time": {"datetime"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRS = frozenset({"href", "src", "cite"})
_CLASS_OK = re.compile(r"^(?:language|lang)-[\w+#.-]{1,40}$")

_IMG_NO_SRC = re.compile(r'<img(?![^>]*\ssrc=")[^>]*>')
_A_NO_HREF = re.compile(r'<a(?![^>]*\shref=")[^>]*>(.*?)</a>', re.DOTALL)
_A_EMPTY = re.compile(r"<a\s[^>]*>(?:\s|&nbsp;|<br>)*</a>")
_IMG = re.compile(r"<img ")
#: Blocks left with nothing in them (an image without a source was their
#: only content): empty paragraphs, list items and headings, then empty lists.
_EMPTY_BLOCK = re.compile(r"<(p|li|h[1-6])>(?:\s|&nbsp;|\xa0|<br>)*</\1>")
_EMPTY_LIST = re.compile(r"<(ul|ol)(?:\s[^>]*)?>\s*</\1>")
#: Characters XML 1.0 forbids, plus C1 controls and bidi overrides that only spoof.
#: (LRO/RLO force letters against their direction: ``gnp.exe`` shown as ``exe.png``.)
_XML_INVALID = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202d\u202e\ufffe\uffff\ud800-\udfff]"
)


def strip_invalid_xml(text: str) -> str:
    """Remove the characters an XML 1.0 document cannot carry."""
    return _XML_INVALID.sub("", text)


def _filter(base: str, tag: str, attr: str, value: str) -> str | None:
    if attr in _URL_ATTRS:
        value = value.strip()
        if not value:
            return None
        try:
            absolute = urljoin(base, value) if base else value
            parts = urlsplit(absolute)
        except ValueError:
            return None
        if parts.scheme.lower() not in URL_SCHEMES:
            return None
        if "@" in parts.netloc:  # a user name and password are never published
            absolute = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        return absolute
    if attr == "class":
        kept = [c for c in value.split() if _CLASS_OK.match(c)]
        return " ".join(kept) or None
    if attr in ("width", "height", "colspan", "rowspan", "start"):
        return value if value.isdigit() and len(value) < 6 else None
    return value


def sanitize_html(html: str, *, base_url: str) -> str:
    """Return a safe HTML fragment with absolute URLs (``base_url`` may be empty).

    Whatever reaches it is bounded in depth first (:mod:`feeder.content.nesting`):
    the sanitizer's parser slows with the square of the nesting.
    """
    cleaned = nh3.clean(
        strip_invalid_xml(bound_depth(html, drop=DROP_WITH_CONTENT)),
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=partial(_filter, base_url),
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    cleaned = _IMG_NO_SRC.sub("", cleaned)
    cleaned = _A_NO_HREF.sub(r"\1", cleaned)
    cleaned = _A_EMPTY.sub("", cleaned)
    cleaned = _EMPTY_LIST.sub("", _EMPTY_BLOCK.sub("", cleaned))
    return _IMG.sub('<img referrerpolicy="no-referrer" ', cleaned)


_NON_WORD = re.compile(r"[\W_]+")


def word_chars(text: str) -> int:
    """How many letters and digits ``text`` holds (CJK characters included)."""
    return len(_NON_WORD.sub("", text))


def visible_text(html: str) -> str:
    """The text of ``html`` that survives sanitizing: no tags, comments or dropped elements.

    ``html`` is bounded in depth already (``render_markdown`` bounds it).
    """
    text = nh3.clean(
        strip_invalid_xml(html),
        tags=set(),
        clean_content_tags=set(DROP_WITH_CONTENT),
        strip_comments=True,
    )
    return _html.unescape(text)

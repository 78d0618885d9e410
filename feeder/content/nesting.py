"""Bound how deep an article's HTML nests, before any HTML parser sees it.

HTML parsers pay for depth: html5ever (under nh3, the sanitizer) looks
through its stack of open elements at each start tag, so 50 000 nested
``<div>`` cost it ~15 s a pass (19 000, ~2 s), and a build makes two passes
(the render's text check and the sanitizer); libxml2 (lxml, under the
cleaning stage) stops reading at 256 levels and drops the rest of the
document. Feed readers' parsers share both habits. No article nests a
hundred elements deep: such HTML is broken or hostile, and is flattened
here, its text kept whole.

:func:`bound_depth` leaves every other document as it is, byte for byte. A
document with fewer start tags than :data:`MAX_DEPTH` (not counting the
commonest flat ones) cannot be that deep and is not scanned; otherwise one
linear scan of its tags measures the depth, and only a document deeper than
:data:`MAX_DEPTH` is rewritten: the start tags that would open an element
below that depth are dropped with their end tags (an element the sanitizer
removes with its content goes with its content).

Depth is counted as a parser builds it: void elements (``<br>``) and
elements whose end tag may be left out (``<p>``, ``<li>``, ``<td>``...) do not
nest, since a parser closes them at the next sibling; comments and the
contents of raw-text elements (``<script>``, ``<style>``...) are not markup;
an end tag closes the nearest open element of its name and every element
opened after it, and one with no open element of its name is ignored.
"""

from __future__ import annotations

import re

#: Elements nested deeper than this are flattened (libxml2 stops at 256).
MAX_DEPTH = 100

#: Void elements, and those a parser closes at the next sibling: they never nest.
_FLAT = frozenset(
    {
        *("area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr"),
        *("img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"),
        *("p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot"),
        *("caption", "colgroup", "option", "optgroup", "rb", "rt", "rtc", "rp"),
        *("html", "head", "body"),
    }
)

#: The inside of a tag after its name, to its ">": a quoted attribute value
#: may hold "<" and ">". Each part runs to its end or to the end of the
#: document (an unclosed tag or value swallows the rest, as in a browser), so
#: a tag always matches where it starts and one pass over a page is linear:
#: with ``[^>]*>``, a "<div" that never ends was looked for again from each
#: later "<" (4 000 of them in 820 KB took 12 s).
_TAG_REST = r"""(?:[^>"']|"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))*+(?:>|\Z)"""

#: A comment, a raw-text element with its contents (to its end tag or the end
#: of the document), or a tag (group 2: "/" for an end tag; group 3: the name).
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)\b"
    + _TAG_REST
    + r".*?(?:</\1\s*>|\Z)"
    + r"|<(/?)([a-zA-Z][^\s/>]*)"
    + _TAG_REST,
    re.DOTALL | re.IGNORECASE,
)


#: Each "<" but those of end tags and of the commonest elements that do not
#: nest: there is one for every start tag of an element that does, so a
#: document with no more than the limit of them is not deep (one C-speed
#: pass; the scan of the tags is ~10x dearer, and one rendered page in
#: thirty of the shared and realistic corpora needs it).
_MAY_NEST = re.compile(r"<(?!/|p[\s>]|li[\s>]|img\s|br[\s/>]|t[dhr][\s>]|hr[\s/>]|d[dt][\s>])")


def bound_depth(html: str, *, drop: frozenset[str], limit: int = MAX_DEPTH) -> str:
    """``html`` with no element nested more than ``limit`` deep (see the module doc).

    An element named in ``drop`` (the sanitizer's elements removed with their
    content) that opens too deep goes with its content, as the sanitizer
    would take it: flattening it would show that content instead.
    """
    if len(_MAY_NEST.findall(html)) <= limit or not _deeper_than(html, limit):
        return html
    return _flatten(html, limit, drop)


def _deeper_than(html: str, limit: int) -> bool:
    """Whether some element of ``html`` opens below ``limit`` open elements."""
    stack: list[str] = []
    for _raw, end, name in _TOKEN.findall(html):
        if not name:
            continue
        name = name.lower()
        if name in _FLAT:
            continue
        if not end:
            stack.append(name)
            if len(stack) > limit:
                return True
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name) :]
    return False


def _flatten(html: str, limit: int, drop: frozenset[str]) -> str:
    """``html`` without the tags of the elements that open below ``limit`` kept ones."""
    out: list[str] = []
    # The open elements, each with whether its tags are kept; how many of each
    # name are open (an end tag of a name not open is passed over at once).
    stack: list[tuple[str, bool]] = []
    open_names: dict[str, int] = {}
    kept = 0
    at = 0  # html[:at] is decided
    cut_at, cut_under = -1, 0  # where an element cut with its content starts; the stack below it
    for m in _TOKEN.finditer(html):
        name = m[3]
        if not name:
            continue
        name = name.lower()
        if name in _FLAT:
            continue
        if not m[2]:
            keep = kept < limit
            if not keep and cut_at < 0 and name in drop:
                cut_at, cut_under = m.start(), len(stack)
            stack.append((name, keep))
            open_names[name] = open_names.get(name, 0) + 1
            kept += keep
        elif open_names.get(name):
            i = len(stack) - 1
            while stack[i][0] != name:
                i -= 1
            keep = stack[i][1]
            for closed, was_kept in stack[i:]:
                open_names[closed] -= 1
                kept -= was_kept
            del stack[i:]
            if cut_at >= 0 and len(stack) <= cut_under:
                out.append(html[at:cut_at])
                at, cut_at = m.end(), -1
                continue
        else:
            continue  # a stray end tag: a parser ignores it, and so is it kept
        if not keep and cut_at < 0:
            out.append(html[at : m.start()])
            at = m.end()
    out.append(html[at : cut_at if cut_at >= 0 else len(html)])
    return "".join(out)

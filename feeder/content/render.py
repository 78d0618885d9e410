"""Markdown → HTML (CommonMark with GFM tables and strikethrough).

Nothing the seed says is lost on the way, whatever its shape:

* nesting deeper than :data:`MAX_NESTING` (lists, quotes) is flattened: its
  lines become plain paragraphs, where markdown-it would drop everything
  from there to the end of the container (for a list: of the document);
* an HTML block that never ends (``<!--``, ``<script>``, ``<style>``,
  ``<textarea>`` without their end) stops at its first blank line instead
  of running to the end of the document;
* an element that feed sanitizing removes with its content (``<iframe>``,
  ``<form>``, ``<object>``, ``<script>``, …) and that the seed leaves open is
  closed right after its open tag, so it cannot swallow the article after it;
* ``**`` left over by HTML-to-Markdown converters (see :func:`_stray_emphasis`)
  become bold or go, never literal asterisks in the entry; a ``**`` run
  between two non-space characters may open and close whatever punctuation
  is beside it (``**Key takeaway.**Every``).

What was flattened or repaired, and any text rendering still lost (the
Markdown's text against the HTML's as the sanitizer reads it), is reported
through :func:`collect_notes`.

CommonMark's flanking rules treat CJK punctuation like any punctuation, so
``这是**“重点”**这样`` or ``**重点，**这样`` keep their asterisks literally: a
delimiter next to punctuation may only open (close) after (before) white
space or punctuation, and CJK text has no spaces. As in the "CJK-friendly"
amendment to CommonMark, a CJK character beside the delimiter run counts
like white space for that test. Everything else follows CommonMark.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from html import unescape as _html_unescape

from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.parser_block import ParserBlock
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_block.html_block import html_block as _md_html_block
from markdown_it.rules_block.lheading import lheading as _md_lheading
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_core.state_core import StateCore
from markdown_it.rules_inline.state_inline import Scanned, StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType

from feeder.content.nesting import MAX_DEPTH, bound_depth
from feeder.content.sanitize import DROP_WITH_CONTENT, visible_text, word_chars

#: Bound on nested blocks (quotes, lists): deeper input renders as text, in linear time.
#: (Token levels: a list counts two, its list and its item; a quote one.)
MAX_NESTING = 40

#: Rendering may lose this share of the Markdown's letters and digits unreported:
#: the measure (:func:`source_text`) is close, not exact.
LOSS_SHARE = 0.05
#: ... and this many, whatever the share (a short seed's link text, entities).
LOSS_MIN_CHARS = 40

#: What the renders of the current context flattened or repaired (see :func:`collect_notes`).
_NOTES: ContextVar[list[str] | None] = ContextVar("feeder_render_notes", default=None)


@contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Collect, for the renders made inside the block, one line per flattening, repair or loss.

    Inside it, :func:`render_markdown` also compares the text of the
    Markdown with the text of the HTML as the sanitizer will read it, and
    notes a loss of more than :data:`LOSS_SHARE` of it.
    """
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note(text: str) -> bool:
    """Add ``text`` to the notes being collected; False when none are."""
    notes = _NOTES.get()
    if notes is None:
        return False
    notes.append(text)
    return True


def is_cjk(ch: str) -> bool:
    """True for Han, Kana, Hangul and the CJK / full-width punctuation blocks."""
    code = ord(ch)
    if code < 0x2E80:
        return False
    if 0xFF00 <= code <= 0xFFEF or 0x3000 <= code <= 0x303F:  # full-width forms, CJK punct
        return True
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC"))


def _is_cjk_context(ch: str) -> bool:
    # Quotes and brackets used in CJK text are general punctuation (U+2018..U+201D).
    return is_cjk(ch) or 0x2018 <= ord(ch) <= 0x201F


class _CJKStateInline(StateInline):
    def scanDelims(self, start: int, canSplitWord: bool) -> Scanned:
        pos = start
        maximum = self.posMax
        marker = self.src[start]
        last = self.src[start - 1] if start > 0 else " "
        while pos < maximum and self.src[pos] == marker:
            pos += 1
        count = pos - start
        nxt = self.src[pos] if pos < maximum else " "

        last_punct = isMdAsciiPunct(ord(last)) or isPunctChar(last)
        next_punct = isMdAsciiPunct(ord(nxt)) or isPunctChar(nxt)
        last_ws = isWhiteSpace(ord(last)) or _is_cjk_context(last)
        next_ws = isWhiteSpace(ord(nxt)) or _is_cjk_context(nxt)
        # A run may not open before real white space nor close after it.
        left = not (isWhiteSpace(ord(nxt)) or (next_punct and not (last_ws or last_punct)))
        right = not (isWhiteSpace(ord(last)) or (last_punct and not (next_ws or next_punct)))
        if (
            marker == "*"
            and count >= 2
            and not isWhiteSpace(ord(last))
            and not isWhiteSpace(ord(nxt))
        ):
            # Converters glue bold to the next word: ``**Key takeaway.**Every``,
            # ``**·**CVE-…``, ``word**(note)**``. A ``**`` run between two
            # non-space characters may open and close, whatever punctuation.
            left = right = True
        # ``_`` may not split a word; CJK text has no spaces between words.
        can_open = left and (canSplitWord or not right or last_punct or _is_cjk_context(last))
        can_close = right and (canSplitWord or not left or next_punct or _is_cjk_context(nxt))
        return Scanned(can_open, can_close, count)


class _CJKParserInline(ParserInline):
    def parse(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
        state = _CJKStateInline(src, md, env, tokens)
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
        return state.tokens


#: Leading block markers of a flattened line: quote markers, bullets, ordinals, ATX hashes.
_BLOCK_MARKERS = re.compile(
    r"(?:[ \t]*(?:>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)|#{1,6}(?=[ \t]|$)))*"
)


def _count(env: EnvType, key: str, n: int = 1) -> None:
    env[key] = env.get(key, 0) + n


class _FlatteningParserBlock(ParserBlock):
    """markdown-it's block tokenizer, except past :data:`MAX_NESTING`.

    There markdown-it skips to the end of the range ("we should not care
    about content"), which for a list item is the end of the document. Here
    the lines of the container at that depth become plain paragraphs (one a
    line, block markers removed), and parsing goes on after them.
    """

    def tokenize(self, state: StateBlock, startLine: int, endLine: int) -> None:
        rules = self.ruler.getRules("")
        line = startLine
        maxNesting = state.md.options.maxNesting
        hasEmptyLines = False

        while line < endLine:
            state.line = line = state.skipEmptyLines(line)
            if line >= endLine:
                break
            if state.sCount[line] < state.blkIndent:
                break  # the end of a nested container
            if state.level >= maxNesting:
                _flatten(state, line, endLine)
                break
            ok = False
            for rule in rules:
                ok = rule(state, line, endLine, False)
                if ok:
                    if state.line <= line:
                        raise RuntimeError("block rule didn't increment state.line")
                    break
            if not ok:
                raise RuntimeError("none of the block rules matched")
            state.tight = not hasEmptyLines
            line = state.line
            if (line - 1) < endLine and state.isEmpty(line - 1):
                hasEmptyLines = True
            if line < endLine and state.isEmpty(line):
                hasEmptyLines = True
                line += 1
                state.line = line


def _flatten(state: StateBlock, line: int, endLine: int) -> None:
    """Emit the container's lines from ``line`` on as paragraphs of plain text."""
    start = line
    while line < endLine:
        if state.isEmpty(line):
            line += 1
            continue
        if state.sCount[line] < state.blkIndent:
            break
        raw = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        text = raw[_BLOCK_MARKERS.match(raw).end() :].strip()  # type: ignore[union-attr]
        if text:
            token = state.push("paragraph_open", "p", 1)
            token.map = [line, line + 1]
            token = state.push("inline", "", 0)
            token.content = text
            token.map = [line, line + 1]
            token.children = []
            state.push("paragraph_close", "p", -1)
        line += 1
    _count(state.env, "flattened", line - start)
    state.line = line


#: The HTML blocks (CommonMark types 1-5) that run to the end of the document when
#: their end is missing, with that end. ``<pre>`` is left alone: its text is shown.
_UNTERMINATED = (
    (re.compile(r"^<(script|style|textarea)(?=\s|>|$)", re.I), ""),
    (re.compile(r"^<!--"), "-->"),
    (re.compile(r"^<\?"), "?>"),
    (re.compile(r"^<!\[CDATA\["), "]]>"),
    (re.compile(r"^<![A-Za-z]"), ">"),
)


def _html_block(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """markdown-it's HTML block rule, but an unterminated one ends at its first blank line.

    A comment or processing instruction gets its end there; a ``<script>``,
    ``<style>`` or ``<textarea>`` is closed by :func:`_close_swallowing`.
    """
    ok = _md_html_block(state, startLine, endLine, silent)
    if not ok or silent:
        return ok
    token = state.tokens[-1]
    first = state.src[state.bMarks[startLine] + state.tShift[startLine] : state.eMarks[startLine]]
    for opener, closer in _UNTERMINATED:
        m = opener.match(first)
        if m is None:
            continue
        body = token.content[m.end() :].lower()
        end = closer or f"</{m.group(1).lower()}>"
        if end in body:
            return True
        stop = next((n for n in range(startLine + 1, state.line) if state.isEmpty(n)), state.line)
        token.map = [startLine, stop]
        token.content = state.getLines(startLine, stop, state.blkIndent, True)
        if closer:
            token.content = token.content.rstrip("\n") + closer + "\n"
            _count(state.env, "unterminated:" + closer)
        state.line = stop
        return True
    return True


def _lheading(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """markdown-it's setext heading rule, except over a signature delimiter (``--``).

    Mail and forum posts scraped to Markdown keep the line of two dashes that
    opens a signature (``-- `` in RFC 3676). Read as a setext underline, it
    turned the sign-off above it ("Thank you for your understanding.") into a
    heading; the lines stay a paragraph. Converters that underline headings
    draw the line as long as the heading, so a real one is rarely two dashes.
    """
    tokens, parent = len(state.tokens), state.parentType
    ok = _md_lheading(state, startLine, endLine, silent)
    if not ok:
        return ok
    under = state.line - 1
    if state.src[state.bMarks[under] + state.tShift[under] : state.eMarks[under]].strip() == "--":
        del state.tokens[tokens:]
        state.line, state.parentType = startLine, parent
        return False
    return True


#: Void elements never swallow anything (nor does ``<head>``: a parser ignores it in a body).
_VOID = frozenset({"embed", "meta", "link", "base", "frame", "head"})
#: Elements that the sanitizer removes with their content, plus the legacy raw-text ones.
_SWALLOWING = (DROP_WITH_CONTENT - _VOID) | {"xmp", "noembed", "noframes"}
#: Elements whose content is text to the parser, tags included, up to their end tag.
_RAW_TEXT = frozenset(
    {"script", "style", "iframe", "textarea", "title", "xmp", "noembed", "noframes", "noscript"}
)
_SWALLOWING_TAG = re.compile(
    r"<(/?)(" + "|".join(sorted(_SWALLOWING)) + r")(?=[\s/>])[^<>]*?(/?)>", re.I
)
_HAS_SWALLOWING = re.compile(r"</?(?:" + "|".join(sorted(_SWALLOWING)) + r")[\s/>]", re.I)


def _unclosed(html: str) -> list[tuple[str, int]]:
    """The swallowing elements ``html`` opens and never closes: (name, end of the open tag)."""
    stack: list[tuple[str, int]] = []
    left: list[tuple[str, int]] = []
    ends: dict[str, list[int]] = {}  # the end tags of each raw-text element, found once
    pos = 0
    while True:
        if stack and stack[-1][0] in _RAW_TEXT:
            name, at = stack.pop()
            if name not in ends:
                ends[name] = [m.end() for m in re.finditer(rf"</{name}\s*>", html, re.I)]
            i = bisect_left(ends[name], pos + 1)
            if i == len(ends[name]):  # closed right away: what follows is not its content
                left.append((name, at))
            else:
                pos = ends[name][i]
            continue
        m = _SWALLOWING_TAG.search(html, pos)
        if m is None:
            return left + stack
        pos = m.end()
        name = m.group(2).lower()
        if m.group(1):
            names = [n for n, _ in stack]
            if name in names:
                del stack[len(names) - 1 - names[::-1].index(name) :]
        elif not (m.group(3) and name in ("svg", "math")):
            stack.append((name, pos))


def _close_swallowing(state: StateCore) -> None:
    """Close the iframes, forms, objects, … that a block or a paragraph leaves open.

    The sanitizer drops these elements with their content; left open, the
    parser would put the rest of the article inside them. Whether the text
    after such an open tag was meant as its content is unsure, so it is
    closed right after its open tag and the text is kept.
    """
    for token in state.tokens:
        if token.type == "html_block":
            if not _HAS_SWALLOWING.search(token.content):
                continue
            content = token.content
            for name, at in sorted(_unclosed(content), key=lambda x: -x[1]):
                content = content[:at] + f"</{name}>" + content[at:]
                _count(state.env, "unclosed:" + name)
            token.content = content
        elif token.type == "inline" and token.children:
            opened: list[tuple[Token, str]] = []
            for child in token.children:
                if child.type != "html_inline" or not _HAS_SWALLOWING.search(child.content):
                    continue
                m = _SWALLOWING_TAG.match(child.content)
                if m is None:
                    continue
                name = m.group(2).lower()
                if m.group(1):
                    for i in range(len(opened) - 1, -1, -1):
                        if opened[i][1] == name:
                            del opened[i:]
                            break
                elif not (m.group(3) and name in ("svg", "math")):
                    opened.append((child, name))
            for child, name in opened:
                child.content += f"</{name}>"
                _count(state.env, "unclosed:" + name)


#: ``**`` runs left over after emphasis matching, and the blank ``__`` ones.
_STARS = re.compile(r"\*{2,}")
_BLANK_UNDERSCORES = re.compile(r"(?<!\w)(?:_{2}[ \t\u3000]+_{2}|_{4})(?!\w)")
_LONE_UNDERSCORES = re.compile(r"[ \t]*_{2,3}[ \t]*")


def _stray_emphasis(state: StateInline) -> None:
    """No literal ``**`` in text: what HTML-to-Markdown converters leave is resolved.

    Runs after emphasis matching, on the text it left (escaped ``\\*`` are
    separate tokens then and stay): two runs of ``*`` in one text with text
    between them that hugs one of them at least (``** bold**``, ``**bold **``)
    make it bold; every other run of two or more goes (``****`` of two
    adjacent bold spans, ``** **``, a lone ``**`` line), except two between
    two digits (``2**32``; ``0****1`` is two bold digits). Blank ``__``
    emphasis (``__ __``, ``____``, a lone ``__`` line) goes too; other
    underscores are text (``__init__``).
    """
    tokens = state.tokens
    if not any(t.type == "text" and ("**" in t.content or "__" in t.content) for t in tokens):
        return
    out: list[Token] = []
    for token in tokens:
        if token.type != "text" or ("**" not in token.content and "__" not in token.content):
            out.append(token)
            continue
        text = token.content
        if "__" in text:
            text = _BLANK_UNDERSCORES.sub("", text)
            if _LONE_UNDERSCORES.fullmatch(text):
                text = ""
        runs = [m.span() for m in _STARS.finditer(text) if not _between_digits(text, *m.span())]
        pos = i = 0
        while i < len(runs):
            start, end = runs[i]
            if i + 1 < len(runs):
                inner = text[end : runs[i + 1][0]]
                word = inner.strip()
                if word and not (inner[0].isspace() and inner[-1].isspace()):
                    lead = inner[: len(inner) - len(inner.lstrip())]
                    trail = inner[len(inner.rstrip()) :]
                    out.append(_text(token, text[pos:start] + lead))
                    out.extend((_tag(token, 1), _text(token, word), _tag(token, -1)))
                    out.append(_text(token, trail))
                    pos = runs[i + 1][1]
                    i += 2
                    continue
            out.append(_text(token, text[pos:start]))
            pos = end
            i += 1
        out.append(_text(token, text[pos:]))
    state.tokens[:] = [t for t in out if t.type != "text" or t.content]


def _between_digits(text: str, start: int, end: int) -> bool:
    """True for a power (``2**32``): two stars between digits; four are two bold spans."""
    return (
        end - start == 2
        and start > 0
        and end < len(text)
        and text[start - 1].isdigit()
        and text[end].isdigit()
    )


def _text(like: Token, content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    token.level = like.level
    return token


def _tag(like: Token, nesting: int) -> Token:
    token = Token("strong_open" if nesting > 0 else "strong_close", "strong", nesting)  # type: ignore[arg-type]
    token.markup = "**"
    token.level = like.level
    return token


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    inline = _CJKParserInline()
    inline.ruler = md.inline.ruler
    inline.ruler2 = md.inline.ruler2
    md.inline = inline
    block = _FlatteningParserBlock()
    block.ruler = md.block.ruler
    md.block = block
    md.block.ruler.at("html_block", _html_block, {"alt": ["paragraph", "reference", "blockquote"]})
    md.block.ruler.at("lheading", _lheading)
    md.inline.ruler2.after("fragments_join", "feeder_stray_emphasis", _stray_emphasis)
    md.core.ruler.after("inline", "feeder_close_swallowing", _close_swallowing)
    return md


#: A GFM table's delimiter row (``| --- | :-: |``).
_DELIMITER_ROW = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _cells(row: str) -> int:
    """The number of cells of a table row, as GFM counts them (outer pipes optional)."""
    row = row.strip()
    count = len(_UNESCAPED_PIPE.findall(row)) + 1
    if row.startswith("|"):
        count -= 1
    if row.endswith("|") and not row.endswith("\\|") and len(row) > 1:
        count -= 1
    return count


def _widen(row: str, extra: int, cell: str) -> str:
    row = row.rstrip()
    if not row.endswith("|") or row.endswith("\\|"):
        row += " |"
    return row + f" {cell} |" * extra


def widen_tables(text: str) -> str:
    """Give every table a header as wide as its widest row.

    GFM drops the cells of a row beyond the header's count. Pages converted
    to Markdown often have a layout table with a short (empty) header and the
    article's data in the extra cells (a vulnerability's score, CVE and
    credits): widening the header and delimiter rows keeps that text.
    """
    if "|" not in text or "-" not in text:
        return text
    lines = text.split("\n")
    changed = False
    i = 1
    while i < len(lines):
        if "|" in lines[i - 1] and "-" in lines[i] and _DELIMITER_ROW.match(lines[i]):
            end = i + 1
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            width = _cells(lines[i - 1])
            widest = max((_cells(row) for row in lines[i + 1 : end]), default=0)
            if widest > width and _cells(lines[i]) == width:
                lines[i - 1] = _widen(lines[i - 1], widest - width, "")
                lines[i] = _widen(lines[i], widest - width, "---")
                changed = True
            i = end + 1
        else:
            i += 1
    return "\n".join(lines) if changed else text


def render_markdown(text: str) -> str:
    """Render a Markdown body to an (unsanitized) HTML fragment.

    What had to be flattened or repaired is told to :func:`collect_notes`.
    """
    env: EnvType = {}
    raw = _markdown().render(widen_tables(text), env)
    html = bound_depth(raw, drop=DROP_WITH_CONTENT)
    notes = _NOTES.get()
    if notes is not None:
        notes.extend(_describe(env))
        if html != raw:
            notes.append(
                f"HTML nested more than {MAX_DEPTH} elements deep: the tags below that"
                " depth dropped, their text kept"
            )
        source = word_chars(source_text(text))
        lost = source - word_chars(visible_text(html))
        if lost > max(LOSS_SHARE * source, LOSS_MIN_CHARS):
            notes.append(
                f"rendering lost {lost / source:.0%} of the text"
                f" ({lost} of {source} letters and digits)"
            )
    return html


#: Markup whose characters are not text: images, link targets, reference
#: definitions, HTML tags, fence info strings.
_NOT_TEXT = re.compile(
    r"!\[[^\[\]\n]*\]\((?:[^()\n]|\([^()\n]*\))*\)"  # ![alt](src): the alt is an attribute
    r"|\]\((?:[^()\n]|\([^()\n]*\))*\)"  # ](target "title"), one level of () inside
    r"|^ {0,3}\[[^\]\n]+\]:[ \t]*\S.*$"  # [label]: target
    r"|</?[A-Za-z][^<>]*>"  # an HTML tag
    r"|^ {0,3}(?:`{3,}|~{3,}).*$",  # a fence and its info string
    re.M,
)


def source_text(markdown: str) -> str:
    """The text a Markdown body says, close enough to measure: its markup removed.

    Comments, and the content of the elements the sanitizer drops (scripts,
    iframes, forms, …) when they are closed, are not text either.
    """
    if "<" in markdown:
        markdown = _without_dropped(_without_comments(markdown))
    return _html_unescape(_NOT_TEXT.sub(" ", markdown))


def _without_comments(text: str) -> str:
    """``text`` without its closed HTML comments (in linear time, unlike a lazy regex)."""
    if "<!--" not in text:
        return text
    out, pos = [], 0
    while (start := text.find("<!--", pos)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return " ".join(out)


def _without_dropped(text: str) -> str:
    """``text`` without the closed elements the sanitizer drops with their content (linear)."""
    if not _HAS_SWALLOWING.search(text):
        return text
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for m in _SWALLOWING_TAG.finditer(text):
        name = m.group(2).lower()
        if not m.group(1):
            stack.append((name, m.start()))
            continue
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                spans.append((stack[i][1], m.end()))
                del stack[i:]
                break
    if not spans:
        return text
    out, pos = [], 0
    for start, end in sorted(spans):
        if start >= pos:
            out.append(text[pos:start])
            pos = end
        elif end > pos:
            pos = end
    out.append(text[pos:])
    return " ".join(out)


def _describe(env: EnvType) -> list[str]:
    out = []
    if env.get("flattened"):
        out.append(
            f"Markdown nested too deeply (lists or quotes more than {MAX_NESTING // 2} levels):"
            f" {env['flattened']} line(s) flattened to plain paragraphs"
        )
    for key in sorted(k for k in env if isinstance(k, str) and k.startswith("unterminated:")):
        what = key.partition(":")[2]
        out.append(
            f"HTML comment or declaration without its {what!r} ended at its first blank line"
            f" ({env[key]}x)"
        )
    for key in sorted(k for k in env if isinstance(k, str) and k.startswith("unclosed:")):
        name = key.partition(":")[2]
        out.append(f"unclosed <{name}> closed so the text after it is kept ({env[key]}x)")
    return out

"""Markdown → HTML (CommonMark with GFM tables and strikethrough).

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
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline.state_inline import Scanned, StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType

#: Bound on nested blocks (quotes, lists): deeper input renders as text, in linear time.
MAX_NESTING = 40


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


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    inline = _CJKParserInline()
    inline.ruler = md.inline.ruler
    inline.ruler2 = md.inline.ruler2
    md.inline = inline
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
    """Render a Markdown body to an (unsanitized) HTML fragment."""
    html: str = _markdown().render(widen_tables(text))
    return html

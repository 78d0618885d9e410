"""A seed's render is bounded by its markup, not only by its bytes.

Rendering and cleaning cost follows the elements a body makes: a body of
300 KB of table rows took 20 s and 370 MB. Beyond ``MAX_MARKUP`` lines and
markup characters the Markdown is cut (at a paragraph or line end), and the
entry carries the *Truncated* note that links to the original.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS
from lxml import html

from feeder.config import Settings
from feeder.content.entry import make_cleaner
from feeder.seeds.normalize import MAX_MARKUP, _cut_markup, entry_meta, render
from feeder.seeds.parse import parse_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
INTRO = "The opening paragraph of the article, which must be published whole.\n\n"


def _content(body: str, url: str = "https://example.org/long") -> str:
    front = f"---\ntitle: Long\nurl: {url}\ndate: 2024-05-01\n---\n\n"
    doc = parse_bytes((front + body).encode(), "long.md")
    settings = Settings()
    meta = entry_meta(doc, settings=settings, mtime=0)
    clean, _ = make_cleaner(settings)
    return render(doc, meta, settings=settings, clean=clean).content


def _markup(text: str) -> int:
    return sum(text.count(c) for c in "\n<[*_`|&~")


def test_the_cut_is_at_the_limit_at_a_paragraph_or_a_line_end() -> None:
    text = "para one\n\npara *two*\nline three *x*\n"
    assert _cut_markup(text, 100) == text
    assert _cut_markup(text, 4) == "para one\n\npara *two*"  # the 5th mark is the line's end
    assert _cut_markup(text, 5) == "para one\n\npara *two*"  # at a line end, not mid-line
    assert _cut_markup("word " * 100 + "*" * 10, 3) == "word " * 100 + "***"  # no line end
    long = "x" * 10 + "\n\n" + "y" * 10 + "\n" + "z" * 200 + "*" * 10
    assert _cut_markup(long, 5) == long[:225]  # the line ends are too early to cut at


@pytest.mark.slow
@pytest.mark.parametrize(
    "bulk",
    [
        "| a | b |\n|---|---|\n" + "| cell x | cell y |\n" * 30_000,  # many lines
        "<https://example.org/a> " * 30_000 + "\n",  # one line of inline markup
        "- item\n" * 30_000,
    ],
    ids=["table-rows", "autolinks-on-one-line", "list-items"],
)
def test_markup_beyond_the_budget_is_cut_with_the_truncated_note(bulk: str) -> None:
    assert _markup(bulk) > MAX_MARKUP
    content = _content(INTRO + bulk + "\nThe last paragraph, beyond the budget.\n")
    text = " ".join(html.fragment_fromstring(content, create_parent="div").text_content().split())
    assert text.startswith("The opening paragraph of the article, which must be published whole.")
    assert "beyond the budget" not in text
    assert "Truncated" in text and 'href="https://example.org/long"' in content
    assert content.count("<td>") + content.count("<a ") + content.count("<li>") <= MAX_MARKUP


def test_real_pages_are_far_below_the_budget() -> None:
    pages = sorted(FIXTURES.iterdir())
    if CORPUS.is_dir():
        pages += sorted(CORPUS.glob("*/*.txt"))
    most = max(_markup(p.read_text(encoding="utf-8")) for p in pages)
    assert most * 10 < MAX_MARKUP, most

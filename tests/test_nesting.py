"""Deeply nested HTML is flattened before any parser sees it; other HTML is left alone."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import CORPUS, assert_valid_atom, build_json, write_seed_file
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.content.nesting import MAX_DEPTH, _deeper_than, bound_depth
from feeder.content.render import render_markdown
from feeder.content.sanitize import DROP_WITH_CONTENT, sanitize_html, visible_text

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
FLAT = {"p", "li", "br", "img", "hr", "td", "tr", "th", "script", "style"}  # script: raw text


def bound(html: str, limit: int = MAX_DEPTH) -> str:
    return bound_depth(html, drop=DROP_WITH_CONTENT, limit=limit)


class _Depth(HTMLParser):
    """The deepest nesting of elements that nest, as written (no implied ends)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in FLAT:
            self.stack.append(tag)
            self.deepest = max(self.deepest, len(self.stack))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]


def depth(html: str) -> int:
    parser = _Depth()
    parser.feed(html)
    parser.close()
    return parser.deepest


def test_real_pages_are_returned_as_they_are() -> None:
    bodies = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.iterdir())]
    if CORPUS.is_dir():
        bodies += [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*/*.txt"))]
    assert len(bodies) >= 8
    for body in bodies:
        html = render_markdown(body)
        assert bound(html) == html
        assert bound(html, limit=8) == html  # the deepest real page nests four elements


@pytest.mark.parametrize(
    "html",
    [
        "<ul>" + "<li>item" * 5000 + "</ul>",  # items close each other: one level
        "<p>para" * 5000,
        "<table>" + "<tr><td>cell" * 3000 + "</table>",
        "<div>" + "<br><img src=x><hr>" * 3000 + "</div>",
        "<div>x</div>" * 5000,
        "<div></span>" * 50 + "</div>" * 50,  # stray end tags are ignored, as a parser does
        "<!--" + "<div>" * 500 + "-->",
        "<script>" + "<div>" * 500 + "</script>",
        "<DIV>" * 60 + "text" + "</div>" * 60,  # looks deeper to the scan; is not
    ],
)
def test_wide_or_shallow_html_is_left_alone(html: str) -> None:
    assert bound(html) == html


@pytest.mark.parametrize("tag", ["div", "span", "blockquote", "section", "b", "ul", "table", "a"])
def test_deep_nesting_is_flattened_and_keeps_every_word(tag: str) -> None:
    n = 3000
    html = f"<p>before</p>{f'<{tag}>' * n}deep words here{f'</{tag}>' * n}<p>after</p>"
    flat = bound(html)
    assert depth(flat) == MAX_DEPTH
    assert flat.count(f"<{tag}>") == flat.count(f"</{tag}>") == MAX_DEPTH
    assert visible_text(flat) == visible_text(html)
    assert bound(flat) == flat


def test_tags_are_read_as_a_tokenizer_reads_them() -> None:
    # A quoted value may hold "<" and ">": it is part of its tag, not a tag.
    html = '<div title="<div>">' * 300 + "text" + "</div>" * 300
    flat = bound(html)
    assert flat.count('<div title="<div>">') == MAX_DEPTH and visible_text(flat) == "text"
    # A tag that never ends swallows the rest of the document, as in a browser:
    # this is one tag, not 2 000 (and it is read once, not again from each "<").
    never_ends = ("<div " + "x" * 200) * 2000
    assert bound(never_ends) == never_ends
    # It ends at the first ">", the end of the first div after it (one tag
    # with it); the others nest inside.
    assert not _deeper_than(never_ends + "<div>" * MAX_DEPTH, MAX_DEPTH)
    assert _deeper_than(never_ends + "<div>" * (MAX_DEPTH + 1), MAX_DEPTH)


def test_comments_and_scripts_do_not_hide_depth() -> None:
    # End tags inside a comment or a script close nothing: the depth is real.
    html = "<div><!-- </div> --><script>'</div>'</script>" * 400 + "x" + "</div>" * 400
    flat = bound(html)
    assert depth(flat.replace("<!-- </div> -->", "").replace("'</div>'", "")) <= MAX_DEPTH
    assert flat.count("<!-- </div> -->") == 400


def test_an_end_tag_closes_what_was_opened_after_its_element() -> None:
    # </section> closes the 200 divs opened inside it: the next one is at depth 1.
    html = "<section>" + "<div>" * 200 + "</section>" + "<div>" * 150 + "tail" + "</div>" * 150
    flat = bound(html)
    assert flat.count("<div>") == MAX_DEPTH - 1 + MAX_DEPTH
    assert visible_text(flat) == visible_text(html)


def test_an_element_removed_with_its_content_is_removed_when_too_deep() -> None:
    # Flattening a <form> would show its text; it goes whole, as the sanitizer takes it.
    for inner in ("<form>form chrome<div>more</div></form>", "<svg><text>drawn</text></svg>"):
        html = "<div>" * 150 + inner + "kept text" + "</div>" * 150
        out = sanitize_html(html, base_url="")
        assert "kept text" in out
        for word in ("form chrome", "more", "drawn"):
            assert word not in out
            assert word not in sanitize_html(inner, base_url="")
    unclosed = "<div>" * 150 + "<form>to the end of the document"
    assert bound(unclosed) == "<div>" * MAX_DEPTH


def test_the_sanitizer_bounds_what_it_is_given() -> None:
    html = "<div>" * 20_000 + "deep text" + "</div>" * 20_000
    out = sanitize_html(html, base_url="")
    assert out.count("<div>") == MAX_DEPTH and "deep text" in out


_TOKENS = st.sampled_from(
    [
        *(f"<{t}>" for t in ("div", "span", "b", "blockquote", "ul", "li", "p", "section")),
        *(f"</{t}>" for t in ("div", "span", "b", "blockquote", "ul", "li", "p", "section")),
        "<br>",
        "<!-- </div> -->",
        "<script>'<div>'</script>",
        "word ",
        "other ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=80), st.integers(min_value=1, max_value=6))
def test_any_markup_keeps_its_text_and_ends_within_the_limit(tokens: list[str], limit: int) -> None:
    html = "".join(tokens)
    flat = bound(html, limit)
    assert visible_text(flat) == visible_text(html)
    assert not _deeper_than(flat, limit)
    assert bound(flat, limit) == flat
    if not _deeper_than(html, limit):
        assert flat == html


@pytest.mark.slow
def test_a_seed_nested_nineteen_thousand_deep_is_published_with_its_text(tmp_path: Path) -> None:
    # 19 000 tags: within the markup budget (test_budget.py), which cuts deeper ones.
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    body = (
        "An opening paragraph of the article, long enough to be its text.\n\n"
        + "<div>" * 19_000
        + "The paragraph inside the nesting, which the reader came for.\n\n"
        + "A closing paragraph after the deep block.\n"
    )
    write_seed_file(seeds, "deep.md", "title: Deep\nurl: https://example.org/deep", body)
    report = build_json(seeds, out, state)
    assert (report["entries"], report["skipped"]) == (1, [])
    assert_valid_atom(out)
    text = out.read_text(encoding="utf-8")
    for words in ("An opening paragraph", "which the reader came for", "A closing paragraph"):
        assert words in text
    assert text.count("&lt;div") <= MAX_DEPTH

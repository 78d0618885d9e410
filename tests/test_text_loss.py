"""No article text is lost silently, and no literal ``**`` reaches an entry.

One ``feeder build --json`` (the real CLI) runs over a seed directory holding
every hostile construct at once: nesting deeper than the renderer allows,
embeds the sanitizer removes (closed and left open, in short and long
articles), converter emphasis, short articles, and the last lines of long
ones. Each test checks that the text after its construct is in the entry and
that a warning naming the seed's path appears where something had to be
flattened, repaired or was lost, and nowhere else.
"""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import require_shared, run_feeder, write_seed_file
from lxml import etree
from lxml import html as lhtml

ATOM = "{http://www.w3.org/2005/Atom}"


class _Text(HTMLParser):
    """The text of a fragment, at any depth (libxml2 stops at a few thousand levels)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


INTRO = "This is the opening paragraph of the article, a sentence or two of real prose.\n\n"
LONG = (
    "A long paragraph of article text that goes on about the subject at hand. " * 8 + "\n\n"
) * 5


def after(name: str) -> str:
    """Two paragraphs that must survive the construct before them (unique to the case)."""
    return (
        f"\n\nFirst paragraph after the {name} construct, with several words of prose.\n\n"
        f"Second paragraph after the {name} construct, the end of the article.\n"
    )


def nested_list(depth: int) -> str:
    return "\n".join("  " * i + f"- list level {i}" for i in range(depth))


#: name -> (body, phrases the entry must hold, warning expected for the seed or None).
CASES: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "nested-list-20": (
        INTRO + nested_list(20) + after("nested-list-20"),
        ("list level 0", "list level 19"),
        "nested too deeply",
    ),
    "nested-list-40": (
        INTRO + nested_list(40) + after("nested-list-40"),
        ("list level 39",),
        "nested too deeply",
    ),
    "dashes-10k": (
        INTRO + "- " * 10_000 + "the deepest item" + after("dashes-10k"),
        ("the deepest item",),
        "nested too deeply",
    ),
    "quotes-10k": (
        INTRO + ">" * 10_000 + " the deepest quote" + after("quotes-10k"),
        ("the deepest quote",),
        "nested too deeply",
    ),
    "quoted-lists": (
        INTRO + "> - " * 40 + "quoted list text" + after("quoted-lists"),
        ("quoted list text",),
        "nested too deeply",
    ),
    "html-deep": (
        INTRO + "<div>" * 3000 + "inner words" + "</div>" * 3000 + after("html-deep"),
        ("inner words",),
        "HTML nested more than 100 elements deep",
    ),
    "html-blocks-deep": (
        INTRO + "<div>\n\n" * 500 + "inner block words" + after("html-blocks-deep"),
        ("inner block words",),
        "HTML nested more than 100 elements deep",  # 500 divs, never closed
    ),
    "comment-open": (
        INTRO + "<!-- a comment left open" + after("comment-open"),
        (),
        "HTML comment or declaration without its '-->'",
    ),
}
EMBEDS = {
    "iframe": (
        '<iframe src="https://video.example/v"></iframe>',
        '<iframe src="https://v.example/">',
    ),
    "form": ('<form action="/s"><input name="q"><button>Go</button></form>', '<form action="/s">'),
    "object": ('<object data="movie.swf"><param name="a" value="b"></object>', "<object data=m>"),
    "embed": ('<embed src="movie.swf">', '<embed src="movie.swf">'),
    "script": ("<script>var a = 1;</script>", "<script>"),
}
for _tag, (_closed, _open) in EMBEDS.items():
    for _size, _start in (("short", INTRO), ("long", LONG)):
        for _state, _html in (("closed", _closed), ("open", _open)):
            _name = f"{_tag}-{_state}-{_size}"
            _warn = f"unclosed <{_tag}>" if _state == "open" and _tag != "embed" else None
            # A short last line: the first to go when an embed breaks the article in two.
            _body = f"{_start}{_html}\n\nThanks for reading.\n"
            CASES[_name] = (_body, ("Thanks for reading.",), _warn)
            _inline = f"{_start}Watch this: {_html} and read on.\n\nThe end.\n"
            CASES[_name + "-inline"] = (_inline, ("and read on.", "The end."), _warn)

CASES.update(
    {
        "short-article": (
            "A short note on the release, which fixes the two bugs reported last week and"
            " makes the importer faster.\n\n[Release notes](https://example.org/notes)\n\n"
            "Via Example News\n\nThanks.\n",
            ("A short note on the release", "Release notes", "Via Example News", "Thanks."),
            None,
        ),
        "long-article-end": (LONG + "---\n\n— Jane\n", ("— Jane",), None),
        # Few blocks, but not a short article: its menu and copyright label still go.
        "few-long-blocks": (
            "[Home](https://example.org/) [News](https://example.org/n)"
            " [About](https://example.org/a)\n\n" + LONG.replace("\n\n", " ") + "\n\n☆版权☆\n\n"
            "[Example](https://example.org/) © 2024 [Terms](https://example.org/t)\n",
            ("A long paragraph",),
            None,
        ),
        "tables-and-lists": (
            LONG
            + "![chart](https://example.org/c.png)\n\n| Q1 | 9% |\n| --- | --- |\n| Q2 | 7% |\n\n"
            "- up\n- down\n",
            ("Q1", "7%", "up", "down"),
            None,
        ),
    }
)

EMPHASIS = (
    "**前半：****后半**继续说明。\n\n"
    "**Key takeaway.**Every word counts here.\n\n"
    "Blank emphasis **** and ** ** in a sentence.\n\n"
    "A line before\n**\nand a line after.\n\n"
    "**·**CVE-2024-1234 is the first, **·** CVE-2024-5678 the second.\n\n"
    "**Note:**The rest of the note. ** loose bold** and **trailing bold **.\n\n"
    "**PART** **0****1** of the report, and 2**32 stays a power.\n\n"
    "____\n\n__ __\n\n"
    "An escaped \\*\\*literal\\*\\* stays, like `**code**` and a__b__c.\n\n" + LONG
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One build over every case: the entries' text by seed name, and the warnings by seed."""
    root = tmp_path_factory.mktemp("text-loss")
    seeds = root / "seeds"
    all_cases = {**CASES, "emphasis": (EMPHASIS, (), None)}
    for name, (body, _, _) in all_cases.items():
        # Each case a page of a site of its own: their shared filler text is
        # not a site's template (feeder.content.learned would learn it as one).
        write_seed_file(
            seeds,
            f"{name}.md",
            f"title: Case {name}\nurl: https://{name}.example.org/a\nsource: Example\n"
            "date: 2024-05-01\nfetch_date: 2024-05-02T10:00:00",
            body,
        )
    out = root / "out" / "feed.atom"
    proc = run_feeder(
        "build", "--seeds", str(seeds), "--output", str(out), "--state-dir", str(root / "st"),
        "--max-entries", "0", "--json",
    )  # fmt: skip
    report = json.loads(proc.stdout)
    content: dict[str, str] = {}
    for entry in etree.parse(str(out)).getroot().iterfind(f"{ATOM}entry"):
        title = entry.findtext(f"{ATOM}title") or ""
        content[title.removeprefix("Case ")] = entry.findtext(f"{ATOM}content") or ""
    warnings: dict[str, list[str]] = {name: [] for name in all_cases}
    for line in proc.stderr.splitlines():
        m = re.search(r"WARNING: ([\w-]+)\.md: (.*)", line)
        if m and m.group(1) in warnings:
            warnings[m.group(1)].append(m.group(2))
    return {"report": report, "content": content, "warnings": warnings}


def text(fragment: str) -> str:
    """An entry's text as a reader shows it, white space folded."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return " ".join("".join(parser.parts).split())


@pytest.mark.slow
def test_every_case_is_an_entry(built: dict[str, Any]) -> None:
    assert built["report"]["skipped"] == []
    assert set(built["content"]) == {*CASES, "emphasis"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_after_the_construct_is_kept(built: dict[str, Any], name: str) -> None:
    body, phrases, _ = CASES[name]
    entry = text(built["content"][name])
    assert (
        "This is the opening paragraph" in entry
        or "A long paragraph" in entry
        or (name == "short-article")
    )
    for phrase in phrases:
        assert phrase in entry, f"{name}: {phrase!r} lost"
    for phrase in re.findall(r"(?:First|Second) paragraph after the [\w-]+ construct", body):
        assert phrase in entry, f"{name}: {phrase!r} lost"


@pytest.mark.parametrize("name", sorted(CASES))
def test_warning_names_the_seed_when_and_only_when_needed(built: dict[str, Any], name: str) -> None:
    expected = CASES[name][2]
    got = built["warnings"][name]
    if expected is None:
        assert got == [], f"{name}: unexpected warnings {got}"
    else:
        assert any(expected in w for w in got), f"{name}: no {expected!r} warning in {got}"
        assert not any("lost" in w for w in got), f"{name}: text lost: {got}"


def test_chrome_around_a_long_article_of_few_blocks_still_goes(built: dict[str, Any]) -> None:
    entry = text(built["content"]["few-long-blocks"])
    assert "News" not in entry and "版权" not in entry and "Terms" not in entry, entry


def test_nothing_unsafe_comes_back_with_the_kept_text(built: dict[str, Any]) -> None:
    for name, fragment in built["content"].items():
        assert not re.search(r"<(?:iframe|form|object|embed|script|input|button)\b", fragment), name


def test_no_literal_double_asterisk_or_blank_underscores(built: dict[str, Any]) -> None:
    fragment = built["content"]["emphasis"]
    doc = lhtml.fromstring(f"<div>{fragment}</div>")
    code = "".join(c.text_content() for c in doc.iter("code"))
    for c in doc.iter("code"):
        c.drop_tree()
    prose = " ".join(doc.text_content().split())
    assert code == "**code**"
    assert prose.count("**") == 3, prose  # the escaped pair and 2**32, nothing else
    assert "2**32" in prose
    assert "**literal**" in prose
    assert "____" not in prose and "__ __" not in prose
    assert "a__b__c" in prose  # inside a word: an identifier, not emphasis
    strong = [" ".join(s.text_content().split()) for s in doc.iter("strong")]
    for bold in ("前半：后半", "Key takeaway.", "·", "Note:", "loose bold", "trailing bold", "01"):
        assert bold in strong, (bold, strong)
    for glued in ("Every word counts", "继续说明", "CVE-2024-1234 is the first", "The rest of"):
        assert glued in prose


def test_cleaning_that_drops_most_of_the_article_warns(tmp_path: Path) -> None:
    # The article's long paragraphs, then a wall of links, then many short lines that
    # outweigh them: the extractor keeps the lines and drops the paragraphs.
    paragraphs = "".join(
        f"Paragraph {i} of the real article, long enough to read as prose. " * 4 + "\n\n"
        for i in range(2)
    )
    wall = "".join(f"[Menu entry number {i}](https://example.org/m/{i})\n\n" for i in range(15))
    lines = "".join(f"Short line {i} of a list of notes, plain text words.\n\n" for i in range(40))
    write_seed_file(
        tmp_path / "seeds",
        "split.md",
        "title: Split\nurl: https://example.org/split\ndate: 2024-05-01",
        paragraphs + wall + lines,
    )
    proc = run_feeder(
        "build", "--seeds", str(tmp_path / "seeds"), "--output", str(tmp_path / "o" / "f.atom"),
        "--state-dir", str(tmp_path / "st"),
    )  # fmt: skip
    assert re.search(
        r"WARNING: split\.md: cleaning dropped \d+% of what reads as the article", proc.stderr
    ), proc.stderr


def test_renderer_losing_text_is_reported_with_the_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The safety net: a renderer that drops text (markdown-it's own nesting limit) is caught."""
    from markdown_it import MarkdownIt

    from feeder.config import load_settings
    from feeder.content import render
    from feeder.content.entry import make_cleaner, render_entry
    from feeder.model import SeedFile
    from feeder.seeds.normalize import entry_meta
    from feeder.seeds.read import read_document

    path = write_seed_file(
        tmp_path / "seeds",
        "deep.md",
        "title: Deep\nurl: https://example.org/deep\ndate: 2024-05-01",
        INTRO + nested_list(20) + after("plain-renderer"),
    )
    plain = MarkdownIt("commonmark", {"html": True, "maxNesting": render.MAX_NESTING})
    monkeypatch.setattr(render, "_markdown", lambda: plain)
    settings = load_settings(
        None,
        overrides={"seeds": path.parent, "output": tmp_path / "feed.atom", "state_dir": tmp_path},
        use_default_config=False,
    )
    st = path.stat()
    seed = SeedFile("deep.md", path, st.st_size, st.st_mtime_ns)
    meta = entry_meta(read_document(seed), settings=settings, mtime=st.st_mtime)
    with caplog.at_level(logging.WARNING, logger="feeder.content.entry"):
        rendered = render_entry(meta, seed, settings, make_cleaner(settings)[0])
    assert "Second paragraph after" not in rendered.content  # the plain renderer drops it...
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("deep.md: rendering lost") for m in messages), messages  # ... said


@pytest.mark.slow
def test_real_corpus_has_no_false_warnings_and_no_literal_asterisks(tmp_path: Path) -> None:
    corpus = require_shared()
    for part in ("dev", "seed"):
        out = tmp_path / part / "out" / "feed.atom"
        proc = run_feeder(
            "build", "--seeds", str(corpus / part), "--output", str(out),
            "--state-dir", str(tmp_path / part / "st"), "--max-entries", "0",
        )  # fmt: skip
        noted = [
            line
            for line in proc.stderr.splitlines()
            if re.search(r"lost|nested too deeply|unclosed|without its|cleaning dropped", line)
        ]
        assert noted == [], noted
        for entry in etree.parse(str(out)).getroot().iterfind(f"{ATOM}entry"):
            fragment = entry.findtext(f"{ATOM}content") or ""
            doc = lhtml.fromstring(f"<div>{fragment}</div>")
            for c in [*doc.iter("code"), *doc.iter("pre")]:
                c.drop_tree()
            assert "**" not in doc.text_content(), entry.findtext(f"{ATOM}title")

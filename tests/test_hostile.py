"""Hostile seeds: every one is published with a fallback or skipped with a reason.

Seed content is scraped from the web and untrusted (see SECURITY.md). One
``feeder build --json`` (the real CLI) runs over a seed directory holding
every case at once; each test then checks one case's outcome, and the whole
feed is checked against the Atom schema (jing and lxml), feedparser, and for
markup that must never reach a feed reader.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hardkit import (
    ATOM,
    assert_schema_valid,
    build,
    entries,
    jing_valid,
    link_of,
    settings_for,
    text_of,
    unsafe_markup,
)
from lxml import etree
from lxml import html as lhtml

from feeder.seeds.scan import NOT_UTF8

FETCH = "2024-05-02T10:00:00"
FETCH_RFC3339 = "2024-05-02T10:00:00+00:00"


def seed_text(
    title: str | None = "Title",
    url: str | None = "https://example.org/a",
    source: str | None = "Example Source",
    date: str | None = "2024-05-01",
    body: str = "Body text of a hostile case, long enough to be a paragraph.\n",
    extra: str = "",
) -> str:
    lines = ["---"]
    for key, value in (("title", title), ("url", url), ("source", source), ("date", date)):
        if value is not None:
            lines.append(f"{key}: {value}")
    lines.append(f"fetch_date: {FETCH}")
    if extra:
        lines.append(extra.rstrip("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n\n" + body


@dataclass
class Case:
    """One hostile seed and what must come of it."""

    name: str  #: file name in the seed directory
    data: bytes | str | None  #: None: created by ``setup``
    #: "entry": published; "skip": reported with ``reason``; "ignored": not a seed by design
    expect: str = "entry"
    title: str | None = None  #: the entry's exact title (how the entry is found)
    link: str | None = None  #: exact alternate link; "" means no link
    author: str | None = None  #: exact author name (the source)
    updated: str | None = None  #: exact ``updated``
    warn: str | None = None  #: a substring of a warning logged for this seed
    reason: str | None = None  #: a substring of the skip reason
    content_has: tuple[str, ...] = ()
    content_lacks: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)
HUGE_BODY = ("A paragraph of text that is long enough to matter here. " * 20 + "\n\n") * (
    20 * 1024 * 1024 // 1162
)


def cases(root: Path) -> list[Case]:
    sentinel = root / "PWNED"
    return [
        Case("empty.md", b"", "skip", reason="empty file"),
        Case("blank.md", b"  \n\n\t\n", "skip", reason="empty file"),
        Case("binary.md", bytes(range(256)) * 64, "skip", reason="binary file"),
        Case("nul-heavy.md", b"\x00" * 5000 + b"title: x\n", "skip", reason="binary file"),
        Case(
            "bad-utf8.md",
            seed_text("Bad UTF-8", "https://example.org/bad-utf8").encode() + b"caf\xe9 \xff\n",
            title="Bad UTF-8",
            warn="invalid UTF-8 bytes replaced",
        ),
        Case(
            "gbk.md",
            seed_text(
                "中文标题测试",
                "https://example.org/gbk",
                body="这是一个用国标编码的中文文章正文。" * 8,
            ).encode("gbk"),
            title="中文标题测试",
            warn="decoded as",
            content_has=("中文文章正文",),
        ),
        Case(
            "latin1.md",
            seed_text(
                "Latin-1 article", "https://example.org/latin1", body="Les élèves étudient. " * 10
            ).encode("latin-1"),
            title="Latin-1 article",
            warn="decoded as",
        ),
        Case(
            "utf16.md",
            seed_text("UTF-16 with BOM", "https://example.org/utf16").encode("utf-16"),
            title="UTF-16 with BOM",
        ),
        Case(
            "bom.md",
            codecs.BOM_UTF8 + seed_text("BOM title", "https://example.org/bom").encode(),
            title="BOM title",
            link="https://example.org/bom",
        ),
        Case(
            "crlf.md",
            seed_text("CRLF title", "https://example.org/crlf").replace("\n", "\r\n"),
            title="CRLF title",
            link="https://example.org/crlf",
            updated=FETCH_RFC3339,
        ),
        Case(
            "no-front-matter.md",
            "# Heading Of A Bare File\n\nJust a body, no front matter.\n",
            title="Heading Of A Bare File",
            link="",
            warn="no front matter",
        ),
        Case(
            "unterminated.md",
            "---\ntitle: Unterminated\nurl: https://example.org/unterminated\n\nBody text.\n",
            title="Unterminated",
            link="https://example.org/unterminated",
            warn="unterminated front matter",
        ),
        Case(
            "fm-list.md",
            "---\n- a\n- b\n---\n\n# List Front Matter\n\nbody\n",
            title="List Front Matter",
        ),
        Case(
            "fm-scalar.md",
            "---\njust a scalar\n---\n\n# Scalar Front Matter\n\nbody\n",
            title="Scalar Front Matter",
        ),
        Case(
            "python-tag.md",
            "---\n"
            f"title: !!python/object/apply:os.system ['touch {sentinel}']\n"
            "url: https://example.org/python-tag\n"
            f'x: !!python/object/apply:os.system ["touch {sentinel}"]\n'
            f"y: !!python/object/new:subprocess.check_output [['touch', '{sentinel}']]\n"
            "---\n\nbody\n",
            link="https://example.org/python-tag",
            extra={"sentinel": sentinel},
        ),
        Case(
            "unknown-tag.md",
            "---\ntitle: !custom hello\nurl: https://example.org/unknown-tag\n---\n\nbody\n",
            title="!custom hello",
        ),
        Case(
            "alias-bomb.md",
            "---\ntitle: Alias bomb\nurl: https://example.org/bomb\n" + BOMB + "---\n\nbody\n",
            title="Alias bomb",
        ),
        Case(
            "huge-front-matter.md",
            "---\ntitle: Huge front matter\nurl: https://example.org/huge-fm\n"
            + "".join(f"k{i}: {'v' * 50}\n" for i in range(60_000))
            + "---\n\nbody\n",
            title="Huge front matter",
        ),
        Case(
            "huge-body.md",
            seed_text("Huge body", "https://example.org/huge", body=HUGE_BODY),
            title="Huge body",
            content_has=("Truncated", 'href="https://example.org/huge"'),
        ),
        Case(
            "deep-quotes.md",
            seed_text("Deep quotes", "https://example.org/deep-quotes", body=">" * 20_000 + " x\n"),
            title="Deep quotes",
        ),
        Case(
            "deep-lists.md",
            seed_text(
                "Deep lists",
                "https://example.org/deep-lists",
                body="".join("  " * i + "- item\n" for i in range(2_000)),
            ),
            title="Deep lists",
        ),
        Case(
            "deep-html.md",
            seed_text("Deep HTML", "https://example.org/deep-html", body="<div>" * 50_000 + "x\n"),
            title="Deep HTML",
        ),
        Case(
            "controls.md",
            seed_text(
                "Con\x00trol\x01 \x1bchars\x7f\x85\x9f",
                "https://example.org/controls\x00",
                "So\x00ur\x08ce",
                body="Body\x00 with\x0b con\x0ctrols\x1f and \ufffe\uffff.\n",
            ),
            title="Control chars",
            author="Source",
        ),
        Case(
            "cdata.md",
            seed_text(
                "]]> and <![CDATA[ x ]]>",
                "https://example.org/cdata",
                body="Body ]]> and <![CDATA[ inner ]]> end.\n",
            ),
            title="]]> and <![CDATA[ x ]]>",
        ),
        Case(
            "bidi.md",
            seed_text(
                "Invoice \u202egnp.exe",
                "https://example.org/bidi",
                "\u202eecruos",
                body="text \u202d\u202e reversed\n",
            ),
            title="Invoice gnp.exe",
            author="ecruos",
            content_lacks=("\u202e", "\u202d"),
        ),
        Case(
            "html-title.md",
            seed_text(
                '"<b>Bold</b> <script>alert(1)</script> <img src=x onerror=alert(1)>"',
                "https://example.org/html-title",
            ),
            title="<b>Bold</b> <script>alert(1)</script> <img src=x onerror=alert(1)>",
        ),
        Case("number-title.md", seed_text("2024", "https://example.org/n1"), title="2024"),
        Case("float-title.md", seed_text("3.14", "https://example.org/n2"), title="3.14"),
        Case("exp-title.md", seed_text("1e3", "https://example.org/n3"), title="1e3"),
        Case("bool-title.md", seed_text("yes", "https://example.org/n4"), title="yes"),
        Case(
            "no-title.md",
            seed_text(None, "https://example.org/no-title", body="# First Heading\n\ntext\n"),
            title="First Heading",
            warn="no title: used the first heading",
        ),
        Case(
            "null-title.md",
            seed_text("null", "https://example.org/null-title", body="## Null Heading\n\ntext\n"),
            title="Null Heading",
            warn="no title",
        ),
        Case(
            "no-title-no-heading.md",
            seed_text("~", "https://example.org/nothing", body="Plain text only.\n"),
            title="no-title-no-heading",
            warn="no title: used the file name",
        ),
        Case(
            "no-url.md",
            seed_text("No url", None),
            title="No url",
            link="",
            warn="no url",
            author="Example Source",
        ),
        Case(
            "null-url.md", seed_text("Null url", "null"), title="Null url", link="", warn="no url"
        ),
        Case(
            "no-url-no-body.md",
            seed_text("Nothing here", None, body=""),
            "skip",
            reason="nothing to publish",
        ),
        Case(
            "no-date.md",
            seed_text("No date", "https://example.org/no-date", date=None),
            title="No date",
            updated=FETCH_RFC3339,
            warn="no date: used the fetch date",
        ),
        Case(
            "null-date.md",
            seed_text("Null date", "https://example.org/null-date", date="null"),
            title="Null date",
            updated=FETCH_RFC3339,
        ),
        Case(
            "impossible-date.md",
            seed_text("Impossible date", "https://example.org/impossible", date="2024-13-45"),
            title="Impossible date",
            updated=FETCH_RFC3339,
            warn="impossible date",
        ),
        Case(
            "feb-30.md",
            seed_text("February 30", "https://example.org/feb-30", date="2023-02-30"),
            title="February 30",
            updated=FETCH_RFC3339,
            warn="impossible date",
        ),
        Case(
            "non-date.md",
            seed_text("Non date", "https://example.org/non-date", date="yesterday-ish"),
            title="Non date",
            updated=FETCH_RFC3339,
            warn="used the fetch date",
        ),
        Case(
            "future-date.md",
            seed_text("Future date", "https://example.org/future", date="2199-01-01"),
            title="Future date",
            updated=FETCH_RFC3339,
            warn="after the fetch",
        ),
        Case(
            "far-future-date.md",
            seed_text("Far future", "https://example.org/far-future", date="9999-12-31T23:59:59Z"),
            title="Far future",
            updated=FETCH_RFC3339,
            warn="out of range",
        ),
        Case(
            "no-source.md",
            seed_text("No source", "https://news.example.net/no-source", None),
            title="No source",
            author="news.example.net",
        ),
        Case(
            "null-source.md",
            seed_text("Null source", "https://sub.example.net/null-source", "null"),
            title="Null source",
            author="sub.example.net",
        ),
        Case(
            "relative-url.md",
            seed_text("Relative url", "/relative/path"),
            title="Relative url",
            link="",
            warn="relative url",
        ),
        Case(
            "javascript-url.md",
            seed_text("Javascript url", "JaVaScRiPt:alert(1)"),
            title="Javascript url",
            link="",
            warn="url ignored",
        ),
        Case(
            "data-url.md",
            seed_text("Data url", "data:text/html,<script>alert(1)</script>"),
            title="Data url",
            link="",
            warn="url ignored",
        ),
        Case(
            "file-url.md",
            seed_text("File url", "file:///etc/passwd"),
            title="File url",
            link="",
            warn="url ignored",
        ),
        Case(
            "idn-url.md",
            seed_text("IDN url", "https://bücher.example/straße?q=ü"),
            title="IDN url",
            link="https://bücher.example/straße?q=ü",
        ),
        Case(
            "dup-old.md",
            seed_text("Duplicate", "https://example.org/dup?utm_source=x", body="OLD CONTENT\n"),
            "skip",
            reason="duplicate of dup-new.md",
        ),
        Case(
            "dup-new.md",
            seed_text("Duplicate", "https://example.org/dup#top", body="NEW CONTENT\n").replace(
                FETCH, "2024-05-03T10:00:00"
            ),
            title="Duplicate",
            content_has=("NEW CONTENT",),
            content_lacks=("OLD CONTENT",),
        ),
        Case("link-out.md", None, "skip", reason="symlink pointing outside the seed directory"),
        Case("dir-link-out", None, "skip", reason="symlink pointing outside the seed directory"),
        Case("link-in.md", None, title="Linked inside"),
        Case("broken-link.md", None, "skip", reason="broken symlink"),
        Case(".hidden.md", seed_text("Hidden file"), "ignored", title="Hidden file"),
        Case("backup.md~", seed_text("Backup file"), "ignored", title="Backup file"),
        Case("swap.md.swp", seed_text("Swap file"), "ignored", title="Swap file"),
        Case("#autosave.md#", seed_text("Autosave file"), "ignored", title="Autosave file"),
        Case("notes.tmp", seed_text("Temp file"), "ignored", title="Temp file"),
        Case("image.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "ignored"),
        Case("dir-named.md", None, title="Inside a directory named like a seed"),
    ]


def _setup_special(seeds: Path, root: Path) -> None:
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(seed_text("OUTSIDE SECRET", "https://example.org/secret"))
    os.symlink(outside / "secret.md", seeds / "link-out.md")
    os.symlink(outside, seeds / "dir-link-out")
    (seeds / "target.txt.bak").write_text(seed_text("Linked inside", "https://example.org/in"))
    os.symlink(seeds / "target.txt.bak", seeds / "link-in.md")
    os.symlink(root / "missing.md", seeds / "broken-link.md")
    (seeds / "dir-named.md").mkdir()
    (seeds / "dir-named.md" / "inner.md").write_text(
        seed_text("Inside a directory named like a seed", "https://example.org/inner")
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    seeds = root / "seeds"
    seeds.mkdir()
    table = cases(root)
    for case in table:
        if case.data is not None:
            data = case.data.encode() if isinstance(case.data, str) else case.data
            (seeds / case.name).write_bytes(data)
    _setup_special(seeds, root)
    out = root / "public" / "feed.atom"
    start = time.perf_counter()
    report, stderr = build(seeds, out, root / "state", "--max-entries", "0")
    elapsed = time.perf_counter() - start
    print(f"hostile build: {len(table)} cases in {elapsed:.2f} s")  # shown with -s; never asserted
    data = out.read_bytes()
    root_el = etree.fromstring(data)
    by_title: dict[str, list[etree._Element]] = {}
    for e in entries(root_el):
        by_title.setdefault(text_of(e, "title"), []).append(e)
    return {
        "root": root,
        "out": out,
        "data": data,
        "report": report,
        "stderr": stderr,
        "cases": {c.name: c for c in table},
        "by_title": by_title,
        "xml": root_el,
    }


def _warnings(stderr: str, name: str) -> list[str]:
    prefix = f"feeder: WARNING: {name}: "
    return [line[len(prefix) :] for line in stderr.splitlines() if line.startswith(prefix)]


def _content(entry: etree._Element) -> str:
    return text_of(entry, "content")


CASE_NAMES = [c.name for c in cases(Path("/nonexistent"))]


@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.slow
def test_case_outcome(hostile: dict[str, Any], name: str) -> None:
    case: Case = hostile["cases"][name]
    skipped = {s["path"]: s["reason"] for s in hostile["report"]["skipped"]}
    if case.expect == "skip":
        assert name in skipped, f"{name} was not reported as skipped: {skipped}"
        assert case.reason and case.reason in skipped[name]
        assert "\n" not in skipped[name]
        if skipped[name].startswith("duplicate of "):  # counted in one line, named in --json
            count = sum(why.startswith("duplicate of ") for why in skipped.values())
            dups = f"{count} duplicate{'s' if count > 1 else ''}"
            assert f"feeder: skipped {dups}: older fetches of " in hostile["stderr"]
            assert f"feeder: skipped {name}: " not in hostile["stderr"]
        else:
            assert f"feeder: skipped {name}: " in hostile["stderr"]
        return
    assert name not in skipped, f"{name} skipped: {skipped.get(name)}"
    if case.expect == "ignored":
        if case.title:
            assert case.title not in hostile["by_title"]
        return
    if case.title is None:  # found by its link
        found = [e for e in entries(hostile["xml"]) if link_of(e) == case.link]
    else:
        found = hostile["by_title"].get(case.title, [])
    assert len(found) == 1, f"{name}: {len(found)} entries titled {case.title!r}"
    entry = found[0]
    for tag in ("id", "title", "updated"):
        assert text_of(entry, tag).strip(), f"{name}: empty <{tag}>"
    title_el = entry.find(f"{ATOM}title")
    assert title_el is not None and len(title_el) == 0  # text, never child markup
    assert title_el.get("type", "text") == "text"
    if case.link is not None:
        assert link_of(entry) == case.link
    if case.author is not None:
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == case.author
    if case.updated is not None:
        assert text_of(entry, "updated") == case.updated
    if case.warn is not None:
        warnings = _warnings(hostile["stderr"], name)
        assert any(case.warn in w for w in warnings), f"{name}: warnings {warnings}"
    content = _content(entry)
    for needle in case.content_has:
        assert needle in content, f"{name}: {needle!r} missing from the content"
    for needle in case.content_lacks:
        assert needle not in content, f"{name}: {needle!r} in the content"


def test_build_accounts_for_every_seed(hostile: dict[str, Any]) -> None:
    """Nothing lost silently: every seed is an entry or a reported skip."""
    report = hostile["report"]
    table: dict[str, Case] = hostile["cases"]
    expected_entries = [c for c in table.values() if c.expect == "entry"]
    expected_skips = {c.name for c in table.values() if c.expect == "skip"}
    assert {s["path"] for s in report["skipped"]} == expected_skips
    assert report["entries"] == len(expected_entries) == len(entries(hostile["xml"]))


@pytest.mark.slow
def test_feed_valid_against_atom_schema_with_jing(hostile: dict[str, Any]) -> None:
    jing_valid(hostile["out"])


@pytest.mark.slow
def test_feed_valid_with_lxml_relaxng_and_feedparser(hostile: dict[str, Any]) -> None:
    assert_schema_valid(hostile["data"])
    parsed = feedparser.parse(hostile["data"])
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == hostile["report"]["entries"]


def test_yaml_tags_never_execute(hostile: dict[str, Any]) -> None:
    sentinel: Path = hostile["cases"]["python-tag.md"].extra["sentinel"]
    assert not sentinel.exists(), "a YAML tag ran a command"
    assert "OUTSIDE SECRET" not in hostile["data"].decode()


def test_huge_body_is_capped_with_a_note(hostile: dict[str, Any]) -> None:
    from feeder.config import Settings

    (entry,) = hostile["by_title"]["Huge body"]
    content = _content(entry)
    assert len(content.encode()) <= Settings().max_content_bytes
    assert "[Truncated: this article is too long for the feed." in content
    assert '<a href="https://example.org/huge">the original</a>' in content


def test_no_entry_content_is_unsafe(hostile: dict[str, Any]) -> None:
    for entry in entries(hostile["xml"]):
        problems = unsafe_markup(_content(entry))
        assert not problems, f"{text_of(entry, 'title')!r}: {problems}"


def test_alias_bomb_is_bounded_in_memory() -> None:
    """The alias bomb (10^9 'lol's if expanded) is refused before it is expanded."""
    from feeder.seeds.parse import parse_bytes

    text = "---\ntitle: Alias bomb\n" + BOMB + "---\n\nbody\n"
    tracemalloc.start()
    try:
        doc = parse_bytes(text.encode(), "bomb.md")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert doc.meta["title"] == "Alias bomb"
    assert peak < 20 * 1024 * 1024, f"peak {peak} bytes"


# -- XSS ------------------------------------------------------------------

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    '<a href="JaVaScRiPt:alert(1)">case</a>',
    '<a href="java\tscript:alert(1)">tab</a>',
    '<a href="java&#x0A;script:alert(1)">newline entity</a>',
    '<a href="jav&NewLine;ascript:alert(1)">named entity</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">dec</a>',
    '<a href="&#x6A;avascript:alert(1)">hex</a>',
    '<a href="java&#0000009;script:alert(1)">padded</a>',
    '<a href=" \x01javascript:alert(1)">leading junk</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="data:image/svg+xml,<svg onload=alert(1)>">svg data</a>',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name="q"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<p style="width: expression(alert(1))">expr</p>',
    "<svg onload=alert(1)><circle onclick=alert(1) r=5 /></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>svg link</text></a></svg>',
    '<math><mi xlink:href="javascript:alert(1)">math</mi></math>',
    "<body onload=alert(1)>body</body>",
    "<details open ontoggle=alert(1)><summary>s</summary></details>",
    '<base href="javascript:/">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<img src="javascript:alert(1)">',
    '<img srcset="javascript:alert(1) 1x">',
    "<video poster=javascript:alert(1)></video>",
    '<table background="javascript:alert(1)"><tr><td>t</td></tr></table>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    '<a href="https://ok.example/" onclick="alert(1)" onmouseover="alert(2)">handlers</a>',
    '<a href="https://ok.example/" target="_blank" formaction="javascript:alert(1)">x</a>',
    "<!--<script>alert(1)</script>-->",
    "[md link](javascript:alert(1))",
    "![md image](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "[entity](&#106;avascript:alert(1))",
    '<a href="/relative">relative link made absolute</a>',
]


@pytest.fixture(scope="module")
def xss(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("xss")
    seeds = root / "seeds"
    seeds.mkdir()
    para = "A normal paragraph of article text that surrounds the payload, long enough. "
    for i, payload in enumerate(XSS_PAYLOADS):
        (seeds / f"xss{i:03d}.md").write_text(
            seed_text(
                f"XSS {i} {payload}",
                f"https://example.org/xss/{i}",
                body=f"{para * 3}\n\n{payload}\n\n{para * 3}\n\n<p>inline {payload} tail</p>\n",
            ),
            encoding="utf-8",
        )
    out = root / "public" / "feed.atom"
    config = root / "feeder.toml"  # every entry also in an RSS and a JSON feed
    config.write_text('[[feeds]]\nname = "all"\ntitle = "All"\nformats = ["rss", "json"]\n')
    report, _ = build(seeds, out, root / "state", "--max-entries", "0", "--config", str(config))
    return {"report": report, "out": out, "data": out.read_bytes(), "root": root}


@pytest.mark.slow
def test_xss_every_payload_published(xss: dict[str, Any]) -> None:
    assert xss["report"]["entries"] == len(XSS_PAYLOADS)
    assert xss["report"]["skipped"] == []


def test_xss_nothing_dangerous_survives(xss: dict[str, Any]) -> None:
    root = etree.fromstring(xss["data"])
    checked = 0
    for entry in entries(root):
        # lxml has undone the XML escaping: this is the HTML a feed reader gets.
        problems = unsafe_markup(_content(entry))
        assert not problems, f"{text_of(entry, 'title')!r}: {problems}"
        summary = text_of(entry, "summary")
        assert "<" not in summary or entry.find(f"{ATOM}summary").get("type", "text") == "text"
        checked += 1
    assert checked == len(XSS_PAYLOADS)


def test_xss_rss_and_json_feeds_are_safe(xss: dict[str, Any]) -> None:
    """The other formats carry the same sanitized content, and nothing else."""
    public = xss["out"].parent
    rss = etree.parse(str(public / "all.rss"))
    items = rss.findall("channel/item")
    assert len(items) == len(XSS_PAYLOADS)
    encoded = "{http://purl.org/rss/1.0/modules/content/}encoded"
    for item in items:  # the HTML of an item; its title is plain text, as in JSON Feed
        html_fields = [item.find("description"), item.find(encoded)]
        assert any(f is not None and f.text for f in html_fields)
        for el in html_fields:
            if el is not None and el.text:
                problems = unsafe_markup(el.text)
                assert not problems, f"{item.findtext('title')!r} {el.tag}: {problems}"
    feed = json.loads((public / "all.json").read_text(encoding="utf-8"))
    assert len(feed["items"]) == len(XSS_PAYLOADS)
    for item in feed["items"]:
        problems = unsafe_markup(item.get("content_html", ""))
        assert not problems, f"{item['title']!r}: {problems}"
        assert "<" not in item.get("summary", "")


def test_xss_feedparser_unsanitized_view_is_safe(xss: dict[str, Any]) -> None:
    parsed = feedparser.parse(xss["data"], sanitize_html=False)
    assert parsed.bozo == 0
    for entry in parsed.entries:
        assert not unsafe_markup(entry.content[0].value), entry.title


def test_xss_relative_link_made_absolute(xss: dict[str, Any]) -> None:
    root = etree.fromstring(xss["data"])
    i = len(XSS_PAYLOADS) - 1
    (entry,) = [e for e in entries(root) if link_of(e) == f"https://example.org/xss/{i}"]
    assert 'href="https://example.org/relative"' in _content(entry)


def test_xss_feed_valid(xss: dict[str, Any]) -> None:
    assert_schema_valid(xss["data"])
    jing_valid(xss["out"])


def test_xss_index_page_is_safe(xss: dict[str, Any]) -> None:
    page = xss["out"].parent / "index.html"
    if not page.is_file():
        pytest.skip("no index.html written next to the feed")
    doc = lhtml.fromstring(page.read_bytes())
    assert not doc.xpath("//script|//iframe|//object|//embed|//form")
    for node in doc.iter():
        if not isinstance(node.tag, str):
            continue
        for name, value in node.attrib.items():
            assert not name.lower().startswith("on"), (node.tag, name)
            if name.lower() in ("href", "src"):
                assert value.lower().lstrip().startswith(("http:", "https:", "#", "feed")) or (
                    ":" not in value.split("/", 1)[0]
                ), value


# -- files that change under the build ----------------------------------------


def test_file_vanishing_between_scan_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeder.build.pipeline as pipeline

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "stays.md").write_text(seed_text("Stays", "https://example.org/stays"))
    (seeds / "goes.md").write_text(seed_text("Goes", "https://example.org/goes"))
    real_scan = pipeline.scan

    def scan_then_delete(root: Path, **kwargs: Any) -> Any:
        found = real_scan(root, **kwargs)
        (seeds / "goes.md").unlink(missing_ok=True)
        return found

    monkeypatch.setattr(pipeline, "scan", scan_then_delete)
    result = pipeline.build(settings_for(tmp_path))
    assert result.entries == 1
    reasons = {s.path: s.reason for s in result.skipped}
    assert "vanished" in reasons["goes.md"]
    monkeypatch.setattr(pipeline, "scan", real_scan)
    result = pipeline.build(settings_for(tmp_path))  # the next build: it is simply gone
    assert result.entries == 1 and result.skipped == ()
    assert_schema_valid((tmp_path / "public" / "feed.atom").read_bytes())


def test_file_growing_while_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import feeder.build.pipeline as pipeline
    import feeder.seeds.read as ingest

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    growing = seeds / "growing.md"
    growing.write_text(seed_text("Growing", "https://example.org/growing"))
    (seeds / "still.md").write_text(seed_text("Still", "https://example.org/still"))
    real_read = ingest._read_upto
    growing_ino = growing.stat().st_ino

    def read_while_growing(fd: int, size: int) -> bytes:
        """The crawler appends to the file just as feeder has read it."""
        data = real_read(fd, size)
        if os.fstat(fd).st_ino == growing_ino:
            with open(growing, "ab") as w:
                w.write(b"\nmore text appended by the crawler\n")
        return data

    monkeypatch.setattr(ingest, "_read_upto", read_while_growing)
    result = pipeline.build(settings_for(tmp_path))
    reasons = {s.path: s.reason for s in result.skipped}
    assert "changed while being read" in reasons["growing.md"]
    assert result.entries == 1
    monkeypatch.setattr(ingest, "_read_upto", real_read)
    result = pipeline.build(settings_for(tmp_path))  # retried at the next build, complete
    assert result.entries == 2 and result.skipped == ()
    data = (tmp_path / "public" / "feed.atom").read_bytes()
    assert b"more text appended by the crawler" in data
    assert_schema_valid(data)


@pytest.mark.parametrize(
    "fragment",
    [
        "<script>alert(1)</script>",
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<img src="x" onerror="alert(1)">',
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<iframe src="https://e.example/"></iframe>',
        '<a href="data:text/html,x">x</a>',
        "<svg><circle/></svg>",
    ],
)
def test_checker_detects_unsafe_markup(fragment: str) -> None:
    """The safety check itself is not blind (a negative control)."""
    assert unsafe_markup(fragment)


def test_checker_accepts_safe_markup() -> None:
    assert not unsafe_markup(
        '<p>text <a href="https://e.example/a">a</a> <img src="https://e.example/i.png"></p>'
        '<pre><code class="language-js">javascript:alert(1) &lt;script&gt;</code></pre>'
    )


@pytest.mark.slow
def test_file_names_that_are_not_utf8_are_refused_not_fatal(tmp_path: Path) -> None:
    # A file system holds any bytes as a name; the state, the JSON report and
    # a terminal hold text. Such a seed is reported (its bytes escaped), the
    # others are published, and renaming it publishes it.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.md").write_text(seed_text("Good one", "https://example.org/good"))
    (seeds / "名前.md").write_text(seed_text("CJK name", "https://example.org/cjk"))
    raw = os.fsencode(seeds)
    with open(raw + b"/bad\xffname.md", "wb") as f:
        f.write(seed_text("Bad name", "https://example.org/bad").encode())
    os.mkdir(raw + b"/sub\xfe")
    with open(raw + b"/sub\xfe/inner.md", "wb") as f:
        f.write(seed_text("In a bad directory", "https://example.org/inner").encode())
    os.symlink(b"nowhere.md", raw + b"/broken\xfe.md")
    out, state = tmp_path / "public" / "feed.atom", tmp_path / "state"
    for _ in range(2):  # the build that finds them, and a no-change one
        report, stderr = build(seeds, out, state)
        skipped = {s["path"]: s["reason"] for s in report["skipped"]}
        assert skipped == {
            "bad\\xffname.md": NOT_UTF8,
            "sub\\xfe/inner.md": NOT_UTF8,
            "broken\\xfe.md": "broken symlink or unreadable file",
        }, skipped
        assert "feeder: skipped bad\\xffname.md: file name is not valid UTF-8" in stderr
        assert "Traceback" not in stderr and "internal error" not in stderr
        root = assert_schema_valid(out.read_bytes())
        assert {text_of(e, "title") for e in entries(root)} == {"Good one", "CJK name"}
    os.rename(raw + b"/bad\xffname.md", raw + b"/renamed.md")
    report, _ = build(seeds, out, state)
    assert "bad\\xffname.md" not in {s["path"] for s in report["skipped"]}
    titles = {text_of(e, "title") for e in entries(etree.parse(str(out)).getroot())}
    assert titles == {"Good one", "CJK name", "Bad name"}


def test_file_times_out_of_the_64_bit_range_are_published_not_fatal(tmp_path: Path) -> None:
    # A file system keeps times nanoseconds in 64 bits cannot (ext4 to 2446,
    # btrfs further): one such seed failed the walk, so every build, with
    # "internal error: argument out of range".
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.md").write_text(seed_text("Good one", "https://example.org/good"))
    far = seeds / "far.md"
    far.write_text(seed_text("Far future", "https://example.org/far", date=None))
    year_2400 = 13_569_465_600  # 2400-01-01T00:00:00Z
    os.utime(far, (year_2400, year_2400))
    if far.stat().st_mtime < year_2400:
        pytest.skip(f"the file system under {tmp_path} cannot keep a time in 2400")
    out, state = tmp_path / "public" / "feed.atom", tmp_path / "state"
    warned = []
    for _ in range(2):  # the build that reads it, and a no-change one
        report, stderr = build(seeds, out, state)
        assert "internal error" not in stderr and "Traceback" not in stderr, stderr
        assert report["entries"] == 2 and report["skipped"] == [], report
        warned.append("far.md: modified in the future (2262-04-11T23:47:16Z" in stderr)
    assert warned == [True, False]  # said once, when it is read
    root = assert_schema_valid(out.read_bytes())
    published = {text_of(e, "title"): text_of(e, "published") for e in entries(root)}
    assert published["Far future"] == FETCH_RFC3339  # the fetch date, not the file's time
    far.write_text(seed_text("Far future, revised", "https://example.org/far", date=None))
    os.utime(far, (year_2400, year_2400))
    build(seeds, out, state)  # the same time, another size: the change is seen
    titles = {text_of(e, "title") for e in entries(etree.parse(str(out)).getroot())}
    assert titles == {"Good one", "Far future, revised"}


def test_fifo_swapped_in_for_a_seed_does_not_hang(tmp_path: Path) -> None:
    import feeder.seeds.read as ingest
    from feeder.errors import SeedError

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(SeedError, match="not a regular file"):
        ingest.read_path("pipe.md", fifo)
    with pytest.raises(SeedError, match="is a directory"):
        ingest.read_path("dir.md", tmp_path)


def _cached_bytes(path: Path) -> int:
    """The bytes of ``path`` in the page cache, as util-linux's ``fincore`` reports them."""
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip())


@pytest.mark.skipif(shutil.which("fincore") is None, reason="needs fincore (util-linux)")
def test_prefetch_reads_seeds_into_the_page_cache(tmp_path: Path) -> None:
    """Seeds announced to the kernel are read into the page cache without being read here.

    Of a seed larger than :data:`PREFETCH_BYTES`, only that much is asked for.
    """
    from feeder.seeds.read import PREFETCH_BYTES, prefetch

    seeds = []
    for i in range(8):
        seed = tmp_path / f"{i:03d}_seed.md"
        with open(seed, "wb") as f:
            body = f"正文，第 {i} 篇。\n" * (8000 if i else 80_000)  # the first: ~1.6 MiB
            f.write((seed_text(f"Seed {i}", f"https://e.example/{i}") + body).encode())
            f.flush()
            os.fsync(f.fileno())
        fd = os.open(seed, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        seeds.append(seed)
    if any(_cached_bytes(seed) for seed in seeds):
        pytest.skip("this file system keeps its files in memory (tmpfs?): nothing to prefetch")
    prefetch(str(seed) for seed in seeds)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_cached_bytes(seed) for seed in seeds):
        time.sleep(0.05)
    assert all(_cached_bytes(seed) >= 64 * 1024 for seed in seeds)
    assert seeds[0].stat().st_size > 1.5 * PREFETCH_BYTES
    assert PREFETCH_BYTES <= _cached_bytes(seeds[0]) < seeds[0].stat().st_size


def test_prefetch_passes_over_what_is_not_a_readable_file(tmp_path: Path) -> None:
    """A FIFO, a directory, a missing or dangling path: no error, no hang; each seed's own error."""
    seed = tmp_path / "000_ok.md"
    seed.write_text(seed_text("Fine", "https://e.example/fine") + "正文。\n")
    os.mkfifo(tmp_path / "001_pipe.md")
    (tmp_path / "002_dir.md").mkdir()
    (tmp_path / "003_dangling.md").symlink_to(tmp_path / "nowhere")
    locked = tmp_path / "004_locked.md"
    locked.write_text(seed_text("Locked", "https://e.example/locked"))
    locked.chmod(0)
    names = [
        "000_ok.md", "001_pipe.md", "002_dir.md", "003_dangling.md", "004_locked.md", "005_gone.md"
    ]  # fmt: skip
    # In a child process with a deadline: a prefetch that opened the FIFO blocking would hang.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from feeder.build.ingest import _parse_chunk\n"
        "from feeder.config import Settings\n"
        "from feeder.seeds.read import prefetch\n"
        "d = Path(sys.argv[1])\n"
        "paths = [str(d / n) for n in sys.argv[2:]]\n"
        "prefetch(paths)\n"
        "stats = [(n, p, 0, 0) for n, p in zip(sys.argv[2:], paths)]\n"
        "for parsed in _parse_chunk(stats, Settings(seeds=d)):\n"
        "    print(parsed.rel, parsed.record is not None and parsed.error is None, parsed.error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), *names],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.splitlines()
    found = {line.split(" ", 1)[0]: line for line in out}
    assert found["000_ok.md"].startswith("000_ok.md True")
    assert "not a regular file" in found["001_pipe.md"]
    assert "is a directory" in found["002_dir.md"]
    assert "vanished" in found["003_dangling.md"]
    assert "vanished" in found["005_gone.md"]
    if os.geteuid() != 0:  # root reads a mode-0 file anyway
        assert "cannot read" in found["004_locked.md"]


def test_short_reads_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that returns fewer bytes per read (NFS, FUSE) still gives the whole seed."""
    import feeder.seeds.read as ingest

    seed = tmp_path / "long.md"
    seed.write_text(seed_text("Long", "https://example.org/long") + "正文。" * 3000)
    whole = ingest.read_path("long.md", seed)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, min(n, 1000)))
    assert ingest.read_path("long.md", seed) == whole


@pytest.mark.parametrize(
    "data",
    [
        b"---\r\ntitle: CRLF\r\n---\r\nbody line\r\nsecond\r\n",
        codecs.BOM_UTF8 + b"---\ntitle: BOM\n---\n\nbody\n",
        "---\ntitle: 'quoted: yes'\ntags: [a, b]\n---\n正文。\n".encode("utf-16"),
        b"no front matter at all\n---\nnot a fence for the body\n",
        b"---\ntitle: unterminated\nurl: https://e.example/x\nbody without a fence\n",
        b"---\ntitle: broken \xff bytes\n---\nbody \xfe here\n",
    ],
)
def test_the_body_read_for_learning_is_the_parsed_seeds_body(tmp_path: Path, data: bytes) -> None:
    """read_body (front matter unread) gives the digest and body read_path gives."""
    import feeder.seeds.read as ingest

    seed = tmp_path / "s.md"
    seed.write_bytes(data)
    doc = ingest.read_path("s.md", seed)
    assert ingest.read_body("s.md", seed) == (doc.digest, doc.body)

"""End to end: the real CLI on the shared corpus of real scraped pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from conftest import WECHAT_CHROME, assert_valid_atom, build_json, require_shared
from lxml import etree, html

from feeder.seeds.parse import parse_bytes

ATOM = "{http://www.w3.org/2005/Atom}"
USER_SEED = "000_6d81516ea70193ef.txt"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    corpus = require_shared()
    root = tmp_path_factory.mktemp("corpus")
    seeds = root / "seeds"
    seeds.mkdir()
    for f in [*corpus.glob("seed/*.txt"), *corpus.glob("dev/*.txt")]:
        shutil.copy(f, seeds / f.name)
    out = root / "out" / "feed.atom"
    report = build_json(seeds, out, root / "state", "--max-entries", "0")
    return {
        "seeds": seeds,
        "out": out,
        "root": root,
        "report": report,
        "tree": etree.parse(str(out)),
        "parsed": feedparser.parse(out.read_bytes()),
    }


def _entries_by_link(tree: etree._ElementTree) -> dict[str, etree._Element]:
    out = {}
    for e in tree.iterfind(f"{ATOM}entry"):
        links = [x for x in e.iterfind(f"{ATOM}link") if x.get("rel", "alternate") == "alternate"]
        assert len(links) == 1
        out[links[0].get("href")] = e
    return out


@pytest.mark.slow
def test_every_article_is_one_entry(built: dict[str, Any]) -> None:
    report = built["report"]
    n = len(list(built["seeds"].iterdir()))
    assert report["seeds"] == n
    assert report["skipped"] == []
    assert report["entries"] == n
    assert len(built["tree"].findall(f"{ATOM}entry")) == n


@pytest.mark.slow
def test_schema_valid_and_feedparser_clean(built: dict[str, Any]) -> None:
    assert_valid_atom(built["out"])
    assert built["parsed"].bozo == 0, built["parsed"].get("bozo_exception")


def test_entries_carry_url_title_source_dates(built: dict[str, Any]) -> None:
    entries = _entries_by_link(built["tree"])
    for seed in sorted(built["seeds"].iterdir()):
        doc = parse_bytes(seed.read_bytes(), seed.name)
        url = next(
            str(doc.meta[k]) for k in ("url", "source_url", "original_url") if doc.meta.get(k)
        )
        entry = entries.get(url.strip())
        assert entry is not None, f"{seed.name}: no entry links to {url}"
        title = entry.findtext(f"{ATOM}title")
        assert title and title.strip(), seed.name
        if isinstance(doc.meta.get("title"), str) and doc.meta["title"].strip():
            # as given, white space folded (and a leaked "xa0" escape read as a space)
            expected = re.sub(r"(?<=[^\x00-\x7f])xa0", " ", doc.meta["title"])
            assert title == " ".join(expected.split()), seed.name
        author = entry.findtext(f"{ATOM}author/{ATOM}name")
        source = entry.find(f"{ATOM}source")
        assert author and source is not None, seed.name
        assert source.findtext(f"{ATOM}title") == author
        assert source.findtext(f"{ATOM}id").startswith("tag:")
        assert source.findtext(f"{ATOM}updated")
        expected_source = str(doc.meta.get("source") or "").strip() or urlsplit(url).hostname
        assert author == expected_source, seed.name
        raw_date = doc.meta.get("date")
        if raw_date:
            day = re.match(r"\d{4}-\d{2}-\d{2}", str(raw_date).strip('"'))
            assert day and entry.findtext(f"{ATOM}published").startswith(day.group()), seed.name
        assert entry.findtext(f"{ATOM}updated") >= entry.findtext(f"{ATOM}published")[:10]


def test_content_nonempty_with_only_absolute_links(built: dict[str, Any]) -> None:
    for entry in built["tree"].iterfind(f"{ATOM}entry"):
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html"
        frag = html.fragment_fromstring(content.text, create_parent="div")
        assert frag.text_content().strip(), entry.findtext(f"{ATOM}title")
        for el in frag.iter("a", "img"):
            url = el.get("href") if el.tag == "a" else el.get("src")
            assert url and urlsplit(url).scheme in ("http", "https", "mailto"), url
            if el.tag == "img" and "mmbiz.qpic.cn" in url:
                assert el.get("referrerpolicy") == "no-referrer"


def test_ids_are_ascii_uuid_urns_and_unique(built: dict[str, Any]) -> None:
    ids = [e.findtext(f"{ATOM}id") for e in built["tree"].iterfind(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids)
    for i in ids:
        assert re.fullmatch(
            r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
            r"[0-9a-f]{12}",
            i,
        ), i


def test_user_seed(built: dict[str, Any]) -> None:
    parsed = built["parsed"]
    entry = next(e for e in parsed.entries if "联合国打击网络犯罪公约" in e.title)
    assert entry.published.startswith("2024-12-26")
    assert entry.author == "中国信息安全"
    text = " ".join(
        html.fragment_fromstring(entry.content[0].value, create_parent="div").text_content().split()
    )
    for sentence in (
        "联合国大会12月24日以一致同意的方式通过具有法律约束力的《联合国打击网络犯罪公约》",
        "公约将于2025年在越南首都河内举行的正式仪式上开放签署",
        "（来源：央视新闻）",
    ):
        assert sentence in text
    for chrome in WECHAT_CHROME:
        assert chrome not in text, chrome
    assert "cover_image" not in entry.content[0].value
    assert text.count("关注 | 联大通过") == 0  # the repeated title heading is gone


def test_no_literal_markdown_emphasis(built: dict[str, Any]) -> None:
    for entry in built["parsed"].entries:
        frag = html.fragment_fromstring(entry.content[0].value, create_parent="div")
        for code in list(frag.iter("code", "pre")):
            code.drop_tree()
        assert "**" not in frag.text_content(), entry.title


@pytest.mark.slow
def test_rebuild_is_byte_identical(built: dict[str, Any], tmp_path: Path) -> None:
    other = tmp_path / "feed.atom"
    build_json(built["seeds"], other, tmp_path / "state", "--max-entries", "0")
    assert other.read_bytes() == built["out"].read_bytes()

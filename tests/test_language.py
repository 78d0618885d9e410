"""Language tags: each entry's from its front matter or its text, the feed's from its entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_feeder, write_seed_file
from lxml import etree

from feeder.content.language import detect, dominant, tag

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ZH = (
    "广受欢迎的工作流自动化工具近日修复了一个严重漏洞，攻击者可以利用该漏洞在服务器上执行任意代码。"
)
EN = (
    "The vulnerability allows an attacker to execute arbitrary code on the server with one request."
)


def test_tags_and_detection() -> None:
    assert tag("zh_cn") == "zh-CN" and tag(" EN ") == "en" and tag("zh-Hant") == "zh-Hant"
    assert tag("English") == "" and tag(3) == "" and tag("") == ""
    assert detect(ZH * 3) == "zh" and detect(EN * 3) == "en"
    assert detect("") == "" and detect("\x00\ud800") == ""
    assert dominant(["zh", "en", "zh", ""]) == "zh" and dominant(["en", "zh"]) == "en"
    assert dominant([], default="und") == "und"


def _build(tmp: Path, config: str = "") -> tuple[etree._Element, dict[str, object]]:
    seeds, out = tmp / "seeds", tmp / "public" / "feed.atom"
    for i in range(3):
        write_seed_file(
            seeds, f"zh{i}.md", f"title: 中文文章 {i}\nurl: https://e.org/zh{i}", ZH * 4
        )
    write_seed_file(seeds, "en.md", "title: An English one\nurl: https://e.org/en", EN * 4)
    write_seed_file(seeds, "fr.md", "title: Given\nurl: https://e.org/fr\nlang: fr_FR", EN * 4)
    cfg = tmp / "feeder.toml"
    cfg.write_text(config + '\n[[feeds]]\nname = "all"\nformats = ["atom", "json"]\n', "utf-8")
    run_feeder("build", "--config", str(cfg), "--seeds", str(seeds), "--output", str(out),
               "--state-dir", str(tmp / "state"))  # fmt: skip
    data = json.loads((out.parent / "all.json").read_text(encoding="utf-8"))
    return etree.parse(str(out)).getroot(), data


@pytest.mark.slow
def test_entries_carry_their_language_and_the_feed_its_entries_dominant_one(
    tmp_path: Path,
) -> None:
    root, data = _build(tmp_path)
    assert root.get(XML_LANG) == "zh"
    langs = {e.findtext(f"{ATOM}title"): e.get(XML_LANG) for e in root.iter(f"{ATOM}entry")}
    assert langs["An English one"] == "en" and langs["Given"] == "fr-FR"
    assert langs["中文文章 0"] is None  # the feed's own: inherited
    assert data["language"] == "zh"
    items = {item["title"]: item.get("language") for item in data["items"]}  # type: ignore[union-attr]
    assert items == {"中文文章 0": "zh", "中文文章 1": "zh", "中文文章 2": "zh",
                     "An English one": "en", "Given": "fr-FR"}  # fmt: skip


@pytest.mark.slow
def test_a_configured_feed_language_wins(tmp_path: Path) -> None:
    root, data = _build(tmp_path, '[feed]\nlanguage = "en"\n')
    assert root.get(XML_LANG) == "en" and data["language"] == "en"
    langs = [e.get(XML_LANG) for e in root.iter(f"{ATOM}entry")]
    assert langs.count("zh") == 3

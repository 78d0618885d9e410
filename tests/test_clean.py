"""Cleaning keeps the article and drops the page chrome, on real scraped pages."""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import WECHAT_CHROME

from feeder.content.clean import Cleaned, clean_html, explain
from feeder.content.render import render_markdown
from feeder.content.sites import SiteRules, load_rules

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "clean"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEV = SHARED / "corpus" / "dev"
RULES = load_rules(None)
NO_RULES = SiteRules()


def fold(text: str) -> str:
    return " ".join(text.split())


def read_page(path: Path) -> tuple[dict[str, Any], str]:
    """Front matter and rendered body of a seed page."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    front, body = "".join(lines[1:end]), "".join(lines[end + 1 :])
    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError:  # unquoted titles with ': ' or quotes: read key: value lines
        meta = dict(
            (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in front.splitlines())
        )
    return meta, render_markdown(body)


def url_of(meta: dict[str, Any]) -> str:
    return next((str(meta[k]) for k in ("url", "source_url", "original_url") if meta.get(k)), "")


def clean_page(path: Path, rules: SiteRules = RULES) -> Cleaned:
    meta, html = read_page(path)
    return clean_html(
        html,
        url=url_of(meta),
        title=str(meta.get("title") or ""),
        source=str(meta.get("source") or ""),
        rules=rules,
    )


def text(cleaned: Cleaned) -> str:
    return fold(BeautifulSoup(cleaned.html, "lxml").get_text(" "))


def dev(name: str) -> Path:
    if not DEV.is_dir():
        pytest.skip(f"../shared corpus not available: {DEV}")
    return next(DEV.glob(name + "_*.txt"))


def labels() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if (DEV / "labels.tsv").is_file():
        with (DEV / "labels.tsv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out[row["file"]].append((row["kind"], fold(row["phrase"])))
    return out


def check_labels(path: Path, out: str) -> None:
    for kind, phrase in labels()[path.name]:
        if kind == "keep":
            assert phrase in out, f"{path.name}: lost article text {phrase!r}"
        else:
            assert phrase not in out, f"{path.name}: kept chrome {phrase!r}"


# --- the user's WeChat seed -------------------------------------------------

SEED_SENTENCES = [
    "联合国大会12月24日以一致同意的方式通过具有法律约束力的《联合国打击网络犯罪公约》",
    "联合国秘书长古特雷斯对此表示欢迎并指出",
    "第79届联大主席菲勒蒙·扬认为",
    "该公约承认滥用信息和通信技术所带来的重大风险",
    "公约将于2025年在越南首都河内举行的正式仪式上开放签署，并将在第40个签署国批准后90天生效。",
    "（来源：央视新闻）",
]
SEED_FURNITURE = [*WECHAT_CHROME, "轻点两下取消在看", "使用小程序", "关注该公众号", "听过"]


def test_seed_keeps_every_sentence_and_loses_the_furniture() -> None:
    cleaned = clean_page(FIXTURES / "wechat_seed.txt")
    out = text(cleaned)
    for sentence in SEED_SENTENCES:
        assert sentence in out
    for furniture in SEED_FURNITURE:
        assert furniture not in out
    lines = [fold(p.get_text()) for p in BeautifulSoup(cleaned.html, "lxml").find_all("p")]
    assert not any(line in {"：", "，", "。"} for line in lines)
    assert not cleaned.fallback


def test_seed_drops_repeated_title_and_cover_image() -> None:
    cleaned = clean_page(FIXTURES / "wechat_seed.txt")
    soup = BeautifulSoup(cleaned.html, "lxml")
    headings = " ".join(h.get_text() for h in soup.find_all("h1"))
    assert "联大通过《联合国打击网络犯罪公约》" not in headings
    assert not soup.find("img", alt="cover_image")
    assert {d.rule for d in cleaned.dropped} >= {"title", "cover-image", "site:wechat:end_at"}


# --- each site rule on a real page ------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("006", "wechat"),
        ("033", "wechat"),
        ("001", "anquanke"),
        ("086", "anquanke"),
        ("026", "freebuf"),
        ("073", "freebuf"),
        ("011", "sans-isc"),
        ("028", "seclists"),
        ("083", "seclists"),
        ("003", "cxsecurity"),
        ("078", "cxsecurity"),
        ("031", "krebsonsecurity"),
        ("056", "theregister"),
        ("093", "secpulse"),
    ],
)
def test_site_rule_on_real_page(name: str, rule: str) -> None:
    path = dev(name)
    cleaned = clean_page(path)
    assert any(d.rule.startswith(f"site:{rule}:") for d in cleaned.dropped), explain(cleaned)
    assert not cleaned.fallback
    check_labels(path, text(cleaned))


def test_wechat_recommendations_and_account_furniture_go() -> None:
    out = text(clean_page(dev("033")))
    assert "推荐阅读" not in out and "RECOMMEND" not in out and "管窥蠡测" not in out
    assert "维基媒体基金会（WikimediaFoundation）披露" in out


def test_theregister_drops_inline_link_boxes_and_ads() -> None:
    out = text(clean_page(dev("056")))
    assert "MORE CONTEXT" not in out and "REG AD" not in out
    assert "Trump T1 begins shipping" in out


@pytest.mark.parametrize(
    ("fixture", "rule", "kept", "gone"),
    [
        (
            "thehackernews.md",
            "thehackernews",
            "disable remote administration",
            ["Found this article interesting", "Share on Facebook", "Trending News"],
        ),
        (
            "4hou.md",
            "4hou",
            "对远程管理工具的使用进行审计和限制",
            ["如若转载", "相关热文", "点赞", "导语"],
        ),
        (
            "xz-aliyun.md",
            "xz-aliyun",
            "使用参数化查询",
            ["先知社区", "浏览数", "打开微信扫一扫", "条回复", "学习了"],
        ),
    ],
)
def test_rules_for_sites_outside_the_corpus(
    fixture: str, rule: str, kept: str, gone: list[str]
) -> None:
    cleaned = clean_page(FIXTURES / fixture)
    out = text(cleaned)
    assert kept in out
    for phrase in gone:
        assert phrase not in out, explain(cleaned)
    assert any(d.rule.startswith(f"site:{rule}:") for d in cleaned.dropped)


def test_krebs_rule_leaves_a_clean_summary_page_alone() -> None:
    path = dev("038")  # a summary whose URL is on krebsonsecurity.com
    cleaned = clean_page(path)
    check_labels(path, text(cleaned))
    assert "The suggested mitigations are mainly traditional isolation" in text(cleaned)


# --- the generic layer --------------------------------------------------------


@pytest.mark.parametrize("name", ["053", "063", "066", "081", "088", "091", "058", "036"])
def test_generic_layer_on_hosts_without_rules(name: str) -> None:
    path = dev(name)
    meta, _ = read_page(path)
    assert RULES.for_url(url_of(meta)) == ()
    cleaned = clean_page(path)
    assert not cleaned.fallback
    check_labels(path, text(cleaned))


@pytest.mark.parametrize("name", ["001", "011", "026", "028", "031", "056", "006"])
def test_generic_layer_alone_on_ruled_sites(name: str) -> None:
    path = dev(name)
    check_labels(path, text(clean_page(path, NO_RULES)))


def test_generic_layer_on_small_fixture() -> None:
    cleaned = clean_page(FIXTURES / "generic_blog.md", NO_RULES)
    out = text(cleaned)
    assert "SSH is the front door of most servers" in out
    assert "PasswordAuthentication no" in out
    assert "That is all it takes to remove most of the risk." in out
    assert "## " not in out
    for chrome in (
        "Skip to content",
        "Archives",
        "Share this",
        "Related Posts",
        "Notes on Hardening Nginx",
        "Leave a Reply",
        "All Rights Reserved",
    ):
        assert chrome not in out, explain(cleaned)
    assert cleaned.html.count("<h1>") == 0  # the repeated title heading is gone


def test_whole_dev_corpus_meets_the_targets() -> None:
    if not DEV.is_dir():
        pytest.skip(f"../shared corpus not available: {DEV}")
    keep = [0, 0]
    drop = [0, 0]
    for name, items in labels().items():
        out = text(clean_page(DEV / name))
        for kind, phrase in items:
            if kind == "keep":
                keep[0] += phrase in out
                keep[1] += 1
            else:
                drop[0] += phrase not in out
                drop[1] += 1
    assert keep[0] / keep[1] >= 0.98
    assert drop[0] / drop[1] >= 0.95


def test_clean_pages_without_chrome_lose_nothing() -> None:
    for name in ("016", "021", "041", "043"):
        path = dev(name)
        _, html = read_page(path)
        before = fold(BeautifulSoup(html, "lxml").get_text(" "))
        after = text(clean_page(path))
        check_labels(path, after)
        assert len(after) >= 0.85 * len(before), name


# --- fallback, explain, robustness ----------------------------------------------


def test_fallback_keeps_the_whole_body_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    items = "\n".join(
        f"* [Interesting article number {i} about security](https://x.org/{i}) - a note"
        for i in range(30)
    )
    md = f"Some reading for the weekend.\n\n{items}\n"
    with caplog.at_level(logging.INFO, logger="feeder.content.clean"):
        cleaned = clean_html(
            render_markdown(md),
            url="https://links.example/",
            title="Links",
            source="links",
            rules=RULES,
        )
    assert cleaned.fallback
    assert cleaned.html.count("<li>") == 30
    assert any("whole body" in r.getMessage() for r in caplog.records)
    assert "fallback" in explain(cleaned)


def test_explain_names_rules_and_text() -> None:
    report = explain(clean_page(FIXTURES / "wechat_seed.txt"))
    assert "site:wechat:end_at" in report
    assert "预览时标签不可点" in report
    assert "fallback" not in report.splitlines()[0]


def test_site_markers_never_cut_the_article_away(tmp_path: Path) -> None:
    (tmp_path / "greedy.toml").write_text(
        "hosts = ['example.com']\nend_at = ['First paragraph.*']\n", encoding="utf-8"
    )
    html = "<p>First paragraph with the article's opening words.</p>" + "<p>More prose.</p>" * 5
    cleaned = clean_html(
        html, url="https://example.com/a", title="x", source="", rules=load_rules(tmp_path)
    )
    assert "opening words" in cleaned.html


def test_user_rule_drops_lines_and_unwraps(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        "hosts = ['example.com']\ndrop_lines = ['Sponsored by ACME']\nunwrap = ['font']\n",
        encoding="utf-8",
    )
    html = (
        "<p>An article paragraph long enough to count as prose for the extractor.</p>"
        "<p>Sponsored by ACME</p><p>Another <font>article</font> paragraph with words.</p>"
    )
    cleaned = clean_html(
        html, url="https://www.example.com/", title="t", source="", rules=load_rules(tmp_path)
    )
    assert "ACME" not in cleaned.html and "<font>" not in cleaned.html
    assert "Another article paragraph" in text(cleaned)
    assert Cleaned is type(cleaned)


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<p>Hello world.</p>",
        "<div>" * 3000 + "deep text" + "</div>" * 3000,
        "<blockquote>" * 3000 + "x",
        "<script>alert(1)</script><p onclick=x>hi</p><<>>&#0;\x00",
        "<table><tr><td>" * 200 + "cell",
        "<ul>" + "<li><a href='/'>menu</a></li>" * 500 + "</ul>",
    ],
)
def test_any_input_is_cleaned_without_error(html: str) -> None:
    for url in ("https://mp.weixin.qq.com/s/x", "", "not a url", "http://[::1"):
        cleaned = clean_html(html, url=url, title="", source="", rules=RULES)
        assert isinstance(cleaned.html, str)


def test_cleaning_is_deterministic() -> None:
    path = FIXTURES / "wechat_seed.txt"
    assert clean_page(path) == clean_page(path)

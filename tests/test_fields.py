"""Per-field normalizers: urls and ids, dates, titles, sources, CJK emphasis, sanitizing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feeder.config import Settings
from feeder.content.render import render_markdown
from feeder.content.sanitize import sanitize_html
from feeder.errors import DateError
from feeder.seeds.dates import parse_date
from feeder.seeds.normalize import entry_meta, summarize
from feeder.seeds.parse import parse_bytes
from feeder.seeds.urls import canonical, entry_id, tag_uri, to_iri

WX = (
    "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=2664233041&idx=2"
    "&sn=76a3168dfc7737bbc8f05b823c5a7862"
)


def test_wechat_tracking_parameters_do_not_change_the_id() -> None:
    a = WX + "&chksm=8b59fa&scene=58&subscene=0#rd"
    b = (
        WX + "&sessionid=1&clicktime=2&enterid=3&ascene=1&devicetype=x&version=1&nettype=WIFI"
        "&lang=zh_CN&pass_ticket=abc&from=timeline&isappinstalled=0&key=k&exportkey=e&wx_header=1"
    )
    assert canonical(a) == canonical(b) == canonical(WX)
    assert entry_id(canonical(a)) == entry_id(canonical(b))


def test_canonical_url() -> None:
    assert (
        canonical("HTTPS://Example.ORG:443/a%e5?utm_source=x&b=2&a=1#f")
        == "https://example.org/a%E5?a=1&b=2"
    )
    assert canonical("http://example.org") == "http://example.org/"
    assert canonical("https://e.org/p?id=1") != canonical("https://e.org/p?id=2")


def test_ids_are_ascii_and_validator_friendly() -> None:
    i = entry_id(canonical("https://例子.测试/路径?q=中"))
    assert i.startswith("urn:uuid:") and i.isascii()
    t = tag_uri("feeder.localhost", "2024", "source:中国信息安全")
    assert t.startswith("tag:feeder.localhost,2024:source:%E4") and t.isascii()


def test_link_is_the_url_as_an_iri() -> None:
    assert to_iri(WX + "&scene=58#rd") == WX + "&scene=58#rd"
    assert to_iri("https://e.org/a b") == "https://e.org/a%20b"
    assert to_iri("https://例子.测试/路径") == "https://例子.测试/路径"


SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "value,expected,date_only",
    [
        ("2024-12-26", datetime(2024, 12, 26, tzinfo=SH), True),
        ("2024/12/26", datetime(2024, 12, 26, tzinfo=SH), True),
        ("2024年12月26日", datetime(2024, 12, 26, tzinfo=SH), True),
        ("2025-10-06T19:39:36.151245", datetime(2025, 10, 6, 19, 39, 36, 151245, tzinfo=SH), False),
        (
            "2026-04-07T21:31:34.088341423-03:00",
            datetime(2026, 4, 8, 0, 31, 34, 88341, tzinfo=UTC),
            False,
        ),
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), False),
        ("Tue, 10 Jun 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, tzinfo=UTC), False),
    ],
)
def test_dates(value: str, expected: datetime, date_only: bool) -> None:
    dt, only = parse_date(value, tz=SH)
    assert dt == expected and only is date_only and dt.tzinfo is not None


@pytest.mark.parametrize("value", ["2024-13-45", "yesterday", "", "1899-01-01", None, [1]])
def test_bad_dates(value: object) -> None:
    with pytest.raises(DateError):
        parse_date(value, tz=UTC)


def _meta(front: str, body: str = "Body", rel: str = "x.md"):  # type: ignore[no-untyped-def]
    doc = parse_bytes(f"---\n{front}\n---\n{body}".encode(), rel)
    return entry_meta(doc, settings=Settings(), mtime=1_700_000_000)


def test_date_only_stays_on_its_day_in_the_host_timezone() -> None:
    m = _meta(f"title: t\nurl: {WX}\ndate: 2024-12-26\nfetch_date: 2025-10-06T19:39:36")
    assert m.published.isoformat() == "2024-12-26T00:00:00+08:00"
    assert m.updated.isoformat() == "2025-10-06T19:39:36+08:00"


def test_fallbacks() -> None:
    m = _meta(
        "url: https://blog.example.org/p\ndate: 2024-13-45\nfetch_date: 2024-05-02",
        body="# First heading\n\ntext",
    )
    assert m.title == "First heading"
    assert m.source == "blog.example.org"
    assert m.published == m.updated == datetime(2024, 5, 2, tzinfo=UTC)
    assert any("impossible" in w for w in m.warnings)
    m = _meta("title: null\nurl: javascript:alert(1)", rel="dir/my-file.md", body="no heading")
    assert m.title == "my-file" and m.link == ""


def test_updated_never_before_published_and_future_dates_refused() -> None:
    m = _meta("title: t\ndate: 2024-06-01\nfetch_date: 2024-05-01")
    assert m.updated >= m.published
    m = _meta("title: t\ndate: 2099-01-01\nfetch_date: 2024-05-01")
    assert m.published.year == 2024


def test_title_entities_and_whitespace() -> None:
    m = _meta('title: "  A &amp; B\\t\\n  C  "')
    assert m.title == "A & B C"


def test_aliases() -> None:
    m = _meta(
        "page-title: T\nsource_url: https://e.org/a\nfetched_at: 2024-01-02T00:00:00Z\n"
        "published_at: 2024-01-01\ncategories: [a, b]"
    )
    assert (m.title, m.link, m.tags) == ("T", "https://e.org/a", ("a", "b"))
    assert m.published.date().isoformat() == "2024-01-01"


NESTED = (
    "collected_at: 2026-07-28T18:06:00-04:00\n"
    "source:\n"
    "  source_yaml_id: bleepingcomputer\n"
    "  source_name: BleepingComputer (Bill Toulas)\n"
    "  source_url: https://www.bleepingcomputer.com/news/security/cubepilot-dns/\n"
    "  published_at: {published}\n"
    "author:\n"
    "  name: Someone Else\n"
    "  url: https://someone.example/\n"
    "triage_tags: [a, b]"
)


@pytest.mark.parametrize("published", ["2026-07-28T17:17:39-04:00", "2026-07-28"])
def test_a_mapping_is_looked_into_for_the_fields_the_top_lacks(published: str) -> None:
    m = _meta(NESTED.format(published=published), body="# CubePilot hit\n\ntext")
    assert m.link == "https://www.bleepingcomputer.com/news/security/cubepilot-dns/"
    assert m.source == "BleepingComputer (Bill Toulas)"
    assert m.title == "CubePilot hit"  # not author.name
    assert m.published.isoformat()[:10] == "2026-07-28"
    assert m.updated.isoformat() == "2026-07-28T18:06:00-04:00"  # collected_at: the fetch
    assert not [w for w in m.warnings if "url" in w or "date" in w], m.warnings


def test_a_mapping_is_read_line_by_line_too_and_named_in_warnings() -> None:
    # An impossible date fails strict YAML: the line-wise reading sees the mapping.
    m = _meta(NESTED.format(published="2026-13-28"), body="text")
    assert m.link == "https://www.bleepingcomputer.com/news/security/cubepilot-dns/"
    assert m.source == "BleepingComputer (Bill Toulas)"
    assert any(w.startswith("source.published_at: impossible date") for w in m.warnings)


def test_the_top_level_names_win_over_a_mappings() -> None:
    m = _meta(
        "title: Top\nurl: https://e.org/top\nsource: {source_url: https://e.org/in, "
        "source_name: Inner}\nog: {title: Graph}"
    )
    assert (m.title, m.link, m.source) == ("Top", "https://e.org/top", "Inner")
    m = _meta("og: {title: Graph}\nurl: https://e.org/a")
    assert m.title == "Graph"


@pytest.mark.parametrize(
    "md",
    [
        "这是**重点**，下一句",
        "这是**“重点”**这样",
        "这是**重点，**这样",
        "中文__强调__，",
        "价格是**100元**。",
    ],
)
def test_cjk_emphasis_renders(md: str) -> None:
    out = render_markdown(md)
    assert "<strong>" in out and "**" not in out and "__" not in out


def test_gfm_tables_and_code_stay() -> None:
    out = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n```py\nx = '**'\n```")
    assert "<table>" in out and "<td>1</td>" in out and "x = '**'" in out


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="java\tscript:alert(1)">x</a>',
        '<a href="data:text/html,<script>">x</a>',
        "<iframe src=https://e.org></iframe>",
        "<object data=x></object>",
        "<embed src=x>",
        "<form action=x><input></form>",
        '<meta http-equiv="refresh" content="0;url=x">',
        "<style>body{}</style>",
        '<p style="background:url(javascript:alert(1))">p</p>',
        '<svg onload="alert(1)"><circle/></svg>',
    ],
)
def test_sanitizer_removes_active_content(dirty: str) -> None:
    out = sanitize_html(dirty, base_url="https://e.org/").lower()
    for bad in (
        "<script",
        "onerror",
        "javascript",
        "data:",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<style",
        "style=",
        "<svg",
        "onload",
    ):
        assert bad not in out, (dirty, out)


def test_sanitizer_resolves_and_drops_empty() -> None:
    out = sanitize_html(
        '<a href="../b">b</a><img src="i.png"><img src=""><a href="">t</a>'
        '<a href="https://x/"></a>',
        base_url="https://e.org/a/c.html",
    )
    assert out == (
        '<a href="https://e.org/b">b</a>'
        '<img referrerpolicy="no-referrer" src="https://e.org/a/i.png">t'
    )


def test_summary_is_cut_on_a_character_boundary() -> None:
    s = summarize("<p>" + "汉字" * 300 + "</p>", 200)
    assert len(s) <= 201 and s.endswith("…")
    assert summarize("<p>a</p><p>b</p>", 200) == "a b"


def test_blocks_emptied_by_sanitizing_are_removed() -> None:
    """A figure whose image had no usable source leaves no blank paragraph or item."""
    out = sanitize_html(
        '<p>Before.</p><p><img alt="a chart" src=""></p><p>&nbsp;</p><h2> </h2>'
        '<ol start="2"><li></li></ol><ul><li>kept</li><li><br></li></ul><p>After.</p>',
        base_url="https://e.org/a",
    )
    assert out == "<p>Before.</p><ul><li>kept</li></ul><p>After.</p>"


def test_leaked_no_break_space_escapes_in_titles() -> None:
    """Crawlers that write repr() output leave ``xa0`` or ``\\xa0`` where a space was."""
    from feeder.seeds.normalize import fold

    assert fold("AI安全案例分析xa0| JadePuffer勒索软件") == "AI安全案例分析 | JadePuffer勒索软件"
    assert fold("Patch\\xa0Tuesday\\u00a0roundup") == "Patch Tuesday roundup"
    assert fold("The 0xa0 byte in hexa0 names") == "The 0xa0 byte in hexa0 names"


def test_a_signature_delimiter_is_not_a_heading_underline() -> None:
    html = render_markdown(
        "Thank you.\n--\nJane, developer\n\nReal heading\n------------\n\n```\nTitle\n--\n```\n"
    )
    assert "<p>Thank you.\n--\nJane, developer</p>" in html
    assert "<h2>Real heading</h2>" in html
    assert "<pre><code>Title\n--\n</code></pre>" in html

"""Site rules: shipped files, host matching, extension by sites_dir, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeder.content.sites import SiteRules, load_rules
from feeder.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "feeder" / "data" / "sites"
EXAMPLES = ROOT / "config" / "sites"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_rules_load_and_cover_the_named_sites() -> None:
    names = {r.name for r in load_rules(None).rules}
    assert names >= {
        "wechat",
        "csdn",
        "freebuf",
        "sans-isc",
        "seclists",
        "anquanke",
        "4hou",
        "cxsecurity",
        "krebsonsecurity",
        "xz-aliyun",
        "theregister",
        "hackernews",
        "thehackernews",
    }


def test_config_sites_is_an_exact_copy_of_the_shipped_rules() -> None:
    shipped = {p.name: p.read_text(encoding="utf-8") for p in SHIPPED.glob("*.toml")}
    examples = {p.name: p.read_text(encoding="utf-8") for p in EXAMPLES.glob("*.toml")}
    assert shipped == examples


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://mp.weixin.qq.com/s/yUd9dTXyIoPoZc6HISgVBw", "wechat"),
        ("https://www.freebuf.com/news/417317.html", "freebuf"),
        ("https://blog.csdn.net/x/article/details/1", "csdn"),
        ("https://isc.sans.edu/diary/rss/33188", "sans-isc"),
        ("https://WWW.ANQUANKE.COM/post/id/1", "anquanke"),
        ("https://news.ycombinator.com/item?id=1", "hackernews"),
    ],
)
def test_for_url_matches_host_and_subdomains(url: str, name: str) -> None:
    assert [r.name for r in load_rules(None).for_url(url)] == [name]


@pytest.mark.parametrize(
    "url", ["", "not a url", "http://[::1", "https://notfreebuf.com/", "https://example.org/"]
)
def test_for_url_without_a_matching_host(url: str) -> None:
    assert load_rules(None).for_url(url) == ()


def test_sites_dir_extends_and_overrides_by_name(tmp_path: Path) -> None:
    write(tmp_path, "mine.toml", "hosts = ['example.com']\ndrop_lines = ['Buy now']\n")
    write(tmp_path, "freebuf.toml", "hosts = ['freebuf.com']\nend_at = ['THE END']\n")
    write(tmp_path, "off.toml", "name = 'seclists'\nhosts = ['seclists.org']\nenabled = false\n")
    rules = load_rules(tmp_path)
    assert [r.name for r in rules.for_url("https://blog.example.com/x")] == ["mine"]
    (freebuf,) = rules.for_url("https://www.freebuf.com/")
    assert freebuf.path == str(tmp_path / "freebuf.toml")
    assert rules.for_url("https://seclists.org/fulldisclosure/") == ()
    assert rules.for_url("https://mp.weixin.qq.com/s/x")  # shipped rules still apply


def test_wildcard_host_applies_everywhere(tmp_path: Path) -> None:
    write(tmp_path, "all.toml", "hosts = ['*']\ndrop_lines = ['Advertisement']\n")
    write(tmp_path, "glob.toml", "hosts = ['*.example.*']\n")
    rules = load_rules(tmp_path)
    assert [r.name for r in rules.for_url("https://a.example.net/")][-2:] == ["all", "glob"]


def test_digest_is_stable_and_follows_the_rules(tmp_path: Path) -> None:
    assert load_rules(None).digest == load_rules(None).digest
    assert load_rules(tmp_path).digest == load_rules(None).digest  # empty dir adds nothing
    write(tmp_path, "mine.toml", "hosts = ['example.com']\n")
    changed = load_rules(tmp_path).digest
    assert changed != load_rules(None).digest
    write(tmp_path, "mine.toml", "hosts = ['example.com']\ndrop_lines = ['x']\n")
    assert load_rules(tmp_path).digest != changed
    assert SiteRules().digest != load_rules(None).digest


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hosts = ['a.com']\ndrop_line = ['x']\n", "unknown key"),
        ("hosts = ['a.com']\nend_at = ['(unclosed']\n", "bad regular expression"),
        ("hosts = ['a.com']\ndrop_patterns = ['[z-a]']\n", "bad regular expression"),
        ("hosts = 'a.com'\n", "hosts must be a list of strings"),
        ("hosts = ['a.com']\ndrop_lines = 'x'\n", "drop_lines must be a list of strings"),
        ("hosts = ['a.com']\nstart_after = [1]\n", "start_after must be a list of strings"),
        ("hosts = ['a.com']\nenabled = 'yes'\n", "enabled must be true or false"),
        ("hosts = ['a.com']\nunwrap = ['<font>']\n", "not an element name"),
        ("hosts = ['a b']\n", "not a host name"),
        ("hosts = []\n", "hosts must not be empty"),
        ("drop_lines = ['x']\n", "hosts is required"),
        ("hosts = ['a.com'\n", "invalid TOML"),
        ("hosts = ['a.com']\nend_at = ['  ']\n", "empty pattern"),
        ("name = 3\nhosts = ['a.com']\n", "name must be"),
    ],
)
def test_bad_rule_raises_config_error_naming_the_file(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


def test_sites_dir_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_rules(tmp_path / "missing")


def test_rules_are_frozen() -> None:
    rules = load_rules(None)
    with pytest.raises(AttributeError):
        rules.rules = ()  # type: ignore[misc]


def _wechat_clean(html: str) -> str:
    from feeder.content.clean import clean_html
    from feeder.content.sites import load_rules

    return clean_html(
        html, url="https://mp.weixin.qq.com/s/abc", title="标题", source="某公众号",
        rules=load_rules(None),
    ).html  # fmt: skip


_ARTICLE = "".join(
    f"<p>第{n}段正文，讲述漏洞的成因、影响范围和修复建议，内容足够长，是文章的主体部分。</p>"
    for n in range(1, 6)
)


def test_wechat_account_card_dropped_source_line_kept() -> None:
    card = (
        "<p>（来源：新华社）</p>"
        "<p>某某安全团队公众号</p><p><img src='https://mmbiz.qpic.cn/qr.png'></p>"
        "<p>聚焦攻防对抗热点技术</p><p>官方技术交流群</p>"
    )
    out = _wechat_clean(_ARTICLE + card)
    assert "第5段正文" in out and "（来源：新华社）" in out
    for gone in ("某某安全团队公众号", "qr.png", "聚焦攻防对抗热点技术", "官方技术交流群"):
        assert gone not in out, gone


def test_wechat_article_ending_in_short_lines_keeps_them() -> None:
    ending = "<p>（完）</p><p>作者：张三</p><p>编辑：李四</p>"  # no image: not a card
    out = _wechat_clean(_ARTICLE + ending)
    assert "作者：张三" in out and "编辑：李四" in out


def test_the_register_byline_dropped_standfirst_kept() -> None:
    from feeder.content.clean import clean_html
    from feeder.content.sites import load_rules

    body = "".join(
        f"<p>Paragraph {n} of the story, with enough words to be the article itself here.</p>"
        for n in range(1, 6)
    )
    html = (
        "<p>A standfirst that sums the story up in one line</p>"
        '<p>Jane Roe <a href="https://www.theregister.com/author/jane-roe">Jane Roe</a>'
        " Security reporter</p>"
        "<p>Published tue 03 Jun 2025 // 08:15 UTC</p>" + body
    )
    out = clean_html(
        html, url="https://www.theregister.com/2025/06/03/story/", title="Story",
        source="The Register", rules=load_rules(None),
    ).html  # fmt: skip
    assert "A standfirst that sums the story up" in out and "Paragraph 5 of the story" in out
    assert "Security reporter" not in out and "Published tue" not in out


def test_title_repeated_right_after_a_site_start_marker_is_dropped() -> None:
    """A rule that finds the article's start (SANS ISC: after "Threat Level") still drops the
    title heading that opens it."""
    from feeder.content.clean import clean_html
    from feeder.content.sites import load_rules

    body = "".join(
        f"<p>Paragraph {n} of the diary, long enough to be the article and not chrome.</p>"
        for n in range(1, 6)
    )
    html = (
        "<p>Sign Up for a free account</p><p>Threat Level: green</p>"
        '<h1><a href="/diary/1">Odd scans for heapdump</a></h1>'
        "<p><strong>Published</strong>: 2025-07-27. <strong>Last Updated</strong>: "
        "2025-07-27 10:04:51 UTC <strong>by</strong> <a href='/h'>A Handler</a> (Version: 1)</p>"
        + body
    )
    out = clean_html(
        html, url="https://isc.sans.edu/diary/1", title="Odd scans for heapdump, (Mon, Jul 27th)",
        source="SANS", rules=load_rules(None),
    ).html  # fmt: skip
    assert "Paragraph 1 of the diary" in out and "Paragraph 5 of the diary" in out
    for gone in ("Odd scans for heapdump", "Last Updated", "Threat Level", "Sign Up"):
        assert gone not in out, gone

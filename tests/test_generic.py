"""The generic cleaning layer on a page from a host without site rules."""

from __future__ import annotations

from pathlib import Path

from lxml import html

from feeder.config import Settings
from feeder.content.entry import make_cleaner
from feeder.seeds.normalize import entry_meta, render
from feeder.seeds.parse import parse_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
PAGE = FIXTURES / "generic_engineering_blog.md"
NEWS = FIXTURES / "generic_cn_news.md"


def _text(page: Path = PAGE) -> str:
    doc = parse_bytes(page.read_bytes(), page.name)
    settings = Settings()
    meta = entry_meta(doc, settings=settings, mtime=0)
    clean, _ = make_cleaner(settings)
    content = render(doc, meta, settings=settings, clean=clean).content
    return " ".join(html.fragment_fromstring(content, create_parent="div").text_content().split())


def test_article_kept_whole() -> None:
    text = _text()
    for keep in (
        "Our monorepo build had grown to 45 minutes.",
        "Caching the dependency graph",
        "Resolve 6 min 10 s",  # the table
        "Run 8 shards in parallel",  # the list
        "make test SHARDS=8",  # the code block
        "We plan to move remote caching to a shared bucket next quarter.",
    ):
        assert keep in text, keep


def test_chrome_dropped() -> None:
    text = _text()
    for drop in (
        "Skip to content",
        "Careers",
        "Sign in",
        "Share: Twitter",
        "LinkedIn",
        "Related posts",
        "Flaky tests, revisited",
        "Leave a comment",
        "logged in",
        "Privacy",
        "We use cookies",
    ):
        assert drop not in text, drop
    assert text.count("How we cut our build times in half") == 0  # the repeated title


def test_chinese_news_page() -> None:
    text = _text(NEWS)
    for keep in (
        "本报讯 某市网信办昨日发布《数据安全管理办法（试行）》",
        "每年至少开展一次应急演练",
        "重点：未按期整改的企业",
        "建议企业尽早开展自查",
    ):
        assert keep in text, keep
    for drop in (
        "首页",
        "登录",
        "当前位置",
        "字号",
        "分享到",
        "相关新闻",
        "热门推荐",
        "网友评论",
        "版权所有",
        "京ICP备",
    ):
        assert drop not in text, drop


def test_reprint_and_copyright_notices_dropped() -> None:
    text = _text(FIXTURES / "generic_cn_repost.md")
    for keep in (
        "管理接口存在认证绕过漏洞",
        "限制管理接口的访问来源",
        "针对性的扫描活动",
        "参考来源：https://news.example.com/mail-gateway-auth-bypass",
    ):
        assert keep in text, keep
    for drop in (
        "Press enter or click",
        "如若转载",
        "商务合作",
        "原创发布",
        "未经授权禁止转载",
        "如需授权",
        "本公众号所载文章",
        "This entry was posted",
        "12 条评论",
        "阅读 3021",
    ):
        assert drop not in text, drop

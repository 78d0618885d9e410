"""A browser view of every feed without XSLT: pages by the build, negotiated by the daemon.

Chromium 156 warns that XSLT "is being removed from this browser very soon",
and ``feed.xsl`` was the only browser view of a feed. Every feed now has an
HTML page beside its Atom document (``feed.atom`` → ``feed.html``,
``topics/ai.atom`` → ``topics/ai.html``), and the daemon sends it to a
client that prefers ``text/html`` asking for the feed's own URL:

* the build: the pages are there, byte-identical across builds, valid HTML,
  with the feed's address, its formats and each entry (title, link, source,
  dates, summary, full content), Chinese text included, and as safe as
  ``index.html`` for every hostile vector of ``test_format_safety``;
* the daemon: ``Accept`` q-values decide (Chromium → the page, feedparser,
  newsboat's ``*/*`` or no ``Accept`` → the feed), ``Vary: Accept``, each
  representation with its own ``ETag`` for 304s, gzip and ranges;
* ``/-/health``: 200 while the daemon is healthy, 503 after three failed polls;
* headless Chromium on ``/feed.atom``: a screenshot
  (``/tmp/feeder-browser-view.png``), the DOM of the HTML view and the
  response Chromium got (``text/html``, from its net log).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import build_json
from daemonkit import (
    DaemonProc,
    chromium,
    exact_request,
    http_get,
    run_chromium,
    wait_for,
)
from hardkit import build, unsafe_markup
from lxml import etree
from lxml import html as lhtml
from test_format_safety import CONFIG as HOSTILE_CONFIG
from test_format_safety import VECTORS, _seed, key_of, link_ok
from test_hostile import seed_text

from feeder.feeds.pages import FEED_PAGE_CSP, feed_pages
from feeder.service.server import FEED_TYPES, media_quality, media_ranges, prefers_html

SCREENSHOT = Path("/tmp/feeder-browser-view.png")
#: What Chromium 156 sends for a page it navigates to.
CHROMIUM_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: feedparser's (and so the ``reader`` library's) Accept header.
FEEDPARSER_ACCEPT = str(feedparser.http.ACCEPT_HEADER)
#: newsboat (libcurl) sends ``*/*``; urllib and many scripts send none.
NEWSBOAT_ACCEPT = "*/*"
#: A reader that takes HTML too but prefers its formats (Miniflux-like).
LENIENT_READER_ACCEPT = (
    "application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, "
    "text/xml;q=0.8, text/html;q=0.5, */*;q=0.3"
)

ZH_TITLE = "深度学习：从入门到精通"
ZH_BODY = "这是一篇关于深度学习的中文文章，内容足够长，可以成为一个段落。"
ZH_SOURCE = "机器之心"
HOSTILE_TITLE = 'Tom & Jerry <script>alert(1)</script> "quoted"'
CONFIG = """\
[feed]
title = "View Test Feed"
subtitle = "Articles for the browser view tests"
language = "zh-CN"
self_url = "https://feeds.example.org/feed.atom"

[[feeds]]
name = "ai"
title = "AI articles"
output = "topics/ai.atom"
keyword = "深度"
formats = ["atom", "rss", "json"]

[[feeds]]
name = "all"
title = "Everything, archived"
archive = true
max_entries = 2

[per_source]
formats = ["atom", "rss"]
"""
#: (file, title, url, source, date, body)
SEEDS = [
    ("zh.md", ZH_TITLE, "https://mp.weixin.qq.com/s/zh1", ZH_SOURCE, "2024-04-04", ZH_BODY),
    ("en1.md", "An English article", "https://example.org/en1", "Example Source",
     "2024-04-03", "First English body, long enough to be a paragraph of text."),
    ("en2.md", "Another English article", "https://example.org/en2", "Example Source",
     "2024-04-02", "Second English body, long enough to be a paragraph of text."),
    ("bad.md", HOSTILE_TITLE, "JaVaScRiPt:alert(1)", "Other <b>Source</b>", "2024-04-01",
     "A body under a hostile title, long enough to be a paragraph of text."),
]  # fmt: skip
#: The address field's attributes but its value.
FIELD = {
    "id": "feed-address", "type": "text", "readonly": "readonly", "spellcheck": "false",
    "autocomplete": "off",
}  # fmt: skip
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


def _write_seeds(seeds: Path) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for name, title, url, source, date, body in SEEDS:
        text = seed_text(
            json.dumps(title, ensure_ascii=False), url, json.dumps(source, ensure_ascii=False),
            date, body=f"{body}\n\n## 小标题 Section\n\nMore text in the *full* content.\n",
        )  # fmt: skip
        (seeds / name).write_text(text, encoding="utf-8")


class _StrictHTML(HTMLParser):
    """Every element closed, in order (void elements excepted): no parser error recovery."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append(f"<{tag}> repeats an attribute")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.errors.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def strict_problems(text: str) -> list[str]:
    parser = _StrictHTML()
    parser.feed(text)
    parser.close()
    problems = parser.errors + [f"<{tag}> never closed" for tag in parser.stack]
    if parser.doctype.lower() != "doctype html":
        problems.append(f"doctype {parser.doctype!r}")
    return problems


def _articles(doc: lhtml.HtmlElement) -> list[lhtml.HtmlElement]:
    return list(doc.xpath("//main/article[@class='entry']"))


def _heading(article: lhtml.HtmlElement) -> lhtml.HtmlElement:
    h2 = article.find("h2")
    assert h2 is not None
    return h2


# -- Accept q-values ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (CHROMIUM_ACCEPT, True),
        (FIREFOX_ACCEPT, True),
        ("text/html", True),
        ("TEXT/HTML; q=1.0, */*;q=0.5", True),
        ("text/*", False),  # HTML no more than text/xml, which an Atom document is too
        (FEEDPARSER_ACCEPT, False),
        (NEWSBOAT_ACCEPT, False),  # a tie goes to the feed
        (None, False),
        ("", False),
        ("application/atom+xml", False),
        ("application/atom+xml, text/html", False),
        ("text/html;q=0.9, application/atom+xml", False),
        (LENIENT_READER_ACCEPT, False),
        ("text/html;q=0, */*", False),  # HTML refused
        ("text/html, application/xml", False),  # the Atom document is XML too
        ("text/html;q=2, application/atom+xml;q=0.5", False),  # invalid q: element dropped
        ("text/html;level=1;q=0.8, application/atom+xml;q=0.5", True),
        ("garbage, text/html", True),
    ],
)
def test_prefers_html_reads_q_values(accept: str | None, html: bool) -> None:
    assert prefers_html(accept, FEED_TYPES[".atom"]) is html


def test_the_most_specific_media_range_counts() -> None:
    ranges = media_ranges("text/*;q=0.3, text/html;q=0.7, */*;q=0.5")
    assert media_quality(ranges, "text/html") == 0.7
    assert media_quality(ranges, "text/plain") == 0.3
    assert media_quality(ranges, "application/atom+xml") == 0.5
    assert media_quality(media_ranges("image/png"), "text/html") == 0.0
    # JSON Feed and RSS: their own types and the generic ones.
    assert prefers_html("text/html, application/json;q=0.9", FEED_TYPES[".json"])
    assert not prefers_html("application/json, text/html", FEED_TYPES[".json"])
    assert not prefers_html("text/xml, text/html;q=0.9", FEED_TYPES[".rss"])


# -- the build ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("view-build")
    _write_seeds(root / "seeds")
    config = root / "feeder.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = root / "public" / "feed.atom"
    report = build_json(root / "seeds", out, root / "state", "--config", str(config))
    return {"root": root, "out": out.parent, "config": config, "report": report}


def _pages(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*.html"))
        if p.name != "index.html"
    }


@pytest.mark.slow
def test_the_build_writes_a_page_beside_every_feed(built: dict[str, Any]) -> None:
    out = built["out"]
    sources = sorted(p.relative_to(out).as_posix() for p in out.glob("sources/*.atom"))
    assert len(sources) == 3
    expected = {"feed.html", "topics/ai.html", "all.html"}
    expected |= {s.removesuffix(".atom") + ".html" for s in sources}
    assert set(_pages(out)) == expected
    assert (out / "all-archive-1.atom").is_file()  # archive documents have no page
    assert not (out / "all-archive-1.html").exists()
    # FeedReport outputs stay the feed documents.
    for feed in built["report"]["feeds"]:
        assert not [o for o in feed["outputs"] if o.endswith(".html")]


@pytest.mark.slow
def test_pages_are_byte_identical_across_builds(built: dict[str, Any], tmp_path: Path) -> None:
    first = _pages(built["out"])
    index = (built["out"] / "index.html").read_bytes()
    # Another build from scratch, elsewhere and later: the same bytes (no clock, no paths).
    out = tmp_path / "public" / "feed.atom"
    build_json(built["root"] / "seeds", out, tmp_path / "state", "--config", str(built["config"]))
    assert _pages(out.parent) == first
    assert (out.parent / "index.html").read_bytes() == index
    # A full rebuild in place rewrites none of them (same bytes: not even renamed).
    before = {rel: (built["out"] / rel).stat().st_mtime_ns for rel in first}
    build_json(
        built["root"] / "seeds", built["out"] / "feed.atom", built["root"] / "state",
        "--config", str(built["config"]), "--full",
    )  # fmt: skip
    assert {rel: (built["out"] / rel).stat().st_mtime_ns for rel in first} == before


def test_every_page_is_valid_html(built: dict[str, Any]) -> None:
    for rel, data in _pages(built["out"]).items():
        text = data.decode("utf-8")
        assert not strict_problems(text), (rel, strict_problems(text)[:5])
        doc = lhtml.document_fromstring(text)
        assert doc.get("lang") == "zh-CN", rel
        assert doc.find("head/meta").get("charset") == "utf-8", rel
        csp = doc.xpath("head/meta[@http-equiv='Content-Security-Policy']/@content")
        assert csp == [FEED_PAGE_CSP], rel
        assert "script-src" not in FEED_PAGE_CSP and "default-src 'none'" in FEED_PAGE_CSP
        assert doc.xpath("head/meta[@name='referrer']/@content") == ["no-referrer"], rel


def test_the_main_feed_page_shows_every_entry(built: dict[str, Any]) -> None:
    out = built["out"]
    doc = lhtml.parse(str(out / "feed.html")).getroot()
    assert doc.findtext(".//h1") == "View Test Feed"
    assert doc.findtext(".//header/p[@class='sub']") == "Articles for the browser view tests"
    (address,) = doc.xpath("//input[@id='feed-address']")
    assert address.get("value") == "https://feeds.example.org/feed.atom"
    assert address.get("readonly") is not None and address.get("type") == "text"
    assert doc.xpath("//label[@for='feed-address']")
    alternates = doc.xpath("head/link[@rel='alternate']")
    assert [(a.get("type"), a.get("href")) for a in alternates] == [
        ("application/atom+xml", "feed.atom")
    ]
    assert "index.html" in doc.xpath("//header//a/@href")

    atom = etree.parse(str(out / "feed.atom")).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    articles = _articles(doc)
    assert len(articles) == len(atom.xpath("a:entry", namespaces=ns)) == len(SEEDS)
    by_title = {_heading(a).text_content(): a for a in articles}
    assert list(by_title) == [str(t) for t in atom.xpath("a:entry/a:title/text()", namespaces=ns)]
    for name, title, url, source, date, body in SEEDS:
        article = by_title[title]  # the title as text, whatever it holds
        links = _heading(article).findall("a")
        if url.startswith("https://"):
            assert [a.get("href") for a in links] == [url]
        else:
            assert links == []  # javascript: is no link
        assert article.findtext("p/span[@class='source']") == source
        published = article.xpath("p[@class='meta']/time/@datetime")
        assert published[0].startswith(date), (name, published)
        assert len(published) == 2  # published and updated (fetch_date)
        assert body in article.findtext("p[@class='summary']")
        details = article.find("details")
        assert details is not None and details.findtext("summary") == "Full article"
        content = details.find("div[@class='content']")
        assert content is not None and body in content.text_content()
        assert content.find("h2") is not None and content.find(".//em") is not None
        # Each entry in its own language: marked where it is not the page's (zh-CN).
        assert article.get("lang") == (None if name == "zh.md" else "en"), name
    zh = by_title[ZH_TITLE]
    assert ZH_SOURCE in zh.text_content() and ZH_BODY in zh.text_content()
    # The hostile title is text: no element came out of it.
    page = (out / "feed.html").read_text(encoding="utf-8")
    assert "Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot;" in page
    assert not doc.xpath("//script") and "javascript:" not in page.lower()


def test_a_feed_page_links_its_formats_relative_to_itself(built: dict[str, Any]) -> None:
    out = built["out"]
    doc = lhtml.parse(str(out / "topics" / "ai.html")).getroot()
    alternates = [(a.get("type"), a.get("href")) for a in doc.xpath("head/link[@rel='alternate']")]
    assert alternates == [
        ("application/atom+xml", "ai.atom"),
        ("application/rss+xml", "ai.rss"),
        ("application/feed+json", "ai.json"),
    ]
    for _, href in alternates:
        assert (out / "topics" / href).is_file()
    assert "../index.html" in doc.xpath("//header//a/@href")
    (address,) = doc.xpath("//input[@id='feed-address']/@value")
    assert address == "https://feeds.example.org/topics/ai.atom"
    assert [_heading(a).text_content() for a in _articles(doc)] == [ZH_TITLE]
    # An archived feed's page shows its subscription document's entries.
    doc = lhtml.parse(str(out / "all.html")).getroot()
    atom = etree.parse(str(out / "all.atom")).getroot()
    titles = atom.xpath("//a:entry/a:title/text()", namespaces={"a": atom.nsmap[None]})
    assert [_heading(a).text_content() for a in _articles(doc)] == titles
    for page in out.glob("sources/*.html"):
        doc = lhtml.parse(str(page)).getroot()
        hrefs = doc.xpath("head/link[@rel='alternate']/@href")
        assert hrefs == [page.stem + ".atom", page.stem + ".rss"]
        sources = {a.findtext("p/span[@class='source']") for a in _articles(doc)}
        assert len(sources) == 1 and doc.findtext(".//h1") == sources.pop()


def test_index_links_every_feed_page(built: dict[str, Any]) -> None:
    out = built["out"]
    doc = lhtml.parse(str(out / "index.html")).getroot()
    hrefs = set(doc.xpath("//body//a/@href"))
    assert set(_pages(out)) <= hrefs
    for rel in _pages(out):
        assert (out / rel).is_file()


def test_feed_pages_skips_names_that_are_taken() -> None:
    links = [
        ("X", "application/atom+xml", "x.atom"),
        ("B", "application/atom+xml", "b.atom"),
        ("B", "application/rss+xml", "x.rss"),  # a browser asking for x.rss must not get X's page
        ("C", "application/atom+xml", "t/c.atom"),
        ("C", "application/feed+json", "t/c.json"),
    ]
    assert feed_pages("feed.atom", links) == {
        "feed.atom": "feed.html",
        "b.atom": "b.html",
        "t/c.atom": "t/c.html",
    }
    assert feed_pages("index.atom") == {}  # index.html is the site's page
    assert feed_pages("feed") == {"feed": "feed.html"}


@pytest.mark.slow
def test_every_page_is_safe_for_every_hostile_vector(tmp_path: Path) -> None:
    """``test_format_safety``'s vectors, sources and feed titles, through every feed page."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i, vector in enumerate(VECTORS):
        (seeds / f"v{i:03d}.md").write_text(_seed("V", i, vector), encoding="utf-8")
    config = tmp_path / "feeder.toml"
    config.write_text(HOSTILE_CONFIG, encoding="utf-8")
    out = tmp_path / "public" / "feed.atom"
    build(seeds, out, tmp_path / "state", "--max-entries", "0", "--config", str(config))
    atom = etree.parse(str(out)).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    want = {
        key_of(str(e.findtext("a:title", namespaces=ns))): e for e in atom.iterfind("a:entry", ns)
    }
    pages = _pages(out.parent)
    assert len(pages) > 5 and "feed.html" in pages and "all.html" in pages
    problems: list[str] = []
    shown: dict[str, int] = {}
    for rel, data in pages.items():
        text = data.decode("utf-8")
        problems += [f"{rel}: {p}" for p in strict_problems(text)]
        doc = lhtml.document_fromstring(text)
        head, body = doc.find("head"), doc.find("body")
        assert head is not None and body is not None
        for node in head:
            if node.tag not in ("meta", "title", "style", "link"):
                problems.append(f"{rel}: <{node.tag}> in the head")
            if node.tag == "link" and not link_ok(node.get("href", "")):
                problems.append(f"{rel}: <link href={node.get('href')!r}>")
        # The one form control: the read-only address field, nothing that acts.
        fields = body.xpath(".//input | .//textarea | .//select | .//button | .//form")
        attrs = [{k: v for k, v in f.attrib.items() if k != "value"} for f in fields]
        if attrs != [FIELD] or not fields[0].get("value", "").startswith("http://127.0.0.1:"):
            problems.append(f"{rel}: form controls {[dict(f.attrib) for f in fields]}")
        for field in fields:
            field.getparent().remove(field)
        inner = (body.text or "") + "".join(etree.tostring(c, encoding=str) for c in body)
        problems += [f"{rel}: {p}" for p in unsafe_markup(inner)]
        problems += [f"{rel}: <a href={h!r}>" for h in body.xpath(".//a/@href") if not link_ok(h)]
        if len(doc.find(".//h1")) or len(doc.find("head/title")):
            problems.append(f"{rel}: the feed title holds elements")
        for article in _articles(doc):
            title = _heading(article).text_content()
            key = key_of(title)
            shown[key] = shown.get(key, 0) + 1
            entry = want[key]
            if title != entry.findtext("a:title", namespaces=ns):
                problems.append(f"{rel}: {key} title shown as {title[:60]!r}")
            for a in _heading(article).iter("a"):
                if not a.get("href", "").startswith(("http://", "https://")):
                    problems.append(f"{rel}: {key} entry link {a.get('href')!r}")
            content = article.find("details/div[@class='content']")
            expected = entry.findtext("a:content", namespaces=ns) or ""
            if content is None or expected.strip() not in text:
                problems.append(f"{rel}: {key} content is not the feed's sanitized content")
    assert not problems, problems[:20]
    # Every vector is on the main feed's page, and some on the others' too.
    assert all(shown.get(f"V{i:03d}", 0) >= 1 for i in range(len(VECTORS))), shown
    assert sum(shown.values()) > len(VECTORS)


# -- the daemon -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    tmp = tmp_path_factory.mktemp("view-daemon")
    with DaemonProc(tmp, interval=3600, settle=0) as d:
        d.config.write_text(CONFIG, encoding="utf-8")
        _write_seeds(d.seeds)
        d.start()
        yield d


def _public(daemon: DaemonProc) -> Path:
    return daemon.output.parent


FEED_URLS = [
    ("/feed.atom", "feed.html"),
    ("/topics/ai.atom", "topics/ai.html"),
    ("/topics/ai.rss", "topics/ai.html"),
    ("/topics/ai.json", "topics/ai.html"),
    ("/all.atom", "all.html"),
]


@pytest.mark.parametrize("accept", [CHROMIUM_ACCEPT, FIREFOX_ACCEPT])
@pytest.mark.parametrize(("path", "page"), FEED_URLS)
@pytest.mark.slow
def test_a_browser_gets_the_page(daemon: DaemonProc, path: str, page: str, accept: str) -> None:
    status, headers, body = exact_request(daemon, path, {"Accept": accept})
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert headers["cache-control"] == "no-cache"
    assert body == (_public(daemon) / page).read_bytes()
    _, direct, _ = exact_request(daemon, "/" + page)
    assert headers["etag"] == direct["etag"]


def test_per_source_feeds_negotiate_too(daemon: DaemonProc) -> None:
    feeds = sorted(_public(daemon).glob("sources/*.atom"))
    assert feeds
    for feed in feeds:
        for suffix in (".atom", ".rss"):
            path = f"/sources/{feed.stem}{suffix}"
            status, headers, body = exact_request(daemon, path, {"Accept": CHROMIUM_ACCEPT})
            assert status == 200 and headers["content-type"].startswith("text/html"), path
            assert body == feed.with_suffix(".html").read_bytes()


READERS = {
    "feedparser": {"Accept": FEEDPARSER_ACCEPT},
    "newsboat": {"Accept": NEWSBOAT_ACCEPT},
    "none": {},
    "atom": {"Accept": "application/atom+xml"},
    "lenient": {"Accept": LENIENT_READER_ACCEPT},
}
MEDIA = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("path", [p for p, _ in FEED_URLS])
def test_feed_readers_get_the_feed(daemon: DaemonProc, path: str, reader: str) -> None:
    status, headers, body = exact_request(daemon, path, READERS[reader])
    assert status == 200
    assert headers["content-type"] == MEDIA[Path(path).suffix]
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert body == (_public(daemon) / path[1:]).read_bytes()


def test_real_feedparser_reads_the_feed(daemon: DaemonProc) -> None:
    for path in ("feed.atom", "topics/ai.atom", "topics/ai.rss"):  # it reads no JSON Feed
        parsed = feedparser.parse(daemon.base + path)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.status == 200 and ZH_TITLE in [e.title for e in parsed.entries], path


def test_the_page_itself_is_served_as_usual(daemon: DaemonProc) -> None:
    for accept in (CHROMIUM_ACCEPT, FEEDPARSER_ACCEPT, None):
        headers_in = {} if accept is None else {"Accept": accept}
        status, headers, body = exact_request(daemon, "/feed.html", headers_in)
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert headers["vary"] == "Accept-Encoding"
        assert body == (_public(daemon) / "feed.html").read_bytes()


def test_each_representation_has_its_own_etag(daemon: DaemonProc) -> None:
    browser = {"Accept": CHROMIUM_ACCEPT}
    _, page, page_body = exact_request(daemon, "/feed.atom", browser)
    _, feed, _ = exact_request(daemon, "/feed.atom")
    assert page["etag"] != feed["etag"]
    # Each revalidates itself, never the other.
    status, headers, body = exact_request(
        daemon, "/feed.atom", {**browser, "If-None-Match": page["etag"]}
    )
    assert (status, body) == (304, b"")
    assert headers["etag"] == page["etag"] and headers["vary"] == "Accept, Accept-Encoding"
    status, _, body = exact_request(
        daemon, "/feed.atom", {**browser, "If-None-Match": feed["etag"]}
    )
    assert status == 200 and body == page_body
    status, headers, body = exact_request(daemon, "/feed.atom", {"If-None-Match": page["etag"]})
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    assert (exact_request(daemon, "/feed.atom", {"If-None-Match": feed["etag"]})[0]) == 304
    # gzip of the page: its own tag again.
    status, headers, body = exact_request(
        daemon, "/feed.atom", {**browser, "Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["etag"] == page["etag"][:-1] + '-gzip"'
    assert gzip.decompress(body) == page_body
    # HEAD and a range of the page.
    status, headers, body = exact_request(daemon, "/feed.atom", browser, method="HEAD")
    assert (status, body) == (200, b"") and headers["content-type"].startswith("text/html")
    assert int(headers["content-length"]) == len(page_body)
    status, headers, body = exact_request(daemon, "/feed.atom", {**browser, "Range": "bytes=0-14"})
    assert status == 206 and body == page_body[:15] == b"<!DOCTYPE html>"
    assert headers["content-range"] == f"bytes 0-14/{len(page_body)}"


def test_an_atom_document_without_a_page_keeps_the_stylesheet_view(daemon: DaemonProc) -> None:
    archive = _public(daemon) / "all-archive-1.atom"
    assert archive.is_file() and b"<?xml-stylesheet" in archive.read_bytes()
    status, headers, body = exact_request(
        daemon, "/all-archive-1.atom", {"Accept": CHROMIUM_ACCEPT}
    )
    assert status == 200 and headers["content-type"] == "application/xml; charset=utf-8"
    assert headers["vary"] == "Accept, Accept-Encoding" and body == archive.read_bytes()
    # Every feed document keeps its stylesheet for static servers.
    assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in daemon.output.read_bytes()
    assert b'href="../feed.xsl"' in (_public(daemon) / "topics" / "ai.atom").read_bytes()


def test_health_is_ok_json_and_never_cached(daemon: DaemonProc) -> None:
    (_public(daemon) / "-").mkdir(exist_ok=True)
    (_public(daemon) / "-" / "health").write_text("a file", encoding="utf-8")
    status, headers, body = exact_request(daemon, "/-/health")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    report = json.loads(body)
    assert report["status"] == "ok" and report["consecutive_failures"] == 0
    assert report["last_poll"]["result"] in ("updated", "unchanged")
    assert set(report) == {"status", "consecutive_failures", "last_poll"}
    status, headers, body = exact_request(daemon, "/-/health", method="HEAD")
    assert (status, body) == (200, b"") and headers["cache-control"] == "no-store"
    # Nothing below /-/ is a file, however it is spelt.
    for path in ("/-/./health", "/-/health/", "/-//health", "/x/../-/health"):
        assert exact_request(daemon, path)[0] == 404, path
    assert exact_request(daemon, "/-/health", method="POST")[0] in (404, 405)


@pytest.mark.slow
def test_health_turns_503_after_three_failed_polls(tmp_path: Path) -> None:
    with DaemonProc(tmp_path, interval=0.2, settle=0) as d:
        _write_seeds(d.seeds)
        d.start()
        assert http_get(d.base + "-/health")[0] == 200
        away = tmp_path / "seeds-away"
        d.seeds.rename(away)  # every poll now fails: the seed directory is gone

        def failing() -> dict[str, Any] | None:
            status, headers, body = http_get(d.base + "-/health")
            return {"headers": headers, **json.loads(body)} if status == 503 else None

        report = wait_for(failing, timeout=20, what="the health check to fail")
        assert report["status"] == "failing" and report["consecutive_failures"] >= 3
        assert report["last_poll"]["result"] == "failed"
        assert "seed directory" in report["last_poll"]["error"]
        assert report["headers"]["cache-control"] == "no-store"
        # The feeds are still served while the builds fail.
        assert http_get(d.feed_url)[0] == 200
        away.rename(d.seeds)
        wait_for(lambda: http_get(d.base + "-/health")[0] == 200, timeout=20, what="the recovery")
        assert json.loads(http_get(d.base + "-/health")[2])["consecutive_failures"] == 0


# -- headless Chromium ----------------------------------------------------------------


def _response_headers(net_log: Path, url: str) -> list[str]:
    """The response headers Chromium's net log recorded for ``url``."""
    data = json.loads(net_log.read_text(encoding="utf-8"))
    found: list[str] = []
    source_ids = {
        e["source"]["id"] for e in data["events"] if e.get("params", {}).get("url") == url
    }
    for event in data["events"]:
        headers = event.get("params", {}).get("headers")
        if event["source"]["id"] in source_ids and isinstance(headers, list):
            found += [str(h) for h in headers]
    return found


@pytest.mark.slow
def test_chromium_shows_the_html_view_of_the_feed(daemon: DaemonProc, tmp_path: Path) -> None:
    chromium()
    url = daemon.feed_url
    net_log = tmp_path / "net-log.json"
    SCREENSHOT.unlink(missing_ok=True)
    run_chromium(
        tmp_path / "profile-shot", f"--screenshot={SCREENSHOT}", "--window-size=1200,1600",
        "--hide-scrollbars", f"--log-net-log={net_log}", url,
    )  # fmt: skip
    assert SCREENSHOT.is_file() and SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 10_000  # a rendered page, not a blank one
    headers = [h.lower() for h in _response_headers(net_log, url)]
    assert "content-type: text/html; charset=utf-8" in headers, headers
    assert "vary: accept, accept-encoding" in headers, headers

    dom = run_chromium(tmp_path / "profile-dom", "--dump-dom", url)
    doc = lhtml.document_fromstring(dom)
    assert doc.get("lang") == "zh-CN"
    assert doc.findtext(".//h1") == "View Test Feed"
    # The HTML view, not feed.xsl's: the address field and the full content exist only here.
    assert doc.xpath("//input[@id='feed-address']/@value") == [
        "https://feeds.example.org/feed.atom"
    ]
    assert "This is an Atom feed" not in dom and "<pre" not in dom
    titles = [_heading(a).text_content() for a in _articles(doc)]
    assert titles[0] == ZH_TITLE and HOSTILE_TITLE in titles and len(titles) == len(SEEDS)
    assert ZH_SOURCE in dom and ZH_BODY in dom and "小标题" in dom
    assert not doc.xpath("//script")

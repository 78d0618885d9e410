"""``index.html``, feed pages and ``feed.xsl``: escaping, autodiscovery, writes on change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import daemonkit  # noqa: F401  (puts the repository on sys.path)
from lxml import etree

from feeder.config import FeedSettings
from feeder.feeds.pages import (
    FEED_PAGE_CSP,
    INDEX_NAME,
    XSL_NAME,
    page_name,
    render_feed_page,
    render_index,
    stylesheet,
    write_pages,
)
from feeder.model import Entry, EntryMeta, Rendered

ATOM_NS = "http://www.w3.org/2005/Atom"


def _entry(n: int, title: str, link: str = "https://example.org/a", summary: str = "") -> Entry:
    when = datetime(2024, 5, n, 8, 0, tzinfo=UTC)
    meta = EntryMeta(
        rel=f"{n}.md",
        digest="d" * 64,
        id=f"urn:uuid:00000000-0000-0000-0000-00000000000{n}",
        canonical_url=link,
        link=link,
        title=title,
        source="Source <b>&</b>",
        source_id="tag:x,2024:source:s",
        source_link="https://example.org/",
        published=when,
        updated=when,
    )
    return Entry(meta, Rendered(content="<p>x</p>", summary=summary))


def test_index_escapes_everything() -> None:
    feed = FeedSettings(title='Feed "<title>" & co')
    page = render_index(
        feed_name="feed.atom",
        feed=feed,
        entries=[
            _entry(2, "<script>alert(1)</script>", summary="<img src=x onerror=alert(1)>"),
            _entry(1, "Safe", link="javascript:alert(1)"),
        ],
    )
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:" not in page
    assert "Feed &quot;&lt;title&gt;&quot; &amp; co" in page
    assert "Source &lt;b&gt;&amp;&lt;/b&gt;" in page
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'title="Feed &quot;&lt;title&gt;&quot; &amp; co" href="feed.atom">'
    ) in page
    assert "Content-Security-Policy" in page
    assert page.index("alert(1)") < page.index("Safe")  # feed order kept


def test_write_pages_writes_only_changes(tmp_path: Path) -> None:
    output = tmp_path / "public" / "feed.atom"
    feed = FeedSettings()
    write_pages(output=output, feed=feed, entries=[_entry(1, "One")])
    index, xsl = output.parent / INDEX_NAME, output.parent / XSL_NAME
    assert "One" in index.read_text(encoding="utf-8")
    assert xsl.read_bytes() == stylesheet()
    before = index.stat().st_ino, xsl.stat().st_ino
    write_pages(output=output, feed=feed, entries=[_entry(1, "One")])
    assert (index.stat().st_ino, xsl.stat().st_ino) == before
    write_pages(output=output, feed=feed, entries=[_entry(1, "Two")])
    assert index.stat().st_ino != before[0] and "Two" in index.read_text(encoding="utf-8")
    assert not [p for p in output.parent.iterdir() if p.name.startswith(".")]


def test_stylesheet_renders_an_atom_feed() -> None:
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="{ATOM_NS}" xml:lang="en">
  <title>The &lt;Feed&gt;</title><subtitle>Sub</subtitle><id>urn:x</id>
  <updated>2024-05-02T10:00:00+00:00</updated>
  <entry>
    <title>Entry &lt;one&gt;</title><id>urn:1</id>
    <updated>2024-05-02T10:00:00+00:00</updated><published>2024-05-01T00:00:00+00:00</published>
    <author><name>Example Source</name></author>
    <link href="https://example.org/a"/>
    <summary>A summary &lt;b&gt;not bold&lt;/b&gt;</summary>
    <source><id>tag:s</id><title>Example Source</title></source>
  </entry>
  <entry>
    <title>Bad link</title><id>urn:2</id><updated>2024-05-02T10:00:00+00:00</updated>
    <link rel="alternate" href="javascript:alert(1)"/>
  </entry>
</feed>"""
    transform = etree.XSLT(etree.fromstring(stylesheet()))
    html = str(transform(etree.fromstring(feed.encode())))
    assert "<h1>The &lt;Feed&gt;</h1>" in html
    assert '<a href="https://example.org/a" rel="noreferrer">Entry &lt;one&gt;</a>' in html
    assert "Example Source" in html and "2024-05-01" in html
    assert "A summary &lt;b&gt;not bold&lt;/b&gt;" in html
    assert "javascript:" not in html


def test_feed_page_escapes_everything_and_keeps_the_content() -> None:
    feed = FeedSettings(
        title='Feed "<title>" & co',
        subtitle="<img src=x onerror=alert(1)>",
        self_url='https://example.org/a"b<c>.atom',
        language="zh-CN",
    )
    entries = [
        _entry(2, "<script>alert(1)</script>", summary="<img src=x onerror=alert(1)>"),
        _entry(1, "安全", link="javascript:alert(1)"),
    ]
    page = render_feed_page(
        page="topics/x.html",
        feed=feed,
        formats=[("application/atom+xml", "topics/x.atom"), ("application/rss+xml", "x:y.rss")],
        entries=entries,
    )
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert "<script>" not in page and "<img" not in page and "javascript:" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h1>Feed &quot;&lt;title&gt;&quot; &amp; co</h1>" in page
    assert 'value="https://example.org/a&quot;b&lt;c&gt;.atom"' in page
    assert "Source &lt;b&gt;&amp;&lt;/b&gt;" in page
    # Links relative to the page, none read as a scheme.
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="x.atom"' in page and 'href="../x:y.rss"' in page
    assert 'href="../index.html"' in page
    # The sanitized content as it is, once per entry, collapsed.
    assert page.count('<div class="content">\n<p>x</p>\n</div>') == 2
    assert page.count("<details><summary>Full article</summary>") == 2
    assert f'content="{FEED_PAGE_CSP}"' in page and "script-src" not in FEED_PAGE_CSP
    assert page.index("alert(1)") < page.index("安全")  # feed order kept
    assert "2 entries" in page


def test_feed_page_is_deterministic_and_written_only_on_change(tmp_path: Path) -> None:
    from feeder.feeds.pages import write_feed_page
    from feeder.fsutil import Publication

    def write(title: str) -> Path:
        with Publication() as pub:
            path = write_feed_page(
                directory=tmp_path,
                page="sub/x.html",
                feed=FeedSettings(),
                formats=[("application/atom+xml", "sub/x.atom")],
                entries=[_entry(1, title)],
                pub=pub,
            )
            pub.publish()
            pub.finish()
        return path

    path = write("One")
    first = path.read_bytes(), path.stat().st_ino
    assert write("One").stat().st_ino == first[1] and path.read_bytes() == first[0]
    write("Two")
    assert "Two" in path.read_text(encoding="utf-8") and path.stat().st_ino != first[1]


def test_index_links_the_feed_pages(tmp_path: Path) -> None:
    output = tmp_path / "public" / "feed.atom"
    feeds = [
        ("Topic", "application/atom+xml", "t/topic.atom"),
        ("Topic", "application/rss+xml", "t/topic.rss"),
    ]
    write_pages(output=output, feed=FeedSettings(), entries=[_entry(1, "One")], feeds=feeds)
    index = (output.parent / INDEX_NAME).read_text(encoding="utf-8")
    assert 'href="feed.html"' in index and 'href="t/topic.html"' in index
    assert "One" in (output.parent / "feed.html").read_text(encoding="utf-8")
    assert not (output.parent / "t").exists()  # the other feeds' pages are feeds.write's


def test_page_names() -> None:
    assert page_name("feed.atom") == "feed.html"
    assert page_name("topics/x.atom") == "topics/x.html"
    assert page_name("a.b/feed") == "a.b/feed.html"

"""Every format as safe as the Atom content: hostile seeds through every document feeder writes.

One ``feeder build`` (the real CLI) publishes one seed per vector: the XSS
payloads of ``test_hostile`` and a few more, each in the title, the body (raw,
inline code, inline HTML, so in the summary too) and a tag, under hostile source
names and feed titles. Every document is then read the way a reader reads it:

* HTML fields (Atom ``content``, RSS ``description`` and ``content:encoded``,
  JSON Feed ``content_html``) parsed as HTML and checked with
  :func:`hardkit.unsafe_markup`;
* plain-text fields (RSS and JSON Feed titles, authors, categories, tags, JSON
  ``summary``, OPML titles) parsed as HTML must yield no element and read as
  the text of the Atom document; RSS titles also as feedparser reads them;
* ``index.html`` and the view ``feed.xsl`` gives of each Atom document (with
  :class:`lxml.etree.XSLT`) as pages: no script, handler or non-http(s) link,
  and the title shown as text.

Formats: the main Atom feed, a ``[[feeds]]`` feed in Atom, RSS and JSON Feed
with RFC 5005 archive pages, the per-source feeds in the three formats (with
archives), ``index.html``, and the XSL view of the three Atom families.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hardkit import ATOM, build, feeder, unsafe_markup
from lxml import etree
from lxml import html as lhtml
from test_hostile import XSS_PAYLOADS, seed_text

IMG = "<img src=x onerror=alert(1)>"
ADDRESS = "<name () example org>"
EXTRA_VECTORS = [
    f"`{IMG}`",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    ADDRESS,
    "<a href='javascript:alert(1)'>single quotes</a>",
    "javascript:alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;img src=x onerror=alert(1)&amp;gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "</title><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "]]><script>alert(1)</script>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<?xml-stylesheet href='javascript:alert(1)'?>",
]
VECTORS = XSS_PAYLOADS + EXTRA_VECTORS
#: Plain text with ``<``, ``>`` and ``&`` that is no markup: written exactly as it is.
BENIGN = ["Tom & Jerry", "MailEnable <= 10.54", "3 > 2 and 1 < 2", "AT&T R&D Q&A"]
SOURCES = [
    f"Daily {IMG}",
    "<script>alert(1)</script> News",
    "<svg onload=alert(1)> Weekly",
    f"Mail {ADDRESS}",
    "Tom &amp; Jerry <b>bold</b>",
]
CONFIG = """\
[feed]
title = "Main <script>alert(1)</script>"
subtitle = "Sub <img src=x onerror=alert(1)> & <name () example org>"

[[feeds]]
name = "all"
title = "All <svg onload=alert(1)> & <name () example org>"
subtitle = "<script>alert(1)</script> subtitle"
formats = ["atom", "rss", "json"]
archive = true
max_entries = 9

[per_source]
title = "{source} <b>feed</b>"
formats = ["atom", "rss", "json"]
archive = true
max_entries = 4
"""
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
WORD_JOINER = "\u2060"
#: No script, no remote content: what index.html and the XSL view both declare.
CSP = "default-src 'none'; style-src 'unsafe-inline'"
_KEY = re.compile(r"([VB])(\d{3}) ")
#: What a reader shows per vector: Atom, RSS, JSON Feed (each three families), pages.
FORMATS = (
    "atom",
    "atom [[feeds]]",
    "rss [[feeds]]",
    "json [[feeds]]",
    "atom per-source",
    "rss per-source",
    "json per-source",
    "index.html",
    "xsl atom",
    "xsl atom [[feeds]]",
    "xsl atom per-source",
)


def _seed(kind: str, i: int, text: str) -> str:
    para = "A normal paragraph of article text around the vector, long enough to matter."
    url = "JaVaScRiPt:alert(1)" if i % 7 == 3 else f"https://example.org/{kind}/{i}"
    return seed_text(
        json.dumps(f"{kind}{i:03d} {text}"),
        url,
        json.dumps(SOURCES[i % len(SOURCES)]),
        body=f"Lead {text} and `{text}` end.\n\n{para}\n\n<p>inline {text} tail</p>\n",
        extra="tags: " + json.dumps([text, IMG, "plain"]),
    )


@dataclass
class Reading:
    """What one reader of one format got for one vector, and what was wrong with it."""

    problems: list[str] = field(default_factory=list)
    found: int = 0


@dataclass
class Results:
    """The build, the main Atom feed's entries by vector key, and every reading of them."""

    out: Path
    report: dict[str, Any]
    #: The Atom main feed's view of each entry: title, content, summary, authors, tags.
    atom: dict[str, dict[str, Any]]
    cells: dict[tuple[str, str], Reading] = field(default_factory=dict)
    #: Problems of document-level fields (feed titles, descriptions, page heads, OPML).
    document_problems: list[str] = field(default_factory=list)
    documents: int = 0

    def cell(self, key: str, fmt: str) -> Reading:
        return self.cells.setdefault((key, fmt), Reading())


# -- how readers read --------------------------------------------------------


def html_nodes(text: str) -> list[str]:
    """The elements (and comments) an HTML parser finds in ``text``."""
    if not text.strip():
        return []
    return [
        str(node.tag) if isinstance(node.tag, str) else "comment"
        for fragment in lhtml.fragments_fromstring(text, no_leading_text=False)
        if not isinstance(fragment, str)
        for node in fragment.iter()
    ]


def html_text(text: str) -> str:
    """``text`` read as HTML: the characters a reader shows."""
    if not text.strip():
        return text
    return str(lhtml.fragment_fromstring(text, create_parent="div").text_content())


def plain_problems(
    name: str, text: str, expected: str | None, *, escaped: bool = False
) -> list[str]:
    """A plain-text field: no markup read as HTML, and ``expected`` read as HTML.

    Unless ``escaped`` (RSS titles, HTML-escaped where they would be markup),
    the field read as plain text is ``expected`` too (ignoring word joiners).
    """
    problems = [f"{name}: {tag} from {text[:80]!r}" for tag in html_nodes(text)]
    if expected is not None:
        shown = html_text(text).replace(WORD_JOINER, "")
        if shown != expected:
            problems.append(f"{name}: read as HTML {shown[:80]!r} != {expected[:80]!r}")
        if not escaped and text.replace(WORD_JOINER, "") != expected:
            problems.append(f"{name}: as plain text {text[:80]!r} != {expected[:80]!r}")
    return problems


def key_of(title: str) -> str:
    m = _KEY.match(title.replace(WORD_JOINER, ""))
    assert m, f"no vector key in title {title!r}"
    return m.group(1) + m.group(2)


def link_ok(href: str) -> bool:
    """An http(s) address, or a relative one with no scheme (the feed files)."""
    return href.startswith(("http://", "https://")) or ":" not in href.split("/", 1)[0]


def page_problems(doc: lhtml.HtmlElement) -> list[str]:
    """A whole page: only meta/title/style/link in the head, nothing unsafe anywhere."""
    problems: list[str] = []
    head, body = doc.find("head"), doc.find("body")
    assert head is not None and body is not None
    for node in head:
        if not isinstance(node.tag, str):
            continue
        if node.tag not in ("meta", "title", "style", "link"):
            problems.append(f"<{node.tag}> in the head")
        if node.get("http-equiv", "").lower() not in (
            "",
            "content-security-policy",
            "content-type",
        ):
            problems.append(f"<meta http-equiv={node.get('http-equiv')!r}>")
        if node.tag == "link" and not link_ok(node.get("href", "")):
            problems.append(f"<link href={node.get('href')!r}>")
        if node.tag == "style" and re.search(r"url\(|expression|@import", node.text or ""):
            problems.append("remote or scripted style")
        problems += [f"<{node.tag} {a}>" for a in node.attrib if a.lower().startswith("on")]
    policies = head.xpath("meta[@http-equiv='Content-Security-Policy']/@content")
    if policies != [CSP]:
        problems.append(f"Content-Security-Policy {policies}, not {CSP!r}")
    inner = (body.text or "") + "".join(etree.tostring(c, encoding=str) for c in body)
    problems += unsafe_markup(inner)
    problems += [
        f"<a href={a.get('href')!r}>" for a in body.iter("a") if not link_ok(a.get("href", ""))
    ]
    return problems


# -- the build and its readings -----------------------------------------------


def _families(out: Path) -> dict[str, list[Path]]:
    sources = out / "sources"
    return {
        "atom": [out / "feed.atom"],
        "atom [[feeds]]": sorted(out.glob("all*.atom")),
        "rss [[feeds]]": sorted(out.glob("all*.rss")),
        "json [[feeds]]": sorted(out.glob("all*.json")),
        "atom per-source": sorted(sources.glob("*.atom")),
        "rss per-source": sorted(sources.glob("*.rss")),
        "json per-source": sorted(sources.glob("*.json")),
    }


def _atom_entries(path: Path) -> Iterator[tuple[str, dict[str, Any], etree._Element]]:
    root = etree.parse(str(path)).getroot()
    for entry in root.iterfind(f"{ATOM}entry"):
        title = entry.find(f"{ATOM}title")
        summary = entry.find(f"{ATOM}summary")
        content = entry.find(f"{ATOM}content")
        assert title is not None and content is not None
        view = {
            "title": title.text or "",
            "title_type": title.get("type", "text"),
            "content": content.text or "",
            "content_type": content.get("type"),
            "summary": "" if summary is None else summary.text or "",
            "summary_type": "text" if summary is None else summary.get("type", "text"),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name") or "",
            "source_link": entry.find(f"{ATOM}source/{ATOM}link"),
            "tags": [c.get("term", "") for c in entry.iterfind(f"{ATOM}category")],
        }
        yield key_of(view["title"]), view, root


def _read_atom(res: Results, fmt: str, path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    res.documents += 1
    for tag in ("title", "subtitle"):
        el = root.find(f"{ATOM}{tag}")
        if el is not None and el.get("type", "text") != "text":
            res.document_problems.append(f"{path.name} {tag} type {el.get('type')}")
    for key, view, _ in _atom_entries(path):
        cell = res.cell(key, fmt)
        cell.found += 1
        cell.problems += unsafe_markup(view["content"])
        if view["content_type"] != "html":
            cell.problems.append(f"content type {view['content_type']}")
        for name in ("title", "summary"):  # plain text (RFC 4287 type="text")
            if view[f"{name}_type"] != "text":
                cell.problems.append(f"{name} type {view[f'{name}_type']}")
        if view["content"] != res.atom[key]["content"]:
            cell.problems.append("content differs from the main feed")


def _read_rss(res: Results, fmt: str, path: Path) -> None:
    data = path.read_bytes()
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    res.documents += 1
    title = channel.findtext("title") or ""
    res.document_problems += plain_problems(f"{path.name} channel title", title, None)
    res.document_problems += unsafe_markup(channel.findtext("description") or "")
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    by_guid = {e.id: e for e in parsed.entries}
    for item in channel.iterfind("item"):
        text = item.findtext("title") or ""
        key = key_of(html_text(text))
        want = res.atom[key]
        cell = res.cell(key, fmt)
        cell.found += 1
        p = cell.problems
        p += plain_problems("title", text, want["title"], escaped=True)
        description = item.findtext("description") or ""
        encoded = item.findtext(CONTENT) or ""
        p += [f"description: {x}" for x in unsafe_markup(description)]
        p += [f"content:encoded: {x}" for x in unsafe_markup(encoded)]
        if encoded != want["content"]:
            p.append("content:encoded differs from the Atom content")
        if want["summary"] and html_text(description) != want["summary"]:
            p.append(f"description shows {html_text(description)[:80]!r}, not the summary")
        p += plain_problems("dc:creator", item.findtext(DC_CREATOR) or "", want["author"])
        tags = [c.text or "" for c in item.iterfind("category")]
        for tag, expected in zip(tags, want["tags"], strict=True):
            p += plain_problems("category", tag, expected)
        detail = by_guid[item.findtext("guid")].title_detail  # feedparser's reading
        shown = html_text(detail.value) if detail.type == "text/html" else detail.value
        if shown != want["title"]:
            p.append(f"feedparser title ({detail.type}) {shown[:80]!r}")


def _read_json(res: Results, fmt: str, path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    res.documents += 1
    for name in ("title", "description"):
        res.document_problems += plain_problems(f"{path.name} {name}", doc.get(name, ""), None)
    res.document_problems += plain_problems(f"{path.name} author", doc["author"]["name"], None)
    for item in doc["items"]:
        key = key_of(item["title"])
        want = res.atom[key]
        cell = res.cell(key, fmt)
        cell.found += 1
        p = cell.problems
        p += unsafe_markup(item["content_html"])
        if item["content_html"] != want["content"]:
            p.append("content_html differs from the Atom content")
        p += plain_problems("title", item["title"], want["title"])
        p += plain_problems("summary", item.get("summary", ""), want["summary"])
        for author in (item["author"], *item["authors"]):
            p += plain_problems("author", author["name"], want["author"])
        for tag, expected in zip(item.get("tags", []), want["tags"], strict=True):
            p += plain_problems("tag", tag, expected)


def _read_page(res: Results, fmt: str, doc: lhtml.HtmlElement, name: str) -> None:
    res.documents += 1
    res.document_problems += [f"{name}: {x}" for x in page_problems(doc)]
    for li in doc.iter("li"):
        h2 = li.find("h2")
        if h2 is None:
            continue
        shown = h2.text_content().strip()
        key = key_of(shown)
        cell = res.cell(key, fmt)
        cell.found += 1
        cell.problems += unsafe_markup(etree.tostring(li, encoding=str))
        if shown != res.atom[key]["title"]:
            cell.problems.append(f"{name} shows the title as {shown[:80]!r}")
        for a in li.iter("a"):
            if not a.get("href", "").startswith(("http://", "https://")):
                cell.problems.append(f"{name}: entry link {a.get('href')!r}")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    root = tmp_path_factory.mktemp("format-safety")
    seeds = root / "seeds"
    seeds.mkdir()
    for i, vector in enumerate(VECTORS):
        (seeds / f"v{i:03d}.md").write_text(_seed("V", i, vector), encoding="utf-8")
    for i, text in enumerate(BENIGN):
        (seeds / f"b{i:03d}.md").write_text(_seed("B", i, text), encoding="utf-8")
    config = root / "feeder.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = root / "public" / "feed.atom"
    report, _ = build(seeds, out, root / "state", "--max-entries", "0", "--config", str(config))
    public = out.parent
    atom = {key: view for key, view, _ in _atom_entries(out)}
    res = Results(public, report, atom)
    families = _families(public)
    for fmt, paths in families.items():
        assert paths, f"no {fmt} document written"
        for path in paths:
            {"atom": _read_atom, "rss": _read_rss, "json": _read_json}[fmt.split()[0]](
                res, fmt, path
            )
    _read_page(res, "index.html", lhtml.parse(str(public / "index.html")).getroot(), "index")
    transform = etree.XSLT(etree.parse(str(public / "feed.xsl")))
    for fmt in ("atom", "atom [[feeds]]", "atom per-source"):
        for path in families[fmt]:
            page = lhtml.document_fromstring(str(transform(etree.parse(str(path)))))
            _read_page(res, f"xsl {fmt}", page, f"xsl({path.name})")
    opml = etree.parse(str(public / "feeds.opml"))
    for outline in opml.iter("outline"):
        for attr in ("text", "title"):
            res.document_problems += plain_problems(f"opml {attr}", outline.get(attr, ""), None)
    res.document_problems += plain_problems("opml title", opml.findtext("head/title") or "", None)
    return res


# -- the tests -----------------------------------------------------------------


@pytest.mark.slow
def test_every_vector_is_published(results: Results) -> None:
    assert results.report["skipped"] == []
    assert results.report["entries"] == len(VECTORS) + len(BENIGN)
    assert len(results.atom) == len(VECTORS) + len(BENIGN)
    assert len(list((results.out / "sources").glob("*.rss"))) > len(SOURCES)  # archive pages


def test_the_vectors_are_hostile_in_plain_text_fields(results: Results) -> None:
    """A negative control: written as they are, the plain-text fields would hold markup."""
    atom = results.atom
    titles = [k for k, v in atom.items() if k[0] == "V" and html_nodes(v["title"])]
    summaries = [k for k, v in atom.items() if k[0] == "V" and html_nodes(v["summary"])]
    assert len(titles) > len(VECTORS) // 2, titles
    assert len(summaries) > len(VECTORS) // 2, summaries
    assert any(unsafe_markup(v["summary"]) for v in atom.values())
    assert any(html_nodes(s) for s in SOURCES)


def test_no_markup_survives_in_any_format(results: Results) -> None:
    keys = [f"V{i:03d}" for i in range(len(VECTORS))]
    missing = [(k, f) for k in keys for f in FORMATS if results.cell(k, f).found != 1]
    assert not missing, f"vector not found exactly once: {missing[:10]}"
    surviving = {
        (k, f): results.cells[(k, f)].problems
        for k in keys
        for f in FORMATS
        if results.cells[(k, f)].problems
    }
    total = sum(len(p) for p in surviving.values())
    per_format = {f: sum(1 for k, g in surviving if g == f) for f in FORMATS}
    print(
        f"\n{len(VECTORS)} vectors x {len(FORMATS)} formats = {len(keys) * len(FORMATS)}"
        f" readings ({results.documents} documents): {len(surviving)} with markup surviving"
        f" ({total} findings); by format {per_format}"
    )
    assert not surviving, "\n".join(f"{k}: {p[:3]}" for k, p in list(surviving.items())[:20])


def test_feed_titles_pages_and_opml_carry_no_markup(results: Results) -> None:
    assert results.documents > len(_families(results.out))
    assert not results.document_problems, results.document_problems[:20]


def test_benign_text_is_written_as_it_is(results: Results) -> None:
    """``&``, ``<``, ``>`` that are no markup stay literal, in RSS titles too."""
    for fmt in FORMATS:
        for i in range(len(BENIGN)):
            cell = results.cell(f"B{i:03d}", fmt)
            assert cell.found == 1 and not cell.problems, (fmt, i, cell)
    titles = {
        key_of(t): t
        for path in results.out.glob("all*.rss")
        for t in etree.parse(str(path)).xpath("channel/item/title/text()")
    }
    json_titles = {
        key_of(i["title"]): i["title"]
        for path in results.out.glob("all*.json")
        for i in json.loads(path.read_text(encoding="utf-8"))["items"]
    }
    for i, text in enumerate(BENIGN):
        key = f"B{i:03d}"
        assert titles[key] == json_titles[key] == results.atom[key]["title"] == f"{key} {text}"


def test_rss_description_shows_the_summary_as_text(results: Results) -> None:
    """Inline code and mail addresses in angle brackets show as written, not as tags."""
    by_key = {
        key_of(html_text(i.findtext("title") or "")): i
        for path in results.out.glob("all*.rss")
        for i in etree.parse(str(path)).iter("item")
    }
    address = by_key[f"V{VECTORS.index(ADDRESS):03d}"].findtext("description") or ""
    assert ADDRESS in html_text(address) and not html_nodes(address)
    code = by_key[f"V{VECTORS.index(f'`{IMG}`'):03d}"].findtext("description") or ""
    assert IMG in html_text(code) and not html_nodes(code)


def test_json_feed_carries_the_1_0_author_object(results: Results) -> None:
    checked = 0
    for path in [*results.out.glob("all*.json"), *results.out.glob("sources/*.json")]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["author"] == doc["authors"][0] == {"name": "feeder"}
        for item in doc["items"]:
            want = results.atom[key_of(item["title"])]
            assert item["author"] == item["authors"][0]
            assert item["author"]["name"].replace(WORD_JOINER, "") == want["author"]
            link = want["source_link"]
            assert item["author"].get("url") == (None if link is None else link.get("href"))
            checked += 1
    assert checked == 2 * len(results.atom)


def test_a_feed_file_name_with_a_colon_is_no_scheme_on_the_index(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.md").write_text(seed_text("A", "https://example.org/a"), encoding="utf-8")
    out = tmp_path / "public" / "javascript:alert(1).atom"
    proc = feeder(
        "build", "--seeds", str(seeds), "--output", str(out), "--state-dir", str(tmp_path / "st")
    )
    assert proc.returncode == 0, proc.stderr
    doc = lhtml.parse(str(out.parent / "index.html")).getroot()
    hrefs = [el.get("href") for el in doc.iter("a", "link") if el.get("href")]
    assert "./javascript:alert(1).atom" in hrefs
    assert not page_problems(doc)

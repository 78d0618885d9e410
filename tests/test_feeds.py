"""More than one feed (issue #7): filters, per-source feeds, archives, OPML, ``feeder feeds``.

End to end: the real CLI as a subprocess on temporary directories.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from conftest import assert_valid_atom, require_shared, run_feeder, write_seed_file
from lxml import etree

from feeder.feeds.filters import source_slug

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"


def make_config(root: Path, body: str, *, max_entries: int = 100) -> Path:
    config = root / "feeder.toml"
    config.write_text(
        f'[build]\nseeds = "seeds"\noutput = "out/feed.atom"\nstate_dir = "state"\n'
        f"max_entries = {max_entries}\n\n{body}",
        encoding="utf-8",
    )
    return config


def build(config: Path, *extra: str) -> dict[str, Any]:
    proc = run_feeder("build", "--config", str(config), "--json", *extra)
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def titles(path: Path) -> set[str]:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {e.title for e in parsed.entries}


def seed(root: Path, name: str, title: str, url: str, source: str, day: str, **kw: str) -> None:
    extra = "".join(f"\n{k}: {v}" for k, v in kw.items() if k != "body")
    front = f"title: {title}\nurl: {url}\nsource: {source}\ndate: {day}{extra}"
    write_seed_file(root / "seeds", name, front, kw.get("body", "Plain body text.\n"))


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Six seeds from three sources, with tags, bodies and dates to filter on."""
    sans = "https://isc.sans.edu/diary"
    seed(tmp_path, "a.md", "Patch Tuesday", f"{sans}/1", "SANS ISC", "2024-03-01")
    seed(
        tmp_path,
        "b.md",
        "Botnet report",
        "https://isc.sans.edu/diary/2",
        "SANS ISC",
        "2024-05-01",
        body="A new Mirai variant exploits CVE-2024-1234 in routers.\n",
    )
    seed(
        tmp_path,
        "c.md",
        "微信文章一",
        "https://mp.weixin.qq.com/s?__biz=A&mid=1&idx=1&sn=x",
        "安全客",
        "2024-04-01",
        tags="[漏洞, 预警]",
    )
    seed(
        tmp_path,
        "d.md",
        "微信文章二 sponsored",
        "https://mp.weixin.qq.com/s?__biz=A&mid=2&idx=1&sn=y",
        "安全客",
        "2024-06-01",
    )
    seed(tmp_path, "e.md", "Krebs story", "https://krebsonsecurity.com/x", "Krebs", "2023-12-31")
    seed(
        tmp_path,
        "f.md",
        "Blog post",
        "https://blog.csdn.net/u/article/1",
        "CSDN blog",
        "2024-02-15",
        body="Steps to reproduce cve-2023-9999 locally.\n",
    )
    return tmp_path


FILTERS = """
[[feeds]]
name = "sans"
title = "SANS only"
source = "SANS*"

[[feeds]]
name = "wechat"
title = "WeChat"
host = "*.weixin.qq.com"
exclude_keyword = "sponsored"
match_in = ["title"]

[[feeds]]
name = "cve"
title = "CVE in content"
regex = 'cve-\\d{4}-\\d+'

[[feeds]]
name = "y2024"
title = "First half of 2024"
since = 2024-01-01
until = "2024-05-01"
exclude_source = ["安全客"]

[[feeds]]
name = "tagged"
title = "Tagged"
output = "topics/tagged.atom"
tag = "漏洞"
"""


@pytest.mark.slow
def test_filters_select_exactly_the_intended_entries(mixed: Path) -> None:
    report = build(make_config(mixed, FILTERS))
    out = mixed / "out"
    assert titles(out / "sans.atom") == {"Patch Tuesday", "Botnet report"}
    assert titles(out / "wechat.atom") == {"微信文章一"}
    assert titles(out / "cve.atom") == {"Botnet report", "Blog post"}
    assert titles(out / "y2024.atom") == {"Patch Tuesday", "Blog post"}
    assert titles(out / "topics" / "tagged.atom") == {"微信文章一"}
    assert [f["name"] for f in report["feeds"]] == ["sans", "wechat", "cve", "y2024", "tagged"]
    assert all(f["changed"] for f in report["feeds"])
    assert {f["name"]: f["entries"] for f in report["feeds"]}["cve"] == 2
    assert report["parsed"] == 6 and report["entries"] == 6


@pytest.mark.slow
def test_no_feeds_writes_only_the_main_feed(mixed: Path) -> None:
    report = build(make_config(mixed, ""))
    assert report["feeds"] == []
    # (Hidden files are never served: the output's claim lock is one.)
    published = (p.name for p in (mixed / "out").iterdir() if not p.name.startswith("."))
    assert sorted(published) == [
        "feed.atom",
        "feed.html",
        "feed.xsl",
        "index.html",
    ]


@pytest.mark.slow
def test_main_feed_bytes_do_not_depend_on_extra_feeds(mixed: Path, tmp_path: Path) -> None:
    build(make_config(mixed, FILTERS))
    with_feeds = (mixed / "out" / "feed.atom").read_bytes()
    shutil.rmtree(mixed / "out")
    shutil.rmtree(mixed / "state")
    build(make_config(mixed, ""))
    assert (mixed / "out" / "feed.atom").read_bytes() == with_feeds


@pytest.mark.slow
def test_config_change_alone_rewrites_and_removed_feed_files_go(mixed: Path) -> None:
    no_content = (
        '[[feeds]]\nname = "sans"\nsource = "SANS*"\n\n'
        '[[feeds]]\nname = "tagged"\noutput = "topics/tagged.atom"\ntag = "漏洞"\n'
    )
    build(make_config(mixed, no_content))
    assert build(make_config(mixed, no_content))["changed"] is False
    # Another set of feeds without content filters: nothing is parsed again.
    report = build(make_config(mixed, '[[feeds]]\nname = "sans"\nsource = "SANS*"\n'))
    assert [f["name"] for f in report["feeds"]] == ["sans"]
    assert report["parsed"] == 0
    out = mixed / "out"
    assert (out / "sans.atom").exists() and not (out / "cve.atom").exists()
    assert not (out / "topics" / "tagged.atom").exists()
    build(make_config(mixed, ""))
    assert not (out / "sans.atom").exists() and not (out / "feeds.opml").exists()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[[feeds]]\nname = "x"\ncolour = "red"\n', "'colour': unknown key"),
        ('[[feeds]]\nname = "x"\nregex = "(unclosed"\n', "'regex': bad regular expression"),
        ('[[feeds]]\nname = "x"\nsource = "[abc"\n', "'source': bad glob"),
        ('[[feeds]]\nname = "x"\nmax_entries = "ten"\n', "'max_entries': has the wrong type"),
        ('[[feeds]]\nname = "x"\narchive = 1\n', "'archive': has the wrong type"),
        ('[[feeds]]\ntitle = "no name"\n', "'name': is required"),
        ('[[feeds]]\nname = "x"\n[[feeds]]\nname = "x"\n', "'name': used twice"),
        ('[[feeds]]\nname = "x"\noutput = "../x.atom"\n', "'output'"),
        ('[[feeds]]\nname = "x"\noutput = "feed.atom"\n', "already used by the main feed"),
        ('[[feeds]]\nname = "x"\nformats = ["atom", "csv"]\n', "unknown format 'csv'"),
        ('[[feeds]]\nname = "x"\nsince = "last week"\n', "'since'"),
        ('[[feeds]]\nname = "x"\nmatch_in = ["body"]\n', "'match_in'"),
        ("[per_source]\nenable = true\n", "[per_source] key 'enable': unknown key"),
        ('[per_source]\ntitle = "All"\n', "must contain {source}"),
        ('[feeds]\nname = "x"\n', "array of tables"),
    ],
)
def test_bad_feed_configuration_names_file_and_key(mixed: Path, body: str, needle: str) -> None:
    config = make_config(mixed, body)
    proc = run_feeder("build", "--config", str(config), check=False)
    assert proc.returncode == 1
    assert str(config) in proc.stderr and needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_archive_needs_a_page_size(mixed: Path) -> None:
    config = make_config(mixed, '[[feeds]]\nname = "x"\narchive = true\n', max_entries=0)
    proc = run_feeder("build", "--config", str(config), check=False)
    assert proc.returncode == 1 and "'archive': needs max_entries" in proc.stderr


def test_source_slugs_are_stable_and_url_safe() -> None:
    assert source_slug("Krebs on Security").startswith("krebs-on-security-")
    cjk = source_slug("安全客-有思想的安全新媒体")
    assert cjk.startswith("source-") and cjk.isascii()
    assert cjk == source_slug("安全客-有思想的安全新媒体")
    assert source_slug("一泽Eze 公众号").startswith("eze-")
    assert source_slug("A B") != source_slug("a-b")  # same slug, different hash
    for name in ("SANS Internet Storm Center, InfoCON: green", "", "Doonsec's feed"):
        slug = source_slug(name)
        assert all(c.isalnum() or c == "-" for c in slug) and slug.isascii()


def _walk(first: Path, out: Path) -> list[list[str]]:
    """Ids per document, following prev-archive from ``first`` to the oldest page."""
    pages: list[list[str]] = []
    path: Path | None = first
    while path is not None:
        tree = etree.parse(str(path))
        pages.append([e.findtext(f"{ATOM}id") or "" for e in tree.iterfind(f"{ATOM}entry")])
        links = tree.iterfind(f"{ATOM}link")
        prev = [x.get("href") for x in links if x.get("rel") == "prev-archive"]
        path = out / urlsplit(prev[0]).path.lstrip("/") if prev else None
        assert len(pages) < 100
    return pages


@pytest.mark.slow
def test_archive_chain_is_walkable_and_stable(tmp_path: Path) -> None:
    for i in range(23):
        seed(
            tmp_path,
            f"s{i:02}.md",
            f"Article {i}",
            f"https://e.org/{i}",
            "Example",
            f"2024-01-{i + 1:02}",
        )
    config = make_config(
        tmp_path,
        '[[feeds]]\nname = "all"\ntitle = "All"\narchive = true\nmax_entries = 5\n'
        'formats = ["atom", "rss", "json"]\n',
    )
    report = build(config)
    out = tmp_path / "out"
    pages = _walk(out / "all.atom", out)
    assert [len(p) for p in pages] == [3, 5, 5, 5, 5]  # 23 = 4 full pages + 3
    ids = [i for p in pages for i in p]
    assert len(ids) == len(set(ids)) == 23
    assert {f["name"]: f["entries"] for f in report["feeds"]}["all"] == 3
    current = etree.parse(str(out / "all.atom"))
    rels = {x.get("rel") for x in current.iterfind(f"{ATOM}link")}
    assert {"self", "current", "prev-archive"} <= rels
    assert current.find(f"{FH}archive") is None
    oldest = etree.parse(str(out / "all-archive-1.atom"))
    assert oldest.find(f"{FH}archive") is not None
    oldest_rels = {x.get("rel") for x in oldest.iterfind(f"{ATOM}link")}
    assert "prev-archive" not in oldest_rels and {"current", "next-archive"} <= oldest_rels
    assert_valid_atom(*sorted(out.glob("all*.atom")))

    # A new, newest entry lands in the subscription document: no archive page changes.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("all-archive-*")}
    seed(tmp_path, "s23.md", "Article 23", "https://e.org/23", "Example", "2024-01-24")
    build(config)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("all-archive-*")} == stamps
    assert len(_walk(out / "all.atom", out)[0]) == 4
    # Two more fill the page: one new archive page, only its neighbour gains a link.
    for i in (24, 25):
        day = f"2024-01-{i + 1}"
        seed(tmp_path, f"s{i}.md", f"Article {i}", f"https://e.org/{i}", "Example", day)
    build(config)
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("all-archive-*")}
    changed = {n for n in after if after[n] != stamps.get(n)}
    # (JSON Feed pages link only to older pages: page 4's JSON stays as it was.)
    assert changed == {f"all-archive-5.{x}" for x in ("atom", "rss", "json")} | {
        "all-archive-4.atom",
        "all-archive-4.rss",
    }
    ids = [i for p in _walk(out / "all.atom", out) for i in p]
    assert len(ids) == len(set(ids)) == 26


@pytest.mark.slow
def test_opml_and_index_list_every_feed(mixed: Path) -> None:
    report = build(make_config(mixed, FILTERS + "\n[per_source]\n"))
    out = mixed / "out"
    opml = etree.parse(str(out / "feeds.opml"))
    assert opml.getroot().get("version") == "2.0"
    urls = {o.get("xmlUrl") for o in opml.iter("outline")}
    per_source = [f for f in report["feeds"] if f["outputs"][0].startswith(str(out / "sources"))]
    assert len(per_source) == 4  # SANS ISC, 安全客, Krebs, CSDN blog
    expected = {"http://127.0.0.1:8080/feed.atom"} | {
        "http://127.0.0.1:8080/" + Path(f["outputs"][0]).relative_to(out).as_posix()
        for f in report["feeds"]
    }
    assert urls == expected
    index = (out / "index.html").read_text(encoding="utf-8")
    for f in report["feeds"]:
        rel = Path(f["outputs"][0]).relative_to(out).as_posix()
        assert '<link rel="alternate" type="application/atom+xml" title=' in index
        assert f'href="{rel}"' in index


@pytest.mark.slow
def test_feeds_command_lists_counts(mixed: Path) -> None:
    config = make_config(mixed, FILTERS)
    proc = run_feeder("feeds", "--config", str(config), "--json")
    assert "no build yet" in proc.stderr
    build(config)
    rows = json.loads(run_feeder("feeds", "--config", str(config), "--json").stdout)
    counts = {r["name"]: (r["entries"], r["matched"]) for r in rows}
    assert counts == {
        "feed": (6, 6),
        "sans": (2, 2),
        "wechat": (1, 1),
        "cve": (2, 2),
        "y2024": (2, 2),
        "tagged": (1, 1),
    }
    assert rows[0]["main"] is True
    text = run_feeder("feeds", "--config", str(config)).stdout
    assert text.splitlines()[0].startswith("name\t")  # the header
    assert text.splitlines()[2].startswith("sans\t2/2\t")


@pytest.fixture(scope="module")
def corpus_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    corpus = require_shared()
    root = tmp_path_factory.mktemp("feeds-corpus")
    (root / "seeds").mkdir()
    for f in [*corpus.glob("seed/*.txt"), *corpus.glob("dev/*.txt")]:
        shutil.copy(f, root / "seeds" / f.name)
    config = make_config(
        root,
        '[[feeds]]\nname = "wechat"\nhost = "mp.weixin.qq.com"\nformats = ["atom", "rss", "json"]\n'
        '\n[[feeds]]\nname = "cve"\nkeyword = "CVE-"\narchive = true\nmax_entries = 4\n'
        '\n[per_source]\nformats = ["atom", "rss", "json"]\n',
        max_entries=0,
    )
    return {"root": root, "config": config, "report": build(config)}


@pytest.mark.slow
def test_corpus_all_feeds_parse_each_seed_once(corpus_built: dict[str, Any]) -> None:
    report = corpus_built["report"]
    n = len(list((corpus_built["root"] / "seeds").iterdir()))
    assert report["seeds"] == n and report["parsed"] == n
    assert len(report["feeds"]) > 10
    again = build(corpus_built["config"])
    assert again["parsed"] == 0 and again["changed"] is False
    assert not any(f["changed"] for f in again["feeds"])
    assert [f["name"] for f in again["feeds"]] == [f["name"] for f in report["feeds"]]


@pytest.mark.slow
def test_corpus_per_source_feeds_are_valid(corpus_built: dict[str, Any]) -> None:
    out = corpus_built["root"] / "out"
    sources = sorted((out / "sources").glob("*.atom"))
    assert sources
    total = 0
    assert_valid_atom(*sources)
    for atom in sources:
        total += len(titles(atom))
        rss = feedparser.parse(atom.with_suffix(".rss").read_bytes())
        assert rss.bozo == 0, (atom.name, rss.get("bozo_exception"))
        data = json.loads(atom.with_suffix(".json").read_text(encoding="utf-8"))
        assert data["version"] == "https://jsonfeed.org/version/1.1" and data["title"]
        assert all(i["id"] and ("content_html" in i or "content_text" in i) for i in data["items"])
    main = feedparser.parse((out / "feed.atom").read_bytes())
    assert total == len(main.entries)  # every entry in exactly one source feed
    if pages := sorted(out.glob("cve*.atom")):
        assert_valid_atom(*pages)


@pytest.mark.slow
def test_archive_pages_keep_their_entries_when_a_back_dated_seed_arrives(
    tmp_path: Path,
) -> None:
    for i in range(12):
        day = f"2024-02-{i + 1:02}"
        seed(tmp_path, f"s{i:02}.md", f"Article {i}", f"https://e.org/{i}", "Example", day)
    config = make_config(
        tmp_path, '[[feeds]]\nname = "all"\ntitle = "All"\narchive = true\nmax_entries = 5\n'
    )
    build(config)
    out = tmp_path / "out"
    pages = {p.name: p.read_bytes() for p in out.glob("all-archive-*")}
    assert sorted(pages) == ["all-archive-1.atom", "all-archive-2.atom"]
    # Older than every entry: by date it would shift every page; it is paged as it came.
    seed(tmp_path, "old.md", "Back-dated", "https://e.org/old", "Example", "2020-01-01")
    build(config)
    assert {p.name: p.read_bytes() for p in out.glob("all-archive-*")} == pages
    newest_page = _walk(out / "all.atom", out)[0]
    current = etree.parse(str(out / "all.atom"))
    titles = [e.findtext(f"{ATOM}title") for e in current.iterfind(f"{ATOM}entry")]
    assert "Back-dated" in titles and len(newest_page) == 3


def test_a_feed_that_matches_nothing_is_dated_by_the_build_not_1970(tmp_path: Path) -> None:
    seed(tmp_path, "a.md", "Only one", "https://e.org/a", "Example", "2024-05-01")
    config = make_config(tmp_path, '[[feeds]]\nname = "none"\nkeyword = "no such words"\n')
    build(config)
    out = tmp_path / "out"
    main = etree.parse(str(out / "feed.atom")).findtext(f"{ATOM}updated")
    empty = etree.parse(str(out / "none.atom"))
    assert empty.find(f"{ATOM}entry") is None
    assert empty.findtext(f"{ATOM}updated") == main and not str(main).startswith("1970")

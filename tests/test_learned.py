"""Chrome learned from a site's other seeds (feeder.content.learned), through the real CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_feeder, write_seed_file
from lxml import etree

from feeder.build.learning import LEARN_FROM
from feeder.content.learned import drop, fingerprint, fingerprints, learn, lines, site_of, unpack

ATOM = "{http://www.w3.org/2005/Atom}"
#: Lines no generic rule knows: only their recurring across the site makes them chrome.
TEMPLATE = (
    "Filed in the Example section, edition of the week",
    "![](https://blog.example.org/static/divider.gif?v=3)",
    "Printed from the Example reading room for members",
)


def _article(seeds: Path, i: int, *, host: str = "blog.example.org", extra: str = "") -> None:
    body = (
        f"{TEMPLATE[0]}\n\n{TEMPLATE[1]}\n\n"
        f"Opening paragraph {i} tells its own story about subject {i * 7}.\n\n"
        f"![figure](https://{host}/uploads/figure-{i}.png)\n\n"
        f"Closing paragraph {i} ends this article with its own words.\n\n{TEMPLATE[2]}\n{extra}"
    )
    front = (
        f"title: Article {i}\nurl: https://{host}/posts/{i}?utm_source=x\ndate: 2024-05-{i + 1:02}"
    )
    write_seed_file(seeds, f"{i:03}_{host}.md", front, body)


def _build(tmp: Path, seeds: Path, *extra: str, state: str = "state") -> bytes:
    out = tmp / "out" / "feed.atom"
    run_feeder("build", "--seeds", str(seeds), "--output", str(out),
               "--state-dir", str(tmp / state), "--max-entries", "0", *extra)  # fmt: skip
    return out.read_bytes()


def _contents(data: bytes) -> dict[str, str]:
    root = etree.fromstring(data)
    return {
        e.findtext(f"{ATOM}title") or "": e.findtext(f"{ATOM}content") or ""
        for e in root.iter(f"{ATOM}entry")
    }


@pytest.mark.slow
def test_lines_every_article_of_a_site_shares_are_dropped_its_own_kept(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(6):
        _article(seeds, i)
    for title, content in _contents(_build(tmp_path, seeds)).items():
        i = title.split()[-1]
        assert "Example section" not in content and "reading room" not in content, content
        assert "divider.gif" not in content
        assert f"Opening paragraph {i} " in content and f"Closing paragraph {i} " in content
        assert f"figure-{i}.png" in content


@pytest.mark.slow
def test_a_site_with_too_few_articles_keeps_its_lines(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(4):  # learn_min_seeds is 5
        _article(seeds, i)
    for content in _contents(_build(tmp_path, seeds)).values():
        assert "Example section" in content and "reading room" in content


@pytest.mark.slow
def test_the_same_seeds_give_the_same_feed_whatever_order_they_came_in(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(8):
        _article(seeds, i)
    at_once = _build(tmp_path, seeds, state="once")
    later = tmp_path / "later"
    later.mkdir()
    for name in sorted(p.name for p in seeds.iterdir())[:3]:
        shutil.copy2(seeds / name, later / name)
    first = _build(tmp_path, later, state="inc")
    assert "Example section" in next(iter(_contents(first).values()))  # 3 articles: not yet
    for name in sorted(p.name for p in seeds.iterdir())[3:]:
        shutil.copy2(seeds / name, later / name)
    assert _build(tmp_path, later, state="inc") == at_once
    for name in sorted(p.name for p in later.iterdir())[:4]:  # gone again: 4 < 5
        (later / name).unlink()
    for content in _contents(_build(tmp_path, later, "--allow-shrink", state="inc")).values():
        assert "Example section" in content


@pytest.mark.slow
def test_wechat_accounts_learn_apart_and_explain_shows_the_learned_lines(
    tmp_path: Path,
) -> None:
    seeds = tmp_path / "seeds"
    for account in ("MzAAA==", "MzBBB=="):
        for i in range(5):
            url = f"https://mp.weixin.qq.com/s?__biz={account}&mid={i}&idx=1&sn={i:x}&scene=21#rd"
            body = f"{TEMPLATE[0]} {account}\n\nArticle {i} of {account}: its own text here.\n"
            write_seed_file(
                seeds, f"{account[2:5]}{i}.md", f"title: {account} {i}\nurl: {url}", body
            )
    contents = _contents(_build(tmp_path, seeds))
    assert all("Example section" not in c for c in contents.values())
    assert all("its own text here" in c for c in contents.values())
    proc = run_feeder("check", "--explain", str(seeds / "AAA0.md"), "--json",
                      "--seeds", str(seeds), "--state-dir", str(tmp_path / "state"))  # fmt: skip
    report = json.loads(proc.stdout)
    assert report["site"] == "wechat:MzAAA==" and report["site_articles"] == 5
    assert report["learned"] == [{"text": f"{TEMPLATE[0]} MzAAA==", "articles": 5}]


@pytest.mark.slow
def test_a_republished_article_is_not_chrome_and_learning_can_be_off(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    body = "One article, republished under six addresses, every line of it the same.\n"
    for i in range(6):
        write_seed_file(
            seeds, f"r{i}.md", f"title: Same {i}\nurl: https://news.example.org/{i}", body
        )
    assert all("republished" in c for c in _contents(_build(tmp_path, seeds)).values())
    cfg = tmp_path / "off.toml"
    cfg.write_text("[build]\nlearn_min_seeds = 0\n", encoding="utf-8")
    for i in range(6):
        _article(seeds, i)
    data = _build(tmp_path, seeds, "--config", str(cfg), state="off")
    assert all("Example section" in c for t, c in _contents(data).items() if "Article" in t)


def test_units() -> None:
    body = (
        "# Title\n\nnav [a](https://x/a?q=1)\n\n```\ncode line\n```\n\n| t | r |\n\n    indented\n"
    )
    keys = [key for _, key in lines(body)]
    assert keys == ["# Title", "nav [a](https://x/a)"]  # no code, no table row; no query
    assert site_of("https://mp.weixin.qq.com/s?__biz=AB==&mid=1", "x") == "wechat:AB=="
    assert site_of("https://www.example.org/a", "x") == "www.example.org"
    packed = [fingerprints(f"menu\n\nown {i}\n") for i in range(5)]
    found = learn(packed, min_seeds=5, share=0.5)
    assert found is not None and set(found.counts) == {fingerprint("menu")}
    assert learn(packed[:4], min_seeds=5, share=0.5) is None
    assert list(unpack(packed[0])) == sorted({fingerprint("menu"), fingerprint("own 0")})
    text, dropped = drop("# Menu\n\nmenu\n\nown text that is long enough\n", [fingerprint("menu")])
    assert dropped == ["menu"] and "own text" in text and "\nmenu\n" not in text
    assert drop("Menu\n", [fingerprint("Menu")], title="Menu") == ("Menu\n", [])


def test_the_fast_fingerprints_are_those_of_the_lines() -> None:
    fixtures = Path(__file__).parent / "fixtures"
    bodies = [p.read_text(encoding="utf-8", errors="replace") for p in fixtures.rglob("*.md")]
    bodies += [
        "a line\n```py\nx = 1\n```\nafter [l](https://x/y?z=1#f)\n~~~\nunclosed\n",
        "| t |\n|---|\n    code\n\tcode\n![]()\n![i](https://i/p.png?w=1)\n" + "x" * 300,
    ]
    for body in bodies:
        assert sorted(unpack(fingerprints(body))) == sorted(
            {fingerprint(k) for _, k in lines(body)}
        )


def _dated(seeds: Path, i: int, *, host: str, lines: str) -> None:
    """Article ``i`` of ``host``, dated ``i`` days after 2024-01-01 (higher: newer)."""
    body = f"{lines}\n\nParagraph {i} of {host}, its own words on subject {i * 13}.\n"
    day = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i)
    front = f"title: {host} {i}\nurl: https://{host}/p/{i}\ndate: {day:%Y-%m-%d}"
    write_seed_file(seeds, f"{host}-{i:03}.md", front, body)


@pytest.mark.slow
def test_a_site_learns_from_its_newest_articles_and_applies_it_to_its_older_ones(
    tmp_path: Path,
) -> None:
    seeds = tmp_path / "seeds"
    n = LEARN_FROM + 6
    old = 36  # of all n a majority (36/70), of the newest LEARN_FROM not (30/64)
    for i in range(n):
        extra = "\n\nFooter of the template this site had until last year" if i < old else ""
        _dated(seeds, i, host="big.example.org", lines=f"{TEMPLATE[0]}{extra}")
    contents = _contents(_build(tmp_path, seeds))  # --max-entries 0: every article
    assert len(contents) == n
    for title, content in contents.items():
        i = int(title.split()[-1])
        assert "Example section" not in content, title  # the oldest ones too
        assert f"Paragraph {i} of" in content
        assert ("template this site had" in content) == (i < old), title


@pytest.mark.slow
def test_only_the_newest_articles_of_rendered_sites_are_fingerprinted(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(LEARN_FROM + 6):
        _dated(seeds, 100 + i, host="big.example.org", lines=TEMPLATE[0])
    for i in range(8):  # older than every article of big: none of its entries is rendered
        _dated(seeds, i, host="small.example.org", lines=TEMPLATE[2])
    out = tmp_path / "out" / "feed.atom"
    run_feeder("build", "--seeds", str(seeds), "--output", str(out),
               "--state-dir", str(tmp_path / "state"), "--max-entries", "5")  # fmt: skip
    assert all("Example section" not in c for c in _contents(out.read_bytes()).values())
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        counted = dict(db.execute("SELECT site, count(blocks) FROM seeds GROUP BY site"))
    assert counted == {"big.example.org": LEARN_FROM, "small.example.org": 0}
    # check --explain learns the site nobody rendered yet, from the files, storing nothing
    proc = run_feeder("check", "--explain", str(seeds / "small.example.org-003.md"), "--json",
                      "--seeds", str(seeds), "--state-dir", str(tmp_path / "state"))  # fmt: skip
    report = json.loads(proc.stdout)
    assert report["site_articles"] == 8
    assert report["learned"] == [{"text": TEMPLATE[2], "articles": 8}]
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        row = db.execute("SELECT count(blocks) FROM seeds WHERE site LIKE 'small%'").fetchone()
        assert row == (0,)
    # A build on a known state fingerprints the seeds it reads there and then,
    # from the body at hand (not rendered, its site not learned: nothing else would)
    before = out.read_bytes()
    _dated(seeds, 9, host="small.example.org", lines=TEMPLATE[2])
    run_feeder("build", "--seeds", str(seeds), "--output", str(out),
               "--state-dir", str(tmp_path / "state"), "--max-entries", "5")  # fmt: skip
    assert out.read_bytes() == before
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        rows = db.execute("SELECT rel, blocks FROM seeds WHERE blocks IS NOT NULL AND site LIKE "
                          "'small%'").fetchall()  # fmt: skip
    body = (seeds / "small.example.org-009.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    assert rows == [("small.example.org-009.md", fingerprints(body))]


@pytest.mark.slow
def test_new_learning_settings_apply_without_any_seed_changing(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(6):
        _article(seeds, i)
    assert all("Example section" not in c for c in _contents(_build(tmp_path, seeds)).values())
    cfg = tmp_path / "more.toml"
    cfg.write_text("[build]\nlearn_min_seeds = 10\n", encoding="utf-8")  # 6 articles: too few
    data = _build(tmp_path, seeds, "--config", str(cfg))
    assert all("Example section" in c for c in _contents(data).values())


def test_only_a_few_seeds_read_on_a_known_state_are_fingerprinted_as_they_are_read(
    tmp_path: Path,
) -> None:
    """A crawl's new articles are; a directory touched as a whole is not (as at a cold build)."""
    from feeder.build import ingest
    from feeder.config import Settings
    from feeder.seeds.scan import scan

    seeds = tmp_path / "seeds"
    for i in range(ingest.FINGERPRINT_UP_TO + 1):
        _dated(seeds, i, host="big.example.org", lines=TEMPLATE[0])
    stats = scan(seeds).stats
    settings = Settings(seeds=seeds)
    few = list(ingest.parse_seeds(stats[:3], settings, fingerprint=True))
    assert [p.record[9] if p.record else None for p in few] == [
        fingerprints((seeds / p.rel).read_text(encoding="utf-8").split("---\n", 2)[2]) for p in few
    ]
    many = list(ingest.parse_seeds(stats, settings, fingerprint=True))
    assert len(many) == len(stats)
    assert all(p.record is not None and p.record[9] is None for p in many)
    cold = list(ingest.parse_seeds(stats[:3], settings))
    assert all(p.record is not None and p.record[9] is None for p in cold)

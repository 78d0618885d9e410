"""Atom, RSS 2.0 and JSON Feed of one feed: same entries, ids and content; valid; deterministic.

End to end: the real CLI as a subprocess on temporary directories.
"""

from __future__ import annotations

import json
import shutil
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import assert_valid_atom, require_shared
from lxml import etree
from test_feeds import build, make_config

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
FEEDS = '[[feeds]]\nname = "all"\ntitle = "Everything"\nformats = ["atom", "rss", "json"]\n'


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = require_shared()
    root = tmp_path_factory.mktemp("formats")
    (root / "seeds").mkdir()
    for f in [*src.glob("seed/*.txt"), *src.glob("dev/*.txt")]:
        shutil.copy(f, root / "seeds" / f.name)
    build(make_config(root, FEEDS, max_entries=0))
    return root / "out"


def _atom(out: Path) -> list[dict[str, Any]]:
    tree = etree.parse(str(out / "all.atom"))
    return [
        {
            "id": e.findtext(f"{ATOM}id"),
            "title": e.findtext(f"{ATOM}title"),
            "content": e.findtext(f"{ATOM}content"),
        }
        for e in tree.iterfind(f"{ATOM}entry")
    ]


@pytest.mark.slow
def test_same_entries_ids_and_content_in_every_format(corpus: Path) -> None:
    atom = _atom(corpus)
    assert atom
    rss = etree.parse(str(corpus / "all.rss")).findall("channel/item")
    assert [i.findtext("guid") for i in rss] == [e["id"] for e in atom]
    assert [i.findtext("title") for i in rss] == [e["title"] for e in atom]
    assert [i.findtext(CONTENT) for i in rss] == [e["content"] for e in atom]
    items = json.loads((corpus / "all.json").read_text(encoding="utf-8"))["items"]
    assert [i["id"] for i in items] == [e["id"] for e in atom]
    assert [i["title"] for i in items] == [e["title"] for e in atom]
    assert [i["content_html"] for i in items] == [e["content"] for e in atom]


def test_rss_is_what_the_w3c_validator_wants(corpus: Path) -> None:
    data = (corpus / "all.rss").read_bytes()
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    root = etree.fromstring(data)
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Everything"
    assert channel.findtext("description")
    assert channel.findtext("link") == "http://127.0.0.1:8080/"
    self_links = [x for x in channel.iterfind(f"{ATOM}link") if x.get("rel") == "self"]
    assert [x.get("href") for x in self_links] == ["http://127.0.0.1:8080/all.rss"]
    parsedate_to_datetime(channel.findtext("lastBuildDate") or "")
    for item in channel.iterfind("item"):
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert (guid.text or "").startswith("urn:uuid:")
        assert parsedate_to_datetime(item.findtext("pubDate") or "").tzinfo is not None
        assert item.findtext("description")
        assert item.find("author") is None  # RSS author must be an e-mail: dc:creator instead
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator")


def test_json_feed_has_every_required_field(corpus: Path) -> None:
    doc = json.loads((corpus / "all.json").read_text(encoding="utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == "Everything"
    assert doc["feed_url"] == "http://127.0.0.1:8080/all.json"
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") or item.get("content_text")
        assert item["date_published"][:4].isdigit() and "T" in item["date_published"]
        assert item["authors"][0]["name"]


@pytest.mark.slow
def test_atom_of_a_feed_is_schema_valid(corpus: Path) -> None:
    assert_valid_atom(corpus / "all.atom")
    assert feedparser.parse((corpus / "all.atom").read_bytes()).bozo == 0


@pytest.mark.slow
def test_every_output_is_deterministic(corpus: Path, tmp_path: Path) -> None:
    shutil.copytree(corpus.parent / "seeds", tmp_path / "seeds")
    build(make_config(tmp_path, FEEDS, max_entries=0))
    for name in ("feed.atom", "all.atom", "all.rss", "all.json", "feeds.opml", "index.html"):
        assert (tmp_path / "out" / name).read_bytes() == (corpus / name).read_bytes(), name

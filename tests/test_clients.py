"""Real clients of the served feed: the ``reader`` library, newsboat, headless Chromium."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonkit import DaemonProc, child_env, run_chromium, write_seed

TITLES = ["Client article one", "Client article two", "Client article three"]


@pytest.fixture()
def daemon(tmp_path: Path) -> Iterator[DaemonProc]:
    with DaemonProc(tmp_path / "daemon", interval=3600, settle=0) as d:
        for i, title in enumerate(TITLES):
            write_seed(d.seeds, f"c{i}.md", title, date=f"2024-05-0{i + 1}")
        d.start()
        yield d


def _add_and_trigger(daemon: DaemonProc, name: str, title: str) -> None:
    write_seed(daemon.seeds, name, title, date="2024-06-01")
    done = daemon.trigger()
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_reader_library(daemon: DaemonProc, tmp_path: Path) -> None:
    reader_mod = pytest.importorskip("reader", reason="the `reader` library is not installed")
    reader = reader_mod.make_reader(str(tmp_path / "reader.sqlite"))
    try:
        reader.add_feed(daemon.feed_url)
        reader.update_feeds(scheduled=False)
        feed = reader.get_feed(daemon.feed_url)
        assert feed.last_exception is None, feed.last_exception
        assert sorted(e.title for e in reader.get_entries()) == sorted(TITLES)

        # An unchanged poll, then a second update: nothing new, nothing duplicated.
        assert daemon.trigger().returncode == 0
        reader.update_feeds(scheduled=False)
        assert sorted(e.title for e in reader.get_entries()) == sorted(TITLES)

        _add_and_trigger(daemon, "c9.md", "Client article four")
        reader.update_feeds(scheduled=False)
        titles = [e.title for e in reader.get_entries()]
        assert sorted(titles) == sorted([*TITLES, "Client article four"])
    finally:
        reader.close()


def _newsboat_items(cache: Path) -> list[str]:
    with sqlite3.connect(cache) as db:
        return sorted(row[0] for row in db.execute("SELECT title FROM rss_item"))


@pytest.mark.slow
def test_newsboat(daemon: DaemonProc, tmp_path: Path) -> None:
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        pytest.skip("newsboat is not installed (Debian package `newsboat`)")
    home = tmp_path / "home"
    home.mkdir()
    urls, config, cache = home / "urls", home / "config", home / "cache.db"
    urls.write_text(daemon.feed_url + "\n", encoding="utf-8")
    config.write_text("reload-threads 1\ndownload-timeout 20\n", encoding="utf-8")

    def reload() -> None:
        done = subprocess.run(
            [newsboat, "-x", "reload", "-u", str(urls), "-c", str(cache), "-C", str(config)],
            capture_output=True,
            text=True,
            env=child_env(home),
            timeout=60,
        )
        assert done.returncode == 0, done.stderr + done.stdout

    reload()
    assert _newsboat_items(cache) == sorted(TITLES)
    assert daemon.trigger().returncode == 0  # an unchanged rebuild
    reload()
    assert _newsboat_items(cache) == sorted(TITLES)  # no duplicates
    _add_and_trigger(daemon, "c9.md", "Client article four")
    reload()
    assert _newsboat_items(cache) == sorted([*TITLES, "Client article four"])


@pytest.mark.slow
def test_chromium_index_page(daemon: DaemonProc, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path / "profile", "--dump-dom", daemon.base)
    for title in TITLES:
        assert title in dom
    assert 'type="application/atom+xml"' in dom


@pytest.mark.slow
def test_chromium_renders_the_feed_with_its_stylesheet(daemon: DaemonProc, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path / "profile", "--dump-dom", daemon.feed_url)
    if "<pre" in dom and "&lt;feed" in dom:
        pytest.skip("this Chromium shows the feed as text: its XSLT support is disabled")
    assert "<h1>" in dom and "subscribe" in dom
    for title in TITLES:
        assert f">{title}</a>" in dom, dom[:3000]
    assert "Example Source" in dom

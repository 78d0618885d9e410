"""Incremental builds do only the work a change calls for (counted, not timed).

The real CLI runs as a subprocess with ``--json``; its ``parsed``,
``rendered`` and ``changed`` counters say what a build did: a poll that
finds nothing changed parses and writes nothing, one new seed is the only
one parsed and rendered, and a seed touched without new content is parsed
again but not rendered again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SEEDS = 30
MAX_ENTRIES = 10


def _seed(n: int, *, day: int) -> str:
    return (
        "---\n"
        f"title: 增量构建 article {n}\n"
        f"url: https://example.org/posts/{n}\n"
        "source: Example 示例\n"
        f"date: 2024-03-{day:02d} 08:00:00\n"
        f"fetch_date: 2024-03-{day:02d}T09:00:00\n"
        "---\n\n"
        f"# Article {n}\n\n"
        f"第 {n} 篇文章的正文，with **some** English and a [link](https://example.org/{n}).\n\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    )


def _build(root: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "feeder",
            "build",
            "--seeds",
            str(root / "seeds"),
            "--output",
            str(root / "public" / "feed.atom"),
            "--state-dir",
            str(root / "state"),
            "--max-entries",
            str(MAX_ENTRIES),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    assert "parsing" not in proc.stderr  # no progress bar when stderr is not a terminal
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every published file and of the state database."""
    files = [*(root / "public").iterdir(), root / "state" / "state.sqlite3"]
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in files if p.is_file()}


@pytest.fixture
def built(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(SEEDS):
        sub = seeds / ("a" if n % 2 else "b")
        sub.mkdir(exist_ok=True)
        (sub / f"{n:03d}.md").write_text(_seed(n, day=1 + n % 28), encoding="utf-8")
    report = _build(tmp_path)
    assert report["parsed"] == SEEDS
    assert report["rendered"] == MAX_ENTRIES
    assert report["entries"] == MAX_ENTRIES
    assert report["seeds"] == SEEDS
    assert report["changed"] is True
    return tmp_path


@pytest.mark.slow
def test_no_change_parses_and_writes_nothing(built: Path) -> None:
    before = _snapshot(built)
    for _ in range(2):
        report = _build(built)
        assert (report["parsed"], report["rendered"], report["changed"]) == (0, 0, False)
        assert report["entries"] == MAX_ENTRIES
        assert report["skipped"] == []
    assert _snapshot(built) == before


@pytest.mark.slow
def test_one_new_seed_parses_exactly_one(built: Path) -> None:
    feed = (built / "public" / "feed.atom").read_bytes()
    (built / "seeds" / "new.md").write_text(_seed(999, day=29), encoding="utf-8")
    report = _build(built)
    assert (report["parsed"], report["rendered"], report["changed"]) == (1, 1, True)
    assert report["seeds"] == SEEDS + 1
    new_feed = (built / "public" / "feed.atom").read_bytes()
    assert new_feed != feed and b"https://example.org/posts/999" in new_feed
    report = _build(built)  # and then nothing again
    assert (report["parsed"], report["rendered"], report["changed"]) == (0, 0, False)


@pytest.mark.slow
def test_touched_seed_is_parsed_again_but_not_rendered(built: Path) -> None:
    seed = built / "seeds" / "a" / "001.md"
    st = seed.stat()
    os.utime(seed, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    report = _build(built)
    assert (report["parsed"], report["rendered"], report["changed"]) == (1, 0, False)


@pytest.mark.slow
def test_removed_seed_parses_nothing(built: Path) -> None:
    newest = built / "seeds" / "a" / "027.md"  # day 28: in the feed
    newest.unlink()
    report = _build(built)
    assert report["parsed"] == 0
    assert report["seeds"] == SEEDS - 1
    assert report["changed"] is True
    assert report["rendered"] == 1  # the entry that moves up into the feed

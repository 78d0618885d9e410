"""Trust under faults: the state is never deleted, a failed build publishes nothing,
and a feed never shrinks by accident.

Each test drives the real ``feeder`` CLI or daemon as a subprocess. Locks are
held by this process with SQLite itself (what a backup tool or a second
program does); read-only and full disks are tiny tmpfs mounts (root only,
skipped elsewhere); a bug is injected into a real CLI run by a wrapper that
patches one function before calling ``feeder.cli.main``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from daemonkit import DaemonProc, feed_titles, wait_for, write_seed
from hardkit import REPO, build, feeder, feeder_env, tmpfs


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state_files(state: Path) -> dict[str, str]:
    """Every file of the state directory but the lock, with its digest."""
    return {p.name: _digest(p) for p in sorted(state.iterdir()) if p.name != "build.lock"}


def _published(public: Path) -> dict[str, tuple[str, int]]:
    """Every file of the output directory: (digest, mtime_ns)."""
    return {
        str(p.relative_to(public)): (_digest(p), p.stat().st_mtime_ns)
        for p in sorted(public.rglob("*"))
        if p.is_file()
    }


def _cli(seeds: Path, out: Path, state: Path, *extra: str) -> list[str]:
    return ["--seeds", str(seeds), "--output", str(out), "--state-dir", str(state), *extra]


def _articles(seeds: Path, title: str, numbers: Iterable[int]) -> None:
    """Write seed ``s{i}.md`` titled ``{title} {i}`` for each ``i`` of ``numbers``."""
    for i in numbers:
        write_seed(seeds, f"s{i}.md", f"{title} {i}")


def _corpus(tmp: Path, n: int = 10) -> tuple[Path, Path, Path]:
    seeds, out, state = tmp / "seeds", tmp / "public" / "feed.atom", tmp / "state"
    for i in range(n):
        write_seed(seeds, f"a{i:02}.md", f"Article {i}", date=f"2024-05-{i + 1:02}")
    return seeds, out, state


@contextlib.contextmanager
def holding(db: Path, how: str) -> Iterator[None]:
    """Another process's transaction on the state: ``EXCLUSIVE`` or a pending write."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute(f"BEGIN {how}")
        if how == "IMMEDIATE":
            conn.execute("INSERT OR REPLACE INTO info VALUES ('other', 'x')")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


# -- honest state errors ------------------------------------------------------------


@pytest.mark.slow
def test_a_locked_state_is_waited_for_then_an_error_and_never_replaced(tmp_path: Path) -> None:
    seeds, out, state = _corpus(tmp_path)
    config = tmp_path / "feeder.toml"
    config.write_text("[build]\nbusy_timeout = 1.5\n", encoding="utf-8")
    build(seeds, out, state)
    before, feed = _state_files(state), _published(out.parent)
    write_seed(seeds, "new.md", "Written while the state is locked")
    with holding(state / "state.sqlite3", "EXCLUSIVE"):
        for command in ("build", "feeds"):
            started = time.monotonic()
            proc = feeder(command, "--config", str(config), *_cli(seeds, out, state))
            waited = time.monotonic() - started
            assert proc.returncode == 1, proc.stderr
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "locked" in lines[0] and "state.sqlite3" in lines[0], lines
            assert "Traceback" not in proc.stderr and "rebuilding" not in proc.stderr
            assert waited >= 1.4  # it waited for the busy timeout first
    assert _state_files(state) == before  # nothing replaced, nothing moved aside
    assert _published(out.parent) == feed
    report, _ = build(seeds, out, state)  # released: the build goes on
    assert report["entries"] == 11 and report["parsed"] == 1


@pytest.mark.slow
def test_feeds_reads_the_state_while_another_process_writes(tmp_path: Path) -> None:
    seeds, out, state = _corpus(tmp_path)
    build(seeds, out, state)
    before = _state_files(state)
    with holding(state / "state.sqlite3", "IMMEDIATE"):
        proc = feeder("feeds", "--json", *_cli(seeds, out, state))
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["entries"] == 10
    assert _state_files(state) == before  # feeds opens it read-only and writes nothing


@pytest.mark.slow
def test_read_only_state_is_an_error_naming_it_and_nothing_is_deleted(tmp_path: Path) -> None:
    seeds, out, _ = _corpus(tmp_path)
    with tmpfs(tmp_path / "state", "4m") as state:
        build(seeds, out, state)
        before, feed = _state_files(state), _published(out.parent)
        write_seed(seeds, "new.md", "Written while the state is read-only")
        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        try:
            proc = feeder("build", *_cli(seeds, out, state))
            assert proc.returncode == 1
            line = proc.stderr.strip()
            assert "\n" not in line and str(state) in line, line
            assert "read-only" in line.lower(), line
            assert "corrupt" not in line and "internal error" not in line
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(state)], check=True)
        assert _state_files(state) == before and _published(out.parent) == feed
        report, _ = build(seeds, out, state)
        assert report["entries"] == 11


@pytest.mark.slow
def test_a_corrupt_state_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    seeds, out, state = _corpus(tmp_path)
    build(seeds, out, state)
    db = state / "state.sqlite3"
    damaged = b"this is not a database\n" * 200
    db.write_bytes(damaged)
    report, stderr = build(seeds, out, state)
    assert report["entries"] == 10
    assert "corrupt" in stderr and "moved it aside" in stderr
    aside = list(state.glob("state.sqlite3.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged
    again, _ = build(seeds, out, state)
    assert again["changed"] is False


def _run_with_bug(args: list[str], *, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``feeder ARGS`` with a plain bug (a ``KeyError``) in the middle of the build."""
    wrapper = tmp / "buggy.py"
    wrapper.write_text(
        "import sys\n"
        "from feeder import cli\n"
        "from feeder.build import pipeline\n"
        "def broken(*args, **kwargs):\n"
        "    raise KeyError('a bug in rendering')\n"
        "pipeline._render_published = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, str(wrapper), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=feeder_env(),
        timeout=120,
    )


def test_a_bug_is_an_internal_error_and_the_state_is_untouched(tmp_path: Path) -> None:
    seeds, out, state = _corpus(tmp_path)
    build(seeds, out, state)
    before, feed = _state_files(state), _published(out.parent)
    write_seed(seeds, "new.md", "Meets a bug")
    proc = _run_with_bug(["build", *_cli(seeds, out, state)], tmp=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "feeder: internal error: KeyError: 'a bug in rendering'"
    debug = _run_with_bug(["build", *_cli(seeds, out, state), "--log-level", "DEBUG"], tmp=tmp_path)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert _state_files(state) == before and _published(out.parent) == feed
    assert not list(state.glob("*.corrupt-*"))


# -- a failed build publishes nothing ----------------------------------------------


def _multi_feed_config(tmp: Path) -> Path:
    config = tmp / "feeder.toml"
    config.write_text(
        '[[feeds]]\nname = "all"\ntitle = "All"\nformats = ["atom", "rss", "json"]\n'
        'archive = true\nmax_entries = 3\n\n[per_source]\nformats = ["atom"]\n',
        encoding="utf-8",
    )
    return config


@pytest.mark.slow
def test_a_build_that_cannot_write_one_file_changes_no_published_file(tmp_path: Path) -> None:
    seeds, out, state = _corpus(tmp_path)
    config = _multi_feed_config(tmp_path)
    build(seeds, out, state, "--config", str(config))
    public = out.parent
    published = _published(public)
    assert {"feed.atom", "index.html", "feed.xsl", "feeds.opml", "all.rss"} <= set(published)
    for blocker in ("index.html", "all-archive-3.atom", "feeds.opml"):
        write_seed(seeds, f"n-{blocker}.md", f"New before {blocker} fails", date="2024-06-01")
        # A directory where a file must go: no rename can replace it (root or not).
        target = public / blocker
        saved = target.read_bytes() if target.is_file() else None
        target.unlink(missing_ok=True)
        (target / "blocker").mkdir(parents=True)
        expected = {k: v for k, v in _published(public).items() if not k.startswith(blocker)}
        proc = feeder("build", "--config", str(config), *_cli(seeds, out, state))
        assert proc.returncode == 1, proc.stderr
        assert blocker in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        now = {k: v for k, v in _published(public).items() if not k.startswith(blocker)}
        assert now == expected, f"a failed build changed published files ({blocker})"
        assert not list(public.rglob(".*.tmp"))
        (target / "blocker").rmdir()
        target.rmdir()
        if saved is not None:
            target.write_bytes(saved)
    report, _ = build(seeds, out, state, "--config", str(config))
    assert report["entries"] == 13
    assert "New before feeds.opml fails" in feed_titles(out.read_bytes())


@pytest.mark.slow
def test_a_full_state_disk_on_a_fresh_state_publishes_nothing(tmp_path: Path) -> None:
    seeds, out, _ = _corpus(tmp_path, n=3)
    for i in range(60):
        write_seed(seeds, f"big{i:02}.md", f"Big {i}", body="word " * 4000)
    out.parent.mkdir(parents=True)
    out.write_bytes(b"<feed>the previously published file</feed>\n")
    with tmpfs(tmp_path / "state", "300k") as state:
        proc = feeder("build", *_cli(seeds, out, state))
        assert proc.returncode == 1
        assert "disk full" in proc.stderr or "No space" in proc.stderr, proc.stderr
    assert out.read_bytes() == b"<feed>the previously published file</feed>\n"
    assert sorted(p.name for p in out.parent.iterdir() if p.name[0] != ".") == ["feed.atom"]
    assert not list(out.parent.glob(".*.tmp"))


# -- never publish a worse feed by accident -----------------------------------------


@pytest.mark.slow
def test_an_emptied_or_mostly_gone_seed_directory_keeps_the_published_feed(
    tmp_path: Path,
) -> None:
    seeds, out, state = _corpus(tmp_path)
    build(seeds, out, state)
    feed = _published(out.parent)
    aside = tmp_path / "aside"
    aside.mkdir()
    moved = sorted(seeds.iterdir())
    for keep in (0, 4):  # nothing left, then 4 of 10
        for p in moved[keep:]:
            p.rename(aside / p.name)
        proc = feeder("build", *_cli(seeds, out, state))
        assert proc.returncode == 1
        line = proc.stderr.strip()
        assert "\n" not in line and str(seeds) in line, line
        assert f"found {keep} seeds" in line and "knows 10" in line and "--allow-shrink" in line
        assert _published(out.parent) == feed
        for p in moved[keep:]:
            (aside / p.name).rename(p)
    for p in moved[:3]:  # a few deleted at a time: published as before
        p.unlink()
    report, _ = build(seeds, out, state)
    assert report["entries"] == 7
    for p in sorted(seeds.iterdir()):
        p.unlink()
    proc = feeder("build", "--allow-shrink", "--json", *_cli(seeds, out, state))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["entries"] == 0 and feed_titles(out.read_bytes()) == []


@pytest.mark.slow
def test_the_daemon_keeps_the_feed_while_the_seeds_are_gone_and_republishes(
    tmp_path: Path,
) -> None:
    with DaemonProc(tmp_path, interval=0.3, settle=0, serve=False) as daemon:
        _articles(daemon.seeds, "Daemon article", range(6))
        daemon.start()
        feed = daemon.output.read_bytes()
        assert len(feed_titles(feed)) == 6
        aside = tmp_path / "mount"
        daemon.seeds.rename(aside)  # the mount went away ...
        daemon.seeds.mkdir()  # ... leaving its empty mount point

        def refused() -> bool:
            return any("keeping the published feeds" in str(r.get("msg")) for r in daemon.records())

        wait_for(refused, timeout=20, what="the daemon refusing to empty the feed")
        time.sleep(1)  # a few more polls
        assert daemon.alive() and daemon.output.read_bytes() == feed
        daemon.seeds.rmdir()
        aside.rename(daemon.seeds)
        write_seed(daemon.seeds, "s6.md", "Daemon article 6")
        wait_for(
            lambda: len(feed_titles(daemon.output.read_bytes())) == 7,
            timeout=20,
            what="the feed published again",
        )
        code, _ = daemon.stop()
        assert code == 0


@pytest.mark.slow
def test_a_fresh_state_never_publishes_fewer_entries_for_unsettled_seeds(
    tmp_path: Path,
) -> None:
    with DaemonProc(tmp_path, interval=30, settle=3, serve=False) as daemon:
        _articles(daemon.seeds, "Settling article", range(8))
        build(daemon.seeds, daemon.output, tmp_path / "other-state")  # a feed published before
        assert len(feed_titles(daemon.output.read_bytes())) == 8
        _articles(daemon.seeds, "Settling article", range(4))  # half of them just (re)written
        daemon.start(wait=False)
        counts = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            counts.append(len(feed_titles(daemon.output.read_bytes())))
            time.sleep(0.05)
        assert min(counts) == 8, counts
        assert daemon.wait_builds(2, timeout=20)[-1]["entries"] == 8

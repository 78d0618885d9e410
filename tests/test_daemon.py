"""``feeder run`` as a real subprocess: polling, failures, signals, ``feeder trigger``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from daemonkit import (
    FEED_TITLE,
    DaemonProc,
    child_env,
    feed_titles,
    feeder_cmd,
    running,
    wait_for,
    write_seed,
)
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"


def _titles(daemon: DaemonProc) -> list[str]:
    try:
        return feed_titles(daemon.output.read_bytes())
    except (OSError, etree.XMLSyntaxError):
        return []


@pytest.mark.slow
def test_daemon_follows_the_seed_directory(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "First article")], interval=1.0, settle=0.2) as d:
        # The first poll may defer the seed, written within settle_seconds of it.
        wait_for(lambda: _titles(d) == ["First article"], timeout=10, what="the first entry")
        assert (d.output.parent / "index.html").is_file()
        assert (d.output.parent / "feed.xsl").is_file()
        deadline = d.interval + d.settle + 2 + 3  # the promise, plus slack for a loaded CI box

        write_seed(d.seeds, "b.md", "Second article", date="2024-05-03")
        wait_for(lambda: "Second article" in _titles(d), timeout=deadline, what="the new seed")
        assert set(_titles(d)) == {"First article", "Second article"}

        (d.seeds / "b.md").unlink()
        wait_for(lambda: _titles(d) == ["First article"], timeout=deadline, what="the removal")

        # A broken seed: the daemon stays up, the feed stays valid and byte-identical.
        before = d.output.read_bytes()
        # A download gone wrong: binary bytes where a Markdown article should be.
        (d.seeds / "broken.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(32)) * 64)
        warning = wait_for(
            lambda: next((r for r in d.records() if "broken.md" in r["msg"]), None),
            timeout=10,
            what="a warning about the broken seed",
        )
        assert warning["level"] == "WARNING" and "exc" not in warning
        assert d.alive()
        etree.fromstring(d.output.read_bytes())  # still well-formed
        assert d.output.read_bytes() == before
        done = d.trigger("--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["changed"] is False
        assert any(s["path"] == "broken.md" for s in report["skipped"])
        assert d.output.read_bytes() == before

        code, took = d.stop(signal.SIGTERM)
        assert code == 0, d.log()
        assert took < 5, f"stopping took {took:.1f} s"
    log = d.log()
    assert "Traceback" not in log, log
    assert not (d.state / "daemon.pid").exists()
    assert not (d.state / "control.sock").exists()


def test_sigint_stops_cleanly(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "An article")]) as d:
        code, took = d.stop(signal.SIGINT)
    assert code == 0 and took < 5, d.log()
    assert "Traceback" not in d.log()


@pytest.mark.slow
def test_no_change_poll_parses_and_writes_nothing(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "Only article")], interval=0.3, log_level="DEBUG") as d:
        wait_for(lambda: d.output.is_file() and d.builds()[-1]["entries"], timeout=10, what="entry")
        first = len(d.builds())
        page = d.output.parent / "index.html"
        feed_stat, page_stat = d.output.stat(), page.stat()
        later = d.wait_builds(first + 3)[first:]
        for build in later:
            assert build["cause"] == "poll"
            assert (build["parsed"], build["rendered"], build["changed"]) == (0, 0, False)
            assert build["entries"] == 1
        for path, old in ((d.output, feed_stat), (page, page_stat)):
            new = path.stat()
            assert (new.st_ino, new.st_mtime_ns) == (old.st_ino, old.st_mtime_ns)


@pytest.mark.slow
def test_failed_builds_are_logged_and_recovered_from(tmp_path: Path) -> None:
    d = DaemonProc(tmp_path, interval=0.3)
    with d:
        os.rmdir(d.seeds)  # the seed directory is missing: every build fails
        d.start(wait=False)
        errors = wait_for(
            lambda: [r for r in d.records() if r["level"] == "ERROR"][:2] or None,
            timeout=20,
            what="a logged build failure",
        )
        assert "build failed" in errors[0]["msg"] and "exc" not in errors[0]
        assert d.alive()
        write_seed(d.seeds, "a.md", "Recovered article")
        wait_for(lambda: _titles(d) == ["Recovered article"], timeout=20, what="recovery")
        code, _ = d.stop()
        assert code == 0
    assert "Traceback" not in d.log()


@pytest.mark.slow
def test_trigger_rebuilds_at_once(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "Old article")], interval=3600) as d:
        write_seed(d.seeds, "b.md", "Triggered article", date="2024-05-04")
        done = d.trigger("--json")
        assert done.returncode == 0, done.stderr
        assert "rebuilt" in done.stderr
        result = json.loads(done.stdout)
        assert result["entries"] == 2 and result["changed"] is True
        # The reply came after the rebuild: the feed already has the entry.
        assert "Triggered article" in _titles(d)
        assert d.builds()[-1]["cause"] == "trigger"


def test_trigger_without_daemon_fails_clearly(tmp_path: Path) -> None:
    d = DaemonProc(tmp_path)
    done = d.trigger()
    assert done.returncode == 1
    assert "no feeder daemon is running" in done.stderr


@pytest.mark.slow
def test_stale_pid_and_socket_do_not_confuse(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "An article")], interval=3600) as d:
        d.stop(signal.SIGKILL)
        assert (d.state / "daemon.pid").exists() and (d.state / "control.sock").exists()
        done = d.trigger()
        assert done.returncode == 1 and "no feeder daemon is running" in done.stderr
        d.start()  # a new daemon takes over the stale files
        assert d.trigger().returncode == 0
        code, _ = d.stop()
        assert code == 0


@pytest.mark.slow
def test_second_daemon_on_the_same_state_is_refused(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "An article")], interval=3600) as d:
        second = subprocess.run(
            feeder_cmd(*d.run_args()),
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=child_env(tmp_path),
            timeout=30,
        )
        assert second.returncode == 1
        assert "already running" in second.stderr + second.stdout
        assert d.alive() and d.trigger().returncode == 0


@pytest.mark.slow
def test_sighup_reloads_the_configuration(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "An article")], interval=3600) as d:
        root = etree.fromstring(d.output.read_bytes())
        assert root.findtext(f"{ATOM}title") == FEED_TITLE
        d.write_config("Renamed Feed")
        assert d.proc is not None
        d.proc.send_signal(signal.SIGHUP)

        def renamed() -> bool:
            try:
                title = etree.fromstring(d.output.read_bytes()).findtext(f"{ATOM}title")
            except (OSError, etree.XMLSyntaxError):
                return False
            return bool(title == "Renamed Feed")

        wait_for(renamed, timeout=20, what="the reloaded title in the feed")
        assert "Renamed Feed" in (d.output.parent / "index.html").read_text(encoding="utf-8")
        assert d.alive()


@pytest.mark.slow
def test_no_serve_builds_without_listening(tmp_path: Path) -> None:
    with running(tmp_path, [("a.md", "Unserved article")], interval=3600, serve=False) as d:
        assert d.find("serving ") is None
        assert d.trigger().returncode == 0
        assert _titles(d) == ["Unserved article"]
        code, _ = d.stop()
        assert code == 0


@pytest.mark.slow
def test_a_seed_still_being_written_is_read_once_it_settles(tmp_path: Path) -> None:
    # A long interval: only the follow-up poll can publish the seed this soon.
    with running(tmp_path, [], interval=60.0, settle=1.0) as d:
        d.wait_builds(1)
        write_seed(d.seeds, "fresh.md", "Fresh article")
        os.utime(d.seeds / "fresh.md")  # modified just now: the next poll must defer it
        d.trigger()  # a trigger does not wait for seeds to settle: it publishes at once
        assert "Fresh article" in _titles(d)
        write_seed(d.seeds, "late.md", "Late article", date="2024-05-04")
        os.kill(d.proc.pid, signal.SIGHUP)  # reload = a poll now, which defers late.md
        wait_for(lambda: "Late article" in _titles(d), timeout=1.0 + 5, what="the settled seed")


@pytest.mark.slow
def test_a_seed_modified_in_the_future_is_published_not_deferred_until_then(
    tmp_path: Path,
) -> None:
    # A copy that kept a remote clock's times, or a clock set wrong: the seed
    # looked "modified less than settle_seconds ago" on every poll until 2031,
    # and was never published.
    with DaemonProc(tmp_path, interval=60.0, settle=1.0, serve=False) as d:
        write_seed(d.seeds, "ahead.md", "Ahead of the clock")
        ahead = time.time() + 5 * 365 * 86400
        os.utime(d.seeds / "ahead.md", (ahead, ahead))
        d.start()
        (first,) = d.wait_builds(1)
        assert first["deferred"] == 0 and first["entries"] == 1, first
        assert _titles(d) == ["Ahead of the clock"]
        warned = [r["msg"] for r in d.records() if "modified in the future" in r["msg"]]
        assert len(warned) == 1 and "ahead.md" in warned[0], warned

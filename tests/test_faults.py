"""Faults: kills mid-build, full and read-only disks, vanishing seed directories,
corrupt state, and builds racing each other. Nothing lost, nothing torn.

The kill loop forks build processes from one driver process that has feeder
imported already (a fork costs a millisecond, a fresh interpreter ~0.3 s), so
a few hundred SIGKILLs land at random moments of real builds within about a
minute; a shorter loop kills the real ``python -m feeder build`` CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from daemonkit import DaemonProc, feed_titles, http_get, wait_for, write_seed
from hardkit import (
    REPO,
    assert_schema_valid,
    build,
    entries,
    feeder,
    feeder_env,
    relaxng,
    settings_for,
    tmpfs,
)
from lxml import etree

TESTS = Path(__file__).resolve().parent
KILLS = int(os.environ.get("FEEDER_KILLS", "200"))
#: Distinct complete builds the kills must have seen (the harness did its job).
MIN_VERSIONS_SEEN = 5
CORPUS_SEEDS = 160
VERSION_PREFIX = "Version "


def make_corpus(seeds: Path, count: int = CORPUS_SEEDS) -> None:
    """A corpus whose build takes a few hundred milliseconds."""
    rnd = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "feed", "atom", "entry", "parser", "kernel"]
    for i in range(count):
        paras = [
            " ".join(rnd.choice(words) for _ in range(60)) + "." for _ in range(rnd.randint(4, 12))
        ]
        body = "\n\n".join(["## Section", *paras, "- a list item\n- another item"])
        write_seed(
            seeds, f"s{i:04d}.md", f"Article {i}", date=f"2024-0{1 + i % 4}-1{i % 9}", body=body
        )
    write_seed(seeds, "counter.md", f"{VERSION_PREFIX}0", date="2024-05-01")


def feed_version(data: bytes) -> tuple[int, int]:
    """(the counter version, the entry count) of a complete feed (raises if torn)."""
    titles = feed_titles(data)
    versions = [int(t[len(VERSION_PREFIX) :]) for t in titles if t.startswith(VERSION_PREFIX)]
    assert len(versions) == 1, f"counter entry missing or doubled: {versions}"
    return versions[0], len(titles)


# -- the kill loop ---------------------------------------------------------------


def _child_loop(root: Path, first: int) -> None:
    """In a forked child: bump the counter seed and build, for ever."""
    from feeder.build import pipeline

    settings = settings_for(root)
    progress = os.open(root / "progress", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    k = first
    while True:
        write_seed(root / "seeds", "counter.md", f"{VERSION_PREFIX}{k}", date="2024-05-01")
        os.write(progress, f"start {k}\n".encode())
        try:
            pipeline.build(settings, full=k % 4 == 0)
        except Exception as e:  # reported to the driver, then the child dies
            os.write(progress, f"error {k} {type(e).__name__}: {e}\n".encode())
            os._exit(3)
        os.write(progress, f"done {k}\n".encode())
        k += 1


def kill_driver(root: str, kills: int, max_delay: float) -> None:
    """Fork builders and SIGKILL them at random moments; print a JSON summary.

    Run in its own interpreter (``python -c``), never inside pytest.
    """

    base = Path(root)
    rnd = random.Random(12345)
    summary: dict[str, Any] = {"kills": 0, "torn": [], "errors": [], "versions_seen": 0}
    summary["wrong_version"] = []
    tmp_left = 0
    next_version = 1
    previous = 0  #: the counter version of the feed seen after the previous kill
    seen: set[int] = set()
    for _ in range(kills):
        (base / "progress").write_bytes(b"")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _child_loop(base, next_version)
            finally:
                os._exit(4)
        time.sleep(rnd.uniform(0.0, max_delay))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        summary["kills"] += 1
        lines = (base / "progress").read_text().splitlines()
        starts = [int(x.split()[1]) for x in lines if x.startswith("start ")]
        dones = [int(x.split()[1]) for x in lines if x.startswith("done ")]
        summary["errors"] += [x for x in lines if x.startswith("error ")]
        out = base / "public" / "feed.atom"
        if out.exists():
            data = out.read_bytes()
            try:
                version, count = feed_version(data)
                if count != CORPUS_SEEDS + 1:
                    raise AssertionError(f"{count} entries")
            except Exception as e:
                summary["torn"].append(f"{type(e).__name__}: {str(e)[:200]}")
                continue
            # The feed is the last complete build's (the one before this child's
            # builds, or its own last one) or the build that was killed.
            allowed = {*(dones[-1:] or [previous]), *(starts[-1:])}
            if version not in allowed:
                summary["wrong_version"].append([version, sorted(allowed)])
            seen.add(version)
            previous = version
        next_version = (starts[-1] + 1) if starts else next_version
    tmp_left = len(list((base / "public").glob(".*.tmp")))
    summary["versions_seen"] = len(seen)
    summary["temp_files_left"] = tmp_left
    summary["last_version"] = next_version - 1
    print(json.dumps(summary))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    make_corpus(root / "seeds")
    return root


@pytest.mark.slow
def test_sigkill_at_random_moments_never_tears_the_feed(tmp_path: Path, corpus: Path) -> None:
    shutil.copytree(corpus / "seeds", tmp_path / "seeds")
    out = tmp_path / "public" / "feed.atom"
    report, _ = build(tmp_path / "seeds", out, tmp_path / "state", "--max-entries", "0")
    assert report["entries"] == CORPUS_SEEDS + 1
    # A full build's duration sets the window the kills are spread over.
    start = time.perf_counter()
    build(tmp_path / "seeds", out, tmp_path / "state", "--max-entries", "0", "--full")
    window = min(max(time.perf_counter() - start - 0.25, 0.1), 0.6)
    code = (
        f"import sys; sys.path[:0] = [{str(TESTS)!r}, {str(REPO)!r}]; import test_faults; "
        f"test_faults.kill_driver({str(tmp_path)!r}, {KILLS}, {window!r})"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
        env=feeder_env(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"kill loop: {summary}")  # the figures for the report (pytest -s)
    assert summary["kills"] == KILLS
    assert summary["torn"] == [], summary["torn"][:5]
    assert summary["errors"] == [], summary["errors"][:5]
    assert summary["wrong_version"] == [], summary["wrong_version"][:5]
    # Kills did land after complete builds, so both cases were exercised. How
    # many depends on the machine's speed (the window is measured once, before
    # the loop): 13 of 200 kills in one loaded run here, 57 in a quiet one.
    assert summary["versions_seen"] >= MIN_VERSIONS_SEEN
    # The state is usable: the next build succeeds and publishes the newest version.
    report, _ = build(tmp_path / "seeds", out, tmp_path / "state", "--max-entries", "0")
    data = out.read_bytes()
    version, count = feed_version(data)
    assert count == report["entries"] == CORPUS_SEEDS + 1
    assert version == summary["last_version"]
    assert_schema_valid(data)


@pytest.mark.slow
def test_sigkill_of_the_real_cli(tmp_path: Path, corpus: Path) -> None:
    shutil.copytree(corpus / "seeds", tmp_path / "seeds")
    out = tmp_path / "public" / "feed.atom"
    state = tmp_path / "state"
    args = ["build", "--seeds", str(tmp_path / "seeds"), "--output", str(out),
            "--state-dir", str(state), "--max-entries", "0"]  # fmt: skip
    build(tmp_path / "seeds", out, state, "--max-entries", "0")
    rnd = random.Random(99)
    for k in range(1, 21):
        write_seed(tmp_path / "seeds", "counter.md", f"{VERSION_PREFIX}{k}", date="2024-05-01")
        before = feed_version(out.read_bytes())[0]
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeder", *args, *(["--full"] if k % 2 else [])],
            env=feeder_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rnd.uniform(0.2, 0.9))
        proc.kill()
        proc.wait(timeout=30)
        version, count = feed_version(out.read_bytes())
        assert count == CORPUS_SEEDS + 1
        assert version in (before, k)
    build(tmp_path / "seeds", out, state, "--max-entries", "0")
    assert feed_version(out.read_bytes())[0] == 20
    assert_schema_valid(out.read_bytes())


# -- the lock ------------------------------------------------------------------------

_HOLDER = """
import sys, time, pathlib
sys.path.insert(0, {repo!r})
from feeder.build.lock import build_lock
with build_lock(pathlib.Path({state!r})):
    pathlib.Path({held!r}).write_text("held")
    time.sleep({hold})
    pathlib.Path({released!r}).write_text("released")
"""


def _hold_lock(tmp: Path, state: Path, hold: float) -> subprocess.Popen[bytes]:
    held, released = tmp / "held", tmp / "released"
    code = _HOLDER.format(
        repo=str(REPO), state=str(state), held=str(held), released=str(released), hold=hold
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    wait_for(held.exists, timeout=30, what="the lock holder")
    return proc


@pytest.mark.slow
def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    write_seed(seeds, "a.md", "Lock A")
    holder = _hold_lock(tmp_path, state, hold=3600)
    holder.kill()  # dies holding the lock; the lock file stays behind
    holder.wait(timeout=10)
    assert (state / "build.lock").exists()
    report, _ = build(seeds, out, state, timeout=60)  # would wait 600 s if the lock were stale
    assert report["entries"] == 1


@pytest.mark.slow
def test_builds_are_serialized_by_the_lock(tmp_path: Path) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    write_seed(seeds, "a.md", "Serialized")
    holder = _hold_lock(tmp_path, state, hold=1.5)
    try:
        report, _ = build(seeds, out, state, timeout=60)
    finally:
        holder.wait(timeout=30)
    released = tmp_path / "released"
    assert released.exists(), "the build finished while another process held the lock"
    assert out.stat().st_mtime_ns >= released.stat().st_mtime_ns
    assert report["entries"] == 1


def _files(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of ``directory`` but the build lock: (bytes, mtime_ns)."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != "build.lock"
    }


@pytest.mark.slow
def test_a_build_with_nothing_to_do_takes_no_lock_and_writes_nothing(tmp_path: Path) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    write_seed(seeds, "a.md", "Nothing to do")
    build(seeds, out, state)
    published, stored = _files(out.parent), _files(state)
    holder = _hold_lock(tmp_path, state, hold=3600)
    try:
        # Another process holds the lock: the build sees that nothing changed and
        # returns without waiting for it (it would wait 600 s for the lock).
        report, _ = build(seeds, out, state, timeout=60)
        assert report["changed"] is False and report["entries"] == 1
        assert _files(out.parent) == published and _files(state) == stored
        # A change does wait for the lock, and is built once it is released.
        write_seed(seeds, "b.md", "Waits for the lock")
        waiting = subprocess.Popen(
            [sys.executable, "-m", "feeder", "build", "--seeds", str(seeds), "--output",
             str(out), "--state-dir", str(state), "--json"],
            env=feeder_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        time.sleep(1.0)
        assert waiting.poll() is None, "the build went ahead while another process held the lock"
    finally:
        holder.kill()
        holder.wait(timeout=30)
    stdout, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0
    assert json.loads(stdout)["entries"] == 2
    assert "Waits for the lock" in feed_titles(out.read_bytes())


@pytest.mark.slow
def test_a_build_with_nothing_to_do_succeeds_on_a_read_only_state(tmp_path: Path) -> None:
    seeds, out = tmp_path / "seeds", tmp_path / "public" / "feed.atom"
    write_seed(seeds, "a.md", "Read-only state, nothing to do")
    with tmpfs(tmp_path / "state", "4m") as state:
        build(seeds, out, state)
        stored = _files(state)
        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        try:
            report, _ = build(seeds, out, state)  # nothing to write: nothing fails
            assert report["changed"] is False and report["entries"] == 1
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(state)], check=True)
        assert _files(state) == stored


_BUILD_BETWEEN = """
import os, subprocess, sys
from feeder import cli
from feeder.build import pipeline
real = pipeline.build_lock
def lock_after_another_build(state_dir, **kwargs):
    # Between this build's look at the seeds and its lock, a seed comes and
    # another build publishes it.
    os.rename({pending!r}, {arrived!r})
    subprocess.run([sys.executable, "-m", "feeder", *sys.argv[1:]], check=True,
                   capture_output=True)
    return real(state_dir, **kwargs)
pipeline.build_lock = lock_after_another_build
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_walk_made_before_the_lock_is_not_used_once_another_build_moved_the_state(
    tmp_path: Path,
) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    write_seed(seeds, "a.md", "First", date="2024-05-01")
    build(seeds, out, state)
    write_seed(seeds, "b.md", "Seen by the look", date="2024-05-02")
    write_seed(tmp_path / "pending", "c.md", "Published in between", date="2024-05-03")
    wrapper = tmp_path / "between.py"
    wrapper.write_text(
        _BUILD_BETWEEN.format(
            pending=str(tmp_path / "pending" / "c.md"), arrived=str(seeds / "c.md")
        ),
        encoding="utf-8",
    )
    args = ["build", "--seeds", str(seeds), "--output", str(out), "--state-dir", str(state)]
    proc = subprocess.run(
        [sys.executable, str(wrapper), *args, "--json"],
        capture_output=True, text=True, env=feeder_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (seeds / "c.md").exists()  # the other build ran in between
    # The build walked again under the lock: the seed that came in between is
    # not taken for removed, and stays in the feed.
    assert json.loads(proc.stdout)["entries"] == 3
    assert feed_titles(out.read_bytes()) == ["Published in between", "Seen by the look", "First"]


@pytest.mark.slow
def test_concurrent_builds_and_daemon(tmp_path: Path, corpus: Path) -> None:
    with DaemonProc(tmp_path, interval=0.2, settle=0, serve=False) as daemon:
        shutil.copytree(corpus / "seeds", daemon.seeds, dirs_exist_ok=True)
        daemon.start()
        cli = [*daemon.common_args(), "--max-entries", "0"]
        for round_ in range(1, 5):
            write_seed(daemon.seeds, "counter.md", f"{VERSION_PREFIX}{round_}", date="2024-05-01")
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "feeder", "build", *cli, *(["--full"] if i else [])],
                    env=feeder_env(tmp_path),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for i in range(3)
            ]
            trig = daemon.trigger("--json")
            for p in procs:
                _, err = p.communicate(timeout=120)
                assert p.returncode == 0, err[-2000:]
            assert trig.returncode == 0, trig.stderr
            version, _count = feed_version(daemon.output.read_bytes())
            assert version == round_
        assert daemon.alive()
        assert_schema_valid(daemon.output.read_bytes())
        assert not [r for r in daemon.records() if "build failed" in str(r.get("msg"))]
        code, _ = daemon.stop()
        assert code == 0


# -- corrupt or missing state -------------------------------------------------------


def _corrupt(path: Path, how: str, rnd: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if how == "garbage":
        data = bytearray(os.urandom(len(data)))
    elif how == "header":
        data[0:100] = os.urandom(100)
    elif how == "pages":
        for off in range(4096, len(data), 4096):
            data[off + 8 : off + 200] = os.urandom(192)
    elif how == "bytes":
        for _ in range(40):
            data[rnd.randrange(100, len(data))] = rnd.randrange(256)
    elif how == "truncated":
        data = data[: len(data) // 3]
    elif how == "empty":
        data = bytearray()
    elif how == "text":
        data = bytearray(b"this is not a database\n" * 50)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how", ["garbage", "header", "pages", "bytes", "truncated", "empty", "text", "deleted"]
)
@pytest.mark.slow
def test_corrupt_or_deleted_state_is_rebuilt(tmp_path: Path, corpus: Path, how: str) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    shutil.copytree(corpus / "seeds", seeds)
    first, _ = build(seeds, out, state, "--max-entries", "0")
    before = out.read_bytes()
    db = state / "state.sqlite3"
    if how == "deleted":
        shutil.rmtree(state)
    else:
        _corrupt(db, how, random.Random(how))
    write_seed(seeds, "counter.md", f"{VERSION_PREFIX}1", date="2024-05-01")
    report, _ = build(seeds, out, state, "--max-entries", "0")
    assert report["entries"] == first["entries"]
    assert feed_version(out.read_bytes()) == (1, CORPUS_SEEDS + 1)
    assert out.read_bytes() != before
    again, _ = build(seeds, out, state, "--max-entries", "0")  # the rebuilt state works
    assert again["changed"] is False and again["entries"] == first["entries"]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_many_random_state_corruptions(tmp_path: Path) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    for i in range(30):
        write_seed(seeds, f"s{i}.md", f"Small {i}", body="Text. " * 300)
    from hardkit import _relaxng_or_reason  # noqa: F401 - the schema converts once

    from feeder.build import pipeline
    from feeder.config import load_settings

    settings = load_settings(
        None,
        overrides={"seeds": seeds, "output": out, "state_dir": state},
        use_default_config=False,
    )
    rnd = random.Random(5)
    for trial in range(40):
        pipeline.build(settings, full=True)
        db = state / "state.sqlite3"
        data = bytearray(db.read_bytes())
        off = rnd.randrange(len(data))
        data[off : off + rnd.randrange(1, 600)] = os.urandom(rnd.randrange(1, 600))
        db.write_bytes(bytes(data[: len(data)]))
        os.utime(seeds / "s0.md")
        result = pipeline.build(settings)
        assert result.entries == 30, f"trial {trial}"
        assert len(entries(etree.fromstring(out.read_bytes()))) == 30


# -- disks: full and read-only ---------------------------------------------------------


def _fill(directory: Path) -> Path:
    """Fill the filesystem of ``directory`` to the last byte."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for chunk in (b"\0" * 4096, b"\0"):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, chunk)
    finally:
        os.close(fd)
    return filler


@pytest.mark.slow
def test_read_only_output_is_a_clear_error_and_keeps_the_feed(tmp_path: Path) -> None:
    seeds, state = tmp_path / "seeds", tmp_path / "state"
    write_seed(seeds, "a.md", "Before read-only")
    with tmpfs(tmp_path / "public", "1m") as public:
        out = public / "feed.atom"
        build(seeds, out, state)
        before = out.read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(public)], check=True)
        try:
            write_seed(seeds, "b.md", "After read-only")
            proc = feeder("build", "--seeds", str(seeds), "--output", str(out),
                          "--state-dir", str(state))  # fmt: skip
            assert proc.returncode == 1
            assert "error" in proc.stderr and "feed.atom" in proc.stderr
            assert "Read-only file system" in proc.stderr
            assert "Traceback" not in proc.stderr
            assert out.read_bytes() == before
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(public)], check=True)
        report, _ = build(seeds, out, state)  # and recovers once writable again
        assert report["entries"] == 2
        assert not list(public.glob(".*.tmp"))


@pytest.mark.slow
def test_disk_full_daemon_keeps_polling_and_recovers(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "public", "256k"), DaemonProc(tmp_path, interval=0.3, settle=0) as daemon:
        write_seed(daemon.seeds, "a.md", "Before the disk filled up")
        daemon.start()
        before = daemon.output.read_bytes()
        filler = _fill(daemon.output.parent)
        write_seed(daemon.seeds, "b.md", "Written while the disk is full", body="x " * 2000)

        def failed() -> bool:
            return any("build failed" in str(r.get("msg")) for r in daemon.records())

        wait_for(failed, timeout=30, what="a failed build on the full disk")
        errors = [r for r in daemon.records() if "build failed" in str(r.get("msg"))]
        assert "No space left on device" in errors[0]["msg"]
        assert daemon.alive()
        assert daemon.output.read_bytes() == before  # the previous feed, intact
        status, _, body = http_get(daemon.feed_url)
        assert status == 200 and body == before
        # A poll may be mid-write this instant (its temp file is removed when the
        # write fails): what matters is that none stays behind.
        wait_for(
            lambda: not list(daemon.output.parent.glob(".*.tmp")),
            timeout=5,
            what="no temporary file left behind",
        )
        filler.unlink()  # space returns
        wait_for(
            lambda: "Written while the disk is full" in feed_titles(daemon.output.read_bytes()),
            timeout=30,
            what="the build after space returned",
        )
        # The feed is renamed into place before the build ends and logs its outcome.
        wait_for(
            lambda: any("recovered" in str(r.get("msg")) for r in daemon.records()),
            timeout=10,
            what="the daemon saying it recovered",
        )
        assert_schema_valid(daemon.output.read_bytes())
        code, _ = daemon.stop()
        assert code == 0


@pytest.mark.slow
def test_full_disk_for_the_state_is_a_clear_error(tmp_path: Path) -> None:
    seeds, out = tmp_path / "seeds", tmp_path / "public" / "feed.atom"
    write_seed(seeds, "a.md", "State disk")
    with tmpfs(tmp_path / "state", "1m") as state:
        build(seeds, out, state)
        before = out.read_bytes()
        filler = _fill(state)
        for i in range(40):
            write_seed(seeds, f"n{i}.md", f"New {i}", body="y " * 3000)
        proc = feeder("build", "--seeds", str(seeds), "--output", str(out),
                      "--state-dir", str(state))  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        assert "full" in proc.stderr.lower() or "space" in proc.stderr.lower(), proc.stderr
        # Either the feed was not written or it is complete (written before the commit).
        data = out.read_bytes()
        assert data == before or len(feed_titles(data)) == 41
        filler.unlink()
        report, _ = build(seeds, out, state)
        assert report["entries"] == 41


# -- the seed directory comes and goes ----------------------------------------------


@pytest.mark.slow
def test_seed_directory_missing_removed_and_recreated(tmp_path: Path) -> None:
    with DaemonProc(tmp_path, interval=0.3, settle=0) as daemon:
        shutil.rmtree(daemon.seeds)
        daemon.start(wait=False)

        def failures() -> int:
            daemon._started()
            return sum("seed directory unusable" in str(r.get("msg")) for r in daemon.records())

        wait_for(failures, timeout=30, what="the missing seed directory to be reported")
        write_seed(daemon.seeds, "a.md", "After the directory appeared")
        wait_for(
            lambda: (
                daemon.output.exists()
                and "After the directory appeared" in feed_titles(daemon.output.read_bytes())
            ),
            timeout=30,
            what="the first feed",
        )
        before = daemon.output.read_bytes()
        shutil.rmtree(daemon.seeds)  # removed while the daemon runs
        seen = failures()
        wait_for(lambda: failures() > seen, timeout=30, what="the removal to be reported")
        assert daemon.output.read_bytes() == before  # the feed is not emptied
        assert daemon.alive()
        write_seed(daemon.seeds, "a.md", "After the directory appeared")
        write_seed(daemon.seeds, "b.md", "After it was recreated")
        wait_for(
            lambda: "After it was recreated" in feed_titles(daemon.output.read_bytes()),
            timeout=30,
            what="recovery",
        )
        assert daemon.alive()
        assert relaxng() is not None
        assert_schema_valid(daemon.output.read_bytes())
        code, _ = daemon.stop()
        assert code == 0

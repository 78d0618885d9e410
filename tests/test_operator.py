"""What an operator meets: every skipped seed named, honest fallback messages.

Each test runs the real CLI (``feeder build``/``check``) or daemon as a subprocess.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import run_feeder, write_seed


def _check(seeds: Path, tmp: Path) -> list[str]:
    proc = run_feeder(
        "check", "--seeds", str(seeds), "--state-dir", str(tmp / "state"), check=False
    )
    return proc.stderr.splitlines()


def test_broken_yaml_read_line_by_line_is_a_warning_with_yamls_position(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds, "broken.md", "title: [unclosed\nurl: https://example.org/a\ndate: 2024-05-01")
    write_seed(
        seeds,
        "colon.md",
        "title: Part 2: the end\nsource: SANS Internet Storm Center, InfoCON: green\n"
        "url: https://example.org/b\ndate: 2024-05-01\nfetch_date: 2024-05-02",
    )
    lines = _check(seeds, tmp_path)
    broken = [line for line in lines if line.startswith("broken.md: ")]
    assert any("not valid YAML (line 1, column 8:" in line for line in broken), lines
    # The common crawler shape (a plain value holding ": ") reads as meant: no warning.
    assert not [line for line in lines if line.startswith("colon.md")], lines


def test_date_fallback_names_the_value_it_used(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    path = write_seed(seeds, "nodate.md", "title: No dates\nurl: https://example.org/n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    write_seed(
        seeds, "fetched.md", "title: Fetched\nurl: https://example.org/f\nfetch_date: 2024-05-02"
    )
    lines = _check(seeds, tmp_path)
    assert (
        "nodate.md: no date: used the file's modification time (2023-11-14T22:13:20+00:00)" in lines
    ), lines
    assert "fetched.md: no date: used the fetch date" in lines, lines


def _dup_pair(seeds: Path, old: str, new: str) -> None:
    for name, fetched in ((old, "2024-05-02T10:00:00"), (new, "2024-05-03T10:00:00")):
        write_seed(
            seeds,
            name,
            f"title: Same article\nurl: https://example.org/same?utm_source=x\n"
            f"date: 2024-05-01\nfetch_date: {fetched}",
        )


def test_check_lists_duplicates(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    _dup_pair(seeds, "z-old.md", "a-new.md")
    lines = _check(seeds, tmp_path)
    assert any(line.startswith("z-old.md: skipped: duplicate of a-new.md") for line in lines), lines
    assert not [line for line in lines if line.startswith("a-new.md")], lines


def test_the_daemon_names_every_skipped_seed(tmp_path: Path) -> None:
    from daemonkit import DaemonProc, wait_for

    with DaemonProc(tmp_path, interval=0.3, settle=0, serve=False) as daemon:
        (daemon.seeds / "empty.md").write_text("", encoding="utf-8")
        _dup_pair(daemon.seeds, "old.md", "new.md")
        daemon.start()
        start = daemon.find("2 seeds are skipped: ")
        assert start is not None, daemon.log()
        assert "empty.md (" in start["msg"] and "old.md (duplicate of new.md" in start["msg"]
        (daemon.seeds / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
        _dup_pair(daemon.seeds, "older.md", "newest.md")

        def named() -> bool:
            msgs = [str(r.get("msg")) for r in daemon.records()]
            return any(m.startswith("binary.md: skipped: ") for m in msgs) and any(
                m.startswith("older.md: skipped: duplicate of newest.md") for m in msgs
            )

        wait_for(named, timeout=20, what="the newly skipped seeds named in the log")
        code, _ = daemon.stop()
        assert code == 0


def test_one_daemon_per_output(tmp_path: Path) -> None:
    import subprocess

    from daemonkit import DaemonProc, child_env, feeder_cmd

    with DaemonProc(tmp_path, interval=30, settle=0, serve=False) as daemon:
        write_seed(daemon.seeds, "a.md", "title: A\nurl: https://example.org/a")
        daemon.start()
        assert daemon.proc is not None
        other = tmp_path / "other-state"
        common = ["--seeds", str(daemon.seeds), "--output", str(daemon.output)]
        second = subprocess.run(
            feeder_cmd("run", *common, "--state-dir", str(other), "--no-serve"),
            capture_output=True, text=True, env=child_env(tmp_path), timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"pid {daemon.proc.pid}" in second.stderr and str(daemon.state) in second.stderr
        build = run_feeder("build", *common, "--state-dir", str(other), check=False)
        assert build.returncode == 1, build.stderr
        line = build.stderr.strip()
        assert "\n" not in line and f"pid {daemon.proc.pid}" in line and "one output" in line
        same = run_feeder("build", *common, "--state-dir", str(daemon.state), check=False)
        assert same.returncode == 0, same.stderr  # the daemon's own state: no conflict
        code, _ = daemon.stop()
        assert code == 0
    after = run_feeder("build", *common, "--state-dir", str(other), check=False)
    assert after.returncode == 0, after.stderr  # the claim died with the daemon

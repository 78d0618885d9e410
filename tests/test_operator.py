"""What an operator meets: every skipped seed named, honest fallback messages.

Each test runs the real CLI (``feeder build``/``check``) or daemon as a subprocess.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_feeder, write_seed_file


def _check(seeds: Path, tmp: Path) -> list[str]:
    proc = run_feeder(
        "check", "--seeds", str(seeds), "--state-dir", str(tmp / "state"), check=False
    )
    return proc.stderr.splitlines()


@pytest.mark.slow
def test_broken_yaml_read_line_by_line_is_a_warning_with_yamls_position(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_seed_file(
        seeds, "broken.md", "title: [unclosed\nurl: https://example.org/a\ndate: 2024-05-01"
    )
    write_seed_file(
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
    path = write_seed_file(seeds, "nodate.md", "title: No dates\nurl: https://example.org/n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    write_seed_file(
        seeds, "fetched.md", "title: Fetched\nurl: https://example.org/f\nfetch_date: 2024-05-02"
    )
    lines = _check(seeds, tmp_path)
    assert (
        "nodate.md: no date: used the file's modification time (2023-11-14T22:13:20+00:00)" in lines
    ), lines
    assert "fetched.md: no date: used the fetch date" in lines, lines


def _dup_pair(seeds: Path, old: str, new: str) -> None:
    for name, fetched in ((old, "2024-05-02T10:00:00"), (new, "2024-05-03T10:00:00")):
        write_seed_file(
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_one_daemon_per_output(tmp_path: Path) -> None:
    import subprocess

    from daemonkit import DaemonProc, child_env, feeder_cmd

    with DaemonProc(tmp_path, interval=30, settle=0, serve=False) as daemon:
        write_seed_file(daemon.seeds, "a.md", "title: A\nurl: https://example.org/a")
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


# -- the command line -----------------------------------------------------------------


def test_every_option_has_help_with_its_default() -> None:
    import argparse

    from feeder.cli import make_parser

    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) >= {"build", "check", "run", "trigger", "feeds", "status"}
    for name, command in sub.choices.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            text = action.help or ""
            assert text, f"feeder {name} {action.option_strings}: no help"
            assert "default" in text, f"feeder {name} {action.option_strings}: no default"


def test_commented_examples_of_the_shipped_config_are_valid_when_uncommented(
    tmp_path: Path,
) -> None:
    import re
    import tomllib

    from hardkit import REPO

    from feeder.config import load_settings

    text = (REPO / "config" / "feeder.toml").read_text(encoding="utf-8")
    pattern = re.compile(r"^# (\[\[?\w+\]\]?|\w+ = .*)$")
    lines = [m.group(1) if (m := pattern.match(line)) else line for line in text.splitlines()]
    uncommented = "\n".join(lines) + "\n"
    assert uncommented.count("\n# ") < text.count("\n# ")  # something was uncommented
    tomllib.loads(uncommented)  # valid TOML ...
    config = tmp_path / "feeder.toml"
    config.write_text(uncommented, encoding="utf-8")
    (tmp_path / "sites").mkdir()
    settings = load_settings(config)  # ... and a valid configuration
    assert [spec.name for spec in settings.feeds] == ["wechat"]
    assert settings.per_source is not None


@pytest.mark.slow
def test_json_output_is_one_line_and_messages_count_right(tmp_path: Path) -> None:
    import json

    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    path = write_seed_file(
        seeds, "one.md", "title: One\nurl: https://example.org/one\ndate: 2024-05-01"
    )
    common = ["--seeds", str(seeds), "--output", str(out), "--state-dir", str(state)]
    build = run_feeder("build", *common)
    assert "1 seed read, 1 entry written, 0 skipped" in build.stderr
    for args in (
        ["build", "--json"],
        ["check", "--json"],
        ["check", "--json", "--explain", str(path)],
        ["feeds", "--json"],
    ):
        proc = run_feeder(*args, *common, check=False)
        lines = proc.stdout.splitlines()
        assert len(lines) == 1, (args, proc.stdout)
        json.loads(lines[0])
    explained = json.loads(run_feeder("check", "--json", "--explain", str(path), *common).stdout)
    assert explained["title"] == "One" and isinstance(explained["dropped"], list)
    listing = run_feeder("feeds", *common).stdout.splitlines()
    assert listing[0].split("\t") == ["name", "entries/matched", "url", "title"]
    assert listing[1].startswith("feed\t1/1\t")


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    from hardkit import REPO, feeder_env

    seeds, out, state = tmp_path / "seeds", tmp_path / "public" / "feed.atom", tmp_path / "state"
    for i in range(1200):  # ~130 KB of problems: more than a pipe holds
        write_seed_file(seeds, f"s{i}.md", f"title: Seed {i}\nurl: https://example.org/{i}")
    common = ["--seeds", str(seeds), "--output", str(out), "--state-dir", str(state)]
    cmd = [sys.executable, "-m", "feeder", "check", "--json", *common]
    shell = " ".join(f"'{c}'" for c in cmd) + " | head -c 10"
    proc = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, cwd=REPO, env=feeder_env()
    )
    assert len(proc.stdout) == 10
    assert "Error" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


@pytest.mark.slow
def test_a_file_where_a_directory_must_be_says_not_a_directory(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_seed_file(seeds, "a.md", "title: A\nurl: https://example.org/a")
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    proc = run_feeder(
        "build", "--seeds", str(seeds), "--output", str(tmp_path / "afile" / "feed.atom"),
        "--state-dir", str(tmp_path / "state"), check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Not a directory" in proc.stderr and "File exists" not in proc.stderr, proc.stderr


def test_status_asks_the_running_daemon(tmp_path: Path) -> None:
    import json

    from daemonkit import DaemonProc

    with DaemonProc(tmp_path, interval=30, settle=0) as daemon:
        write_seed_file(daemon.seeds, "a.md", "title: A\nurl: https://example.org/a")
        (daemon.seeds / "empty.md").write_text("", encoding="utf-8")
        args = ["--config", str(daemon.config), "--seeds", str(daemon.seeds),
                "--output", str(daemon.output), "--state-dir", str(daemon.state)]  # fmt: skip
        daemon.start()
        assert daemon.proc is not None
        proc = run_feeder("status", "--json", *args)
        assert len(proc.stdout.splitlines()) == 1
        info = json.loads(proc.stdout)
        assert info["pid"] == daemon.proc.pid and info["healthy"] is True
        assert info["last_poll"]["cause"] == "start" and info["last_poll"]["error"] is None
        assert info["entries"] == 1 and info["skipped"] == 1 and info["seeds"] == 2
        assert info["feeds"][0] == {"name": "feed", "entries": 1, "output": str(daemon.output)}
        assert info["next_poll"] and info["serving"].startswith("http://127.0.0.1:")
        text = run_feeder("status", *args).stdout
        assert f"pid {daemon.proc.pid}" in text and "feed:       feed: 1 entry" in text
        code, _ = daemon.stop()
        assert code == 0
    gone = run_feeder("status", *args, check=False)
    assert gone.returncode == 1 and "no feeder daemon is running" in gone.stderr


@pytest.mark.slow
def test_check_and_workers_name_the_seed_whose_text_rendering_repaired(tmp_path: Path) -> None:
    from feeder.build.ingest import PARALLEL_FROM

    seeds = tmp_path / "seeds"
    deep = "".join("  " * i + "- level\n" for i in range(60)) + "\nThe paragraph after.\n"
    write_seed_file(seeds, "deep.md", "title: Deep\nurl: https://example.org/deep", deep)
    lines = _check(seeds, tmp_path)
    assert any(line.startswith("deep.md: ") and "flattened" in line for line in lines), lines
    # A cold build big enough for worker processes: their warnings reach our log.
    for i in range(PARALLEL_FROM):
        write_seed_file(
            seeds, f"s{i:05}.md", f"title: S{i}\nurl: https://example.org/{i}\ndate: 2024-05-01"
        )
    proc = run_feeder(
        "build", "--seeds", str(seeds), "--output", str(tmp_path / "out" / "feed.atom"),
        "--state-dir", str(tmp_path / "st"), "--max-entries", "0",
    )  # fmt: skip
    assert any(
        line.startswith("feeder: WARNING: deep.md: ") and "flattened" in line
        for line in proc.stderr.splitlines()
    ), proc.stderr[-2000:]


def test_a_message_is_one_line_whatever_the_names_hold() -> None:
    import logging

    from feeder.model import one_line
    from feeder.service.logsetup import OneLineFormatter

    assert one_line("plain 中文 text") == "plain 中文 text"
    assert one_line("a\nb\r\x1b[31mc\td\x85e\u2028f") == "a\\nb\\r\\x1b[31mc\\td\\x85e\\u2028f"
    formatter = OneLineFormatter("%(levelname)s: %(message)s")
    record = logging.LogRecord("x", logging.WARNING, "f", 1, "%s: skipped", ("a\nb.md",), None)
    assert formatter.format(record) == "WARNING: a\\nb.md: skipped"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    lines = formatter.format(record).splitlines()
    assert lines[0] == "WARNING: a\\nb.md: skipped" and lines[1].startswith("Traceback")


@pytest.mark.slow
def test_a_file_name_cannot_print_a_line_of_its_own(tmp_path: Path) -> None:
    # A name may hold a newline or an escape sequence: each seed still gets
    # one line, and no line can pass for feeder's own.
    seeds = tmp_path / "seeds"
    forged = "evil\nfeeder: 999 seeds read, 999 entries written.md"
    write_seed_file(seeds, "ok.md", "title: Fine\nurl: https://example.org/ok\ndate: 2024-05-01")
    (seeds / forged).write_bytes(b"")
    write_seed_file(seeds, "red\x1b[31m.md", "title: Red\nurl: https://example.org/red")
    proc = run_feeder(
        "build", "--seeds", str(seeds), "--output", str(tmp_path / "out" / "feed.atom"),
        "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    lines = proc.stderr.splitlines()
    assert all(line.startswith("feeder: ") for line in lines), lines
    shown = "evil\\nfeeder: 999 seeds read, 999 entries written.md"
    assert f"feeder: skipped {shown}: empty file" in lines
    assert [line for line in lines if "seeds read" in line and "999" not in line] == [lines[-1]], (
        lines
    )
    assert any(line.startswith("feeder: WARNING: red\\x1b[31m.md: no date") for line in lines)
    assert "\x1b" not in proc.stderr
    checked = _check(seeds, tmp_path)
    assert f"{shown}: skipped: empty file" in checked
    assert not [line for line in checked if line.startswith("feeder: 999")], checked
    red = seeds / "red\x1b[31m.md"
    explained = run_feeder("check", "--seeds", str(seeds), "--explain", str(red))
    assert explained.stdout.startswith(f"{seeds}/red\\x1b[31m.md\n"), explained.stdout
    assert "\x1b" not in explained.stdout

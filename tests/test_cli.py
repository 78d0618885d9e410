"""The CLI contract of ``feeder build`` and ``feeder check``, run as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import feedparser
import pytest
from conftest import REPO, assert_valid_atom, build_json, run_feeder, write_seed_file

FRONT = "title: {t}\nurl: {u}\nsource: Example\ndate: {d}\nfetch_date: {f}"


def seed(
    d: Path,
    name: str,
    t: str,
    u: str,
    day: str = "2024-05-01",
    fetched: str = "2024-05-02T10:00:00",
    body: str = "Some article text.\n",
) -> Path:
    return write_seed_file(d, name, FRONT.format(t=t, u=u, d=day, f=fetched), body)


@pytest.mark.slow
def test_json_report_contract(tmp_feed: dict[str, Path]) -> None:
    seed(tmp_feed["seeds"], "a.txt", "A", "https://e.org/a")
    (tmp_feed["seeds"] / "bad.md").write_bytes(b"")
    report = build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"])
    assert {"output", "seeds", "entries", "changed", "skipped", "duration_s"} <= set(report)
    assert report["output"] == str(tmp_feed["out"])
    assert (report["seeds"], report["entries"], report["changed"]) == (2, 1, True)
    assert report["skipped"] == [{"path": "bad.md", "reason": "empty file"}]
    assert isinstance(report["duration_s"], float)
    assert_valid_atom(tmp_feed["out"])


@pytest.mark.slow
def test_summary_line_and_skip_lines_on_stderr(tmp_feed: dict[str, Path]) -> None:
    seed(tmp_feed["seeds"], "a.txt", "A", "https://e.org/a")
    (tmp_feed["seeds"] / "bad.md").write_bytes(b"\x00\x01\x02" * 1000)
    proc = run_feeder(
        "build",
        "--seeds",
        str(tmp_feed["seeds"]),
        "--output",
        str(tmp_feed["out"]),
        "--state-dir",
        str(tmp_feed["state"]),
    )
    assert proc.stdout == ""
    assert "skipped bad.md: binary file" in proc.stderr
    assert "2 seeds read, 1 entry written, 1 skipped" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_duplicates_are_counted_on_one_line_and_named_at_info(tmp_feed: dict[str, Path]) -> None:
    # Three fetches of one article and two of another: the newest of each is
    # published, the three older ones are expected and counted; the empty seed
    # is a fault and named on every build.
    for name, fetched in (("a1.txt", "01"), ("a2.txt", "02"), ("a3.txt", "03")):
        seed(tmp_feed["seeds"], name, "A", "https://e.org/a", fetched=f"2024-05-{fetched}T10:00:00")
    for name, fetched in (("b1.txt", "01"), ("b2.txt", "02")):
        seed(tmp_feed["seeds"], name, "B", "https://e.org/b", fetched=f"2024-05-{fetched}T10:00:00")
    (tmp_feed["seeds"] / "empty.md").write_bytes(b"")
    where = ["--seeds", str(tmp_feed["seeds"]), "--output", str(tmp_feed["out"])]
    where += ["--state-dir", str(tmp_feed["state"])]
    for _ in range(2):  # the first build and a no-change one say the same
        proc = run_feeder("build", *where)
        lines = proc.stderr.splitlines()
        assert "feeder: skipped empty.md: empty file" in lines, lines
        assert not [line for line in lines if "duplicate of" in line], lines
        assert (
            "feeder: skipped 3 duplicates: older fetches of articles a newer seed publishes "
            "(--log-level info or feeder check names each)" in lines
        ), lines
        assert "6 seeds read, 2 entries written, 4 skipped" in proc.stderr
    proc = run_feeder("build", *where, "--log-level", "info")
    named = sorted(
        line.split(":")[1].split()[-1]
        for line in proc.stderr.splitlines()
        if line.startswith("feeder: skipped ") and ": duplicate of " in line
    )
    assert named == ["a1.txt", "a2.txt", "b1.txt"], proc.stderr
    assert "duplicates: older fetches" not in proc.stderr
    report = build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"])
    dups = [s["path"] for s in report["skipped"] if s["reason"].startswith("duplicate of ")]
    assert sorted(dups) == ["a1.txt", "a2.txt", "b1.txt"]


@pytest.mark.slow
def test_debug_level_shows_feeders_lines_not_the_markdown_parsers(
    tmp_feed: dict[str, Path],
) -> None:
    body = "# Head\n\n> quoted\n\n- one\n- two\n\n```\ncode\n```\n\nSome article text.\n"
    seed(tmp_feed["seeds"], "a.txt", "A", "https://e.org/a", body=body)
    where = ("--seeds", str(tmp_feed["seeds"]), "--output", str(tmp_feed["out"]))
    where += ("--state-dir", str(tmp_feed["state"]))
    proc = run_feeder("build", *where, "--log-level", "debug")
    lines = proc.stderr.splitlines()
    assert [line for line in lines if line.startswith("feeder: DEBUG: wrote ")], lines
    # markdown-it logs each block rule it tries ("entering fence: StateBlock(...)")
    assert not [line for line in lines if "StateBlock" in line or "entering " in line], lines
    bad = run_feeder("build", *where, "--log-level", "verbose", check=False)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1] == (
        "feeder build: error: argument --log-level: unknown level 'verbose': "
        "choose DEBUG, INFO, WARNING, ERROR or CRITICAL"
    ), bad.stderr


@pytest.mark.slow
def test_unchanged_feed_is_not_rewritten(tmp_feed: dict[str, Path]) -> None:
    seed(tmp_feed["seeds"], "a.txt", "A", "https://e.org/a")
    build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"])
    before = tmp_feed["out"].stat().st_mtime_ns
    report = build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"], "--full")
    assert report["changed"] is False
    assert tmp_feed["out"].stat().st_mtime_ns == before


@pytest.mark.slow
def test_same_article_twice_is_one_entry_with_the_newest_fetch(tmp_feed: dict[str, Path]) -> None:
    base = "https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=abc"
    seed(
        tmp_feed["seeds"],
        "old.txt",
        "Old",
        base + "&scene=1#rd",
        fetched="2024-05-02T10:00:00",
        body="old text",
    )
    seed(
        tmp_feed["seeds"],
        "sub/new.txt",
        "New",
        base + "&chksm=zz&scene=2",
        fetched="2024-05-03T10:00:00",
        body="new text",
    )
    report = build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"])
    assert report["entries"] == 1
    assert [s["path"] for s in report["skipped"]] == ["old.txt"]
    feed = feedparser.parse(tmp_feed["out"].read_bytes())
    assert [e.title for e in feed.entries] == ["New"]
    assert "new text" in feed.entries[0].content[0].value


@pytest.mark.slow
def test_order_and_max_entries(tmp_feed: dict[str, Path]) -> None:
    for i, day in enumerate(["2024-01-03", "2024-01-01", "2024-01-02"]):
        seed(
            tmp_feed["seeds"],
            f"{i}.md",
            f"T{day}",
            f"https://e.org/{i}",
            day=day,
            fetched=f"{day}T12:00:00",
        )
    build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"], "--max-entries", "2")
    feed = feedparser.parse(tmp_feed["out"].read_bytes())
    assert [e.title for e in feed.entries] == ["T2024-01-03", "T2024-01-02"]
    assert feed.feed.updated.startswith("2024-01-03T12:00:00")


@pytest.mark.slow
def test_not_seeds(tmp_feed: dict[str, Path], tmp_path: Path) -> None:
    s = tmp_feed["seeds"]
    seed(s, "real.md", "Real", "https://e.org/r")
    for name in (".hidden.md", "backup.md~", ".x.md.swp", "#auto.md#", "notes.pdf"):
        seed(s, name, "No", "https://e.org/" + name.strip(".#~"))
    (s / "dir.md").mkdir()
    outside = seed(tmp_path, "outside.md", "Outside", "https://e.org/o")
    (s / "link.md").symlink_to(outside)
    (s / "inside.md").symlink_to(s / "real.md")
    report = build_json(s, tmp_feed["out"], tmp_feed["state"])
    assert report["entries"] == 1
    assert any(x["path"] == "link.md" and "outside" in x["reason"] for x in report["skipped"])


@pytest.mark.slow
def test_fatal_errors_exit_1_and_keep_the_previous_feed(
    tmp_feed: dict[str, Path], tmp_path: Path
) -> None:
    seed(tmp_feed["seeds"], "a.txt", "A", "https://e.org/a")
    build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"])
    previous = tmp_feed["out"].read_bytes()
    seed(tmp_feed["seeds"], "b.txt", "B", "https://e.org/b")
    # the output's directory cannot be created: its parent is a regular file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_feeder(
        "build",
        "--seeds",
        str(tmp_feed["seeds"]),
        "--output",
        str(blocker / "feed.atom"),
        "--state-dir",
        str(tmp_feed["state"]),
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "feed.atom" in proc.stderr
    assert tmp_feed["out"].read_bytes() == previous
    bad = tmp_path / "bad.toml"
    bad.write_text("[build]\nmax_entries = 'many'\n")
    proc = run_feeder("build", "--config", str(bad), check=False)
    assert proc.returncode == 1 and "bad.toml" in proc.stderr and "max_entries" in proc.stderr
    proc = run_feeder(
        "build",
        "--seeds",
        str(tmp_path / "missing"),
        "--output",
        str(tmp_feed["out"]),
        "--state-dir",
        str(tmp_feed["state"]),
        check=False,
    )
    assert proc.returncode == 1 and "missing" in proc.stderr
    assert tmp_feed["out"].read_bytes() == previous


@pytest.mark.slow
def test_usage_errors_exit_2() -> None:
    assert run_feeder("build", "--max-entries", "-1", check=False).returncode == 2
    assert run_feeder("build", "--bogus", check=False).returncode == 2
    assert run_feeder(check=False).returncode == 2


@pytest.mark.slow
def test_built_in_defaults_without_config(tmp_path: Path) -> None:
    seed(tmp_path / "seeds", "a.md", "A", "https://e.org/a")
    env = {"XDG_STATE_HOME": str(tmp_path / "xdg")}
    run_feeder("build", cwd=tmp_path, env=env)
    assert (tmp_path / "public" / "feed.atom").is_file()
    assert (tmp_path / "xdg" / "feeder").is_dir()


@pytest.mark.slow
def test_project_config_from_the_project_root(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(REPO / "config", root / "config")
    shutil.copytree(REPO / "seeds", root / "seeds")
    report = json.loads(run_feeder("build", "--json", cwd=root).stdout)
    assert report["output"] == str(root / "public" / "feed.atom")
    assert report["entries"] == len(list((root / "seeds").glob("*.txt")))
    assert (root / ".feeder-state").is_dir()


@pytest.mark.slow
def test_check(tmp_feed: dict[str, Path]) -> None:
    seed(tmp_feed["seeds"], "a.txt", "A", "https://e.org/a")
    args = ("check", "--seeds", str(tmp_feed["seeds"]), "--state-dir", str(tmp_feed["state"]))
    assert run_feeder(*args).returncode == 0
    (tmp_feed["seeds"] / "b.md").write_text("---\ntitle: B\ndate: 2024-13-45\n---\nx")
    proc = run_feeder(*args, check=False)
    assert proc.returncode == 1
    assert "b.md: date: impossible date" in proc.stderr
    assert not tmp_feed["out"].exists() and not os.path.exists(tmp_feed["state"] / "state.sqlite3")
    proc = run_feeder("check", "--explain", str(tmp_feed["seeds"] / "a.txt"))
    assert "a.txt" in proc.stdout


@pytest.mark.slow
def test_changing_max_entries_rewrites_the_feed(tmp_feed: dict[str, Path]) -> None:
    for i in range(3):
        seed(tmp_feed["seeds"], f"{i}.md", f"T{i}", f"https://e.org/{i}", day=f"2024-01-0{i + 1}")
    build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"], "--max-entries", "1")
    report = build_json(tmp_feed["seeds"], tmp_feed["out"], tmp_feed["state"], "--max-entries", "3")
    assert (report["changed"], report["entries"], report["parsed"]) == (True, 3, 0)
    assert len(feedparser.parse(tmp_feed["out"].read_bytes()).entries) == 3


@pytest.mark.slow
def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_feed: dict[str, Path]) -> None:
    for n in range(300):
        seed(tmp_feed["seeds"], f"s{n:03d}.md", f"T{n}", f"https://e.org/{n}")
    where = ["--seeds", str(tmp_feed["seeds"]), "--output", str(tmp_feed["out"])]
    state = ["--state-dir", str(tmp_feed["state"])]
    quiet = run_feeder("build", *where, *state, "--full")  # stderr is a pipe: auto is off
    assert quiet.stderr.splitlines() == [quiet.stderr.strip()]  # the summary line alone
    assert "300 seeds read, 100 entries written" in quiet.stderr
    shown = run_feeder("build", *where, *state, "--full", "--progress", "always")
    assert "feeder: parsing" in shown.stderr and "seeds" in shown.stderr
    assert "300 seeds read, 100 entries written" in shown.stderr.splitlines()[-1]
    never = run_feeder("build", *where, *state, "--full", "--progress", "never")
    assert "feeder: parsing" not in never.stderr

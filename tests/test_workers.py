"""Worker processes change nothing in the output: parallel and serial builds agree."""

from __future__ import annotations

from pathlib import Path

import pytest

import feeder.ingest
from feeder.config import load_settings
from feeder.pipeline import build


def _corpus(root: Path, n: int) -> Path:
    seeds = root / "seeds"
    for i in range(n):
        d = seeds / f"d{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{i:05}.md").write_text(
            f"---\ntitle: 文章 {i}: part {i % 13}\n"
            f"url: https://e{i % 5}.example.org/p/{i}?utm_source=x\n"
            f"source: Source {i % 9}\ndate: 2024-{1 + i % 12:02}-{1 + i % 28:02}\n"
            f"fetch_date: 2024-12-31T{i % 24:02}:00:00\n---\n\n# 文章 {i}\n\n"
            f"这是**第 {i} 篇**文章。Some *text* with a [link](/rel/{i}).\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n",
            encoding="utf-8",
        )
    return seeds


def test_parallel_and_serial_builds_are_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = feeder.ingest.PARALLEL_FROM + 100
    seeds = _corpus(tmp_path, n)

    def run(name: str) -> tuple[bytes, int, int]:
        settings = load_settings(
            None,
            overrides={
                "seeds": seeds,
                "output": tmp_path / name / "feed.atom",
                "state_dir": tmp_path / f"state-{name}",
                "max_entries": 30,
            },
            use_default_config=False,
        )
        result = build(settings)
        return (tmp_path / name / "feed.atom").read_bytes(), result.parsed, result.rendered

    parallel = run("parallel")
    monkeypatch.setattr(feeder.ingest, "PARALLEL_FROM", 10**9)
    serial = run("serial")
    assert parallel[1:] == serial[1:] == (n, 30)
    assert parallel[0] == serial[0]

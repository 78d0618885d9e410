"""Shared test helpers: the real CLI as a subprocess, Atom validation, the shared corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hardkit import jing_valid

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
#: The project's RELAX NG grammar of RFC 4287 (the one ``hardkit`` validates with).
SCHEMA = REPO / "tests" / "fixtures" / "atom.rnc"

#: Text of WeChat's page around an article (buttons, prompts): none of it is the article's.
WECHAT_CHROME = (
    "预览时标签不可点",
    "微信扫一扫",
    "继续滑动看下一个",
    "轻触阅读原文",
    "向上滑动看下一个",
    "知道了",
    "使用完整服务",
    "轻点两下取消赞",
    "取消 允许",
)


def run_feeder(
    *args: str, cwd: Path | None = None, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m feeder ARGS`` and return the finished process."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "feeder", *args],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"feeder {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def build_json(seeds: Path, out: Path, state: Path, *extra: str) -> dict[str, Any]:
    proc = run_feeder(
        "build",
        "--seeds",
        str(seeds),
        "--output",
        str(out),
        "--state-dir",
        str(state),
        "--json",
        *extra,
    )
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def write_seed_file(directory: Path, name: str, front: str, body: str = "Body text.\n") -> Path:
    """Write a seed of front matter ``front`` and ``body`` at once (a temporary file renamed)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_seed_tree(seeds: Path, n: int, seed: Callable[[int], tuple[str, str]]) -> Path:
    """Write seeds ``d{i % 7}/{i:05}.md`` for ``i < n``, each of ``seed(i)``'s front and body."""
    for i in range(n):
        write_seed_file(seeds, f"d{i % 7}/{i:05}.md", *seed(i))
    return seeds


def require_shared() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"../shared corpus not available at {CORPUS} (a user's clone has none)")
    return CORPUS


def assert_valid_atom(*paths: Path) -> None:
    """Validate against the RFC 4287 grammar ``tests/fixtures/atom.rnc``.

    jing checks the files (in one run); where only trang is installed, lxml
    does; with neither the test skips (``.ci/run`` installs both).
    """
    jing_valid(*paths)


@pytest.fixture
def tmp_feed(tmp_path: Path) -> dict[str, Path]:
    """seeds/, out/feed.atom and state/ under a fresh temporary directory."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    return {"seeds": seeds, "out": tmp_path / "out" / "feed.atom", "state": tmp_path / "state"}

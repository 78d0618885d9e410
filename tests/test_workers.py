"""Worker processes: they change nothing in the output, and they do not outlive their build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_seed_tree

import feeder
import feeder.build.ingest
import feeder.build.workers
from feeder.build.pipeline import build
from feeder.build.workers import Workers
from feeder.config import load_settings


def _article(i: int) -> tuple[str, str]:
    """The front matter and body of the corpus's seed ``i``: Chinese text, a tracking query."""
    front = (
        f"title: 文章 {i}: part {i % 13}\nurl: https://e{i % 5}.example.org/p/{i}?utm_source=x\n"
        f"source: Source {i % 9}\ndate: 2024-{1 + i % 12:02}-{1 + i % 28:02}\n"
        f"fetch_date: 2024-12-31T{i % 24:02}:00:00"
    )
    body = (
        f"# 文章 {i}\n\n这是**第 {i} 篇**文章。Some *text* with a [link](/rel/{i}).\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    # Sizes that differ: the workers render the largest first, the feed keeps its order.
    body += f"\n第 {i} 篇的又一段，长短不一。\n" * (i % 7)
    return front, body


@pytest.mark.slow
def test_parallel_and_serial_builds_are_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = feeder.build.ingest.PARALLEL_FROM + 100
    seeds = write_seed_tree(tmp_path / "seeds", n, _article)

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
    monkeypatch.setattr(feeder.build.ingest, "PARALLEL_FROM", 10**9)
    serial = run("serial")
    assert parallel[1:] == serial[1:] == (n, 30)
    assert parallel[0] == serial[0]


def _probe() -> tuple[object, int, bool]:
    """In a worker: its copy of the fork server's alive fd, its parent-death signal, its parent."""
    import ctypes
    from multiprocessing import forkserver

    import feeder.build.workers

    sig = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
    server = forkserver._forkserver  # type: ignore[attr-defined]
    parent_is_server = os.getppid() == feeder.build.workers._LOADED_IN != os.getpid()
    return server._forkserver_alive_fd, sig.value, parent_is_server


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_workers_die_with_the_fork_server_and_do_not_keep_it_up() -> None:
    with Workers("forkserver") as workers:
        alive_fd, death_signal, parent_is_server = workers.pool().submit(_probe).result()
    assert alive_fd is None
    assert death_signal == signal.SIGKILL
    assert parent_is_server


def _forked_probe() -> tuple[int, int, bool]:
    """In a worker: its parent, its parent-death signal, whether the render stack was loaded."""
    import ctypes

    loaded = all(name in sys.modules for name in feeder.build.workers.RENDER_STACK)
    sig = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
    return os.getppid(), sig.value, loaded


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and prctl are Linux's")
def test_forked_workers_die_with_the_command_and_render_with_the_stack_loaded() -> None:
    """Workers forked from the command: its children, killed with it; those that render are
    forked once the command has the render stack, so that none imports it on its own."""
    code = (
        "import os, sys\n"
        "from feeder.build.workers import Workers\n"
        "from test_workers import _forked_probe\n"
        "with Workers('fork') as w:\n"
        "    w.prestart()\n"
        "    first = w.pool().submit(_forked_probe).result()\n"
        "    w.prepare_render()\n"
        "    second = w.pool(render=True).submit(_forked_probe).result()\n"
        "print(os.getpid(), *first, *second)\n"
    )
    tests = str(Path(__file__).parent)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([tests, str(Path(feeder.__file__).parents[1])]),
        },
    )
    assert proc.returncode == 0, proc.stderr
    me, parent1, sig1, loaded1, parent2, sig2, loaded2 = proc.stdout.split()
    assert parent1 == parent2 == me
    assert int(sig1) == int(sig2) == signal.SIGKILL
    assert loaded1 == "False"  # the parse needs no render stack: the workers start at once
    assert loaded2 == "True"


_ORPHAN = """
import os, sys, time
from feeder.build import workers
workers.WATCH_PARENT_S = 0.05
pid = os.fork()
if pid == 0:
    parent = os.getppid()
    if sys.argv[1] == "watch":
        workers._watch_parent(parent)
    else:
        assert workers._set_parent_death_signal(9)
    print(os.getpid(), flush=True)
    time.sleep(30)
    os._exit(0)
time.sleep(0.2)
"""


@pytest.mark.parametrize(
    "how",
    [
        "watch",
        pytest.param(
            "prctl",
            marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only"),
        ),
    ],
)
def test_a_process_whose_parent_dies_exits(how: str) -> None:
    """The two ways a worker follows its parent: a watching thread, the parent-death signal."""
    proc = subprocess.run(
        [sys.executable, "-c", _ORPHAN, how],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(Path(feeder.__file__).parents[1])},
    )
    child = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, f"the orphan ({how}) outlived its parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"

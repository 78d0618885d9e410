"""No process outlives the command that started it, however that command dies.

A cold build runs worker processes: forked by ``feeder build`` itself, or (in
the multi-threaded daemon) by a multiprocessing fork server, next to a
resource tracker. Each case starts ``feeder build`` or ``feeder run``
in a session of its own, waits until workers exist, kills the top process
(SIGKILL, or SIGTERM) and then expects the session to empty within seconds.
Linux only: processes are found in /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import write_seed_tree
from daemonkit import child_env, feeder_cmd, wait_for

import feeder.build.ingest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").is_file() or (os.cpu_count() or 1) < 2,
    reason="needs /proc and at least two cores (a build starts workers only then)",
)

#: Seeds of the test corpus: a cold build parses them in workers.
SEEDS = 2 * feeder.build.ingest.PARALLEL_FROM
#: How long the processes of a killed command may take to go.
GONE_WITHIN_S = 10.0

#: (command, signal, delay): kill ``command`` ``delay`` seconds after its first worker appears.
KILLS = [
    ("build", signal.SIGKILL, 0.0),
    ("build", signal.SIGTERM, 0.3),
    ("build", signal.SIGKILL, 1.5),
    ("run", signal.SIGKILL, 0.5),
    ("run", signal.SIGTERM, 0.0),
]


def _article(i: int) -> tuple[str, str]:
    """The front matter and body of the corpus's seed ``i``."""
    front = (
        f"title: Article {i}\nurl: https://e{i % 5}.example.org/p/{i}\n"
        f"source: Source {i % 9}\ndate: 2024-{1 + i % 12:02}-{1 + i % 28:02}"
    )
    body = (
        f"# Article {i}\n\nSome *text* with a [link](/rel/{i}).\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    return front, body


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("orphans")
    write_seed_tree(root / "seeds", SEEDS, _article)
    (root / "feeder.toml").write_text('[feed]\ntitle = "Orphans"\n', encoding="utf-8")
    return root


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent pid and session id of ``pid`` (None once it is gone)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = data[data.rindex(")") + 2 :].split()  # the name may hold spaces and ")"
    return fields[0], int(fields[1]), int(fields[3])


def session(sid: int) -> dict[int, int]:
    """The live processes of session ``sid`` (zombies hold nothing): pid -> parent pid."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := _stat(int(name))) and st[2] == sid and st[0] not in "ZX":
            found[int(name)] = st[1]
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def workers(procs: dict[int, int], top: int) -> list[int]:
    """The workers of ``top``: its forked copies, or the children of a fork server."""
    mine = _cmdline(top)
    return [
        pid
        for pid, ppid in procs.items()
        if pid != top
        and ((ppid == top and _cmdline(pid) == mine) or (ppid != top and ppid in procs))
    ]


def _start(kind: str, root: Path, tmp: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``feeder build`` or ``feeder run`` (a cold build) in a new session; stderr in tmp/stderr.log.

    ``--max-entries 0`` unless ``extra`` says otherwise: every entry is
    rendered, in the workers, so they live a while.
    """
    args = [
        "--config", str(root / "feeder.toml"),
        "--seeds", str(root / "seeds"),
        "--output", str(tmp / "public" / "feed.atom"),
        "--state-dir", str(tmp / "state"),
        "--max-entries", "0",
        *extra,
    ]  # fmt: skip
    if kind == "run":
        args += ["--no-serve", "--interval", "3600"]
    with (tmp / "stderr.log").open("wb") as err:
        return subprocess.Popen(
            feeder_cmd(kind, *args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=tmp,
            env=child_env(tmp),
            start_new_session=True,  # its session id is its pid, inherited by all it starts
        )


@pytest.mark.parametrize(("kind", "sig", "delay"), KILLS)
@pytest.mark.slow
def test_killed_command_leaves_no_process(
    corpus: Path, tmp_path: Path, kind: str, sig: signal.Signals, delay: float
) -> None:
    proc = _start(kind, corpus, tmp_path)
    log, sid = tmp_path / "stderr.log", proc.pid
    try:

        def started() -> list[int] | None:
            if proc.poll() is not None:
                raise AssertionError(
                    f"feeder {kind} ended ({proc.returncode}) before its workers were seen:\n"
                    + log.read_text(errors="replace")
                )
            return workers(session(sid), proc.pid) or None

        wait_for(started, timeout=60, what="worker processes")
        time.sleep(delay)
        # Workers again: a build forks the workers that render once the parse is done.
        wait_for(started, timeout=60, what="worker processes, after the delay")
        before = session(sid)
        proc.send_signal(sig)
        code = proc.wait(timeout=GONE_WITHIN_S)
        deadline = time.monotonic() + GONE_WITHIN_S
        while (left := session(sid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, (
            f"{len(left)} of {len(before)} processes outlived feeder {kind} ({sig.name}): "
            + ", ".join(_describe(pid) for pid in left)
        )
        if kind == "run" and sig == signal.SIGTERM:
            assert code == 0, log.read_text(errors="replace")
        else:
            assert code == -sig
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(sid, signal.SIGKILL)  # whatever is left: the next case starts clean
        proc.wait(timeout=10)


@pytest.mark.slow
def test_daemon_reload_and_stop_after_a_cold_build(corpus: Path, tmp_path: Path) -> None:
    """SIGHUP rebuilds with the fork server still up; SIGTERM then stops everything."""
    proc = _start("run", corpus, tmp_path, "--max-entries", "100", "--log-level", "DEBUG")
    log, sid = tmp_path / "stderr.log", proc.pid

    def logged(text: str, count: int = 1) -> bool:
        if proc.poll() is not None:
            raise AssertionError(log.read_text(errors="replace"))
        return log.read_text(errors="replace").count(text) >= count

    try:
        wait_for(lambda: logged(f"from {SEEDS} seeds"), timeout=60, what="the cold build")
        assert len(session(sid)) >= 2  # the fork server (and tracker) stay up between builds
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: logged("configuration reloaded"), timeout=20, what="the reload")
        wait_for(lambda: logged(f"from {SEEDS} seeds", 2), timeout=20, what="the rebuild")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=GONE_WITHIN_S) == 0
        wait_for(lambda: not session(sid), timeout=GONE_WITHIN_S, what="the session to empty")
        assert "daemon stopped" in log.read_text(errors="replace")
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(sid, signal.SIGKILL)
        proc.wait(timeout=10)


def _describe(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        cmd = "?"
    return f"{pid} ({cmd[:80]})"

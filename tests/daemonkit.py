"""Helpers for tests that run the real ``feeder run`` daemon as a subprocess.

The daemon listens on ``127.0.0.1:0`` (the kernel picks a free port) and
logs JSON lines; the tests read the served URL and every build result from
that log instead of sleeping: :meth:`DaemonProc.wait_for` polls with a deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from conftest import write_seed_file

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the tests also import feeder in-process
    sys.path.insert(0, str(REPO))
T = TypeVar("T")

FEED_TITLE = "Daemon Test Feed"


def feeder_cmd(*args: str) -> list[str]:
    """The command line of ``feeder ARGS`` with the interpreter running the tests."""
    if (REPO / "feeder" / "__main__.py").is_file():
        return [sys.executable, "-m", "feeder", *args]
    return [
        sys.executable,
        "-c",
        "import sys; from feeder.cli import main; sys.exit(main())",
        *args,
    ]


def child_env(home: Path) -> dict[str, str]:
    """An environment with the repository importable and HOME/state inside ``home``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["HOME"] = str(home)
    env["XDG_STATE_HOME"] = str(home / ".state")
    env.pop("NOTIFY_SOCKET", None)
    return env


def write_seed(
    seeds: Path,
    name: str,
    title: str,
    *,
    slug: str | None = None,
    source: str = "Example Source",
    date: str = "2024-05-01",
    body: str = "Body text of the article, long enough to be a paragraph.",
) -> Path:
    """Write one seed article the way the crawler does (front matter + Markdown)."""
    url = f"https://example.org/{slug or Path(name).stem}"
    front = (
        f"title: {json.dumps(title, ensure_ascii=False)}\nurl: {url}\nsource: {source}\n"
        f"date: {date}\nfetch_date: 2024-05-02T10:00:00"
    )
    return write_seed_file(seeds, name, front, f"{body}\n")


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``; returns status, lower-cased headers and body (no exception on 4xx)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def exact_request(
    daemon: DaemonProc, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """Send one request exactly as given (no default Accept or Accept-Encoding, ``path`` as is)."""
    parts = urlsplit(daemon.base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def server_address(daemon: DaemonProc) -> tuple[str, int]:
    """The host and port the daemon serves on."""
    parts = urlsplit(daemon.base)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def chromium() -> str:
    """The path of a Chromium binary; skips the test where none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (Debian package `chromium`)")


def run_chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium with ``args`` on the profile directory ``profile``; its stdout."""
    done = subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args,
        ],
        capture_output=True, text=True, timeout=90, env=child_env(profile.parent),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class DaemonProc:
    """One ``feeder run`` subprocess on its own seed, output and state directories."""

    def __init__(
        self,
        tmp: Path,
        *,
        interval: float = 1.0,
        settle: float = 0.2,
        log_level: str = "INFO",
        serve: bool = True,
        title: str = FEED_TITLE,
    ) -> None:
        self.tmp = tmp
        self.seeds = tmp / "seeds"
        self.output = tmp / "public" / "feed.atom"
        self.state = tmp / "state"
        self.config = tmp / "feeder.toml"
        self.log_path = tmp / "daemon.log"
        self.interval = interval
        self.settle = settle
        self.log_level = log_level
        self.serve = serve
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""
        self._log_offset = 0  # where the current run's log starts
        self.seeds.mkdir(parents=True, exist_ok=True)
        self.write_config(title)

    def write_config(self, title: str) -> None:
        self.config.write_text(
            f'[feed]\ntitle = "{title}"\nsubtitle = "Articles for the daemon tests"\n',
            encoding="utf-8",
        )

    def common_args(self) -> list[str]:
        return [
            "--config", str(self.config),
            "--seeds", str(self.seeds),
            "--output", str(self.output),
            "--state-dir", str(self.state),
        ]  # fmt: skip

    def run_args(self) -> list[str]:
        args = [
            "run", *self.common_args(),
            "--interval", str(self.interval),
            "--settle-seconds", str(self.settle),
            "--log-level", self.log_level,
            "--log-json",
        ]  # fmt: skip
        return [*args, "--serve", "127.0.0.1:0"] if self.serve else [*args, "--no-serve"]

    def start(self, *, wait: bool = True) -> DaemonProc:
        """Start the daemon; with ``wait``, return once it serves and the first build is done."""
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self.proc = subprocess.Popen(
                feeder_cmd(*self.run_args()),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.tmp,
                env=child_env(self.tmp),
            )
        if wait:
            wait_for(self._started, timeout=20, what="the daemon to start")
            if self.serve:
                served = self.find("serving ")
                assert served is not None
                self.base = served["msg"].split()[1].rsplit("/", 1)[0] + "/"
            self.wait_builds(1)
        return self

    def _started(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log()}")
        return self.find("daemon started") is not None

    @property
    def feed_url(self) -> str:
        return self.base + self.output.name

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records of the current run (other lines are ignored)."""
        out = []
        try:
            data = self.log_path.read_bytes()[self._log_offset :]
        except FileNotFoundError:
            return []
        for line in data.decode("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    out.append(record)
        return out

    def find(self, prefix: str) -> dict[str, Any] | None:
        return next((r for r in self.records() if str(r.get("msg", "")).startswith(prefix)), None)

    def builds(self) -> list[dict[str, Any]]:
        """The build results logged so far, oldest first (each with its ``cause``)."""
        return [r["build"] | {"cause": r.get("cause")} for r in self.records() if "build" in r]

    def wait_builds(self, count: int, *, timeout: float = 20) -> list[dict[str, Any]]:
        def enough() -> list[dict[str, Any]] | None:
            self._started()
            builds = self.builds()
            return builds if len(builds) >= count else None

        return wait_for(enough, timeout=timeout, what=f"{count} build(s)")

    def trigger(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            feeder_cmd("trigger", *self.common_args(), *args),
            capture_output=True,
            text=True,
            cwd=self.tmp,
            env=child_env(self.tmp),
            timeout=timeout,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, *, timeout: float = 10) -> tuple[int, float]:
        """Send ``sig`` and wait; returns the exit code and how long the exit took."""
        assert self.proc is not None
        start = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - start

    def __enter__(self) -> DaemonProc:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def running(
    tmp: Path, seeds: Sequence[tuple[str, str]] = (), **kwargs: Any
) -> Iterator[DaemonProc]:
    """A started daemon whose seed directory holds ``seeds`` (``(file name, title)`` pairs)."""
    with DaemonProc(tmp, **kwargs) as daemon:
        for name, title in seeds:
            write_seed(daemon.seeds, name, title)
        daemon.start()
        yield daemon


def feed_titles(data: bytes) -> list[str]:
    """The entry titles of an Atom document, in document order."""
    from lxml import etree

    root = etree.fromstring(data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    return [str(t) for t in root.xpath("/a:feed/a:entry/a:title/text()", namespaces=ns)]

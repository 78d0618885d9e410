"""contrib/feeder.service: systemd's own checks, and agreement with docs/daemon.md.

``systemd-analyze verify`` checks that every ``Exec*=`` program exists, so the
shipped unit is verified, unmodified, with ``--root`` on a small tree laid out
as docs/daemon.md installs feeder: the unit in ``/etc/systemd/system``, this
test's own ``feeder`` entry point at ``/opt/feeder/.venv/bin/feeder``, the
host's ``kill`` and the host's unit directory (for the targets every service
depends on). A copy with ``ExecStart=`` rewritten to an existing path would
pass whatever path the unit names; this way a unit pointing anywhere but the
documented install fails, which is the mistake the check is there for.

``systemd-analyze security --offline=yes`` rates the sandbox without a
running systemd. Running the daemon in the unit's whole sandbox needs systemd
as PID 1 (``systemd-run``), which a container or CI machine does not have;
what can be reproduced without it is the part most likely to break a Python
program, the seccomp filters: the unit's ``SystemCallFilter=`` (expanded by
``systemd-analyze syscall-filter``), ``MemoryDenyWriteExecute=``,
``RestrictAddressFamilies=`` and ``NoNewPrivileges=``, loaded with libseccomp
as systemd loads them, around a daemon that builds with its forkserver
workers, serves, is triggered, reloads and stops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import daemonkit
import pytest
from daemonkit import DaemonProc, http_get, wait_for, write_seed

from feeder.build.ingest import PARALLEL_FROM
from feeder.config import load_settings, parse_hostport

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "contrib" / "feeder.service"
DOC = REPO / "docs" / "daemon.md"
#: Where docs/daemon.md clones feeder; the unit's paths live under it.
INSTALL = PurePosixPath("/opt/feeder")
FEEDER = INSTALL / ".venv" / "bin" / "feeder"
CONFIG = PurePosixPath("/etc/feeder/feeder.toml")
#: The highest ``systemd-analyze security`` exposure the unit may have.
MAX_EXPOSURE = 3.0

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not found (Debian package: systemd)"
)


def unit_entries(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> values in order (a key may be given more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        assert not line.endswith("\\"), f"line continuations are not parsed here: {raw!r}"
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"setting outside a section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


UNIT_TEXT = UNIT.read_text(encoding="utf-8")
ENTRIES = unit_entries(UNIT_TEXT)
SERVICE = ENTRIES["Service"]


def one(key: str, section: str = "Service") -> str:
    values = ENTRIES[section].get(key, [])
    assert len(values) == 1, f"{section}/{key}: expected one value, got {values}"
    return values[0]


def exec_argv(key: str) -> list[str]:
    """An ``Exec*=`` command line, without systemd's prefixes (``-``, ``@``, ``+``, …)."""
    return shlex.split(one(key).lstrip("-@:+!"))


def host_unit_dir() -> Path | None:
    for candidate in ("/usr/lib/systemd/system", "/lib/systemd/system"):
        if (Path(candidate) / "sysinit.target").exists():
            return Path(candidate)
    return None


def install_root(tmp: Path, *, with_feeder: bool = True) -> Path:
    """A root directory holding what the unit needs, installed as docs/daemon.md says."""
    units = host_unit_dir()
    if units is None:
        pytest.skip("no systemd unit directory with sysinit.target on this machine")
    root = tmp / "root"
    shutil.copytree(units, root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc" / "systemd" / "system" / UNIT.name)
    for key in (k for k in SERVICE if k.startswith("Exec")):
        program = PurePosixPath(exec_argv(key)[0])
        target = root / program.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if key == "ExecStart":
            # Only the documented path gets a feeder: any other must fail to verify.
            if with_feeder and program == FEEDER:
                install_feeder(target)
        elif Path(program).is_file():
            shutil.copy(program, target)
        else:
            pytest.skip(f"{key}= runs {program}, which this machine does not have")
    return root


def install_feeder(target: Path) -> None:
    """This test environment's ``feeder`` command (or an equivalent wrapper) at ``target``."""
    entry = Path(sys.executable).parent / "feeder"
    if entry.is_file():
        shutil.copy(entry, target)
    else:
        target.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m feeder "$@"\n')
    target.chmod(0o755)


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, "--no-pager", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verify(root: Path) -> subprocess.CompletedProcess[str]:
    # --recursive-errors=no: fail on problems of this unit (warnings included),
    # not on those of the host's units it depends on.
    return analyze("verify", "--recursive-errors=no", "--man=no", f"--root={root}", UNIT.name)


# -- systemd-analyze ---------------------------------------------------------


@needs_analyze
def test_verify_passes_on_the_documented_install(tmp_path: Path) -> None:
    proc = verify(install_root(tmp_path))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert UNIT.name not in output, output


@needs_analyze
def test_verify_fails_without_the_executable(tmp_path: Path) -> None:
    """The check above is real: the unit of a missing install does not verify."""
    proc = verify(install_root(tmp_path, with_feeder=False))
    assert proc.returncode != 0
    assert f"{FEEDER} is not executable" in proc.stdout + proc.stderr


@needs_analyze
def test_security_exposure_is_low() -> None:
    threshold = round(MAX_EXPOSURE * 10)  # --threshold counts tenths
    proc = analyze("security", "--offline=yes", f"--threshold={threshold}", str(UNIT))
    output = proc.stdout + proc.stderr
    match = re.search(rf"Overall exposure level for {re.escape(UNIT.name)}: (\d+\.\d)", output)
    assert match, output
    exposure = float(match.group(1))
    weak = "\n".join(line for line in output.splitlines() if line.startswith("✗"))
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}:\n{weak}"
    assert proc.returncode == 0, output


# -- the unit and docs/daemon.md agree ---------------------------------------


def docs_example_config() -> str:
    """The ``/etc/feeder/feeder.toml`` of the "As a systemd service" section."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## As a systemd service") :]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match, "no TOML example in the systemd section of docs/daemon.md"
    return match.group(1)


def test_exec_start_is_the_documented_install() -> None:
    doc = DOC.read_text(encoding="utf-8")
    argv = exec_argv("ExecStart")
    assert argv == [str(FEEDER), "run", "--config", str(CONFIG)]
    assert f"python3 -m venv {INSTALL}/.venv" in doc
    assert f"{INSTALL}/.venv/bin/pip install {INSTALL}" in doc
    assert f"sudoedit {CONFIG}" in doc


def test_reload_and_readiness() -> None:
    assert one("Type") == "notify"  # the daemon sends READY=1, RELOADING=1, STOPPING=1
    assert one("NotifyAccess") == "main"
    assert exec_argv("ExecReload")[1:] == ["-HUP", "$MAINPID"]


def test_documentation_exists_in_the_clone() -> None:
    urls = one("Documentation", "Unit").split()
    assert urls
    for url in urls:
        assert url.startswith(f"file://{INSTALL}/"), url
        path = PurePosixPath(url.removeprefix("file://")).relative_to(INSTALL)
        assert (REPO / path).is_file(), f"{url}: {path} is not in the repository"


def test_docs_configuration_loads_and_fits_the_sandbox(tmp_path: Path) -> None:
    config = tmp_path / "feeder.toml"
    config.write_text(docs_example_config(), encoding="utf-8")
    settings = load_settings(config)

    writable = [PurePosixPath(p) for v in SERVICE["ReadWritePaths"] for p in v.split()]
    output_dir = PurePosixPath(settings.output).parent
    assert any(output_dir == w or w in output_dir.parents for w in writable), (
        f"the output {settings.output} is not under ReadWritePaths={writable}"
    )
    state = PurePosixPath("/var/lib") / one("StateDirectory")
    assert PurePosixPath(settings.resolved_state_dir) == state
    # The default XDG_STATE_HOME is inside the state directory too.
    assert f"XDG_STATE_HOME={state}" in SERVICE["Environment"]

    assert settings.serve is not None
    host, _ = parse_hostport(settings.serve)
    assert host in ("127.0.0.1", "::1", "localhost")
    assert SERVICE["IPAddressAllow"] == ["localhost"]


def test_docs_create_the_user_and_directories() -> None:
    doc = DOC.read_text(encoding="utf-8")
    user = one("User")
    assert one("Group") == user
    joined = doc.replace("\\\n", "")  # shell line continuations
    assert re.search(rf"useradd --system --user-group [^\n]* {user}$", joined, re.M)
    for directory in [*SERVICE["ReadWritePaths"], "/var/lib/" + one("StateDirectory")]:
        pattern = rf"install -d -o {user} -g {user} -m 0[0-7]{{3}} {re.escape(directory)}\s"
        assert re.search(pattern, doc), f"docs/daemon.md does not create {directory}"


# -- the daemon under the unit's seccomp filters -----------------------------

#: The argument that makes this file, run as a script, load the filters and exec.
SANDBOX_EXEC = "--sandbox-exec"
LIBSECCOMP = ctypes.util.find_library("seccomp")
needs_seccomp = pytest.mark.skipif(
    ANALYZE is None or LIBSECCOMP is None or not sys.platform.startswith("linux"),
    reason="needs systemd-analyze and libseccomp (Debian packages: systemd, libseccomp2)",
)


class _Cmp(ctypes.Structure):
    """``struct scmp_arg_cmp``."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


_ALLOW = 0x7FFF0000
_CMP_EQ, _CMP_GE, _CMP_MASKED_EQ = 4, 5, 7
_PR_SET_NO_NEW_PRIVS = 38
_PROT_WRITE, _PROT_EXEC, _SHM_EXEC = 0x2, 0x4, 0o100000


def _errno_action(code: int) -> int:
    return 0x00050000 | code


def syscall_group(name: str, seen: set[str] | None = None) -> set[str]:
    """The system calls of ``@group`` (or the one call ``name``), nested groups expanded."""
    if not name.startswith("@"):
        return {name}
    seen = set() if seen is None else seen
    seen.add(name)
    proc = analyze("syscall-filter", name)
    assert proc.returncode == 0, proc.stderr
    calls: set[str] = set()
    for line in proc.stdout.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#") or item in seen:
            continue
        calls |= syscall_group(item, seen)
    return calls


def unit_syscalls() -> set[str]:
    """The system calls ``SystemCallFilter=`` allows: an allow list, then ``~`` removals."""
    lines = SERVICE["SystemCallFilter"]
    assert not lines[0].startswith("~"), "expected an allow list first"
    allowed: set[str] = set()
    for line in lines:
        deny = line.startswith("~")
        for name in line.removeprefix("~").split():
            calls = syscall_group(name)
            allowed = allowed - calls if deny else allowed | calls
    return allowed


def unit_families() -> set[int]:
    names = " ".join(SERVICE["RestrictAddressFamilies"]).split()
    return {int(getattr(socket, name)) for name in names}


class _Filter:
    """One seccomp filter, built and loaded with libseccomp."""

    def __init__(self, lib: ctypes.CDLL, default: int) -> None:
        self.lib = lib
        self.ctx = lib.seccomp_init(default)
        assert self.ctx, "seccomp_init failed"

    def rule(self, action: int, name: str, *cmps: _Cmp) -> None:
        nr = self.lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:  # not a system call of this architecture
            return
        array = (_Cmp * max(1, len(cmps)))(*cmps)
        r = self.lib.seccomp_rule_add_array(self.ctx, action, nr, len(cmps), array)
        if r not in (0, -errno.EEXIST):
            raise OSError(-r, f"seccomp rule for {name}")

    def load(self) -> None:
        r = self.lib.seccomp_load(self.ctx)
        self.lib.seccomp_release(self.ctx)
        if r != 0:
            raise OSError(-r, "seccomp_load")


def load_unit_filters() -> None:
    """Apply the unit's seccomp settings to this process, in systemd's order."""
    assert LIBSECCOMP is not None
    lib = ctypes.CDLL(LIBSECCOMP, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_Cmp),
    ]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    allowed = unit_syscalls()  # systemd-analyze runs before any filter is loaded
    families = unit_families()
    denied = _errno_action(getattr(errno, one("SystemCallErrorNumber")))

    if one("NoNewPrivileges") == "yes":
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    if one("MemoryDenyWriteExecute") == "yes":  # as systemd's seccomp-util.c does it
        mdwe = _Filter(lib, _ALLOW)
        wx = _PROT_WRITE | _PROT_EXEC
        mdwe.rule(_errno_action(errno.EPERM), "mmap", _Cmp(2, _CMP_MASKED_EQ, wx, wx))
        for call in ("mprotect", "pkey_mprotect"):
            mdwe.rule(
                _errno_action(errno.EPERM), call, _Cmp(2, _CMP_MASKED_EQ, _PROT_EXEC, _PROT_EXEC)
            )
        mdwe.rule(
            _errno_action(errno.EPERM), "shmat", _Cmp(2, _CMP_MASKED_EQ, _SHM_EXEC, _SHM_EXEC)
        )
        mdwe.load()
    afs = _Filter(lib, _ALLOW)
    top = max(families)
    for family in range(top):
        if family not in families:
            afs.rule(_errno_action(errno.EAFNOSUPPORT), "socket", _Cmp(0, _CMP_EQ, family, 0))
    afs.rule(_errno_action(errno.EAFNOSUPPORT), "socket", _Cmp(0, _CMP_GE, top + 1, 0))
    afs.load()
    # The allow list comes last, as in systemd: loading a filter is not in it.
    calls = _Filter(lib, denied)
    for name in sorted(allowed):
        calls.rule(_ALLOW, name)
    calls.load()


def sandbox_exec(argv: list[str]) -> None:
    load_unit_filters()
    os.execv(argv[0], argv)


def sandboxed(command: list[str]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), SANDBOX_EXEC, *command]


PROBE = """
import errno, mmap, os, socket
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    print("mmap-wx allowed")
except OSError as e:
    print("mmap-wx", errno.errorcode[e.errno])
for family in ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"):
    try:
        socket.socket(getattr(socket, family), socket.SOCK_DGRAM).close()
        print(family, "allowed")
    except OSError as e:
        print(family, errno.errorcode[e.errno])
try:
    os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0))
    print("setpriority allowed")
except OSError as e:
    print("setpriority", errno.errorcode[e.errno])
"""


@needs_seccomp
@pytest.mark.slow
def test_the_emulated_filters_bite() -> None:
    """The emulation is real: what the unit forbids fails, what it allows works."""
    proc = subprocess.run(
        sandboxed([sys.executable, "-c", PROBE]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results = dict(line.split() for line in proc.stdout.splitlines())
    assert results == {
        "mmap-wx": "EPERM",  # MemoryDenyWriteExecute=
        "AF_UNIX": "allowed",
        "AF_INET": "allowed",
        "AF_INET6": "allowed",
        "AF_NETLINK": "EAFNOSUPPORT",  # RestrictAddressFamilies=
        "AF_PACKET": "EAFNOSUPPORT",
        "setpriority": "EPERM",  # SystemCallFilter=~@resources
    }


class SandboxedDaemon(DaemonProc):
    """``feeder run`` under the unit's seccomp filters (``feeder trigger`` is left alone)."""

    def start(self, *, wait: bool = True) -> DaemonProc:
        plain: Callable[..., list[str]] = daemonkit.feeder_cmd
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(daemonkit, "feeder_cmd", lambda *args: sandboxed(plain(*args)))
            return super().start(wait=False)


def forkserver_children(pid: int) -> list[str]:
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"forkserver" in cmdline:
                children.append(child)
    return children


@needs_seccomp
@pytest.mark.slow
def test_the_daemon_works_under_the_unit_filters(tmp_path: Path) -> None:
    # DEBUG: the rebuild after the reload changes nothing, and is logged only at DEBUG.
    with SandboxedDaemon(tmp_path, interval=3600, settle=0, log_level="DEBUG") as d:
        # Enough seeds for a cold build to parse them in the forkserver's workers.
        for i in range(PARALLEL_FROM):
            write_seed(d.seeds, f"s{i:04d}.md", f"Article {i}", date=f"2024-05-{1 + i % 28:02d}")
        d.start()
        wait_for(d._started, timeout=60, what="the daemon to start")
        served = d.find("serving ")
        assert served is not None, d.log()
        d.base = served["msg"].split()[1].rsplit("/", 1)[0] + "/"
        first = d.wait_builds(1, timeout=180)[0]
        assert (first["parsed"], first["skipped"]) == (PARALLEL_FROM, []), first
        assert d.proc is not None
        if (os.cpu_count() or 1) >= 2:
            assert forkserver_children(d.proc.pid), "the build did not start its workers"

        status, _, body = http_get(d.feed_url)
        assert status == 200 and b"<feed" in body

        write_seed(d.seeds, "late.md", "Late article", date="2024-06-01")
        triggered = d.trigger()
        assert triggered.returncode == 0, triggered.stderr + d.log()
        last = d.builds()[-1]
        assert (last["cause"], last["seeds"], last["parsed"]) == ("trigger", PARALLEL_FROM + 1, 1)

        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: d.find("configuration reloaded"), timeout=30, what="the reload")
        d.wait_builds(3, timeout=60)

        code, _ = d.stop(timeout=30)
        log = d.log()
        assert code == 0, log
        levels = {r.get("level") for r in d.records()}
        assert not levels & {"ERROR", "CRITICAL"}, log
        assert "Traceback" not in log and "not permitted" not in log, log


if __name__ == "__main__" and sys.argv[1:2] == [SANDBOX_EXEC]:
    sandbox_exec(sys.argv[2:])

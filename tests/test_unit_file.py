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
running systemd. The sandbox itself is not exercised here: that needs systemd
as PID 1 (``systemd-run``), which a container or CI machine does not have.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

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

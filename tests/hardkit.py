"""Helpers of the hardening tests: the real CLI, Atom schema checks, content safety.

The Atom schema is the project's own RELAX NG grammar of RFC 4287,
``tests/fixtures/atom.rnc`` (``tests/test_schema.py`` compares it with the
RFC's Appendix B schema where ``../shared/schemas/atom.rnc`` exists).
``jing -c`` validates single files; for the many checks of the fault and
property tests the schema is converted once per session with ``trang`` and
loaded into :class:`lxml.etree.RelaxNG`. Either tool can stand in for the
other; a check skips with a reason only when neither is installed (``.ci/run``
installs ``jing`` and ``trang``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lhtml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
#: RFC 4287 as a RELAX NG compact grammar, written for the project's tests.
SCHEMA = REPO / "tests" / "fixtures" / "atom.rnc"
#: RFC 4287 Appendix B, beside the project on development machines only.
SHARED_SCHEMA = SHARED / "schemas" / "atom.rnc"
ATOM = "{http://www.w3.org/2005/Atom}"

if str(REPO) not in sys.path:  # the tests also import feeder in-process
    sys.path.insert(0, str(REPO))


def feeder_env(home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if home is not None:
        env["HOME"] = str(home)
        env["XDG_STATE_HOME"] = str(home / ".state")
    env.pop("NOTIFY_SOCKET", None)
    return env


def feeder(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m feeder ARGS`` to completion (never raises on a non-zero exit)."""
    return subprocess.run(
        [sys.executable, "-m", "feeder", *args],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        env=feeder_env(),
        timeout=timeout,
    )


def build(
    seeds: Path, output: Path, state: Path, *extra: str, timeout: float = 300
) -> tuple[dict[str, Any], str]:
    """``feeder build --json``; asserts exit 0 and returns (report, stderr)."""
    proc = feeder(
        "build", "--seeds", str(seeds), "--output", str(output), "--state-dir", str(state),
        "--json", *extra, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, f"feeder build exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(proc.stdout)
    return report, proc.stderr


def settings_for(root: Path) -> Any:
    """In-process settings: ``root``/seeds → ``root``/public/feed.atom, every entry."""
    from feeder.config import load_settings

    return load_settings(
        None,
        overrides={
            "seeds": root / "seeds",
            "output": root / "public" / "feed.atom",
            "state_dir": root / "state",
            "max_entries": 0,
        },
        use_default_config=False,
    )


def require_schema() -> Path:
    if not SCHEMA.is_file():
        pytest.skip(f"RFC 4287 RELAX NG schema not found at {SCHEMA} (an incomplete checkout)")
    return SCHEMA


def jing_run(schema: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    """``jing -c SCHEMA PATHS`` (the caller checks that jing is installed)."""
    jing = shutil.which("jing") or "jing"
    return subprocess.run(
        [jing, "-c", str(schema), *map(str, paths)], capture_output=True, text=True, timeout=300
    )


def jing_valid(*paths: Path) -> None:
    """Validate feed files with ``jing -c``, or with lxml where only trang is installed.

    All of ``paths`` go to one ``jing`` (a JVM start is ~0.5-1 s). Skips when
    neither tool is installed (or the schema is missing).
    """
    assert paths
    schema = require_schema()
    if shutil.which("jing") is None:
        validator = _relaxng_or_reason()
        if isinstance(validator, str):
            pytest.skip(f"jing is not installed (Debian package jing), and {validator}")
        for path in paths:
            if not validator.validate(etree.parse(str(path))):
                raise AssertionError(f"{path} invalid against atom.rnc: {validator.error_log}")
        return
    proc = jing_run(schema, *paths)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[:4000]


@functools.cache
def rnc_relaxng(schema: Path) -> etree.RelaxNG | str:
    """``schema`` (compact syntax) converted by trang for lxml, or why it cannot be."""
    if not schema.is_file():
        return f"RELAX NG schema not found at {schema}"
    trang = shutil.which("trang")
    if trang is None:
        return "trang is not installed (Debian package trang) to convert atom.rnc for lxml"
    with tempfile.TemporaryDirectory(prefix="feeder-rng-") as tmp:
        rng = Path(tmp) / "atom.rng"
        proc = subprocess.run([trang, str(schema), str(rng)], capture_output=True, text=True)
        if proc.returncode != 0:
            return f"trang could not convert {schema.name}: {proc.stderr.strip()[:200]}"
        return etree.RelaxNG(etree.parse(str(rng)))


@functools.cache
def _relaxng_or_reason() -> etree.RelaxNG | str:
    if not SCHEMA.is_file():
        return f"RFC 4287 RELAX NG schema not found at {SCHEMA}"
    return rnc_relaxng(SCHEMA)


def relaxng() -> etree.RelaxNG:
    """The Atom schema as an lxml validator (converted once per session)."""
    value = _relaxng_or_reason()
    if isinstance(value, str):
        pytest.skip(value)
    return value


def assert_schema_valid(data: bytes) -> etree._Element:
    """Parse ``data`` (must be well-formed) and validate it against the Atom schema.

    lxml validates where trang could convert the schema; otherwise jing checks
    a temporary copy of ``data``; with neither tool the check skips.
    """
    root = etree.fromstring(data)
    value = _relaxng_or_reason()
    if isinstance(value, str):
        if not SCHEMA.is_file():
            pytest.skip(value)
        if shutil.which("jing") is None:
            pytest.skip(f"{value}, and jing is not installed (Debian package jing) either")
        with tempfile.TemporaryDirectory(prefix="feeder-jing-") as tmp:
            path = Path(tmp) / "feed.atom"
            path.write_bytes(data)
            proc = jing_run(SCHEMA, path)
        if proc.returncode != 0:
            raise AssertionError(f"feed invalid against atom.rnc: {proc.stdout[:4000]}")
        return root
    if not value.validate(root.getroottree()):
        raise AssertionError(f"feed invalid against atom.rnc: {value.error_log}")
    return root


def entries(root: etree._Element) -> list[etree._Element]:
    return list(root.iterfind(f"{ATOM}entry"))


def text_of(entry: etree._Element, tag: str) -> str:
    el = entry.find(f"{ATOM}{tag}")
    return "" if el is None or el.text is None else el.text


def link_of(entry: etree._Element) -> str:
    for link in entry.iterfind(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate":
            return link.get("href", "")
    return ""


# -- content safety ----------------------------------------------------------

#: Elements that must never reach a feed reader.
FORBIDDEN_TAGS = frozenset(
    {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
        "input", "button", "textarea", "select", "meta", "link", "base", "style",
        "svg", "math", "template", "noscript", "title", "head", "body", "html",
    }
)  # fmt: skip
URL_ATTRS = frozenset(
    {"href", "src", "cite", "action", "formaction", "data", "poster", "background",
     "srcset", "xlink:href", "lowsrc", "dynsrc", "longdesc", "usemap", "codebase"}
)  # fmt: skip
SAFE_SCHEMES = ("http:", "https:", "mailto:")
_SCHEME_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def unsafe_markup(fragment: str) -> list[str]:
    """What is unsafe in an HTML fragment (an empty list means safe)."""
    problems: list[str] = []
    if not fragment.strip():
        return problems
    for el in lhtml.fragments_fromstring(fragment, no_leading_text=False):
        if isinstance(el, str):
            continue
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            tag = node.tag.lower().rpartition("}")[2]
            if tag in FORBIDDEN_TAGS:
                problems.append(f"<{tag}> element")
            for name, value in node.attrib.items():
                name = name.lower()
                if name.startswith("on"):
                    problems.append(f"<{tag} {name}> event handler")
                if name == "style":
                    problems.append(f"<{tag} style> attribute")
                if name in URL_ATTRS or name.endswith("href"):
                    url = _SCHEME_NOISE.sub("", value).lower()
                    if ":" in url.split("/", 1)[0] and not url.startswith(SAFE_SCHEMES):
                        problems.append(f"<{tag} {name}={value[:60]!r}> unsafe URL")
    return problems


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tiny tmpfs at ``path`` (root only); skips the test where mounting is impossible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs to fill up needs root")
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)

"""The declared dependencies are exactly what the code imports.

Every third-party module imported by ``feeder/`` is declared in
``[project] dependencies`` and every one declared there is imported; the
``test`` and ``bench`` extras likewise for ``tests/`` and ``benchmarks/``
(``pytest.importorskip("name")`` counts as an import). Distribution names
are mapped to import names through the installed packages' metadata.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The project's own modules: the package, and the tests' and benchmarks' files.
FIRST_PARTY = {"feeder"} | {
    p.stem for folder in ("tests", "benchmarks") for p in (REPO / folder).glob("*.py")
}
#: Tools run as programs, not imported (linters, type stubs, runners), and what a
#: test library needs but does not declare (``reader`` imports feedparser, which
#: needs ``sgmllib`` on Python 3).
TOOLS = {"pytest", "ruff", "mypy", "types-pyyaml", "import-linter", "sgmllib3k"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=~!\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imports(*folders: str) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "importorskip"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(str(node.args[0].value).split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in FIRST_PARTY}


def _distributions(modules: set[str]) -> set[str]:
    mapping = packages_distributions()
    missing = sorted(m for m in modules if m not in mapping)
    if missing:
        pytest.skip(f"not installed, so not mapped to a distribution: {missing}")
    return {_name(d) for m in modules for d in mapping[m]}


PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.mark.slow
def test_runtime_dependencies_are_what_feeder_imports() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    assert _distributions(_imports("feeder")) == declared


@pytest.mark.parametrize(("folder", "extra"), [("tests", "test"), ("benchmarks", "bench")])
def test_extras_are_what_the_tests_and_benchmarks_import(folder: str, extra: str) -> None:
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    extras = PROJECT["optional-dependencies"]
    declared = {_name(r) for r in extras[extra]}
    used = _distributions(_imports(folder)) - runtime
    if folder == "benchmarks":  # the benchmarks run with the test extra installed too
        used -= {_name(r) for r in extras["test"]}
    assert used <= declared, f"{folder} imports undeclared {sorted(used - declared)}"
    assert declared - TOOLS <= used, f"[{extra}] declares unused {sorted(declared - used)}"

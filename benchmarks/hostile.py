"""What one hostile seed costs: a cold ``feeder build`` of it alone, shape by shape.

Each shape is a body built to make some stage slow: many elements (table
rows, list items, headings, images, autolinks), deep nesting (HTML, quotes,
lists, emphasis), tags that never end, long lines, runs of one markup
character, each about as large as a crawler's biggest real page or far
larger. The bounds they meet are the markup budget
(``feeder.seeds.normalize.MAX_MARKUP``), the depth bound
(``feeder.content.nesting``) and the byte caps; a shape that costs much more
than the others is a stage whose cost grows faster than its input::

    .venv/bin/python benchmarks/hostile.py              # every shape
    .venv/bin/python benchmarks/hostile.py table deep   # the shapes whose name holds a word

Prints seconds (wall clock, one run: ``feeder`` in a fresh process, as cron
runs it) and the peak RSS of the build per shape, slowest first. A timing, never a
test: the suite checks what these seeds publish (``tests/test_budget.py``,
``tests/test_nesting.py``, ``tests/test_hostile.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INTRO = "An opening paragraph of real text for the article, a sentence or two.\n\n"

#: name -> body (after the intro). Sizes are ~0.2-4 MB.
SHAPES: dict[str, str] = {
    "table-rows": "| a | b |\n|---|---|\n" + "| x | y |\n" * 50_000,
    "table-wide": "|" + "a|" * 20_000 + "\n|" + "-|" * 20_000 + "\n",
    "list-items": "- item\n" * 100_000,
    "headings": "# heading\n" * 50_000,
    "rules": "---\n" * 50_000,
    "short-lines": "a short line\n" * 100_000,
    "images-one-line": "![a](https://example.org/i.png)" * 20_000,
    "autolinks-one-line": "<https://example.org/a> " * 30_000,
    "link-references": "".join(f"[l{i}]: https://example.org/{i}\n" for i in range(20_000)),
    "open-brackets": "[" * 50_000 + "x",
    "link-pairs": "[a](b " * 20_000,
    "backticks": "`a" * 30_000,
    "emphasis-runs": "*a " * 30_000,
    "emphasis-nested": "*" * 50_000 + "a" + "*" * 50_000,
    "bold-cjk": "**中文**" * 50_000,
    "quotes-lazy": "> a\nb\n" * 30_000,
    "quotes-deep": ">" * 20_000 + " deep quote\n",
    "lists-deep": "".join("  " * i + "- item\n" for i in range(2_000)),
    "html-deep": "<div>" * 19_000 + "deep text\n",
    "html-deep-spans": "<span>" * 19_000 + "deep text\n",
    "tags-never-end": ("<div " + "x" * 200) * 4_000,
    "quoted-lt-in-tags": '<div title="<div>">' * 15_000 + "text\n",
    "entities": "&#x41;" * 100_000,
    "ampersands": "&" * 100_000,
    "less-thans": "<" * 100_000,
    "one-long-line": "a" * 1_000_000,
    "one-long-url": "see https://example.org/" + "a" * 500_000,
    "cjk-long": "中文" * 300_000,
    "spaces": " " * 1_000_000 + "x",
}


def seed(name: str, body: str) -> str:
    return (
        f"---\ntitle: {name}\nurl: https://example.org/{name}\ndate: 2024-05-01\n"
        f"fetch_date: 2024-05-02T10:00:00\n---\n\n{INTRO}{body}\n\nThe closing paragraph.\n"
    )


def run(name: str, body: str, root: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of a cold build of the one seed."""
    work = root / name
    (work / "seeds").mkdir(parents=True)
    (work / "seeds" / f"{name}.md").write_text(seed(name, body), encoding="utf-8")
    start = time.perf_counter()
    with open(work / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeder", "build", "--seeds", str(work / "seeds"),
             "--output", str(work / "out" / "feed.atom"), "--state-dir", str(work / "state")],
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        # wait4: this child's own peak RSS (and that of any worker it waited for).
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def main(argv: list[str]) -> int:
    words = argv[1:]
    chosen = {n: b for n, b in SHAPES.items() if not words or any(w in n for w in words)}
    if not chosen:
        print(f"no shape holds {words}; shapes: {', '.join(SHAPES)}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="feeder-hostile-") as tmp:
        for name, body in chosen.items():
            seconds, peak, code = run(name, body, Path(tmp))
            rows.append((seconds, name, len(body.encode()), peak, code))
            print(f"{name:<20} {seconds:6.2f} s", file=sys.stderr)
    print(f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; one cold build per shape")
    print(f"{'shape':<20} {'body KB':>8} {'seconds':>8} {'peak MB':>8}  exit")
    for seconds, name, size, peak, code in sorted(rows, reverse=True):
        print(f"{name:<20} {size / 1024:8.0f} {seconds:8.2f} {peak:8.0f}  {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The stages of one ``feeder`` command on a timeline, and the CPU of every process.

Runs the CLI in this process with the build's stages wrapped in timers, and
prints when each one started and ended, in milliseconds from the start of
this script (the interpreter's own start, ~25 ms, comes before it)::

    .venv/bin/python benchmarks/timeline.py build --seeds DIR --output F --state-dir D
    .venv/bin/python benchmarks/timeline.py --cpu build ...   # and each process's CPU

``--cpu`` runs the command in a child process instead and samples, every 50 ms,
the CPU time of each Python process of the machine: the command, its workers,
and the fork server where one starts them (its workers are not the command's
children, so ``time`` would miss them). Where one core idles while the other
works, the stages say why.

The ``__main__`` guard matters: a fork server (the workers' when the process
that starts them runs threads) imports the main module of that process, and a
script that built at import time would build again in the server (and wait
on its own lock).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

T0 = time.perf_counter()

#: (module, attribute) of the stages timed.
STAGES = [
    ("feeder.build.pipeline", "_look"),
    ("feeder.build.pipeline", "_walk"),
    ("feeder.build.pipeline", "_store_changes"),
    ("feeder.build.learning", "chrome_for"),
    ("feeder.build.pipeline", "_render_published"),
    ("feeder.feeds.atom", "render_feed"),
    ("feeder.build.pipeline", "_write_pages"),
    ("feeder.build.pipeline", "_publish"),
]


def _timed(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            end = time.perf_counter()
            print(
                f"{name:<20} {1e3 * (start - T0):8.0f} -> {1e3 * (end - T0):8.0f} ms"
                f"  ({1e3 * (end - start):.0f} ms)",
                file=sys.stderr,
            )

    return timed


def timeline(argv: list[str]) -> int:
    import importlib

    import feeder.cli

    print(f"{'imports':<20} {'':8} -> {1e3 * (time.perf_counter() - T0):8.0f} ms", file=sys.stderr)
    for module, name in STAGES:
        mod = importlib.import_module(module)
        setattr(mod, name, _timed(name, getattr(mod, name)))
    rc = feeder.cli.main(argv)
    print(f"{'total':<20} {'':8} -> {1e3 * (time.perf_counter() - T0):8.0f} ms", file=sys.stderr)
    return rc


def _python_cpu() -> dict[int, int]:
    """pid → CPU ticks (user + system) of every Python process."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        close = text.rindex(")")
        if "python" not in text[text.index("(") + 1 : close]:
            continue
        fields = text[close + 2 :].split()
        out[int(pid)] = int(fields[11]) + int(fields[12])
    return out


def cpu(argv: list[str]) -> int:
    """Run the command in a child with the timeline; print each process's CPU per 100 ms."""
    hz = os.sysconf("SC_CLK_TCK")
    child = subprocess.Popen([sys.executable, __file__, *argv], stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, dict[int, int]]] = []
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(child.stderr or ()), daemon=True)
    reader.start()
    while child.poll() is None:
        samples.append((time.perf_counter() - T0, _python_cpu()))
        time.sleep(0.05)
    reader.join()
    me = os.getpid()
    pids = sorted({pid for _, s in samples for pid in s if pid != me})
    print("ms    " + " ".join(f"{pid:>7}" for pid in pids))
    last: dict[int, int] = {}
    for at, s in samples[::2]:
        cells = []
        for pid in pids:
            if pid not in s:
                cells.append(f"{'.':>7}")
                continue
            cells.append(f"{(s[pid] - last.get(pid, s[pid])) * 1000 // hz:>7}")
            last[pid] = s[pid]
        print(f"{1e3 * at:5.0f} " + " ".join(cells))
    lines = [line for line in err if not line.startswith("feeder: ")]
    print("".join(lines), end="")
    return child.returncode


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--cpu"]:
        sys.exit(cpu(args[1:]))
    sys.exit(timeline(args))

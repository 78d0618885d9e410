"""Performance benchmark of ``feeder build`` on synthetic seed directories.

For each size it generates (once, cached in ``benchmarks/out/``) a corpus of
~7 KB mixed Chinese/English articles (:mod:`gen_corpus`), then times, each
in a fresh process:

* **cold**: ``feeder build --max-entries 50`` with an empty state;
* **no-change**: the same again, nothing changed;
* **one-new**: one new (newest) seed added, then the same again;

and, as references measured in the same run on the same files:

* **stat walk**: a bare ``os.scandir`` + ``stat`` of every file in a fresh
  Python process (the least a poll can cost);
* **newest-50**: a straightforward pipeline that reads every file, splits
  the front matter, parses it with the C YAML loader, renders the newest 50
  bodies with markdown-it-py and serializes them with feedgen;
* **naive**: the same, rendering and serializing every article (only up to
  ``--naive-max`` seeds: it is slow and big).

The feeder package is byte-compiled first, as an installed copy is, and the
measured processes may write bytecode (``PYTHONDONTWRITEBYTECODE`` is
dropped). Memory is reported twice: the peak RSS of the measured process itself
(``os.wait4``), and the peak PSS of its whole process tree (fork server and
workers included; shared pages counted once), sampled every 50 ms. ``cores``
is how many cores the machine kept busy during the run (``/proc/stat``):
about 2 when a cold build uses both. ``--polls N`` also runs N in-process
builds (no change, with a new seed every 100th) and reports the RSS drift.

    .venv/bin/python benchmarks/perf.py --sizes 1000,10000,100000
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402

PY = sys.executable
FEEDER = [PY, "-m", "feeder"]
MAX_ENTRIES = 50

STAT_WALK = r"""
import os, sys
def walk(d):
    n = 0
    for e in os.scandir(d):
        if e.is_dir(follow_symlinks=False):
            n += walk(e.path)
        else:
            e.stat()
            n += 1
    return n
print(walk(sys.argv[1]))
"""

#: The reference pipelines: the obvious way to do the job, without state.
REFERENCE = r"""
import os, sys, yaml
from datetime import datetime, timezone
from markdown_it import MarkdownIt
from feedgen.feed import FeedGenerator

root, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = []
for d, _, files in os.walk(root):
    for name in files:
        with open(os.path.join(d, name), encoding="utf-8") as f:
            text = f.read()
        _, front, body = text.split("---\n", 2)
        try:
            meta = yaml.load(front, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:  # unquoted "a: b" values: read line by line
            meta = dict(line.split(": ", 1) for line in front.splitlines() if ": " in line)
        docs.append((str(meta["date"]), meta, body))
docs.sort(key=lambda t: t[0], reverse=True)
if limit:
    docs = docs[:limit]
md = MarkdownIt("commonmark").enable("table")
fg = FeedGenerator()
fg.id("tag:example.org,2024:feed")
fg.title("reference")
fg.link(href="http://example.org/feed.atom", rel="self")
for date, meta, body in docs:
    fe = fg.add_entry(order="append")
    fe.id(meta["url"])
    fe.title(str(meta["title"]))
    fe.link(href=meta["url"])
    fe.updated(datetime.fromisoformat(date).replace(tzinfo=timezone.utc))
    fe.content(md.render(body), type="html")
fg.atom_file(out)
"""


@dataclass
class Run:
    seconds: float
    rss_mb: float  #: peak RSS of the measured process itself
    #: Peak PSS of its whole process tree (fork server and workers included),
    #: sampled every 50 ms: what the build costs the machine in memory.
    tree_mb: float
    #: Busy cores during the run, machine-wide (/proc/stat): about 2.0 when
    #: both cores work. Worker processes are not the measured process's own
    #: children (they come from a fork server), so its rusage alone would miss them.
    cores: float
    report: dict[str, object] | None = None


def _busy_seconds() -> float:
    """CPU seconds spent by the whole machine so far (all cores, not idle or iowait)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _tree_pss_kb(root: int) -> int:
    """Proportional set size of ``root`` and all its descendants, in KiB (Linux)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    stat = f.read()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


class _TreeMemory(threading.Thread):
    """Samples the process tree's PSS every 50 ms; ``peak_mb`` once joined."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak_kb = max(self.peak_kb, _tree_pss_kb(self.pid))

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def measure(cmd: list[str], *, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd``; return its wall time, peak memory and core use; raise if it fails."""
    start = time.perf_counter()
    busy = _busy_seconds()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if os.environ.get("PERF_DEBUG") else subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    sampler = _TreeMemory(proc.pid)
    sampler.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    sampler.done.set()
    sampler.join()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    report = None
    if out.strip().startswith(b"{"):
        report = json.loads(out)
    cores = (_busy_seconds() - busy) / wall
    return Run(wall, usage.ru_maxrss / 1024, sampler.peak_mb, cores, report)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def corpus(size: int, out: Path) -> Path:
    seeds = out / f"seeds-{size}"
    done = out / f"seeds-{size}.ok"
    if not done.exists():
        if seeds.exists():
            shutil.rmtree(seeds)
        t = time.perf_counter()
        gen_corpus.generate(seeds, size)
        done.write_text("ok\n")
        print(f"# generated {size} seeds in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return seeds


def add_new_seed(seeds: Path, n: int) -> Path:
    """Write article ``n`` dated now (the newest: it enters the feed)."""
    rel, text = gen_corpus.article(gen_corpus.random.Random(n), n)
    now = datetime.now(UTC) + timedelta(seconds=n)
    lines = text.split("\n")
    lines[4] = f"date: {now:%Y-%m-%d %H:%M:%S}"
    lines[5] = f"fetch_date: {now.replace(tzinfo=None).isoformat()}"
    path = seeds / "new" / rel.replace("/", "-")
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def build_cmd(seeds: Path, work: Path) -> list[str]:
    return [
        *FEEDER,
        "build",
        "--seeds",
        str(seeds),
        "--output",
        str(work / "public" / "feed.atom"),
        "--state-dir",
        str(work / "state"),
        "--max-entries",
        str(MAX_ENTRIES),
        "--json",
    ]


def bench_size(size: int, args: argparse.Namespace) -> list[tuple[str, Run, str]]:
    seeds = corpus(size, args.out)
    new_dir = seeds / "new"
    if new_dir.exists():
        shutil.rmtree(new_dir)
    work = args.out / f"work-{size}"
    repeat = args.repeat if size < 100_000 else 1
    rows: list[tuple[str, Run, str]] = []

    walk = best([measure([PY, "-c", STAT_WALK, str(seeds)]) for _ in range(repeat + 2)])
    rows.append(("stat walk (reference)", walk, "walk"))
    ref_out = args.out / f"reference-{size}.atom"
    newest = best(
        [measure([PY, "-c", REFERENCE, str(seeds), str(ref_out), "50"]) for _ in range(repeat)]
    )
    rows.append(("newest-50 (reference)", newest, "newest"))
    if size <= args.naive_max:
        naive = measure([PY, "-c", REFERENCE, str(seeds), str(ref_out), "0"])
        rows.append(("naive, render all (reference)", naive, "newest"))
    ref_out.unlink(missing_ok=True)

    colds = []
    for _ in range(repeat):
        shutil.rmtree(work, ignore_errors=True)
        colds.append(measure(build_cmd(seeds, work)))
    rows.append(("cold build", best(colds), "newest"))
    nochange = best([measure(build_cmd(seeds, work)) for _ in range(repeat + 2)])
    rows.append(("no-change build", nochange, "walk"))
    news = []
    for k in range(repeat):
        add_new_seed(seeds, 10_000_000 + k)
        news.append(measure(build_cmd(seeds, work)))
    rows.append(("one new seed", best(news), "walk"))
    shutil.rmtree(new_dir, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return rows


def poll_memory(size: int, polls: int, args: argparse.Namespace) -> str:
    """Run ``polls`` in-process builds in a child; return its RSS summary line."""
    seeds = corpus(size, args.out)
    work = args.out / f"polls-{size}"
    shutil.rmtree(work, ignore_errors=True)
    cmd = [PY, str(Path(__file__).resolve()), "--poll-child", str(seeds), str(work), str(polls)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    shutil.rmtree(seeds / "new", ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return out.strip()


def _rss_kb() -> tuple[int, int]:
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


def poll_child(seeds: Path, work: Path, polls: int) -> None:
    from feeder.config import load_settings
    from feeder.pipeline import build

    settings = load_settings(
        None,
        overrides={
            "seeds": seeds,
            "output": work / "public" / "feed.atom",
            "state_dir": work / "state",
            "max_entries": MAX_ENTRIES,
        },
        use_default_config=False,
    )
    build(settings)
    samples = []
    start = time.perf_counter()
    for i in range(polls):
        if i % 100 == 99:
            add_new_seed(seeds, 20_000_000 + i)
        build(settings)
        if (i + 1) % max(1, polls // 10) == 0 or i == 9:
            samples.append((i + 1, *_rss_kb()))
    per_poll = (time.perf_counter() - start) / polls
    text = ", ".join(f"{n}: {rss / 1024:.1f}" for n, rss, _ in samples)
    half = next(s for s in samples if s[0] >= polls // 2)
    drift = (samples[-1][1] - half[1]) / 1024
    print(
        f"{polls} polls of {seeds.name} ({per_poll * 1000:.0f} ms each), RSS MB after poll {text}; "
        f"drift {drift:+.1f} MB over the second half (poll {half[0]} to {polls}); "
        f"peak {samples[-1][2] / 1024:.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark feeder build on synthetic seeds.")
    p.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes")
    p.add_argument("--out", type=Path, default=HERE / "out", help="corpora and scratch")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (best kept)")
    p.add_argument("--naive-max", type=int, default=10_000, help="largest naive reference")
    p.add_argument("--polls", type=int, default=0, help="in-process polls (memory drift)")
    p.add_argument("--poll-size", type=int, default=10_000, help="corpus size for --polls")
    p.add_argument("--poll-child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.poll_child:
        seeds, work, polls = args.poll_child
        poll_child(Path(seeds), Path(work), int(polls))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    # As an installed package is: byte-compiled once (pip does it at install).
    # With PYTHONDONTWRITEBYTECODE set, every run would compile feeder's
    # sources again, ~40 ms that no installed copy pays.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(ROOT / "feeder", quiet=1)
    print(f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {os.uname().machine}")
    header = (
        f"{'size':>7}  {'what':<31} {'seconds':>8} {'ratio':>7} "
        f"{'RSS MB':>7} {'tree MB':>7} {'cores':>5}  note"
    )
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        rows = bench_size(size, args)
        refs = {"walk": rows[0][1].seconds, "newest": rows[1][1].seconds}
        for name, run, ref in rows:
            ratio = "" if "reference" in name else f"{run.seconds / refs[ref]:.2f}x"
            note = ""
            if run.report:
                note = f"parsed {run.report['parsed']}, rendered {run.report['rendered']}"
                note += ", written" if run.report["changed"] else ", unchanged"
            if ratio:
                note += f" (vs {'stat walk' if ref == 'walk' else 'newest-50'})"
            tree = f"{run.tree_mb:.0f}" if run.tree_mb else "-"  # over before the first sample
            print(
                f"{size:>7}  {name:<31} {run.seconds:>8.3f} {ratio:>7} "
                f"{run.rss_mb:>7.0f} {tree:>7} {run.cores:>5.2f}  {note}",
                flush=True,
            )
    if args.polls:
        print(poll_memory(args.poll_size, args.polls, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

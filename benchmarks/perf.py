"""Performance benchmark of ``feeder build`` and of the daemon's poll on synthetic seeds.

For each shape and size it generates (once, cached in ``benchmarks/out/``) a
corpus (:mod:`gen_corpus`; ``realistic`` by default: one flat directory of
``NNN_<hash>.txt`` seeds shaped like the user's, half of them WeChat
articles with tracking urls; ``grouped``: the older corpus of ~7 KB articles
in one sub-directory per source), then times, each in a fresh process:

* **cold**: ``feeder build --max-entries 50`` with an empty state;
* **no-change**: the same again, nothing changed;
* **one-new**: one new (newest) seed added, then the same again;

and, in one more process that keeps a :class:`feeder.service.daemon.Daemon` (the
imports, the state and the caches stay warm, as in ``feeder run``):

* **daemon poll**: a poll that finds nothing changed;
* **new seed visible**: a poll that finds one new (settled) seed, from its
  start until the feed it wrote holds the entry (the first one after the
  start apart: it imports the render stack when the start rendered in the
  workers).

The references are measured in the same run on the same files:

* **stat walk**: a bare ``os.scandir`` + ``stat`` of every file in a fresh
  Python process (the least a one-shot poll can cost), and the same walk in
  the daemon's process, interleaved with its polls (the least a daemon poll
  can cost);
* **newest-50**: a straightforward pipeline that reads every file, splits
  the front matter, parses it with the C YAML loader, renders the newest 50
  bodies with markdown-it-py and serializes them with feedgen;
* **naive**: the same, rendering and serializing every article (only up to
  ``--naive-max`` seeds: it is slow and big).

Each figure is the median of ``--repeat`` runs (3; no-change 5, the stat
walk 8, the daemon polls ``--daemon-polls``), each run next to a run of its
reference (newest-50 before each cold build, a stat walk after each
no-change and one-new build, an in-process walk before each daemon poll)
so that both see the same load on a shared machine; the share of CPU
time the hypervisor stole meanwhile is printed last. The ratios are
printed against the goals:
cold <= 1.0x newest-50, no-change <= 2x stat walk, one-new <= 4x stat walk,
daemon poll <= 1.2x the in-process stat walk. Before each cold build and
each newest-50 reference the corpus is read once, so that both start with
it in the page cache (as far as the machine keeps it). ``--drop-caches``
(root) drops the page cache there instead, so that both read the corpus and
the Python files from the disk, as the first build after a reboot does, or
any build of a corpus larger than the page cache. ``--hold`` (``vmtouch``,
Debian's package of that name) instead holds the interpreter's and the
virtualenv's files, the package and each corpus in memory for the whole run
(``mlock``): on a machine that keeps few file pages, the imports of every
measured process would otherwise come from the disk, by turns, and the
figures with them.

The feeder package is byte-compiled first, as an installed copy is, and the
measured processes may write bytecode (``PYTHONDONTWRITEBYTECODE`` is
dropped). Memory is reported twice: the peak RSS of the measured process itself
(``os.wait4``), and the peak PSS of its whole process tree (workers and any
fork server included; shared pages counted once), sampled every 50 ms; and for
each size, the corpus's bytes beside the file pages the machine had cached
just after the cold builds (less than the corpus: part of it came from the
disk, for the references too). ``cores``
is how many cores the machine kept busy during the run (``/proc/stat``):
about 2 when a cold build uses both. ``--polls N`` also runs N daemon polls
(no change, with a new seed every 100th) and reports the RSS drift.

    .venv/bin/python benchmarks/perf.py --sizes 1000,10000 [--shape both] [--polls 1000]
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import html
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402

PY = sys.executable
FEEDER = [PY, "-m", "feeder"]
MAX_ENTRIES = 50
#: The corpus seed number (``gen_corpus --seed``).
CORPUS_SEED = 6
#: The goals, as ratios to their references.
GOALS = {"cold": 1.0, "no-change": 2.0, "one-new": 4.0, "poll": 1.2}

STAT_WALK_FN = r"""
import os
def walk(d):
    n = 0
    for e in os.scandir(d):
        if e.is_dir(follow_symlinks=False):
            n += walk(e.path)
        else:
            e.stat()
            n += 1
    return n
"""
STAT_WALK = STAT_WALK_FN + "import sys\nprint(walk(sys.argv[1]))\n"

#: The reference pipelines: the obvious way to do the job, without state.
#: (The key lists are the aliases the realistic corpus uses.)
REFERENCE = r"""
import os, sys, yaml
from datetime import datetime, timezone
from markdown_it import MarkdownIt
from feedgen.feed import FeedGenerator

root, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
DATE = ("date", "published_at", "date_published", "fetch_date", "fetched_at", "curated_at",
        "ingested", "distilled_at")
URL = ("url", "source_url", "original_url")
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
        date = next((str(meta[k]) for k in DATE if meta.get(k)), "1970-01-01")
        url = next((str(meta[k]) for k in URL if meta.get(k)), name)
        docs.append((date, url, str(meta.get("title") or name), body))
docs.sort(key=lambda t: t[0], reverse=True)
if limit:
    docs = docs[:limit]
md = MarkdownIt("commonmark").enable("table")
fg = FeedGenerator()
fg.id("tag:example.org,2024:feed")
fg.title("reference")
fg.link(href="http://example.org/feed.atom", rel="self")
for date, url, title, body in docs:
    fe = fg.add_entry(order="append")
    fe.id(url)
    fe.title(title)
    fe.link(href=url)
    fe.updated(datetime.fromisoformat(date[:19]).replace(tzinfo=timezone.utc))
    fe.content(md.render(body), type="html")
fg.atom_file(out)
"""


@dataclass
class Run:
    seconds: float
    rss_mb: float  #: peak RSS of the measured process itself
    #: Peak PSS of its whole process tree (workers and any fork server included),
    #: sampled every 50 ms: what the build costs the machine in memory.
    tree_mb: float
    #: Busy cores during the run, machine-wide (/proc/stat): about 2.0 when
    #: both cores work. Worker processes need not be the measured process's own
    #: children (a fork server may start them), so its rusage alone could miss them.
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


def _steal_share_since(start: tuple[int, int] | None) -> tuple[tuple[int, int], float]:
    """((all, steal) clock ticks so far, the share of steal since ``start``), from /proc/stat.

    Steal is CPU time the hypervisor gave to other guests while this one
    wanted it: on a shared VM it slows every figure, the references too,
    and makes the ratios noisier.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return (0, 0), float("nan")
    now = (sum(fields), fields[7])
    if start is None or now[0] == start[0]:
        return now, 0.0
    return now, (now[1] - start[1]) / (now[0] - start[0])


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


def median(runs: list[Run]) -> Run:
    """The run of median time (the upper one of an even count)."""
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def corpus(size: int, shape: str, out: Path) -> Path:
    seeds = out / f"seeds-{shape}-{size}"
    done = out / f"seeds-{shape}-{size}.ok"
    if not done.exists():
        if seeds.exists():
            shutil.rmtree(seeds)
        t = time.perf_counter()
        if shape == "realistic":
            jobs = min(2, os.cpu_count() or 1)
            gen_corpus.generate_realistic(seeds, size, seed=CORPUS_SEED, jobs=jobs)
        else:
            gen_corpus.generate_grouped(seeds, size, seed=CORPUS_SEED)
        done.write_text("ok\n")
        took = time.perf_counter() - t
        print(f"# generated {size} {shape} seeds in {took:.1f} s", file=sys.stderr)
    return seeds


#: Numbers of the new seeds: past any corpus, so never one of its files.
NEW_SEED_BASE = 50_000_000


def add_new_seed(seeds: Path, shape: str, k: int, *, age: float = 0.0) -> tuple[Path, str]:
    """Write a new seed dated now (the newest: it enters the feed); (its path, its title).

    Realistic: one more file of the flat directory, of the crawler's shape.
    Grouped: a file in ``new/`` (a directory of its own, as before). ``age``
    seconds are taken off its mtime (a daemon defers unsettled seeds).
    """
    now = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=k)
    if shape == "realistic":
        n = NEW_SEED_BASE + 1000 * k
        while True:  # the first article from n on in the crawler's shape (a title to look for)
            name, text, _ = gen_corpus.realistic_article(CORPUS_SEED, n, fetched=now)
            title = text.split("\n", 2)[1].removeprefix("title: ")
            if text.startswith("---\ntitle: ") and "fetch_date" in text and "xa0" not in title:
                break
            n += 1
        path = seeds / name
    else:
        rel, text = gen_corpus.article(gen_corpus.random.Random(k), k)
        lines = text.split("\n")
        lines[4] = f"date: {now:%Y-%m-%d %H:%M:%S}"
        lines[5] = f"fetch_date: {now.isoformat()}"
        text = "\n".join(lines)
        title = lines[1].removeprefix("title: ")
        path = seeds / "new" / rel.replace("/", "-")
        path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if age:
        ts = time.time() - age
        os.utime(path, (ts, ts))
    return path, title


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


@dataclass
class SizeResult:
    shape: str
    size: int
    rows: list[tuple[str, Run, str]]
    poll: dict[str, Any]
    cold_peak_mb: float  #: the largest process-tree PSS of the cold builds
    corpus_mb: float = 0.0  #: the seeds' bytes
    #: The machine's file pages in the page cache just after the cold builds:
    #: where it is less than the corpus, the builds (and the references) read
    #: part of it from the disk.
    cached_mb: float = 0.0


def bench_size(size: int, shape: str, args: argparse.Namespace) -> SizeResult:
    seeds = corpus(size, shape, args.out)
    if args.hold:
        args.holding.add(seeds)
    added: list[Path] = []
    work = args.out / f"work-{shape}-{size}"
    repeat = args.repeat if size < 100_000 else 1
    walk_cmd = [PY, "-c", STAT_WALK, str(seeds)]
    ref_out = args.out / f"reference-{size}.atom"
    ref_cmd = [PY, "-c", REFERENCE, str(seeds), str(ref_out)]
    # Each figure is measured interleaved with its reference, so that both
    # see the same load on a shared machine.
    walks, newests, colds, nochanges, news = [], [], [], [], []
    naive = None
    try:
        if size <= args.naive_max:
            naive = measure([*ref_cmd, "0"])
        for _ in range(repeat):
            _set_caches(seeds, drop=args.drop_caches)
            newests.append(measure([*ref_cmd, "50"]))
            shutil.rmtree(work, ignore_errors=True)
            _set_caches(seeds, drop=args.drop_caches)
            colds.append(measure(build_cmd(seeds, work)))
        cached_mb = _cached_mb()
        for _ in range(repeat + 2):
            walks.append(measure(walk_cmd))
            nochanges.append(measure(build_cmd(seeds, work)))
        for k in range(repeat):
            added.append(add_new_seed(seeds, shape, k)[0])
            news.append(measure(build_cmd(seeds, work)))
            walks.append(measure(walk_cmd))
    finally:
        for path in added:
            path.unlink(missing_ok=True)
        shutil.rmtree(seeds / "new", ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        ref_out.unlink(missing_ok=True)
    rows = [
        ("stat walk (reference)", median(walks), "walk"),
        ("newest-50 (reference)", median(newests), "newest"),
    ]
    if naive is not None:
        rows.append(("naive, render all (reference)", naive, "newest"))
    rows += [
        ("cold build", median(colds), "newest"),
        ("no-change build", median(nochanges), "walk"),
        ("one new seed", median(news), "walk"),
    ]
    poll = run_poll_child(seeds, shape, args, polls=args.daemon_polls, news=repeat + 1, drift=False)
    corpus_mb = (
        sum(
            os.stat(os.path.join(d, name)).st_size
            for d, _, names in os.walk(seeds)
            for name in names
        )
        / 2**20
    )
    peak = max(r.tree_mb for r in colds)
    return SizeResult(shape, size, rows, poll, peak, corpus_mb, cached_mb)


def _set_caches(seeds: Path, *, drop: bool) -> None:
    """Before a cold build or its reference: the page cache dropped, or the corpus read once.

    Read once, every file of the corpus is in the page cache for the run
    that follows, as far as the machine keeps it: each of the two compared
    runs starts from the same cache, not from what the run before it left
    (a machine may reclaim file pages within seconds).
    """
    if drop:
        _drop_caches()
        return
    for d, _, names in os.walk(seeds):
        for name in names:
            with open(os.path.join(d, name), "rb") as f:
                while f.read(1 << 20):
                    pass


class Hold:
    """Files held in memory (``vmtouch -l``) until :meth:`release`: see ``--hold``."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def add(self, *paths: Path) -> None:
        """Read ``paths`` (files or directory trees) into memory and keep them there."""
        vmtouch = shutil.which("vmtouch")
        if vmtouch is None:
            sys.exit("--hold: vmtouch is not installed (Debian package vmtouch)")
        proc = subprocess.Popen(
            [vmtouch, "-q", "-l", *map(str, paths)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._procs.append(proc)
        # Locked once it has touched every page: until then, wait (it never exits itself).
        total = sum(_tree_bytes(path) for path in paths)
        deadline = time.monotonic() + 600
        while _locked_kb(proc.pid) * 1024 < 0.9 * total and time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                sys.exit(f"--hold: vmtouch failed: {err.strip()}")
            time.sleep(0.1)

    def release(self) -> None:
        for proc in self._procs:
            proc.terminate()
            proc.wait()
        self._procs.clear()


def _tree_bytes(path: Path) -> int:
    """The bytes of the files under ``path`` (or of the file itself)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for d, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):  # gone meanwhile
                total += os.lstat(os.path.join(d, name)).st_size
    return total


def _locked_kb(pid: int) -> int:
    """The memory ``pid`` holds locked (``VmLck`` of /proc/PID/status), in KB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmLck:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _drop_caches() -> None:
    """Write back and drop the page cache, dentries and inodes (root only), as after a reboot."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as e:
        sys.exit(f"--drop-caches: cannot write /proc/sys/vm/drop_caches: {e.strerror or e}")


def _cached_mb() -> float:
    """The file pages in the page cache now (``Cached`` of /proc/meminfo), in MB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Cached:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_poll_child(
    seeds: Path, shape: str, args: argparse.Namespace, *, polls: int, news: int, drift: bool
) -> dict[str, Any]:
    """Run the daemon polls in a child process; return its JSON report."""
    work = args.out / f"polls-{shape}-{seeds.name}"
    shutil.rmtree(work, ignore_errors=True)
    cmd = [PY, str(Path(__file__).resolve()), "--poll-child", str(seeds), str(work), shape]
    cmd += [str(polls), str(news), "drift" if drift else "timing"]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def _rss_kb() -> tuple[int, int]:
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


def poll_child(seeds: Path, work: Path, shape: str, polls: int, news: int, mode: str) -> None:
    """In-process: a daemon's polls (and the same process's stat walks); print JSON."""
    from feeder.build.lock import OutputClaim
    from feeder.config import load_settings
    from feeder.service.daemon import Daemon

    scope: dict[str, Any] = {}
    exec(STAT_WALK_FN, scope)
    walk = scope["walk"]
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
    claim = OutputClaim(settings.output.parent, settings.resolved_state_dir, role="daemon")
    claim.acquire()
    daemon = Daemon(lambda: settings, settings, claim)
    settle = settings.settle_seconds

    def poll() -> tuple[float, Any]:
        t = time.perf_counter()
        result = daemon.build(settle_seconds=settle, reason="poll")
        return time.perf_counter() - t, result

    added: list[Path] = []
    report: dict[str, Any] = {"seeds": len(os.listdir(seeds))}
    try:
        report["start_s"] = poll()[0]  # the daemon's first poll: a cold build
        poll()
        poll()  # warm
        if mode == "drift":
            samples = []
            start = time.perf_counter()
            for i in range(polls):
                if i % 100 == 99:
                    added.append(add_new_seed(seeds, shape, 1000 + i, age=settle + 1)[0])
                poll()
                if (i + 1) % max(1, polls // 10) == 0 or i == 9:
                    samples.append((i + 1, *_rss_kb()))
            report["per_poll_s"] = (time.perf_counter() - start) / polls
            report["samples"] = samples
        else:
            walks, polled = [], []
            for _ in range(polls):  # interleaved: both see the same machine load
                t = time.perf_counter()
                walk(str(seeds))
                walks.append(time.perf_counter() - t)
                seconds, result = poll()
                if result.changed or result.parsed:
                    raise SystemExit("a no-change poll changed something")
                polled.append(seconds)
            visible, new_walks = [], []
            out = settings.output
            for k in range(news):
                path, title = add_new_seed(seeds, shape, 100 + k, age=settle + 1)
                added.append(path)
                t = time.perf_counter()
                walk(str(seeds))
                new_walks.append(time.perf_counter() - t)
                seconds, result = poll()
                if html.escape(title, quote=False) not in out.read_text(encoding="utf-8"):
                    raise SystemExit(f"the new seed {path.name} is not in {out} after the poll")
                visible.append(seconds)
            # The first new seed after the start pays the render stack's
            # imports when the start's cold build rendered in the workers.
            report.update(
                walk_s=statistics.median(walks),
                poll_s=statistics.median(polled),
                new_walk_s=statistics.median(new_walks[1:] or new_walks),
                new_first_s=visible[0],
                new_visible_s=statistics.median(visible[1:] or visible),
                polls=polls,
                news=news,
            )
        report["rss_mb"], report["hwm_mb"] = (x / 1024 for x in _rss_kb())
    finally:
        for path in added:
            path.unlink(missing_ok=True)
        shutil.rmtree(seeds / "new", ignore_errors=True)
    print(json.dumps(report))


def _verdict(ratio: float, goal: float) -> str:
    return f"(goal <= {goal:.1f}x: {'met' if ratio <= goal else 'MISSED'})"


def print_size(res: SizeResult) -> None:
    refs = {"walk": res.rows[0][1].seconds, "newest": res.rows[1][1].seconds}
    goals = {"cold build": "cold", "no-change build": "no-change", "one new seed": "one-new"}
    for name, run, ref in res.rows:
        ratio = run.seconds / refs[ref]
        shown = "" if "reference" in name else f"{ratio:.2f}x"
        note = ""
        if run.report:
            note = f"parsed {run.report['parsed']}, rendered {run.report['rendered']}"
            note += ", written" if run.report["changed"] else ", unchanged"
        if shown:
            note += f" vs {'stat walk' if ref == 'walk' else 'newest-50'}"
            if name in goals:
                note += " " + _verdict(ratio, GOALS[goals[name]])
        tree = f"{run.tree_mb:.0f}" if run.tree_mb else "-"  # over before the first sample
        print(
            f"{res.shape:<9} {res.size:>7}  {name:<31} {run.seconds:>8.3f} {shown:>7} "
            f"{run.rss_mb:>7.0f} {tree:>7} {run.cores:>5.2f}  {note}",
            flush=True,
        )
    print(
        f"# {res.size} {res.shape} seeds: {res.corpus_mb:.0f} MB of files; "
        f"{res.cached_mb:.0f} MB of file pages cached after the cold builds"
    )
    p = res.poll
    ratio = p["poll_s"] / p["walk_s"]
    print(
        f"{res.shape:<9} {res.size:>7}  {'in-process stat walk (ref.)':<31} {p['walk_s']:>8.3f}\n"
        f"{res.shape:<9} {res.size:>7}  {'daemon no-change poll':<31} {p['poll_s']:>8.3f} "
        f"{ratio:>6.2f}x {p['rss_mb']:>7.0f} {'':>7} {'':>5}  vs in-process stat walk "
        f"{_verdict(ratio, GOALS['poll'])}, median of {p['polls']}\n"
        f"{res.shape:<9} {res.size:>7}  {'daemon: new seed visible':<31} "
        f"{p['new_visible_s']:>8.3f} {p['new_visible_s'] / p['new_walk_s']:>6.2f}x "
        f"{p['hwm_mb']:>7.0f} {'':>7} {'':>5}  from the poll's start to the feed written, "
        f"vs in-process stat walk, median of {p['news'] - 1}; the first after the start "
        f"{p['new_first_s']:.3f} s; daemon start (cold) {p['start_s']:.2f} s",
        flush=True,
    )


def print_summary(results: list[SizeResult]) -> None:
    print(
        "\n| shape | seeds | cold (vs newest-50, goal <= 1.0x) "
        "| no change (vs stat walk, <= 2x) | one new (<= 4x) "
        "| daemon poll (vs in-process walk, <= 1.2x) | new seed visible "
        "| peak memory (cold, all processes) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for res in results:
        runs = {name: run for name, run, _ in res.rows}
        walk, newest = runs["stat walk (reference)"].seconds, runs["newest-50 (reference)"].seconds
        cold, nochange, new = (
            runs[k].seconds for k in ("cold build", "no-change build", "one new seed")
        )
        p = res.poll
        print(
            f"| {res.shape} | {res.size:,} "
            f"| {cold:.2f} s (ref. {newest:.2f} s: {cold / newest:.2f}x) "
            f"| {nochange:.3f} s (walk {walk:.3f} s: {nochange / walk:.1f}x) "
            f"| {new:.3f} s ({new / walk:.1f}x) "
            f"| {p['poll_s'] * 1000:.1f} ms (walk {p['walk_s'] * 1000:.1f} ms: "
            f"{p['poll_s'] / p['walk_s']:.2f}x) "
            f"| {p['new_visible_s'] * 1000:.0f} ms (first {p['new_first_s'] * 1000:.0f} ms) "
            f"| {res.cold_peak_mb:.0f} MB |"
        )


def print_drift(report: dict[str, Any], name: str) -> None:
    samples = report["samples"]
    polls = samples[-1][0]
    text = ", ".join(f"{n}: {rss / 1024:.1f}" for n, rss, _ in samples)
    half = next(s for s in samples if s[0] >= polls // 2)
    drift = (samples[-1][1] - half[1]) / 1024
    print(
        f"{polls} daemon polls of {name} ({report['per_poll_s'] * 1000:.0f} ms each), RSS MB "
        f"after poll {text}; drift {drift:+.1f} MB over the second half (poll {half[0]} to "
        f"{polls}); peak {samples[-1][2] / 1024:.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark feeder build on synthetic seeds.")
    p.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes")
    p.add_argument("--shape", choices=("realistic", "grouped", "both"), default="realistic")
    p.add_argument("--out", type=Path, default=HERE / "out", help="corpora and scratch")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (median kept)")
    p.add_argument("--naive-max", type=int, default=10_000, help="largest naive reference")
    p.add_argument("--daemon-polls", type=int, default=15, help="no-change daemon polls timed")
    p.add_argument("--polls", type=int, default=0, help="daemon polls for the memory drift")
    p.add_argument("--poll-size", type=int, default=10_000, help="corpus size for --polls")
    p.add_argument(
        "--drop-caches",
        action="store_true",
        help="drop the page cache before each cold build and its reference (root)",
    )
    p.add_argument(
        "--hold",
        action="store_true",
        help="hold Python's files, the package and each corpus in memory (vmtouch -l)",
    )
    p.add_argument("--poll-child", nargs=6, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.hold and args.drop_caches:
        p.error("--hold and --drop-caches exclude each other (held pages are not dropped)")
    if args.poll_child:
        seeds, work, shape, polls, news, mode = args.poll_child
        poll_child(Path(seeds), Path(work), shape, int(polls), int(news), mode)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    # As an installed package is: byte-compiled once (pip does it at install).
    # With PYTHONDONTWRITEBYTECODE set, every run would compile feeder's
    # sources again, ~40 ms that no installed copy pays.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(ROOT / "feeder", quiet=1)
    args.holding = Hold()
    if args.hold:
        lib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        args.holding.add(lib, Path(sys.prefix), ROOT / "feeder", Path(sys.executable).resolve())
        print("# Python's files, the package and each corpus are held in memory (vmtouch -l)")
    shapes = ("realistic", "grouped") if args.shape == "both" else (args.shape,)
    print(f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {os.uname().machine}")
    if args.drop_caches:
        print("# the page cache is dropped before each cold build and each newest-50 reference")
    print(
        f"{'shape':<9} {'size':>7}  {'what':<31} {'seconds':>8} {'ratio':>7} "
        f"{'RSS MB':>7} {'tree MB':>7} {'cores':>5}  note"
    )
    results = []
    ticks, _ = _steal_share_since(None)
    try:
        for shape in shapes:
            for size in (int(s) for s in args.sizes.split(",")):
                res = bench_size(size, shape, args)
                print_size(res)
                results.append(res)
    finally:
        args.holding.release()
    print_summary(results)
    _, steal = _steal_share_since(ticks)
    print(f"\n# hypervisor steal during the run: {steal:.1%} of the machine's CPU time")
    if args.polls:
        for shape in shapes:
            seeds = corpus(args.poll_size, shape, args.out)
            report = run_poll_child(seeds, shape, args, polls=args.polls, news=0, drift=True)
            print_drift(report, seeds.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

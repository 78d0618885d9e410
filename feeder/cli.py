"""The ``feeder`` command line: build, check, run, trigger.

Exit codes: 0 success; 1 a fatal error (bad configuration, unwritable
output, problems found by ``check``, no daemon for ``trigger``); 2 a usage
error. Only this module configures logging.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import Settings, load_settings
from .errors import FeederError
from .lock import OutputClaim
from .logsetup import NoSkipLines

log = logging.getLogger("feeder")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file (default: config/feeder.toml if present)",
    )
    p.add_argument("--seeds", type=Path, metavar="DIR", help="seed directory")
    p.add_argument("--output", type=Path, metavar="FILE", help="the Atom feed to write")
    p.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="where feeder keeps its state and cache (never inside the output dir)",
    )
    p.add_argument("--log-level", metavar="LEVEL", help="DEBUG, INFO, WARNING or ERROR")


def _allow_shrink(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-shrink",
        action="store_true",
        help="publish even when far fewer seeds are found than the feed was built from "
        "(default: keep the published feeds and fail)",
    )


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from e


def _nonneg(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (all) or more")
    return value


def _positive(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeder", description="Republish a directory of scraped articles as an Atom feed."
    )
    parser.add_argument("--version", action="version", version=f"feeder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build the feed once")
    _common(b)
    b.add_argument("--max-entries", type=_nonneg, metavar="N", help="entries in the feed (0: all)")
    b.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    b.add_argument("--full", action="store_true", help="ignore the state: re-read every seed")
    _allow_shrink(b)
    b.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="a progress bar on stderr while seeds are parsed "
        "(auto: on a terminal, for builds longer than half a second)",
    )

    c = sub.add_parser("check", help="parse and normalize every seed without writing")
    _common(c)
    c.add_argument(
        "--explain",
        type=Path,
        metavar="FILE",
        help="show what content cleaning drops from one seed, and by which rule",
    )
    c.add_argument("--json", action="store_true", help="print the problems as JSON on stdout")

    r = sub.add_parser("run", help="run the daemon: poll, rebuild, serve")
    _common(r)
    r.add_argument("--max-entries", type=_nonneg, metavar="N")
    r.add_argument("--interval", type=_positive, metavar="SECONDS", help="poll interval")
    r.add_argument(
        "--settle-seconds",
        type=float,
        metavar="SECONDS",
        help="seeds modified more recently than this wait for the next poll",
    )
    serve = r.add_mutually_exclusive_group()
    serve.add_argument("--serve", metavar="HOST:PORT", help="serve the output directory")
    serve.add_argument("--no-serve", action="store_true", help="do not serve")
    r.add_argument("--log-json", action="store_true", help="log JSON lines")
    _allow_shrink(r)

    t = sub.add_parser("trigger", help="make the running daemon rebuild now")
    _common(t)
    t.add_argument("--timeout", type=_positive, default=300.0, metavar="SECONDS")
    t.add_argument("--json", action="store_true", help="print the build report as JSON")

    f = sub.add_parser("feeds", help="list the configured feeds and their entry counts")
    _common(f)
    f.add_argument("--json", action="store_true", help="print the feeds as JSON on stdout")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "seeds": args.seeds,
        "output": args.output,
        "state_dir": args.state_dir,
        "max_entries": getattr(args, "max_entries", None),
        "interval": getattr(args, "interval", None),
        "settle_seconds": getattr(args, "settle_seconds", None),
        "log_level": args.log_level,
    }
    if getattr(args, "no_serve", False):
        overrides["serve"] = ""
    elif getattr(args, "serve", None):
        overrides["serve"] = args.serve
    if getattr(args, "log_json", False):
        overrides["log_json"] = True
    if getattr(args, "allow_shrink", False):
        overrides["allow_shrink"] = True
    return load_settings(args.config, overrides=overrides)


def _basic_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("feeder: %(levelname)s: %(message)s"))
    handler.addFilter(NoSkipLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class _ProgressBar:
    """``progress(done, total)`` as a bar on stderr, shown after ``delay`` seconds."""

    def __init__(self, delay: float = 0.5) -> None:
        self.bar: Any = None
        self.delay = delay

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if done >= total:
                return
            try:
                from tqdm import tqdm  # type: ignore[import-untyped]
            except ImportError:  # no bar, no harm
                self.bar = False
                return
            self.bar = tqdm(
                total=total, desc="feeder: parsing", unit=" seeds", delay=self.delay, leave=False
            )
        if self.bar:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def cmd_build(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "WARNING")
    settings = _settings(args)
    from .pipeline import build

    bar = None
    if args.progress == "always":
        bar = _ProgressBar(delay=0)
    elif args.progress == "auto" and sys.stderr.isatty():
        bar = _ProgressBar()
    claim = OutputClaim(settings.output.parent, settings.resolved_state_dir, role="build")
    try:
        with claim:
            result = build(settings, full=args.full, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    for s in result.skipped:
        print(f"feeder: skipped {s.path}: {s.reason}", file=sys.stderr)
    state = "written" if result.changed else "unchanged"
    print(
        f"feeder: {result.seeds} seeds read, {result.entries} entries written, "
        f"{len(result.skipped)} skipped -> {result.output} ({state}, {result.duration_s:.2f} s)",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "ERROR")
    settings = _settings(args)
    from .check import check_seeds, explain_seed

    if args.explain is not None:
        print(explain_seed(args.explain, settings=settings))
        return 0
    problems = check_seeds(settings)
    if args.json:
        print(
            json.dumps(
                [{"path": p, "problems": list(ps)} for p, ps in problems.items()],
                ensure_ascii=False,
            )
        )
    for path, items in problems.items():
        for item in items:
            print(f"{path}: {item}", file=sys.stderr)
    print(f"feeder: {len(problems)} seeds with problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_run(args: argparse.Namespace) -> int:
    from .daemon import configure_logging, run

    first = _settings(args)
    configure_logging(first.log_level, first.log_json)
    loaded = [first]

    def load() -> Settings:
        if loaded:
            return loaded.pop()
        return _settings(args)

    return run(load=load)


def cmd_trigger(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "WARNING")
    settings = _settings(args)
    from .daemon import trigger

    return trigger(settings, timeout=args.timeout, json=args.json)


def cmd_feeds(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "WARNING")
    settings = _settings(args)
    from .feedlist import list_feeds

    rows, built = list_feeds(settings)
    if not built:
        print("feeder: no build yet (run feeder build): counts are 0", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for row in rows:
        print(f"{row['name']}\t{row['entries']}/{row['matched']}\t{row['url']}\t{row['title']}")
    return 0


COMMANDS = {
    "build": cmd_build,
    "check": cmd_check,
    "run": cmd_run,
    "trigger": cmd_trigger,
    "feeds": cmd_feeds,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FeederError as e:
        print(f"feeder: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: one line for the user, the traceback at debug level
        log.debug("unexpected error", exc_info=True)
        print(f"feeder: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

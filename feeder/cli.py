"""The ``feeder`` command line: build, check, run, trigger, feeds, status.

Exit codes: 0 success; 1 a fatal error (bad configuration, unwritable
output, problems found by ``check``, no daemon for ``trigger``); 2 a usage
error. Only this module configures logging.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feeder import __version__
from feeder.build.lock import OutputClaim
from feeder.config import Settings, load_settings
from feeder.errors import FeederError
from feeder.model import Skipped, one_line, plural
from feeder.service.logsetup import NoSkipLines, OneLineFormatter, apply_levels

log = logging.getLogger("feeder")


#: The levels ``--log-level`` takes, as ``[daemon] log_level`` does.
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: The built-in defaults, quoted in the options' help.
_BUILTIN = Settings()


def _default(key: str, value: object) -> str:
    """``(default: [section] key of the configuration, else VALUE)``."""
    return f"(default: {key} of the configuration, else {value})"


def _log_level(value: str) -> str:
    """``--log-level``, upper-cased; an unknown level is a usage error, not a traceback."""
    level = value.strip().upper()
    if level not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"unknown level {value!r}: choose DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    return level


def _common(p: argparse.ArgumentParser, *, log_level: str) -> None:
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file (default: config/feeder.toml if present, else the built-in "
        "defaults)",
    )
    p.add_argument(
        "--seeds",
        type=Path,
        metavar="DIR",
        help=f"seed directory {_default('[build] seeds', _BUILTIN.seeds)}",
    )
    p.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help=f"the Atom feed to write {_default('[build] output', _BUILTIN.output)}",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="where feeder keeps its state and cache, never inside the output directory "
        + _default("[build] state_dir", "$XDG_STATE_HOME/feeder/<hash of the output path>"),
    )
    p.add_argument(
        "--log-level",
        metavar="LEVEL",
        type=_log_level,
        help=f"DEBUG, INFO, WARNING or ERROR (default: {log_level})",
    )


def _max_entries(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-entries",
        type=_nonneg,
        metavar="N",
        help="entries in the feed, newest first, 0 for all "
        + _default("[build] max_entries", _BUILTIN.max_entries),
    )


def _json_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--json",
        action="store_true",
        help=f"print {what} as one JSON document on one line on stdout (default: text)",
    )


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
    _common(b, log_level="WARNING")
    _max_entries(b)
    _json_flag(b, "the build report")
    b.add_argument(
        "--full",
        action="store_true",
        help="ignore the state: re-read every seed (default: only the seeds that changed)",
    )
    _allow_shrink(b)
    b.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="a progress bar on stderr while seeds are parsed "
        "(default: auto, on a terminal for builds longer than half a second)",
    )

    c = sub.add_parser("check", help="parse and normalize every seed without writing")
    _common(c, log_level="ERROR")
    c.add_argument(
        "--explain",
        type=Path,
        metavar="FILE",
        help="show what content cleaning drops from one seed, and by which rule "
        "(default: check every seed)",
    )
    _json_flag(c, "the problems (or the explanation)")

    r = sub.add_parser("run", help="run the daemon: poll, rebuild, serve")
    _common(r, log_level=f"[daemon] log_level of the configuration, else {_BUILTIN.log_level}")
    _max_entries(r)
    r.add_argument(
        "--interval",
        type=_positive,
        metavar="SECONDS",
        help=f"seconds between polls {_default('[daemon] interval', f'{_BUILTIN.interval:g}')}",
    )
    r.add_argument(
        "--settle-seconds",
        type=float,
        metavar="SECONDS",
        help="seeds modified more recently than this wait for the next poll "
        + _default("[daemon] settle_seconds", f"{_BUILTIN.settle_seconds:g}"),
    )
    serve = r.add_mutually_exclusive_group()
    serve.add_argument(
        "--serve",
        metavar="HOST:PORT",
        help=f"serve the output directory {_default('[daemon] serve', _BUILTIN.serve)}",
    )
    serve.add_argument("--no-serve", action="store_true", help="do not serve (default: serve)")
    r.add_argument(
        "--log-json",
        action="store_true",
        help="log JSON lines " + _default("[daemon] log_json", "text lines"),
    )
    _allow_shrink(r)

    t = sub.add_parser("trigger", help="make the running daemon rebuild now")
    _common(t, log_level="WARNING")
    t.add_argument(
        "--timeout",
        type=_positive,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the rebuild (default: 300)",
    )
    _json_flag(t, "the build report")

    f = sub.add_parser("feeds", help="list the configured feeds and their entry counts")
    _common(f, log_level="WARNING")
    _json_flag(f, "the feeds")

    st = sub.add_parser("status", help="ask the running daemon how it is doing")
    _common(st, log_level="WARNING")
    _json_flag(st, "the daemon's status")
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
    handler.setFormatter(OneLineFormatter("feeder: %(levelname)s: %(message)s"))
    handler.addFilter(NoSkipLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    apply_levels(logging.getLevelName(level))


class _ProgressBar:
    """``progress(done, total)`` as a bar on stderr, shown after ``delay`` seconds."""

    def __init__(self, delay: float = 0.5) -> None:
        self.bar: Any = None
        self.delay = delay

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if done >= total:
                return
            from tqdm import tqdm  # imported for a bar that will show

            self.bar = tqdm(
                total=total, desc="feeder: parsing", unit=" seeds", delay=self.delay, leave=False
            )
        if self.bar:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def cmd_build(args: argparse.Namespace) -> int:
    level = args.log_level.upper() if args.log_level else "WARNING"
    _basic_logging(level)
    settings = _settings(args)
    from feeder.build.pipeline import build

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
    _print_skipped(result.skipped, each_duplicate=level in ("DEBUG", "INFO"))
    state = "written" if result.changed else "unchanged"
    print(
        one_line(
            f"feeder: {plural(result.seeds, 'seed')} read, "
            f"{plural(result.entries, 'entry', 'entries')} written, {len(result.skipped)} "
            f"skipped -> {result.output} ({state}, {result.duration_s:.2f} s)"
        ),
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def _print_skipped(skipped: Sequence[Skipped], *, each_duplicate: bool) -> None:
    """Each skipped seed on a line of its own; older fetches of an article in one line.

    A seed skipped for what it holds (empty, binary, still being written) is
    something to act on and is named on every build. A duplicate is the
    crawler fetching an article again: expected, and in a large directory
    hundreds of lines on every cron run, so it is counted unless ``each_duplicate``
    (``--log-level info``); ``--json`` and ``feeder check`` name them all.
    """
    duplicates = 0
    for s in skipped:
        if s.duplicate and not each_duplicate:
            duplicates += 1
        else:
            print(one_line(f"feeder: skipped {s.path}: {s.reason}"), file=sys.stderr)
    if duplicates:
        print(
            f"feeder: skipped {plural(duplicates, 'duplicate')}: older fetches of articles "
            "a newer seed publishes (--log-level info or feeder check names each)",
            file=sys.stderr,
        )


def cmd_check(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "ERROR")
    settings = _settings(args)
    from feeder.build.check import check_seeds, explain_seed

    if args.explain is not None:
        report = explain_seed(args.explain, settings=settings)
        if args.json:
            _print_json(report.to_json())
        else:  # a line of the report per line, none able to recolour the terminal
            print("\n".join(map(one_line, report.text().split("\n"))))
        return 0
    problems = check_seeds(settings)
    if args.json:
        _print_json([{"path": p, "problems": list(ps)} for p, ps in problems.items()])
    for path, items in problems.items():
        for item in items:
            print(one_line(f"{path}: {item}"), file=sys.stderr)
    print(f"feeder: {plural(len(problems), 'seed')} with problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_run(args: argparse.Namespace) -> int:
    from feeder.service.daemon import configure_logging, run

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
    from feeder.service.daemon import trigger

    return trigger(settings, timeout=args.timeout, json=args.json)


def cmd_feeds(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "WARNING")
    settings = _settings(args)
    from feeder.build.listing import list_feeds

    rows, built = list_feeds(settings)
    if not built:
        print("feeder: no build yet (run feeder build): counts are 0", file=sys.stderr)
    if args.json:
        _print_json(rows)
        return 0
    print("name\tentries/matched\turl\ttitle")
    for row in rows:
        print(f"{row['name']}\t{row['entries']}/{row['matched']}\t{row['url']}\t{row['title']}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    _basic_logging(args.log_level.upper() if args.log_level else "WARNING")
    settings = _settings(args)
    from feeder.service.control import status

    return status(settings, json=args.json)


def _print_json(value: object) -> None:
    """One JSON document on one line (what every ``--json`` prints)."""
    print(json.dumps(value, ensure_ascii=False))


COMMANDS = {
    "build": cmd_build,
    "check": cmd_check,
    "run": cmd_run,
    "trigger": cmd_trigger,
    "feeds": cmd_feeds,
    "status": cmd_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FeederError as e:
        print(one_line(f"feeder: error: {e}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (``| head``): end quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # a bug: one line for the user, the traceback at debug level
        log.debug("unexpected error", exc_info=True)
        print(one_line(f"feeder: internal error: {type(e).__name__}: {e}"), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Logging for the command line and the daemon: plain text or one JSON object per line.

Only the CLI calls :func:`configure_logging`; library modules just use
``logging.getLogger(__name__)``. JSON lines exist for log shippers (journald
with a JSON parser, Vector, Loki, …) that want fields, not a format to parse.
"""

from __future__ import annotations

import json as _json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from feeder.model import one_line

#: Attributes every ``LogRecord`` has; anything else came from ``extra=`` and
#: is copied into the JSON object as a field.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "color_message", "taskName"}

#: The third-party loggers an operator debugging the daemon wants to read:
#: shown at DEBUG, quieted to WARNING otherwise (APScheduler logs every job run
#: at INFO, uvicorn its start-up banner and, at DEBUG, each request).
_NOISY = ("apscheduler", "uvicorn", "uvicorn.error", "uvicorn.access")

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """Format a record as a single-line JSON object.

    Fields: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, the
    ``extra=`` fields of the call, and ``exc`` when a traceback was logged.
    """

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return _json.dumps(data, ensure_ascii=False, default=str)


class OneLineFormatter(logging.Formatter):
    """Text lines in which a message never spans two lines (:func:`~feeder.model.one_line`).

    A traceback, appended after the message, keeps its lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record))


class NoSkipLines(logging.Filter):
    """Drop the pipeline's per-seed skip records (``extra={"seed_skip": True}``).

    ``build`` and ``check`` list the skipped seeds from the result, and the
    daemon names each newly skipped one itself, so none is said twice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "seed_skip", False)


class _FeederHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so a second call replaces it."""


def configure_logging(level: str, json: bool) -> None:
    """Send log records at ``level`` and above to stderr, as text or JSON lines.

    Safe to call again (on a configuration reload): the handler installed by
    the previous call is replaced, handlers installed by others are kept.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _FeederHandler)]:
        root.removeHandler(old)
    handler = _FeederHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json else OneLineFormatter(_TEXT_FORMAT))
    handler.addFilter(NoSkipLines())
    root.addHandler(handler)
    apply_levels(numeric)
    logging.captureWarnings(True)


def apply_levels(level: int) -> None:
    """Let feeder's own loggers speak at ``level``, other libraries from WARNING up.

    Why not the root at ``level``: at DEBUG, markdown-it logs every block rule
    it tries on every seed (forty thousand lines for the 37 pages of the
    development corpus), which buries feeder's own lines and slows the build
    to a crawl. Only the libraries of :data:`_NOISY` are let through at DEBUG.
    """
    root_level = max(level, logging.WARNING)
    logging.getLogger().setLevel(root_level)
    logging.getLogger("feeder").setLevel(level)
    noisy = logging.DEBUG if level <= logging.DEBUG else root_level
    for name in _NOISY:
        logging.getLogger(name).setLevel(noisy)
    # "skipped: maximum number of running instances reached" at every tick of a
    # long build; the daemon logs one line about an overlong build itself.
    logging.getLogger("apscheduler.scheduler").setLevel(max(noisy, logging.ERROR))

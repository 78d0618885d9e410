"""One exception tree, rooted at :class:`FeederError`.

Every error carries the context a user needs to act on it (the file, the
setting) and is chained with ``from`` to its cause, so a log line is enough
to find the problem without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class FeederError(Exception):
    """Base class of every error feeder raises on purpose."""


class ConfigError(FeederError):
    """The configuration (file, option or site rule) is invalid."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = str(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)


class SeedError(FeederError):
    """One seed article cannot become an entry; the rest of the feed goes on.

    ``rel`` is the seed's path relative to the seed directory and ``reason``
    a one-line, human-readable explanation.
    """

    def __init__(self, rel: str, reason: str, *, transient: bool = False) -> None:
        self.rel = rel
        self.reason = " ".join(reason.split())
        #: A transient error (file vanished, still being written) is retried
        #: at the next poll instead of being recorded as a bad version.
        self.transient = transient
        super().__init__(f"{rel}: {self.reason}")


class OutputError(FeederError):
    """The feed could not be written; the previously published file is untouched."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class StateError(FeederError):
    """The state store cannot be used; nothing in it was changed or deleted.

    ``path`` is the state database (or its directory) and ``reason`` what
    SQLite or the operating system said, in words.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class StateLocked(StateError):
    """Another process held the state longer than the busy timeout."""


class StateCorrupt(StateError):
    """The state is proven damaged: SQLite says so, or its own rows do not decode.

    The only state error that rebuilds the state, and the damaged file is
    moved aside (``state.sqlite3.corrupt-…``), never deleted.
    """


class OutputClaimed(FeederError):
    """Another feeder process with another state directory writes this output."""


class ShrinkRefused(FeederError):
    """A build found far fewer seeds than the published feed was built from.

    A dropped mount or an emptied directory looks like this; the published
    feeds are kept until the seeds are back or ``allow_shrink`` is set.
    """


class LockTimeout(FeederError):
    """Another feeder process holds the build lock for too long."""


class SeedDirError(FeederError):
    """The seed directory is missing or cannot be listed."""


class AlreadyRunning(FeederError):
    """Another daemon holds the state directory."""


class NotRunning(FeederError):
    """No daemon answers on the state directory's control socket."""


class ServeError(FeederError):
    """The HTTP server cannot listen on the configured address."""


class DateError(FeederError, ValueError):
    """The value is not a date feeder understands (a field falls back, with a warning)."""


class URLError(FeederError, ValueError):
    """The url is unusable as an article link (relative, not http(s), malformed)."""

"""The ``[[feeds]]`` and ``[per_source]`` tables: more feeds than the one of everything.

Each ``[[feeds]]`` table names a feed, where it is written (relative to the
output directory, because that is what the daemon serves), in which formats,
and which entries it holds: filters on the source, the url's host, the tags,
keywords or regular expressions on the title and content, and a date window.
``[per_source]`` asks for one feed per distinct source. Every key is checked
here, before any build: an unknown key, a wrong type, a bad regular
expression or glob is a :class:`~feeder.errors.ConfigError` naming the file
and the key. This module imports nothing of feeder but its errors, so
:mod:`feeder.config` can use it without an import cycle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from feeder.errors import ConfigError

FORMATS = ("atom", "rss", "json")
#: Suffix of each format's file when no explicit path is given.
SUFFIXES = {"atom": ".atom", "rss": ".rss", "json": ".json"}
MATCH_FIELDS = ("title", "content")
#: File names in the output directory that belong to the main feed and its pages.
RESERVED = frozenset({"index.html", "feed.xsl", "feeds.opml"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*\Z")
_FILTERS = ("source", "host", "tag", "keyword", "regex")


@dataclass(frozen=True)
class Filters:
    """Which entries a feed holds; every configured criterion must hold (AND).

    Within one criterion any value may match (OR); an ``exclude_*`` match
    vetoes the entry. Globs and keywords match case-insensitively.
    """

    source: tuple[str, ...] = ()
    host: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    keyword: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    exclude_source: tuple[str, ...] = ()
    exclude_host: tuple[str, ...] = ()
    exclude_tag: tuple[str, ...] = ()
    exclude_keyword: tuple[str, ...] = ()
    exclude_regex: tuple[str, ...] = ()
    #: Where keywords and regular expressions look: the title, the content or both.
    match_in: tuple[str, ...] = MATCH_FIELDS
    #: Date window on ``published`` (inclusive ``since``, exclusive ``until``).
    since: datetime | date | None = None
    until: datetime | date | None = None

    @property
    def needs_text(self) -> bool:
        """True when matching reads the seed's content (kept in the state as text)."""
        text = self.keyword or self.regex or self.exclude_keyword or self.exclude_regex
        return bool(text) and "content" in self.match_in


@dataclass(frozen=True)
class FeedSpec:
    """One configured feed: its identity, outputs, size and filters."""

    name: str
    title: str
    #: Atom document, relative to the output directory (POSIX separators).
    output: str
    subtitle: str = ""
    formats: tuple[str, ...] = ("atom",)
    rss_output: str = ""
    json_output: str = ""
    #: ``None``: the build's ``max_entries``.
    max_entries: int | None = None
    #: RFC 5005 archive documents for entries beyond ``max_entries``.
    archive: bool = False
    filters: Filters = Filters()

    def outputs(self) -> dict[str, str]:
        """Relative path of each format's document, keyed by format."""
        out: dict[str, str] = {}
        for fmt in self.formats:
            explicit = {"rss": self.rss_output, "json": self.json_output}.get(fmt, "")
            out[fmt] = explicit or _with_suffix(self.output, SUFFIXES[fmt])
        out["atom"] = self.output
        return {f: out[f] for f in FORMATS if f in out}


@dataclass(frozen=True)
class PerSource:
    """``[per_source]``: one feed per distinct source, named by a stable slug."""

    enabled: bool = True
    directory: str = "sources"
    formats: tuple[str, ...] = ("atom",)
    max_entries: int | None = None
    archive: bool = False
    #: Title of each feed; ``{source}`` is replaced by the source's name.
    title: str = "{source}"
    exclude_source: tuple[str, ...] = ()


def _with_suffix(path: str, suffix: str) -> str:
    stem, dot, ext = path.rpartition(".")
    return (stem if dot and "/" not in ext else path) + suffix


def check_glob(pattern: str) -> None:
    """Raise ``ValueError`` for a glob that cannot mean what was written."""
    if not pattern.strip():
        raise ValueError("empty pattern")
    depth = 0
    for ch in pattern:
        if ch == "[":
            if depth:
                raise ValueError("'[' inside a character class")
            depth = 1
        elif ch == "]" and depth:
            depth = 0
    if depth:
        raise ValueError("unclosed '['")


class _Table:
    """Typed access to one TOML table that remembers which keys were used."""

    def __init__(self, data: Mapping[str, Any], where: str, path: Path) -> None:
        self.data, self.where, self.path = data, where, path
        self.used: set[str] = set()

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where} key {key!r}: {message}", path=self.path)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is not bool:
            raise self.error(key, "must not be a boolean")
        if not isinstance(value, kind):
            raise self.error(key, f"has the wrong type {type(value).__name__}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, (str, list), [])
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(v, str) and v for v in items):
            raise self.error(key, "must be a non-empty string or a list of them")
        return tuple(items)

    def path_value(self, key: str, default: str) -> str:
        value = str(self.get(key, str, default))
        if not _PATH.match(value) or any(p in (".", "..") for p in value.split("/")):
            raise self.error(key, f"{value!r} is not a relative, URL-safe path")
        return value

    def formats(self) -> tuple[str, ...]:
        items = self.strings("formats") or ("atom",)
        for fmt in items:
            if fmt not in FORMATS:
                raise self.error("formats", f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
        return tuple(f for f in FORMATS if f in items or f == "atom")

    def max_entries(self) -> int | None:
        value = self.get("max_entries", int, None)
        if value is not None and value < 0:
            raise self.error("max_entries", "must be 0 (all) or a positive number")
        return None if value is None else int(value)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def _when(t: _Table, key: str) -> datetime | date | None:
    value = t.get(key, (str, date), None)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as e:
            raise t.error(key, f"{value!r} is not an ISO 8601 date") from e
    return value  # type: ignore[no-any-return]


def _filters(t: _Table) -> Filters:
    values: dict[str, Any] = {}
    for base in _FILTERS:
        for key in (base, f"exclude_{base}"):
            items = t.strings(key)
            for item in items:
                try:
                    if base == "regex":
                        re.compile(item)
                    elif base in ("source", "host"):
                        check_glob(item)
                except (re.error, ValueError) as e:
                    kind = "regular expression" if base == "regex" else "glob"
                    raise t.error(key, f"bad {kind} {item!r}: {e}") from e
            values[key] = items
    match_in = t.strings("match_in") or MATCH_FIELDS
    for item in match_in:
        if item not in MATCH_FIELDS:
            raise t.error("match_in", f"unknown field {item!r} (use title, content)")
    since, until = _when(t, "since"), _when(t, "until")
    return Filters(**values, match_in=tuple(match_in), since=since, until=until)


def _feed(data: Any, index: int, path: Path) -> FeedSpec:
    if not isinstance(data, dict):
        raise ConfigError(f"[[feeds]] #{index} must be a table", path=path)
    t = _Table(data, f"[[feeds]] #{index}", path)
    name = t.get("name", str, None)
    if name is None or not _NAME.match(name):
        raise t.error("name", "is required: letters, digits, '.', '_' or '-' (at most 64)")
    t.where = f"[[feeds]] {name!r}"
    spec = FeedSpec(
        name=name,
        title=str(t.get("title", str, name)),
        subtitle=str(t.get("subtitle", str, "")),
        output=t.path_value("output", f"{name}.atom"),
        formats=t.formats(),
        rss_output=t.path_value("rss_output", "x") if "rss_output" in data else "",
        json_output=t.path_value("json_output", "x") if "json_output" in data else "",
        max_entries=t.max_entries(),
        archive=bool(t.get("archive", bool, False)),
        filters=_filters(t),
    )
    t.finish()
    return spec


def _per_source(data: Any, path: Path) -> PerSource:
    if isinstance(data, bool):
        return PerSource(enabled=data)
    if not isinstance(data, dict):
        raise ConfigError("[per_source] must be a table (or per_source = true)", path=path)
    t = _Table(data, "[per_source]", path)
    excluded = t.strings("exclude_source")
    for item in excluded:
        try:
            check_glob(item)
        except ValueError as e:
            raise t.error("exclude_source", f"bad glob {item!r}: {e}") from e
    title = str(t.get("title", str, "{source}"))
    if "{source}" not in title:
        raise t.error("title", "must contain {source}")
    spec = PerSource(
        enabled=bool(t.get("enabled", bool, True)),
        directory=t.path_value("directory", "sources"),
        formats=t.formats(),
        max_entries=t.max_entries(),
        archive=bool(t.get("archive", bool, False)),
        title=title,
        exclude_source=excluded,
    )
    t.finish()
    return spec


def parse_section(section: str, value: Any, path: Path) -> dict[str, Any]:
    """``Settings`` keyword arguments of the ``feeds`` or ``per_source`` section."""
    if section == "per_source":
        return {"per_source": _per_source(value, path)}
    if not isinstance(value, list):
        raise ConfigError("feeds must be an array of tables: write [[feeds]]", path=path)
    specs = tuple(_feed(item, i, path) for i, item in enumerate(value, 1))
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"[[feeds]] {spec.name!r} key 'name': used twice", path=path)
        seen[spec.name] = spec.name
    return {"feeds": specs}


SECTIONS = ("feeds", "per_source")


def check_outputs(
    feeds: tuple[FeedSpec, ...],
    per_source: PerSource | None,
    *,
    main: str,
    max_entries: int,
    path: Path | None,
) -> None:
    """Refuse two feeds writing one file, a feed over the main feed or its pages,
    and archiving without a page size."""
    taken = {main: "the main feed", **{n: "feeder's pages" for n in RESERVED}}
    for spec in feeds:
        for fmt, rel in spec.outputs().items():
            if rel in taken:
                raise ConfigError(
                    f"[[feeds]] {spec.name!r} {fmt} output {rel!r}: already used by {taken[rel]}",
                    path=path,
                )
            taken[rel] = f"feed {spec.name!r}"
        size = max_entries if spec.max_entries is None else spec.max_entries
        if spec.archive and not size:
            raise ConfigError(
                f"[[feeds]] {spec.name!r} key 'archive': needs max_entries > 0", path=path
            )
    if per_source is not None and per_source.enabled:
        size = max_entries if per_source.max_entries is None else per_source.max_entries
        if per_source.archive and not size:
            raise ConfigError("[per_source] key 'archive': needs max_entries > 0", path=path)
        clash = [r for r in taken if r == per_source.directory]
        if clash:
            raise ConfigError(
                f"[per_source] key 'directory': {clash[0]!r} is a feed's file", path=path
            )

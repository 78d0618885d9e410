"""Site rules: per-host instructions that help the cleaner find the article.

A rule is one TOML file (``feeder/data/sites/*.toml`` ships with feeder; the
``sites_dir`` setting adds a directory of the user's own). Every key is
optional except ``hosts``::

    name = "example"                    # defaults to the file name
    hosts = ["example.com", "*.example.org", "*"]
    drop_lines = ["Share this"]         # a block or line with exactly this text
    drop_patterns = ['Views: \\d+']     # regex matched against a whole block or line
    drop_sections = ["Related posts"]   # this heading and the links that follow it
    start_after = ['Published .*']      # the article starts after this block
    start_at = ['By .*']                # ... or at this block
    end_at = ['Comments']               # the article ends before this block
    end_after = ['THE END']             # ... or with this block
    unwrap = ["font", "span"]           # elements replaced by their children
    end_card = true                     # the page ends with an account card (below)
    enabled = true

Patterns are Python regular expressions matched (``fullmatch``,
case-insensitive) against the text of a block with white space folded, so
they only remove what they name. Rules are validated when loaded: a mistake
is a :class:`~feeder.errors.ConfigError` naming the file, never a silent no-op.

``end_card``: the article is followed by the account's card (its name,
slogans and QR codes: short lines and images), dropped as the last run of
such blocks when it holds an image and two lines or more.

A host pattern without ``*`` matches the host and its subdomains; ``*``
patterns are shell-style globs (``*`` alone applies the rule to every page).
User rules *extend* the shipped ones; a user rule with the same ``name`` as a
shipped one replaces it (``enabled = false`` switches it off).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeder.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bumped when the cleaning algorithm changes, so cached renderings are redone.
CLEANER_VERSION = "7"

_LIST_KEYS = (
    "drop_lines",
    "drop_patterns",
    "drop_sections",
    "start_after",
    "start_at",
    "end_at",
    "end_after",
)
_PATTERN_KEYS = frozenset(_LIST_KEYS) - {"drop_lines"}
_BOOL_KEYS = ("enabled", "end_card")
_KNOWN_KEYS = frozenset({"name", "hosts", "unwrap", "description", *_BOOL_KEYS, *_LIST_KEYS})
_TAG_RE = re.compile(r"[a-z][a-z0-9]*")
_HOST_RE = re.compile(r"[a-z0-9*?.\-\[\]]+")
_MAX_PATTERN = 2000


def fold(text: str) -> str:
    """``text`` with every run of white space replaced by one space, stripped."""
    return " ".join(text.split())


@dataclass(frozen=True)
class SiteRule:
    """The validated rule of one site (one TOML file)."""

    name: str
    path: str
    hosts: tuple[str, ...]
    drop_lines: frozenset[str] = frozenset()
    drop_patterns: tuple[re.Pattern[str], ...] = ()
    drop_sections: tuple[re.Pattern[str], ...] = ()
    start_after: tuple[re.Pattern[str], ...] = ()
    start_at: tuple[re.Pattern[str], ...] = ()
    end_at: tuple[re.Pattern[str], ...] = ()
    end_after: tuple[re.Pattern[str], ...] = ()
    unwrap: tuple[str, ...] = ()
    end_card: bool = False
    #: The raw, validated TOML data (for the digest).
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def matches_host(self, host: str) -> bool:
        """True if this rule applies to pages served from ``host``."""
        host = host.lower().rstrip(".")
        for pattern in self.hosts:
            if any(c in pattern for c in "*?["):
                if fnmatchcase(host, pattern):
                    return True
            elif host == pattern or host.endswith("." + pattern):
                return True
        return False

    def drops_line(self, text: str) -> bool:
        """True if the folded ``text`` is named by ``drop_lines`` or ``drop_patterns``."""
        if not text:
            return False
        if text.casefold() in self.drop_lines:
            return True
        return any(p.fullmatch(text) for p in self.drop_patterns)


@dataclass(frozen=True)
class SiteRules:
    """All the rules in force, in a stable order (shipped first, then the user's)."""

    rules: tuple[SiteRule, ...] = ()

    def for_url(self, url: str) -> tuple[SiteRule, ...]:
        """The rules that apply to ``url`` (none for an empty or host-less URL)."""
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            return ()
        if not host:
            return ()
        return tuple(r for r in self.rules if r.matches_host(host))

    @property
    def digest(self) -> str:
        """A stable hash of every rule and of the cleaner version: a cache key."""
        data = [CLEANER_VERSION, *({"name": r.name, **r.raw} for r in self.rules)]
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _strings(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings", path=path)
    return list(value)


def _compile(path: Path, key: str, values: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    out = []
    for value in values:
        if not value.strip():
            raise ConfigError(f"{key}: empty pattern", path=path)
        if len(value) > _MAX_PATTERN:
            raise ConfigError(f"{key}: pattern longer than {_MAX_PATTERN} characters", path=path)
        try:
            out.append(re.compile(value, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"{key}: bad regular expression {value!r}: {exc}", path=path) from exc
    return tuple(out)


def parse_rule(data: Mapping[str, Any], path: Path) -> SiteRule | None:
    """Validate the TOML ``data`` of ``path``; ``None`` if the rule is disabled."""
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS))
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} (known: {known})", path=path)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("name must be a non-empty string", path=path)
    for key in _BOOL_KEYS:
        if key in data and not isinstance(data[key], bool):
            raise ConfigError(f"{key} must be true or false", path=path)
    if "description" in data and not isinstance(data["description"], str):
        raise ConfigError("description must be a string", path=path)
    if "hosts" not in data:
        raise ConfigError("hosts is required (a list of host names or patterns)", path=path)
    hosts = [h.strip().lower() for h in _strings(path, "hosts", data["hosts"])]
    if not hosts:
        raise ConfigError("hosts must not be empty", path=path)
    for host in hosts:
        if not _HOST_RE.fullmatch(host):
            raise ConfigError(f"hosts: {host!r} is not a host name or pattern", path=path)
    lists = {key: _strings(path, key, data.get(key, [])) for key in _LIST_KEYS}
    unwrap = [t.strip().lower() for t in _strings(path, "unwrap", data.get("unwrap", []))]
    for tag in unwrap:
        if not _TAG_RE.fullmatch(tag):
            raise ConfigError(f"unwrap: {tag!r} is not an element name", path=path)
    compiled = {key: _compile(path, key, lists[key]) for key in _PATTERN_KEYS}
    if data.get("enabled", True) is False:
        return None
    return SiteRule(
        name=name.strip(),
        path=str(path),
        hosts=tuple(hosts),
        drop_lines=frozenset(fold(s).casefold() for s in lists["drop_lines"] if s.strip()),
        unwrap=tuple(unwrap),
        end_card=bool(data.get("end_card", False)),
        raw={k: v for k, v in data.items() if k != "name"},
        **compiled,
    )


def _read(path: Path, text: str) -> Mapping[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from exc


def _shipped() -> list[tuple[Path, str]]:
    root = importlib.resources.files("feeder") / "data" / "sites"
    if not root.is_dir():
        logger.warning("no shipped site rules found in %s (package data missing?)", root)
        return []
    files = sorted((e for e in root.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name)
    return [(Path(str(e)), e.read_text(encoding="utf-8")) for e in files]


def _user(sites_dir: Path) -> list[tuple[Path, str]]:
    if not sites_dir.is_dir():
        raise ConfigError("sites_dir is not a directory", path=sites_dir)
    out = []
    for path in sorted(sites_dir.glob("*.toml")):
        try:
            out.append((path, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read site rule: {exc}", path=path) from exc
    return out


def load_rules(sites_dir: Path | None = None) -> SiteRules:
    """The shipped rules, extended (and overridden by name) by those in ``sites_dir``."""
    by_name: dict[str, SiteRule | None] = {}
    sources = _shipped() + (_user(Path(sites_dir)) if sites_dir is not None else [])
    for path, text in sources:
        data = _read(path, text)
        rule = parse_rule(data, path)
        name = rule.name if rule is not None else str(data.get("name", path.stem)).strip()
        by_name.pop(name, None)  # a later file of the same name replaces the earlier one
        by_name[name] = rule
    return SiteRules(tuple(r for r in by_name.values() if r is not None))

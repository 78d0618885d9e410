"""Typed settings from a TOML file, the built-in defaults and command-line overrides.

Relative paths in a configuration file are resolved against the directory of
that file, so a daemon started from anywhere (systemd, cron) reads the same
seeds; relative paths given on the command line or taken from the built-in
defaults are resolved against the current directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeder.errors import ConfigError
from feeder.feedconf import SECTIONS as FEED_SECTIONS
from feeder.feedconf import FeedSpec, PerSource, check_outputs, parse_section

log = logging.getLogger(__name__)

#: The configuration file used when ``--config`` is not given and it exists.
DEFAULT_CONFIG = Path("config/feeder.toml")


@dataclass(frozen=True)
class FeedSettings:
    """What the feed says about itself."""

    title: str = "feeder"
    subtitle: str = "Articles republished by feeder"
    author: str = "feeder"
    #: The feed's permanent id; empty means ``tag:<tag_authority>,<tag_date>:feed``.
    id: str = ""
    #: The public URL of the feed document (``link rel="self"``).
    self_url: str = "http://127.0.0.1:8080/feed.atom"
    #: The public URL of the HTML page that goes with the feed.
    alternate_url: str = "http://127.0.0.1:8080/"
    #: The feed's language; "" means the language most of its entries are in.
    language: str = ""
    #: The tagging entity of ``tag:`` URIs (RFC 4151): a domain or e-mail you own.
    tag_authority: str = "feeder.localhost"
    tag_date: str = "2024"

    @property
    def feed_id(self) -> str:
        return self.id or f"tag:{self.tag_authority},{self.tag_date}:feed"


def setting(
    default: Any,
    *,
    section: str,
    toml: type | tuple[type, ...],
    path: bool = False,
    renders: bool = False,
    factory: Any = None,
) -> Any:
    """A field of :class:`Settings` with its schema: where it lives in the TOML file
    (``[section] name``), the TOML types it takes, whether it is a path
    (resolved against the file's directory), and whether it changes rendered
    entries (part of :func:`fingerprint`). Validation, path resolution and the
    fingerprint are all read from these, so a new setting is declared once.
    """
    meta = {"section": section, "toml": toml, "path": path, "renders": renders}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Every setting of a build and of the daemon, already validated."""

    seeds: Path = setting(Path("seeds"), section="build", toml=str, path=True)
    output: Path = setting(Path("public/feed.atom"), section="build", toml=str, path=True)
    #: ``None`` means the per-output default under ``$XDG_STATE_HOME``.
    state_dir: Path | None = setting(None, section="build", toml=str, path=True)
    max_entries: int = setting(100, section="build", toml=int)
    max_content_bytes: int = setting(1_048_576, section="build", toml=int, renders=True)
    summary_chars: int = setting(200, section="build", toml=int, renders=True)
    timezone: str = setting("UTC", section="build", toml=str, renders=True)
    #: ``[timezones]``: host → zone of its naive dates.
    host_timezones: Mapping[str, str] = setting(
        None,
        section="timezones",
        toml=dict,
        renders=True,
        factory=lambda: {"mp.weixin.qq.com": "Asia/Shanghai"},
    )
    #: Directory of site rules (``*.toml``); ``None`` means the rules shipped with feeder.
    sites_dir: Path | None = setting(None, section="build", toml=str, path=True)
    #: Seconds to wait for a state held by another process before failing.
    busy_timeout: float = setting(30.0, section="build", toml=(int, float))
    #: Publish even when far fewer seeds are found than the feed was built from.
    allow_shrink: bool = setting(False, section="build", toml=bool)
    #: Learn a site's chrome once it has this many articles (0: never; see feeder.content.learned).
    learn_min_seeds: int = setting(5, section="build", toml=int)
    #: ... from the lines found in at least this share of them.
    learn_share: float = setting(0.5, section="build", toml=(int, float))
    #: URL template that image sources are rewritten through ("" = none; see imageproxy).
    image_proxy: str = setting("", section="build", toml=str, renders=True)
    #: Globs of the image hosts to proxy (empty: every host).
    image_proxy_hosts: tuple[str, ...] = setting((), section="build", toml=list, renders=True)
    feed: FeedSettings = field(default_factory=FeedSettings)
    #: More feeds than the main one (``[[feeds]]``, :mod:`feeder.feedconf`).
    feeds: tuple[FeedSpec, ...] = ()
    #: One feed per source (``[per_source]``); ``None`` means none.
    per_source: PerSource | None = None
    interval: float = setting(300.0, section="daemon", toml=(int, float))
    settle_seconds: float = setting(2.0, section="daemon", toml=(int, float))
    serve: str | None = setting("127.0.0.1:8080", section="daemon", toml=str)
    log_level: str = setting("INFO", section="daemon", toml=str)
    log_json: bool = setting(False, section="daemon", toml=bool)
    #: Where the configuration came from (for messages and SIGHUP reloads).
    config_path: Path | None = None

    @property
    def resolved_state_dir(self) -> Path:
        """The state directory: the configured one, else one per output file.

        The default lives under ``$XDG_STATE_HOME/feeder`` (``~/.local/state``),
        keyed by the absolute output path, so it is never inside the served
        output directory and two feeds never share a state.
        """
        if self.state_dir is not None:
            return self.state_dir
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        key = hashlib.sha256(str(self.output.resolve()).encode()).hexdigest()[:16]
        return Path(base) / "feeder" / key

    def tz_for_host(self, host: str) -> ZoneInfo:
        """The timezone of naive dates from ``host`` (exact host or a parent domain)."""
        host = host.lower()
        while host:
            if host in self.host_timezones:
                return ZoneInfo(self.host_timezones[host])
            _, _, host = host.partition(".")
        return ZoneInfo(self.timezone)


#: ``[section] key`` → the TOML types it takes, from the fields' schemas.
_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "feed": {f.name: str for f in fields(FeedSettings)}
}
for _f in fields(Settings):
    if "section" in _f.metadata and _f.metadata["section"] != "timezones":
        _KEYS.setdefault(_f.metadata["section"], {})[_f.name] = _f.metadata["toml"]
_PATH_KEYS = {f.name for f in fields(Settings) if f.metadata.get("path")}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def _check_zone(name: str, where: str, path: Path | None) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"{where}: unknown timezone {name!r}", path=path) from e


def _from_table(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Validate a parsed TOML document and turn it into ``Settings`` keyword arguments."""
    out: dict[str, Any] = {}
    base = path.parent
    for section, value in data.items():
        if section == "timezones":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError("[timezones] must map host names to zone names", path=path)
            for host, zone in value.items():
                _check_zone(zone, f"[timezones] {host}", path)
            out["host_timezones"] = {k.lower(): v for k, v in value.items()}
            continue
        if section in FEED_SECTIONS:
            out.update(parse_section(section, value, path))
            continue
        if section not in _KEYS:
            raise ConfigError(f"unknown section [{section}]", path=path)
        if not isinstance(value, dict):
            raise ConfigError(f"[{section}] must be a table", path=path)
        feed: dict[str, str] = {}
        for key, item in value.items():
            expected = _KEYS[section].get(key)
            if expected is None:
                raise ConfigError(f"unknown key {key!r} in [{section}]", path=path)
            if isinstance(item, bool) and expected is not bool:
                raise ConfigError(f"[{section}] {key} must not be a boolean", path=path)
            if not isinstance(item, expected):
                names = (
                    expected.__name__
                    if isinstance(expected, type)
                    else " or ".join(t.__name__ for t in expected)
                )
                raise ConfigError(
                    f"[{section}] {key} must be {names}, not {type(item).__name__}", path=path
                )
            if isinstance(item, list):
                if not all(isinstance(x, str) for x in item):
                    raise ConfigError(f"[{section}] {key} must be a list of strings", path=path)
                out[key] = tuple(item)
            elif section == "feed":
                feed[key] = str(item)
            elif key in _PATH_KEYS:
                out[key] = (base / Path(str(item)).expanduser()).resolve()
            elif key == "serve":
                out[key] = item or None
            else:
                out[key] = item
        if feed:
            out["feed"] = FeedSettings(**feed)
    return out


def load_settings(
    config: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    use_default_config: bool = True,
) -> Settings:
    """Read settings: built-in defaults < the TOML file < ``overrides``.

    ``config=None`` reads :data:`DEFAULT_CONFIG` when it exists in the current
    directory (and ``use_default_config`` is true); otherwise the built-in
    defaults alone are used. ``overrides`` holds command-line values, already
    typed; ``None`` values are ignored.
    """
    kwargs: dict[str, Any] = {}
    path = config
    if path is None and use_default_config and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    if path is not None:
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read configuration: {e.strerror or e}", path=path) from e
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"invalid TOML: {e}", path=path) from e
        kwargs.update(_from_table(data, path.resolve()))
        kwargs["config_path"] = path.resolve()
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "serve":
            kwargs[key] = value or None  # "" is --no-serve
        else:
            kwargs[key] = Path(value).resolve() if key in _PATH_KEYS else value
    settings = Settings(**kwargs)
    return validate(settings)


def validate(settings: Settings) -> Settings:
    """Check values that TOML types alone do not constrain."""
    where = settings.config_path
    if settings.max_entries < 0:
        raise ConfigError("max_entries must be 0 (all) or a positive number", path=where)
    if settings.max_content_bytes < 1024:
        raise ConfigError("max_content_bytes must be at least 1024", path=where)
    if settings.summary_chars < 0:
        raise ConfigError("summary_chars must not be negative", path=where)
    if settings.interval <= 0:
        raise ConfigError("interval must be a positive number of seconds", path=where)
    if settings.settle_seconds < 0:
        raise ConfigError("settle_seconds must not be negative", path=where)
    if settings.busy_timeout < 0:
        raise ConfigError("busy_timeout must not be negative", path=where)
    if settings.learn_min_seeds < 0:
        raise ConfigError("learn_min_seeds must be 0 (off) or more", path=where)
    if not 0 < settings.learn_share <= 1:
        raise ConfigError("learn_share must be more than 0 and at most 1", path=where)
    problem = _image_proxy_problem(settings.image_proxy)
    if problem:
        raise ConfigError(problem, path=where)
    if settings.log_level.upper() not in _LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {sorted(_LOG_LEVELS)}", path=where)
    _check_zone(settings.timezone, "timezone", where)
    check_outputs(
        settings.feeds,
        settings.per_source,
        main=settings.output.name,
        max_entries=settings.max_entries,
        path=where,
    )
    if settings.serve is not None:
        parse_hostport(settings.serve, where=where)
    if settings.state_dir is not None:
        out_dir = settings.output.resolve().parent
        state = settings.state_dir.resolve()
        if state == out_dir or out_dir in state.parents:
            log.warning(
                "state_dir %s is inside the output directory %s: the server would publish it; "
                "move it elsewhere",
                state,
                out_dir,
            )
    return replace(settings, log_level=settings.log_level.upper())


def _image_proxy_problem(template: str) -> str | None:
    """Why ``template`` is unusable as an image proxy, or None when it is fine."""
    if not template:
        return None
    try:
        filled = template.format(url="u", host="h", path="p")
    except (KeyError, IndexError, ValueError) as e:
        return f"image_proxy: only {{url}}, {{host}} and {{path}} may be used ({e})"
    if not any(f"{{{name}}}" in template for name in ("url", "host", "path")):
        return "image_proxy must contain {url} (or {host} and {path})"
    if urlsplit(filled).scheme not in ("http", "https"):
        return "image_proxy must be an http(s) URL"
    return None


def parse_hostport(value: str, *, where: Path | None = None) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[::1]:8080`` for IPv6) into its parts."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"serve must be HOST:PORT, not {value!r}", path=where)
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def fingerprint(settings: Settings) -> str:
    """A digest of every setting that changes the rendered feed (``renders=True``).

    The state store compares it to decide whether cached entries still hold.
    """
    parts: list[object] = []
    for f in fields(Settings):
        if f.metadata.get("renders"):
            value = getattr(settings, f.name)
            parts.append(sorted(value.items()) if isinstance(value, Mapping) else value)
    if any(spec.filters.needs_text for spec in settings.feeds):
        parts.append("text")  # seeds must be read again to keep their text
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

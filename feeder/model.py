"""The frozen records that flow one way through the pipeline.

scan → :class:`SeedFile`; parse → :class:`Document`; normalize →
:class:`EntryMeta` (cheap, for every seed) and :class:`Rendered` (expensive,
only for entries that reach the feed); build → :class:`BuildResult`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class SeedFile:
    """One candidate seed found by the scan."""

    rel: str  #: path relative to the seed directory, with ``/`` separators
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Document:
    """A seed split into front matter and Markdown body."""

    rel: str
    meta: Mapping[str, object]
    body: str
    digest: str  #: sha256 of the file's bytes: the identity of this version
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntryMeta:
    """Everything about an entry except its rendered content."""

    rel: str
    digest: str
    id: str  #: ``urn:uuid:`` derived from the canonical url
    canonical_url: str
    link: str  #: the original url, as an IRI
    title: str
    source: str
    source_id: str
    source_link: str  #: the origin (scheme://host/) of the url
    published: datetime
    updated: datetime
    tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The body as plain text (capped), kept only when a feed filters on content.
    text: str = ""
    #: The front matter's language tag ("" when it gives none: see ``Rendered.language``).
    language: str = ""


@dataclass(frozen=True)
class Rendered:
    """The expensive part of an entry: clean, sanitized HTML and a text summary."""

    content: str
    summary: str
    truncated: bool = False
    #: The entry's language: the front matter's, else identified from its text.
    language: str = ""


@dataclass(frozen=True)
class Entry:
    meta: EntryMeta
    rendered: Rendered


@dataclass(frozen=True)
class Skipped:
    """A seed that did not become an entry, and why (one line)."""

    path: str
    reason: str

    @property
    def duplicate(self) -> bool:
        """An older fetch of an article another seed publishes: expected, not a fault."""
        return self.reason.startswith(DUPLICATE)


@dataclass(frozen=True)
class FeedReport:
    """One ``[[feeds]]`` or per-source feed of a build (``--json``: ``feeds``)."""

    name: str
    #: Every document written for it (formats, archive pages), absolute paths.
    outputs: tuple[str, ...]
    #: Entries in the subscription document.
    entries: int
    changed: bool
    #: Entries matching the feed's filters (archive pages included).
    matched: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "outputs": list(self.outputs),
            "entries": self.entries,
            "changed": self.changed,
            "matched": self.matched,
        }


def one_line(text: str) -> str:
    """``text`` with each character a terminal would not print shown escaped (``\\n``, ``\\x1b``).

    Seed paths and front-matter values reach messages; a file named
    ``a\\nfeeder: 0 seeds read.md`` must not print a line of its own, nor an
    escape sequence recolour the terminal. One check when all is printable.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 seed``, ``2 seeds``; ``many`` for irregular plurals (``entry``/``entries``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


#: How every duplicate's reason starts (``Skipped.duplicate``).
DUPLICATE = "duplicate of "


def duplicate_reason(winner: str) -> str:
    """Why a seed is not an entry when ``winner`` is a newer fetch of the same article."""
    return f"{DUPLICATE}{winner} (same article; the newest fetch is published)"


@dataclass(frozen=True)
class BuildResult:
    """What one build did; ``--json`` prints it."""

    output: Path
    seeds: int
    entries: int
    changed: bool
    skipped: tuple[Skipped, ...] = ()
    duration_s: float = 0.0
    #: seeds parsed in this build (0 when nothing changed)
    parsed: int = 0
    #: entries rendered in this build (cached ones are not counted)
    rendered: int = 0
    warnings: tuple[str, ...] = field(default=(), compare=False)
    #: seeds modified too recently (``settle_seconds``): read at a later build
    deferred: int = 0
    #: The ``[[feeds]]`` and per-source feeds (empty without any).
    feeds: tuple[FeedReport, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "seeds": self.seeds,
            "entries": self.entries,
            "changed": self.changed,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "duration_s": round(self.duration_s, 4),
            "parsed": self.parsed,
            "rendered": self.rendered,
            "deferred": self.deferred,
            "feeds": [f.to_json() for f in self.feeds],
        }

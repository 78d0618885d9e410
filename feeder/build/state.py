"""The state kept between builds: one SQLite database in the state directory.

It remembers, per seed, the stat signature of the version last read and what
came of it (the entry's metadata, or the reason it was skipped), and caches
the rendered content of published entries. A build compares a fresh stat
walk with it, so an unchanged tree parses and writes nothing, and a changed
seed is the only one read. SQLite's journal keeps it consistent through a
kill at any moment. A missing database is created; every SQLite error is
raised as the :class:`~feeder.errors.StateError` it is (locked, read-only,
I/O, full, corrupt), and only proven corruption makes the build move the
file aside (:func:`quarantine`) and start a fresh one.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import zlib
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feeder.errors import StateCorrupt, StateError, StateLocked
from feeder.fsutil import make_dirs
from feeder.model import EntryMeta, Rendered

if TYPE_CHECKING:  # the learned chrome is read and kept only when entries are rendered
    from feeder.content.learned import Learned

log = logging.getLogger(__name__)

DB_NAME = "state.sqlite3"
SCHEMA_VERSION = "1"
#: Seconds to wait for another process's transaction before saying the state is locked.
BUSY_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seeds (
    rel TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    id TEXT,
    published REAL,
    updated REAL,
    meta TEXT,
    error TEXT,
    site TEXT,
    blocks BLOB
);
DROP INDEX IF EXISTS seeds_order;
DROP INDEX IF EXISTS seeds_site;
CREATE TABLE IF NOT EXISTS site_chrome (
    site TEXT PRIMARY KEY,
    seeds INTEGER NOT NULL,
    fps BLOB NOT NULL,
    counts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS stale_sites (site TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS feed_order (
    feed TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (feed, id)
);
CREATE TABLE IF NOT EXISTS rendered (
    key TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    summary TEXT NOT NULL,
    truncated INTEGER NOT NULL,
    language TEXT NOT NULL DEFAULT ''
);
"""
#: The indexes of ``seeds`` (dropped and rebuilt around a bulk load).
_INDEXES = {
    # Covers the one-entry-per-id ranking, so it never reads the rows' JSON.
    "seeds_rank": "ON seeds (id, updated DESC, rel DESC, published)",
    # The feed's order: its newest entries are read first, and reading stops at the limit.
    "seeds_recent": "ON seeds (published DESC, updated DESC, id DESC) WHERE id IS NOT NULL",
    # The skipped seeds, reported by every build that changed something.
    "seeds_errors": "ON seeds (rel) WHERE error IS NOT NULL",
    # A site's newest articles, read when its learned chrome is worked out again.
    "seeds_site_recent": (
        "ON seeds (site, published DESC, updated DESC, id DESC) WHERE id IS NOT NULL"
    ),
}


@dataclass(frozen=True)
class SeedRow:
    rel: str
    size: int
    mtime_ns: int


#: One encoder for every row (``json.dumps`` with options builds one per call).
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def meta_to_json(meta: EntryMeta) -> str:
    # The fields in order, shallow (dataclasses.asdict deep-copies: 10x slower).
    data: dict[str, object] = dict(vars(meta))
    data["published"] = meta.published.isoformat()
    data["updated"] = meta.updated.isoformat()
    return _to_json(data)


def meta_from_json(text: str) -> EntryMeta:
    """The entry metadata of one ``seeds`` row (``ValueError`` and kin when damaged)."""
    data = json.loads(text)
    data["published"] = datetime.fromisoformat(data["published"])
    data["updated"] = datetime.fromisoformat(data["updated"])
    data["tags"] = tuple(data["tags"])
    data["warnings"] = tuple(data["warnings"])
    return EntryMeta(**data)


#: One row of the ``seeds`` table, as :meth:`State.record_many` takes it.
SeedRecord = tuple[
    str,
    int,
    int,
    str | None,
    float | None,
    float | None,
    str | None,
    str | None,
    str | None,
    bytes | None,
]
#: The columns of a :data:`SeedRecord`, in order.
_SEED_COLUMNS = "rel, size, mtime_ns, id, published, updated, meta, error, site, blocks"


def seed_record(
    row: SeedRow,
    *,
    meta: EntryMeta | None,
    error: str | None,
    site: str | None = None,
    blocks: bytes | None = None,
) -> SeedRecord:
    """The ``seeds`` row of one seed (built in the parse workers, stored by the main process).

    ``site`` and ``blocks`` are what :mod:`feeder.content.learned` learns a site's chrome from.
    """
    return (
        row.rel,
        row.size,
        row.mtime_ns,
        meta.id if meta else None,
        meta.published.timestamp() if meta else None,
        meta.updated.timestamp() if meta else None,
        meta_to_json(meta) if meta else None,
        error,
        site,
        blocks,
    )


#: SQLite's primary result codes (the low byte of the extended ones), by what they mean here.
_CORRUPT = {11: "database disk image is malformed", 26: "not a database"}  # CORRUPT, NOTADB
_LOCKED = {5: "busy", 6: "locked"}  # SQLITE_BUSY, SQLITE_LOCKED
_UNUSABLE = {
    3: "permission denied",  # SQLITE_PERM
    8: "read-only",  # SQLITE_READONLY (file, directory, database moved, ...)
    10: "I/O error",  # SQLITE_IOERR
    13: "disk full",  # SQLITE_FULL
    14: "cannot open the database file",  # SQLITE_CANTOPEN
}
#: Files that belong to a database: they move together.
_SIDE_FILES = ("-journal", "-wal", "-shm")


def state_error(e: sqlite3.Error, path: Path, *, busy_timeout: float) -> StateError:
    """The :class:`StateError` that ``e`` is: corrupt, locked, or unusable for another reason.

    SQLite's *extended* result code (``sqlite_errorcode``, e.g. 1032 for
    ``SQLITE_READONLY_DBMOVED``) is reduced to its primary code: only
    ``SQLITE_CORRUPT`` and ``SQLITE_NOTADB`` prove damage.
    """
    code = getattr(e, "sqlite_errorcode", None)
    name = getattr(e, "sqlite_errorname", None) or type(e).__name__
    primary = code & 0xFF if isinstance(code, int) else None
    detail = f"{e} ({name})"
    # The state writes only valid UTF-8: text that does not decode proves damage
    # (Python's sqlite3 reports it with this message and no SQLite code).
    undecodable = primary is None and str(e).startswith("Could not decode to UTF-8")
    if primary in _CORRUPT or undecodable:
        return StateCorrupt(path, f"state is corrupt: {detail}")
    if primary in _LOCKED:
        return StateLocked(
            path,
            f"state is locked by another process (waited {busy_timeout:g} s): {detail}",
        )
    if primary in _UNUSABLE:
        return StateError(path, f"cannot use the state ({_UNUSABLE[primary]}): {detail}")
    return StateError(path, f"cannot use the state: {detail}")


def quarantine(state_dir: Path) -> Path:
    """Move a corrupt state database (and its journal) aside; return its new name.

    The files become ``state.sqlite3.corrupt-<UTC time>`` (``-journal`` …
    beside it), so the damage can be examined and nothing is lost; the next
    :meth:`State.open` creates a fresh state.
    """
    path = state_dir / DB_NAME
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{DB_NAME}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{DB_NAME}.corrupt-{stamp}-{n}")
    try:
        for suffix in ("", *_SIDE_FILES):
            source = Path(str(path) + suffix)
            if source.exists():
                os.replace(source, Path(str(target) + suffix))
    except OSError as e:
        raise StateError(path, f"cannot move the corrupt state aside: {e.strerror or e}") from e
    return target


#: Columns added since a table was first created: (table, column, definition).
_ADDED_COLUMNS = (
    ("rendered", "language", "TEXT NOT NULL DEFAULT ''"),
    ("seeds", "site", "TEXT"),
    ("seeds", "blocks", "BLOB"),
)


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a state written by an earlier feeder up to this schema (columns only grow)."""
    for table, column, spec in _ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {spec}")


#: The ``PRAGMA user_version`` of a state laid out as :data:`_SCHEMA`,
#: :data:`_INDEXES` and :data:`_ADDED_COLUMNS` say: a checksum of them, so
#: any change to them brings every state up to date once, at its next open.
_LAYOUT = zlib.crc32(repr((_SCHEMA, _INDEXES, _ADDED_COLUMNS)).encode()) & 0x7FFFFFFF


def _lay_out(conn: sqlite3.Connection) -> None:
    """Create what the state lacks (tables, indexes, columns, its schema row), in one transaction.

    A fresh database is made in one commit (one sync) rather than one per
    statement; a state of an earlier feeder gains its missing columns. The
    statements are idempotent, so two processes laying out one state at once
    both succeed (the second waits for the first's transaction).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        _add_missing_columns(conn)  # before the indexes: one of them is on an added column
        for name, spec in _INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} {spec}")
        row = conn.execute("SELECT value FROM info WHERE key='schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO info VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.execute(f"PRAGMA user_version = {_LAYOUT}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class State:
    """An open state database; use :meth:`open` as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        self.conn = conn
        self.path = path
        self.busy_timeout = busy_timeout

    @classmethod
    def open(
        cls, state_dir: Path, *, busy_timeout: float = BUSY_TIMEOUT, readonly: bool = False
    ) -> State:
        """Open (or create) the state of ``state_dir``.

        A busy database is waited for up to ``busy_timeout`` seconds.
        ``readonly`` opens an existing state without ever writing to it
        (``feeder feeds``). Raises :class:`StateError` (see :func:`state_error`):
        a corrupt state is *not* replaced here; the build decides (see
        :func:`quarantine`).
        """
        path = state_dir / DB_NAME
        if not readonly:
            try:
                make_dirs(state_dir)
            except OSError as e:
                raise StateError(
                    state_dir, f"cannot create the state directory: {e.strerror or e}"
                ) from e
        try:
            return cls._connect(path, busy_timeout=busy_timeout, readonly=readonly)
        except sqlite3.Error as e:
            raise state_error(e, path, busy_timeout=busy_timeout) from e

    @classmethod
    def _connect(cls, path: Path, *, busy_timeout: float, readonly: bool) -> State:
        if readonly:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout)
        else:
            conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
        try:
            if not readonly:
                conn.execute("PRAGMA synchronous=NORMAL")
                # Laid out already (the usual open): nothing to create or check.
                if conn.execute("PRAGMA user_version").fetchone()[0] != _LAYOUT:
                    _lay_out(conn)
            row = conn.execute("SELECT value FROM info WHERE key='schema'").fetchone()
            if row is not None and row[0] != SCHEMA_VERSION:
                raise StateError(
                    path,
                    f"state has schema {row[0]}, this feeder uses {SCHEMA_VERSION}: "
                    "use another state_dir or move this one away",
                )
            conn.execute("SELECT count(*) FROM seeds").fetchone()
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, busy_timeout)

    @contextmanager
    def errors_as_state_errors(self) -> Iterator[None]:
        """Turn every SQLite error inside the block into the :class:`StateError` it is."""
        try:
            yield
        except sqlite3.Error as e:
            raise state_error(e, self.path, busy_timeout=self.busy_timeout) from e

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- info ---------------------------------------------------------------
    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM info WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO info VALUES (?, ?)", (key, value))

    def reset(self) -> None:
        """Forget every seed and cached rendering (settings changed)."""
        self.conn.execute("DELETE FROM seeds")
        self.conn.execute("DELETE FROM rendered")
        self.conn.execute("DELETE FROM site_chrome")
        self.conn.execute("DELETE FROM stale_sites")

    # -- seeds --------------------------------------------------------------
    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Many rows are about to be inserted: the indexes are built once, at the end.

        Building an index over sorted rows is several times faster than
        keeping it up to date row by row. Call inside a transaction (a build's),
        so a build killed meanwhile leaves the indexes as they were.
        """
        for name in _INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        yield
        for name, spec in _INDEXES.items():
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {name} {spec}")

    def is_empty(self) -> bool:
        """No seed is known: the next build reads every seed."""
        return self.conn.execute("SELECT 1 FROM seeds LIMIT 1").fetchone() is None

    def signatures(self, groups: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """rel → (size, mtime_ns) of every seed, or of those in ``groups``.

        A group is a top-level directory ("" for the seeds at the top, see
        :mod:`feeder.build.changes`); its rows are one range of the primary key.
        """
        sql = "SELECT rel, size, mtime_ns FROM seeds"
        if groups is None:
            return {rel: (size, mtime) for rel, size, mtime in self.conn.execute(sql)}
        out: dict[str, tuple[int, int]] = {}
        for group in groups:
            if group:
                rows = self.conn.execute(
                    f"{sql} WHERE rel >= ? AND rel < ?", (group + "/", group + "0")
                )
            else:
                rows = self.conn.execute(f"{sql} WHERE instr(rel, '/') = 0")
            out.update((rel, (size, mtime)) for rel, size, mtime in rows)
        return out

    def signatures_between(
        self, group: str, low: str, high: str | None
    ) -> dict[str, tuple[int, int]]:
        """rel → (size, mtime_ns) of the seeds of ``group`` from ``low`` to before ``high``.

        One range of the rows of a large group (no ``high``: to its end), as
        :mod:`feeder.build.changes` cuts them; one range of the primary key.
        """
        sql = "SELECT rel, size, mtime_ns FROM seeds WHERE rel >= ?"
        if group:
            top = group + "0"  # "/" + 1: the end of the group's rows
            args: tuple[str, ...] = (max(low, group + "/"), top if high is None else min(high, top))
            rows = self.conn.execute(f"{sql} AND rel < ?", args)
        elif high is None:
            rows = self.conn.execute(f"{sql} AND instr(rel, '/') = 0", (low,))
        else:
            rows = self.conn.execute(f"{sql} AND rel < ? AND instr(rel, '/') = 0", (low, high))
        return {rel: (size, mtime) for rel, size, mtime in rows}

    def record(self, row: SeedRow, *, meta: EntryMeta | None, error: str | None) -> None:
        self.record_many([seed_record(row, meta=meta, error=error)])

    def record_many(self, records: Iterable[SeedRecord]) -> None:
        self.conn.executemany(
            f"INSERT OR REPLACE INTO seeds ({_SEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            records,
        )

    def sites_of(self, rels: Iterable[str]) -> set[str]:
        """The sites of the seeds ``rels`` (as the state has them)."""
        out: set[str] = set()
        for rel in rels:
            row = self.conn.execute("SELECT site FROM seeds WHERE rel=?", (rel,)).fetchone()
            if row and row[0]:
                out.add(str(row[0]))
        return out

    # -- learned chrome (see feeder.build.learning) ----------------------------
    def mark_stale(self, sites: Iterable[str]) -> None:
        """The articles of ``sites`` came or went: their learned chrome is out of date."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO stale_sites VALUES (?)", ((s,) for s in sites if s)
        )

    def mark_all_stale(self) -> None:
        """Every site's learned chrome is out of date (the rules changed)."""
        self.conn.execute(
            "INSERT OR IGNORE INTO stale_sites "
            "SELECT DISTINCT site FROM seeds WHERE site IS NOT NULL AND id IS NOT NULL"
        )

    def stale(self, sites: Iterable[str]) -> set[str]:
        """Those of ``sites`` whose learned chrome is out of date.

        A state written before sites were marked has no such table: read
        only, it is taken as up to date (the next build marks every site).
        """
        out: set[str] = set()
        try:
            for site in sites:
                row = self.conn.execute(
                    "SELECT 1 FROM stale_sites WHERE site=?", (site,)
                ).fetchone()
                if row is not None:
                    out.add(site)
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
        return out

    def newest_articles(self, site: str, limit: int) -> list[tuple[str, bytes | None, str]]:
        """(rel, packed fingerprints or None, digest or "") of ``site``'s ``limit`` newest articles.

        One row per article (its newest fetch, as :meth:`published` ranks
        them), in the feed's order; the fingerprints are None when they were
        never worked out (they are, on demand: see :mod:`feeder.build.learning`).
        """
        sql = """
            SELECT s.rel, s.blocks, CASE WHEN s.blocks IS NULL THEN s.meta END FROM seeds AS s
            WHERE s.site = ? AND s.id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM seeds AS t WHERE t.id = s.id
                AND (t.updated > s.updated OR (t.updated = s.updated AND t.rel > s.rel)))
            ORDER BY s.published DESC, s.updated DESC, s.id DESC LIMIT ?
        """
        rows = self.conn.execute(sql, (site, int(limit))).fetchall()
        # The row's metadata (for the digest of the version stored) is read only
        # where fingerprints are to be made.
        return [(str(r), b, self._decode(m).digest if b is None else "") for r, b, m in rows]

    def store_blocks(self, blocks: Iterable[tuple[str, bytes]]) -> None:
        """Keep the packed line fingerprints of seeds (rel, fingerprints)."""
        self.conn.executemany(
            "UPDATE seeds SET blocks=? WHERE rel=?", ((b, rel) for rel, b in blocks)
        )

    def store_learned(self, site: str, found: Learned | None) -> None:
        """Keep ``site``'s learned chrome (None: it has none); it is up to date again."""
        if found is None:
            self.conn.execute("DELETE FROM site_chrome WHERE site=?", (site,))
        else:
            fps = sorted(found.counts)
            self.conn.execute(
                "INSERT OR REPLACE INTO site_chrome VALUES (?, ?, ?, ?)",
                (
                    site,
                    found.seeds,
                    array("q", fps).tobytes(),
                    array("q", (found.counts[fp] for fp in fps)).tobytes(),
                ),
            )
        self.conn.execute("DELETE FROM stale_sites WHERE site=?", (site,))

    def learned(self, sites: Iterable[str]) -> dict[str, Learned]:
        """The learned chrome of each of ``sites`` that has some."""
        from feeder.content.learned import Learned, unpack

        out: dict[str, Learned] = {}
        for site in sites:
            row = self.conn.execute(
                "SELECT seeds, fps, counts FROM site_chrome WHERE site=?", (site,)
            ).fetchone()
            if row is not None:
                fps, counts = unpack(row[1]), unpack(row[2])
                out[site] = Learned(int(row[0]), dict(zip(fps, counts, strict=True)))
        return out

    def blocks_of(self, rels: Iterable[str]) -> dict[str, bytes | None]:
        """rel → the packed line fingerprints of each seed."""
        out: dict[str, bytes | None] = {}
        for rel in rels:
            row = self.conn.execute("SELECT blocks FROM seeds WHERE rel=?", (rel,)).fetchone()
            if row is not None:
                out[rel] = row[0]
        return out

    def forget(self, rels: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM seeds WHERE rel=?", ((r,) for r in rels))

    def errors(self) -> list[tuple[str, str]]:
        return [
            (str(r), str(e))
            for r, e in self.conn.execute(
                "SELECT rel, error FROM seeds WHERE error IS NOT NULL ORDER BY rel"
            )
        ]

    def published(self, limit: int) -> list[EntryMeta]:
        """The entries of the feed: one per id (the newest fetch), newest first.

        The rows are read in the feed's order (index ``seeds_recent``); a row
        is an entry when no row of the same id is a newer fetch (ties: the
        later path), a lookup in ``seeds_rank``. Reading stops at ``limit``
        entries, so the cost does not grow with the number of seeds.
        """
        sql = """
            SELECT s.meta FROM seeds AS s
            WHERE s.id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM seeds AS t WHERE t.id = s.id
                AND (t.updated > s.updated OR (t.updated = s.updated AND t.rel > s.rel)))
            ORDER BY s.published DESC, s.updated DESC, s.id DESC {limit}
        """.format(limit=f"LIMIT {int(limit)}" if limit else "")
        return [self._decode(m) for (m,) in self.conn.execute(sql)]

    def _decode(self, text: str) -> EntryMeta:
        """A row the state wrote itself that does not decode proves the state damaged."""
        try:
            return meta_from_json(text)
        except (ValueError, KeyError, TypeError) as e:
            raise StateCorrupt(
                self.path, f"state is corrupt: a seed row does not decode ({type(e).__name__}: {e})"
            ) from e

    def duplicates(self) -> list[tuple[str, str]]:
        """(rel, rel of the winner) of every seed hidden by a newer fetch of its article.

        Only the ids with more than one row are ranked (found on ``seeds_rank``).
        """
        sql = """
            SELECT rel, winner FROM (
                SELECT rel, first_value(rel) OVER w AS winner, row_number() OVER w AS rn
                FROM seeds WHERE id IN (
                    SELECT id FROM seeds WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1)
                WINDOW w AS (PARTITION BY id ORDER BY updated DESC, rel DESC))
            WHERE rn > 1 ORDER BY rel
        """
        return [(str(r), str(w)) for r, w in self.conn.execute(sql)]

    def seed_count(self) -> int:
        """Seeds the state knows (entries, duplicates and skipped ones)."""
        return int(self.conn.execute("SELECT count(*) FROM seeds").fetchone()[0])

    def count_entries(self) -> int:
        row = self.conn.execute("SELECT count(DISTINCT id) FROM seeds WHERE id IS NOT NULL")
        return int(row.fetchone()[0])

    # -- archive order ------------------------------------------------------
    def feed_order(self, feed: str) -> dict[str, int]:
        """id → the rank at which each entry first reached the archived ``feed``."""
        rows = self.conn.execute("SELECT id, seq FROM feed_order WHERE feed=?", (feed,))
        return {str(i): int(n) for i, n in rows}

    def add_feed_order(self, feed: str, ranks: dict[str, int]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO feed_order VALUES (?, ?, ?)",
            ((feed, ident, n) for ident, n in ranks.items()),
        )

    # -- rendered cache -----------------------------------------------------
    def rendered(self, key: str) -> Rendered | None:
        row = self.conn.execute(
            "SELECT content, summary, truncated, language FROM rendered WHERE key=?", (key,)
        ).fetchone()
        return None if row is None else Rendered(row[0], row[1], bool(row[2]), str(row[3]))

    def store_rendered(self, key: str, value: Rendered) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO rendered (key, content, summary, truncated, language) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, value.content, value.summary, int(value.truncated), value.language),
        )

    def keep_rendered(self, keys: Iterable[str]) -> None:
        """Drop cached renderings of entries no longer published."""
        keep = set(keys)
        stale = [k for (k,) in self.conn.execute("SELECT key FROM rendered") if k not in keep]
        self.conn.executemany("DELETE FROM rendered WHERE key=?", ((k,) for k in stale))

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one committed state: no other process's commit shows inside the block.

        A read transaction (writing inside it is an error of the caller's): it
        holds SQLite's shared lock from its first read to its end, so keep it short.
        """
        self.conn.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

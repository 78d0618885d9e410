"""The state's queries rank entries exactly as the straightforward Python does.

(And a state written by an earlier feeder is brought up to this one's layout.)

:meth:`feeder.build.state.State.published` reads the newest rows through an index
and stops at the limit; :meth:`~feeder.build.state.State.duplicates` ranks only
ids that have more than one row. Both are checked against
:func:`feeder.seeds.normalize.dedupe` and :func:`feeder.seeds.normalize.feed_order` on
generated rows with many ties (same id, same dates).
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.build.state import SeedRow, State
from feeder.model import EntryMeta
from feeder.seeds.normalize import dedupe, feed_order

_BASE = datetime(2024, 5, 1, tzinfo=UTC)

_ROWS = st.lists(
    st.tuples(
        st.integers(0, 30),  # rel number (a repeat replaces the row, as a re-read seed does)
        st.integers(0, 6),  # id number: few ids, many duplicates
        st.integers(0, 4),  # published, in days: many ties
        st.integers(0, 3),  # fetch delay, in days: ties in updated too
        st.booleans(),  # an error row (no entry) instead
    ),
    max_size=40,
)


def _meta(rel: str, ident: int, published: int, delay: int) -> EntryMeta:
    pub = _BASE + timedelta(days=published)
    return EntryMeta(
        rel=rel,
        digest="0" * 64,
        id=f"urn:uuid:00000000-0000-5000-8000-{ident:012d}",
        canonical_url=f"https://example.org/{ident}",
        link=f"https://example.org/{ident}",
        title=f"t{ident}",
        source="s",
        source_id="tag:example.org,2024:source:s",
        source_link="https://example.org/",
        published=pub,
        updated=pub + timedelta(days=delay),
    )


@settings(max_examples=300, deadline=None)
@given(_ROWS, st.sampled_from([0, 1, 3, 50]))
@pytest.mark.slow
def test_published_and_duplicates_match_python(
    rows: list[tuple[int, int, int, int, bool]], limit: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp, State.open(Path(tmp)) as st_:
        metas: dict[str, EntryMeta | None] = {}
        for number, ident, published, delay, error in rows:
            rel = f"seeds/{number:02d}.md"
            meta = None if error else _meta(rel, ident, published, delay)
            st_.record(SeedRow(rel, 1, 1), meta=meta, error="bad" if error else None)
            metas[rel] = meta
        live = [m for m in metas.values() if m is not None]
        winners, losers = dedupe(live)
        expected = feed_order(winners)
        if limit:
            expected = expected[:limit]
        assert st_.published(limit) == expected
        best = {m.id: m.rel for m in winners}
        assert st_.duplicates() == sorted((m.rel, best[m.id]) for m, _ in losers)


def test_a_state_of_an_earlier_feeder_gains_the_missing_columns(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "state.sqlite3")
    old.executescript(
        "CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE seeds (rel TEXT PRIMARY KEY, size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL, id TEXT, published REAL, updated REAL, meta TEXT, error TEXT);"
        "CREATE TABLE rendered (key TEXT PRIMARY KEY, content TEXT NOT NULL,"
        " summary TEXT NOT NULL, truncated INTEGER NOT NULL);"
        "INSERT INTO info VALUES ('schema', '1');"
        "INSERT INTO seeds VALUES ('a.md', 1, 1, NULL, NULL, NULL, NULL, 'bad');"
    )
    old.commit()
    old.close()
    for _ in range(2):  # the second open finds it laid out already
        with State.open(tmp_path) as st_:
            columns = {row[1] for row in st_.conn.execute("PRAGMA table_info(seeds)")}
            assert {"site", "blocks"} <= columns
            assert "language" in {row[1] for row in st_.conn.execute("PRAGMA table_info(rendered)")}
            assert st_.errors() == [("a.md", "bad")] and st_.sites_of(["a.md"]) == set()
            st_.mark_all_stale()  # the site index is on an added column
            assert st_.stale(["x"]) == set()

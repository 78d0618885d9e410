"""Polls compare only the directories whose digest moved, and never miss a change.

:mod:`feeder.build.changes` sums up a walk per top-level directory; a build reads
the state's rows of the groups whose digest differs and no others. Here a
random sequence of edits to a small tree (seeds at the top, in look-alike
directory names such as ``a`` and ``a.b``, nested deeper, moved between
directories, rewritten in place with a new size or time, deleted) is
applied, and after every incremental build the state knows exactly the
seeds on disk and the feed equals that of a build from scratch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hardkit import settings_for
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.build import changes
from feeder.build.pipeline import build
from feeder.build.state import SeedRow, State, seed_record
from feeder.seeds.scan import scan

_PLACES = ["", "a/", "a.b/", "a-/", "a/deep/", "b/", "中文/", "b/c.md/"]
_OPS = st.lists(
    st.tuples(
        st.sampled_from(["write", "touch", "delete", "move"]),
        st.integers(0, 5),  # which seed
        st.sampled_from(_PLACES),  # where it is written or moved to
    ),
    min_size=1,
    max_size=8,
)


def _text(n: int, version: int) -> str:
    return (
        f"---\ntitle: Seed {n} v{version}\nurl: https://example.org/{n}\n"
        f"source: Example\ndate: 2024-05-{n + 1:02d}\n---\n\nBody {n}, version {version}.\n"
    )


def _where(seeds: Path, n: int) -> Path | None:
    found = [p for p in seeds.rglob(f"s{n}.md") if p.is_file()]
    return found[0] if found else None


def _feed_entries(root: Path) -> bytes:
    return (root / "public" / "feed.atom").read_bytes()


@settings(max_examples=40, deadline=None)
@given(_OPS)
@pytest.mark.slow
def test_incremental_builds_follow_every_edit(ops: list[tuple[str, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seeds = root / "seeds"
        seeds.mkdir()
        (seeds / "s0.md").write_text(_text(0, 0))
        (seeds / "a").mkdir()
        (seeds / "a" / "s1.md").write_text(_text(1, 0))
        # Any edit, deleting every seed included (no shrink guard: the point is
        # that incremental builds match full ones).
        cfg = dataclasses.replace(settings_for(root), allow_shrink=True)
        build(cfg)
        for version, (op, n, place) in enumerate(ops, 1):
            current = _where(seeds, n)
            if op == "write" or current is None:
                target = seeds / place / f"s{n}.md"
                if target.parent.is_file():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if current is not None and current != target:
                    current.unlink()
                target.write_text(_text(n, version) + "x" * version)
            elif op == "touch":
                os.utime(current, ns=(10**18 + version, 10**18 + version))
            elif op == "delete":
                current.unlink()
            else:
                target = seeds / place / f"s{n}.md"
                if target.parent.is_file():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(current, target)
            result = build(cfg)
            on_disk = {
                p.relative_to(seeds).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
                for p in seeds.rglob("*.md")
                if p.is_file()
            }
            with State.open(cfg.resolved_state_dir) as state:
                assert state.signatures() == on_disk
                groups = {changes.group_of(rel) for rel in on_disk}
                assert state.signatures(groups) == on_disk
            assert result.entries == len(on_disk)
            incremental = _feed_entries(root)
            build(cfg, full=True)
            assert _feed_entries(root) == incremental


def test_a_poll_reads_only_the_directories_that_changed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for site in ("alpha", "beta", "gamma"):
        (seeds / site).mkdir(parents=True)
        for n in range(3):
            (seeds / site / f"{n}.md").write_text(_text(n, 0).replace("example.org/", f"{site}/"))
    cfg = settings_for(tmp_path)
    build(cfg)
    (seeds / "beta" / "new.md").write_text(_text(9, 0))
    asked: list[set[str]] = []
    real = State.signatures

    def spy(self: State, groups: object = None) -> dict[str, tuple[int, int]]:
        asked.append(set(groups) if groups is not None else {"<all>"})
        return real(self, groups)  # type: ignore[arg-type]

    State.signatures = spy  # type: ignore[method-assign]
    try:
        result = build(cfg)
    finally:
        State.signatures = real  # type: ignore[method-assign]
    assert asked == [{"beta"}]
    assert result.parsed == 1 and result.entries == 10


def test_a_large_flat_directory_keeps_its_ranges_and_finds_every_change(tmp_path: Path) -> None:
    """Above SPLIT seeds a group is compared in ranges; a poll keeps them and their digests."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()

    def write(name: str, text: str = "x") -> None:
        path = seeds / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, ns=(10**18, 10**18 + len(text)))  # long settled

    for i in range(3 * changes.SPLIT + 10):
        write(f"{i:05}_seed.md")
    with State.open(tmp_path / "state") as state:

        def poll() -> changes.Changes:
            walk = changes.summarize(scan(seeds))
            diff = changes.compare(state, walk, changes.stored(state), settle_seconds=2)
            state.forget(diff.removed)
            state.record_many(
                seed_record(SeedRow(rel, size, mtime), meta=None, error="test")
                for rel, _, size, mtime in diff.changed
            )
            changes.remember(state, walk, (), diff.ranges)
            recorded = json.loads(state.get(changes.INFO_KEY) or "{}")["groups"][""]
            found = walk.found
            lows = [low for low, _ in recorded]
            parts = changes._cut(found, found.groups()[""], lows)
            assert [d for _, d in recorded] == [changes._digest(found, p) for p in parts]
            assert all(0 < len(p) <= 2 * changes.SPLIT for p in parts)
            return diff

        def lows() -> list[str]:
            return [low for low, _ in json.loads(state.get(changes.INFO_KEY) or "")["groups"][""]]

        assert len(poll().changed) == 3 * changes.SPLIT + 10
        first = lows()
        write("01500_new.md")
        assert [s[0] for s in poll().changed] == ["01500_new.md"]
        assert lows() == first  # the ranges are kept
        write("00007_seed.md", "changed")
        (seeds / "02000_seed.md").unlink()
        diff = poll()
        assert [s[0] for s in diff.changed] == ["00007_seed.md"]
        assert diff.removed == ["02000_seed.md"]
        for i in range(2 * changes.SPLIT):  # one range grows past twice SPLIT: cut anew
            write(f"00100_grown_{i:05}.md")
        assert len(poll().changed) == 2 * changes.SPLIT
        assert lows() != first
        assert not poll().changed and not poll().removed


@pytest.mark.parametrize("batch", [1, 3, 4096])
def test_the_walk_keeps_each_seeds_own_signature_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """The walk moves sizes and mtimes to its columns in batches: none is paired with another seed.

    Every seed has its own size and mtime, in the top directory, in
    subdirectories and through a symlink; with batches of one, three and
    many, each column holds what ``os.stat`` says of the seed at that row,
    and ``on_many`` is called once, when the walk has found that many.
    """
    import feeder.seeds.scan as scan_module

    root = tmp_path / "seeds"
    (root / "b" / "c").mkdir(parents=True)
    (root / "a").mkdir()
    paths = []
    for i in range(11):
        where = [root, root / "a", root / "b", root / "b" / "c"][i % 4]
        path = where / f"{i:02d}.{'txt' if i % 3 else 'MD'}"
        path.write_text("x" * (i + 1), encoding="utf-8")
        os.utime(path, ns=(1_700_000_000_000_000_000 + i, 1_700_000_000_000_000_000 + i * 7))
        paths.append(path)
    (root / "link.md").symlink_to(paths[0])
    (root / "notes.bak").write_text("not a seed", encoding="utf-8")
    monkeypatch.setattr(scan_module, "BATCH", batch)
    seen: list[int] = []
    found = scan(root, many=5, on_many=lambda: seen.append(1))
    assert found.count == 12
    assert len(found.sizes) == len(found.mtimes) == found.count
    for i, rel in enumerate(found.rels):
        st = (root / rel).stat()
        assert (found.sizes[i], found.mtimes[i]) == (st.st_size, st.st_mtime_ns), rel
    assert seen == [1]
    assert scan(root, many=13, on_many=lambda: seen.append(2)).count == 12
    assert seen == [1]

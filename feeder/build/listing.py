"""``feeder feeds``: the configured feeds and how many entries each holds.

The counts come from the state of the last build (what it parsed), with the
current configuration's filters applied, so the command is cheap, reads no
seed and writes nothing: the state is opened read-only, and a locked or
damaged one is an error, never a reason to touch it. Before any build there is no state: every count
is 0 and the caller says so.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from feeder.build.extra import plan_from
from feeder.build.state import DB_NAME, State
from feeder.config import Settings
from feeder.feeds.documents import archive_path, partition
from feeder.model import EntryMeta

log = logging.getLogger(__name__)


def _published(settings: Settings) -> list[EntryMeta] | None:
    state_dir = settings.resolved_state_dir
    if not (state_dir / DB_NAME).is_file():
        return None
    with State.open(state_dir, busy_timeout=settings.busy_timeout, readonly=True) as st:
        return st.published(0)


def list_feeds(settings: Settings) -> tuple[list[dict[str, object]], bool]:
    """(one row per feed, main feed first; whether a build's state was found)."""
    published = _published(settings)
    metas = published or []
    directory = settings.output.parent
    size = settings.max_entries
    rows: list[dict[str, object]] = [
        {
            "name": settings.output.stem,
            "main": True,
            "title": settings.feed.title,
            "url": settings.feed.self_url,
            "outputs": [str(settings.output)],
            "entries": min(len(metas), size) if size else len(metas),
            "matched": len(metas),
        }
    ]
    for planned in plan_from(settings, metas).feeds:
        if planned.archive:
            current, archives = partition(planned.metas, planned.size)
            entries = len(current)
        else:
            archives, entries = [], len(planned.metas)
        outputs = [
            str(directory / (archive_path(rel, k) if k else rel))
            for rel in planned.outputs.values()
            for k in range(len(archives) + 1)
        ]
        rows.append(
            {
                "name": planned.name,
                "main": False,
                "title": planned.feed.title,
                "url": urljoin(settings.feed.self_url, planned.outputs["atom"]),
                "outputs": outputs,
                "entries": entries,
                "matched": planned.matched,
            }
        )
    return rows, published is not None

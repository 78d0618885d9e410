"""One settings schema: the TOML keys, the README's table and the shipped file agree with it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from feeder.config import _KEYS, _PATH_KEYS, Settings, fingerprint

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme_table_and_the_shipped_configuration() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shipped = (REPO / "config" / "feeder.toml").read_text(encoding="utf-8")
    documented: set[tuple[str, str]] = set()
    for line in readme.splitlines():
        row = re.match(r"\| `\[(\w+)\] ([^|]*)\|", line)
        if row:  # "| `[feed] title`, `subtitle` | ..." documents [feed] title and subtitle
            words = re.findall(r"\w+", row.group(2).replace("`", " "))
            documented.update((row.group(1), w) for w in words)
    for section, keys in _KEYS.items():
        for key in keys:
            assert (section, key) in documented, f"[{section}] {key} not in the README's table"
            assert re.search(rf"^#? ?{key} = ", shipped, re.M), f"{key} not in config/feeder.toml"


def test_paths_and_the_fingerprint_come_from_the_schema() -> None:
    assert {"seeds", "output", "state_dir", "sites_dir"} == _PATH_KEYS
    renders = {f.name for f in fields(Settings) if f.metadata.get("renders")}
    assert "max_content_bytes" in renders and "max_entries" not in renders
    base = fingerprint(Settings())
    assert fingerprint(Settings(max_entries=5, interval=9)) == base  # not rendering settings
    assert fingerprint(Settings(summary_chars=50)) != base
    assert fingerprint(Settings(image_proxy="https://p/{url}")) != base

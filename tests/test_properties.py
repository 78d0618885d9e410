"""Properties over arbitrary seeds: a build never crashes and always writes a valid feed.

Hypothesis generates seed files (arbitrary text, arbitrary front matter with
the keys feeder reads, raw bytes) and the pipeline runs in-process for speed.
Whatever comes in, the build returns, the feed is well-formed XML valid
against RFC 4287's schema, every entry has an id, a title and ``updated``,
no entry content carries unsafe markup, and every seed is either an entry or
a reported skip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hardkit import assert_schema_valid, entries, relaxng, text_of, unsafe_markup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = [
    "title", "url", "link", "source", "site_name", "date", "published", "fetch_date",
    "fetched_at", "updated", "tags", "categories", "author", "Title", "URL", "Page-Title",
]  # fmt: skip

# Text that reaches the awkward corners: controls, surrogates' neighbours,
# bidi overrides, XML specials, YAML indicators, CJK, and long runs.
specials = st.sampled_from(
    ["\x00", "\x01", "\x0b", "\x1b", "\x7f", "\x85", "\u202e", "\ufeff", "\ufffe", "\uffff",
     "]]>", "<![CDATA[", "<script>", "&amp;", "&#0;", "&#xD800;", "'", '"', ":", "- ", "---",
     "!!python/object/apply:os.system", "&a", "*a", "{", "[", "|", ">", "#", "%", "@", "`",
     "\r", "\r\n", "\n", "\t", "中文", "😀", "javascript:", "data:text/html,", "https://",
     "2024-13-45", "9999-12-31", "1970-01-01", "null", "~", "yes", "0x1F", "1e999"]
)  # fmt: skip
text = st.lists(st.one_of(st.text(max_size=30), specials), max_size=12).map("".join)
scalar = st.one_of(
    text,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.dates(),
)
value = st.one_of(scalar, st.lists(scalar, max_size=4), st.dictionaries(text, scalar, max_size=3))
front = st.dictionaries(st.one_of(st.sampled_from(KEYS), text), value, max_size=8)


def _dump(meta: dict[Any, Any]) -> str:
    try:
        return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        return "".join(f"{k}: {v}\n" for k, v in meta.items())


@st.composite
def seed_files(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["yaml", "lines", "text", "bytes", "crafted"]))
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    body = draw(text)
    if kind == "text":
        return body.encode("utf-8", errors="surrogatepass")
    meta = draw(front)
    if kind == "yaml":
        head = _dump(meta)
    elif kind == "lines":
        head = "".join(f"{k}: {v}\n" for k, v in meta.items())
    else:  # plausible seeds with one hostile field
        field = draw(st.sampled_from(["title", "url", "source", "date", "fetch_date"]))
        base = {
            "title": "A title",
            "url": "https://example.org/p",
            "source": "Src",
            "date": "2024-05-01",
            "fetch_date": "2024-05-02",
        }
        base[field] = draw(text)
        head = "".join(f"{k}: {v}\n" for k, v in base.items())
    closing = draw(st.sampled_from(["---\n", "...\n", "", "--- \n"]))
    data = f"---\n{head}{closing}\n{body}\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030", "latin-1"]))
    return data.encode(encoding, errors="replace" if encoding != "utf-8" else "surrogatepass")


def _build(files: list[bytes]) -> tuple[Any, bytes]:
    from feeder.build import pipeline
    from feeder.config import load_settings

    with tempfile.TemporaryDirectory(prefix="feeder-prop-") as tmp:
        root = Path(tmp)
        seeds = root / "seeds"
        seeds.mkdir()
        for i, data in enumerate(files):
            (seeds / f"seed{i}.md").write_bytes(data)
        cfg = load_settings(
            None,
            overrides={
                "seeds": seeds,
                "output": root / "public" / "feed.atom",
                "state_dir": root / "state",
                "max_entries": 0,
            },
            use_default_config=False,
        )
        result = pipeline.build(cfg)
        return result, (root / "public" / "feed.atom").read_bytes()


def _check(files: list[bytes]) -> None:
    result, data = _build(files)
    root = assert_schema_valid(data)  # well-formed and valid against atom.rnc
    found = entries(root)
    assert len(found) == result.entries
    for entry in found:
        assert text_of(entry, "id").strip()
        assert text_of(entry, "title").strip()
        assert text_of(entry, "updated").strip()
        assert not unsafe_markup(text_of(entry, "content"))
    skipped = {s.path for s in result.skipped}
    # Nothing lost: every seed is an entry, a skip, or a duplicate of a published one.
    assert result.seeds == len(files)
    assert result.entries + len(skipped) == len(files), (result.entries, result.skipped)
    for s in result.skipped:
        assert s.reason and "\n" not in s.reason


def setup_module() -> None:
    relaxng()  # skip the module early (with the reason) when trang or the schema is missing
    os.environ.setdefault("TZ", "UTC")


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(seed_files(), min_size=1, max_size=4))
@pytest.mark.slow
def test_any_seeds_build_a_valid_feed(files: list[bytes]) -> None:
    _check(files)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(front, text), min_size=1, max_size=3))
@pytest.mark.slow
def test_any_yaml_front_matter(docs: list[tuple[dict[Any, Any], str]]) -> None:
    files = [f"---\n{_dump(meta)}---\n\n{body}\n".encode(errors="replace") for meta, body in docs]
    _check(files)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text, text)
@pytest.mark.slow
def test_hostile_title_and_body_round_trip_as_text(title: str, body: str) -> None:
    """A title is shown as text: whatever it holds comes back (cleaned), never as markup."""
    quoted = yaml.safe_dump({"title": title}, allow_unicode=True).rstrip("\n")
    data = f"---\n{quoted}\nurl: https://example.org/x\n---\n\n{body}\n".encode(
        errors="surrogatepass"
    )
    result, feed = _build([data])
    root = assert_schema_valid(feed)
    if result.entries:
        (entry,) = entries(root)
        el = entry.find("{http://www.w3.org/2005/Atom}title")
        assert el is not None and len(el) == 0 and el.get("type", "text") == "text"

"""The fast paths of parsing give exactly what the general code gives.

:func:`feeder.seeds.parse.split_front_matter` slices the text instead of splitting
it into lines, and :func:`feeder.seeds.parse.read_front_matter` reads plain
``key: value`` front matter without YAML: each is checked here against the
straightforward reading on generated input. (Urls and dates have one
implementation each, tested in ``test_urls.py`` and ``test_fields.py``.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeder.seeds import parse

_KEYS = st.sampled_from(
    ["title", "url", "source", "date", "Title", "page-title", "yes", "on", "x_1", "_k"]
)
_VALUE_CHARS = st.sampled_from(
    [*"ab Z09:-#'\"[]{},&*!|>%@`?~.=\t\\/", "\u3000", "\u200b", "中", "文", "\x85", "\U0001f600"]
)
_VALUES = st.one_of(
    st.text(_VALUE_CHARS, max_size=12),
    st.sampled_from(
        [
            "null",
            "~",
            "Null",
            "yes",
            "2024-05-01",
            "2024-05-01 10:00:00",
            "12:30:26",
            "1e3",
            "0x1F",
            "SANS ISC, InfoCON: green",
            "a #b",
            "C#",
            "http://example.com/a?b=c#d",
            "=",
            "[1, 2]",
            "'quoted'",
            "''",
            "'it''s: ok'",
            "'a' b",
            "'a''",
            "' spaced  '",
            "'null'",
            "'中文 [x]'",
            '"double"',
            '""',
            '"it\'s"',
            '"a\\"b"',
            '"a\\nb"',
            '"a" b',
            '"x: y, {z}"',
            "x:",
            "AT&T",
            "a, &b",
        ]
    ),
)
#: Flow lists: of plain words, and of what YAML reads otherwise (types, nesting).
_FLOWS = st.one_of(
    st.lists(
        st.sampled_from(["a", "Open AI", "k8s", "C++", "x/y", "_u", "yes", "No", "null", "2024"]),
        max_size=3,
    ).map(lambda items: "[" + ", ".join(items) + "]"),
    st.sampled_from(["[a,b]", "[a, [b]]", "[a, b] c", "[ a ]", "[a: b]", "['a', b]", "[a, ]"]),
)
_LINES = st.lists(
    st.one_of(
        st.tuples(_KEYS, _VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"),
        st.sampled_from(["", " ", "- item", "  - item", "# comment", "key:", "k : v"]),
        st.tuples(_KEYS, st.sampled_from(["", " ", "  "])).map(lambda kv: f"{kv[0]}:{kv[1]}"),
        st.tuples(_KEYS, _FLOWS).map(lambda kv: f"{kv[0]}: {kv[1]}"),
        st.tuples(st.sampled_from(["", " ", "  ", "\t", "    "]), _VALUES).map(
            lambda iv: f"{iv[0]}- {iv[1]}"
        ),
    ),
    max_size=8,
)


_PAIRS = st.lists(st.tuples(_KEYS, _VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"), max_size=5)


def _general(front: str) -> dict[str, Any]:
    """read_front_matter without its fast path, written out again."""
    lines = parse.read_lines(front)
    data = parse.read_yaml(front)
    merged: dict[str, Any] = {}
    source = lines if data is None else data
    for key, value in source.items():
        folded = str(key).strip().lower().replace("-", "_").replace(" ", "_")
        if data is not None and not isinstance(value, str | list | dict | type(None)):
            value = lines.get(str(key), value)
        merged.setdefault(folded, value)
    return merged


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_LINES, _PAIRS))
@example(["title: 勒索软件 #3", "url: https://x.example/a", "date: 2024-05-14 12:30:26"])
@example(["title: a", "Title: b"])
@example(["on: x"])
@example(["title: Part 2: the end", "url: https://x.example/a", "date: 2024-05-14"])
@example(["title: a: b", "tags: [x]"])
@example(["title: 'a'", "url: https://x.example/a", "date: 2024-05-14"])
@example(["title: \"a 'b'\"", "source: 'x''y'", "date: 2024-05-14"])
@example(["title: 'a'", "title: 'b'"])
@example(["title: a", "tags:", "  - x", "  - y", "source:"])
@example(["title: a: b", "tags:", "- x", "source: "])
@example(["tags:", "  - ab", "   - cd"])
@example(["tags:", "- ab", "  - cd"])
@example(["tags:", "  - ab", "  - 2024"])
@example(["tags:", "  - ab", "  - yes"])
@example(["tags:", "  - a: b"])
@example(["tags: [a, Open AI]", "title: x"])
@example(["tags: [a, yes]", "title: x"])
@example(["tags: [a, b]", "title: a: b"])
@example(["tags: []", "authors:"])
@example(["title: =", "url: "])
@example(["date: 2024-02-30", "tags:", "  - ab"])
@example(["date: 2024-02-03 25:00:00", "source:"])
@example(["n: 0b_", "tags: [a]"])
@example(["title: 0:*0", "url: "])
@example(["title: a,&b", "tags:", "- x"])
@pytest.mark.slow
def test_plain_front_matter_reads_like_yaml(lines: list[str]) -> None:
    front = "\n".join(lines)
    fast = parse._plain_front_matter(front)
    if fast is not None:
        assert fast == _general(front)
    assert parse.read_front_matter(front)[0] == _general(front)
    # The warnings too: the fast path gives none, so the general reading must not.
    reading = parse.read_front_matter(front)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(parse, "_plain_front_matter", lambda front: None)
        assert reading == parse.read_front_matter(front)


def _split_general(text: str) -> tuple[str | None, str, str | None]:
    return parse._split_unterminated(text)


_TEXT_LINES = st.lists(
    st.sampled_from(
        [
            "---",
            "--- ",
            "---\t",
            "...",
            "... ",
            "",
            "  ",
            "\u2028",
            "\x0b",
            "a: b",
            "- x",
            "body",
            "---x",
        ]
    ),
    max_size=8,
)


@settings(max_examples=600, deadline=None)
@given(_TEXT_LINES, st.booleans())
@pytest.mark.slow
def test_split_front_matter_like_line_splitting(lines: list[str], trailing: bool) -> None:
    text = "\n".join(lines) + ("\n" if trailing else "")
    assert parse.split_front_matter(text) == _split_general(text)


def test_the_control_bytes_counted_are_those_below_space_but_tab_lf_ff_cr() -> None:
    data = bytes(range(256)) * 4
    kept = data.translate(None, parse._CONTROL_BYTES)
    assert len(data) - len(kept) == 4 * (32 - 4)
    assert set(data) - set(kept) == set(range(32)) - set(b"\t\n\f\r")


_NEVER = re.compile(r"(?!)")


def _without_fast_path(module: Any, name: str, call: Any) -> Any:
    """``call()`` with ``module.name`` (a fast-path pattern) matching nothing."""
    saved = getattr(module, name)
    setattr(module, name, _NEVER)
    try:
        return call()
    except Exception as e:  # the same error type and message is expected
        return (type(e), str(e))
    finally:
        setattr(module, name, saved)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as e:
        return (type(e), str(e))

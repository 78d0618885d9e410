"""The fast paths of parsing give exactly what the general code gives.

:func:`feeder.parse.split_front_matter` slices the text instead of splitting
it into lines, and :func:`feeder.parse.read_front_matter` reads plain
``key: value`` front matter without YAML, :func:`feeder.urls.canonical` and
:func:`feeder.dates.parse_date` take the common shapes by one pattern, and
:func:`feeder.urls.entry_id` hashes without the ``uuid`` module: each is
checked here against the straightforward reading on generated input.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeder import dates, parse, urls

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
            "x:",
            "AT&T",
            "a, &b",
        ]
    ),
)
_LINES = st.lists(
    st.one_of(
        st.tuples(_KEYS, _VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"),
        st.sampled_from(["", " ", "- item", "  - item", "# comment", "key:", "k : v"]),
    ),
    max_size=8,
)


_PAIRS = st.lists(st.tuples(_KEYS, _VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"), max_size=5)


def _general(front: str) -> dict[str, Any]:
    """read_front_matter without its fast path."""
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
def test_plain_front_matter_reads_like_yaml(lines: list[str]) -> None:
    front = "\n".join(lines)
    fast = parse._plain_front_matter(front)
    if fast is not None:
        assert fast == _general(front)
    assert parse.read_front_matter(front)[0] == _general(front)


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
def test_split_front_matter_like_line_splitting(lines: list[str], trailing: bool) -> None:
    text = "\n".join(lines) + ("\n" if trailing else "")
    assert parse.split_front_matter(text) == _split_general(text)


def test_control_byte_count_unchanged() -> None:
    data = bytes(range(256)) * 4
    assert len(data) - len(data.translate(None, parse._CONTROL_BYTES)) == len(
        parse._CONTROL.findall(data)
    )


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


def _same_both_ways(fn: Any, pattern: str, *candidates: str) -> None:
    """``fn`` gives the same outcome with and without the fast path named ``pattern``."""
    for c in candidates:
        fast = _outcome(lambda c=c: fn(c))
        assert fast == _without_fast_path(urls, pattern, lambda c=c: fn(c)), (fn.__name__, c)


_URL_PARTS = st.sampled_from(
    [
        "http",
        "https",
        "HTTP",
        "://",
        "/",
        "a",
        "Z",
        "0",
        ".",
        "-",
        ":",
        "@",
        "%41",
        "%7e",
        "?",
        "#",
        "=",
        "&",
        "!",
        "'",
        "(",
        "~",
        "_",
        " ",
        "中",
        "x.example",
        "mp.weixin.qq.com",
        ":80",
        ":443",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_URL_PARTS, max_size=10).map("".join))
@example("https://www.4hou.com/posts/100058")
@example("http://a.b")
@example("https://x.example/a/b:c@d!$&'()*+,;=~.-_")
@example("http://a.b//c")
@example("https://-x.example/")
def test_canonical_fast_path_like_general(url: str) -> None:
    _same_both_ways(
        urls.canonical, "_ALREADY_CANONICAL", url, "https://x.example/" + url, "http://" + url
    )


@given(st.text(max_size=40))
@example("https://www.4hou.com/posts/100058")
def test_entry_id_is_uuid5(name: str) -> None:
    assert urls.entry_id(name) == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


_DATE_PARTS = st.sampled_from(
    [*"0123456789", "-", " ", "T", ":", "٢", "2024", "-02-29", "-13-01", "1989", "\t"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_DATE_PARTS, max_size=12).map("".join))
@example("2024-05-14 12:30:26")
@example("2024-05-14T12:30:26")
@example("2024-05-14")
@example("2023-02-29")
@example("2024-13-01 10:00:00")
@example("1989-01-01")
@example("2024-05-14 24:00:00")
def test_date_fast_path_like_general(text: str) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    fast = _outcome(lambda: dates.parse_date(text, tz=tz))
    assert fast == _without_fast_path(dates, "_PLAIN", lambda: dates.parse_date(text, tz=tz))


@settings(max_examples=1500, deadline=None)
@given(st.lists(_URL_PARTS, max_size=10).map("".join))
@example("HTTPS://Www.Example.COM/a")
@example("http://a.b.")
@example("http://a.b\\c")
@example("http://a.b\t/c")
def test_host_and_origin_fast_path_like_general(url: str) -> None:
    for fn in (urls.host, urls.origin):
        _same_both_ways(fn, "_PLAIN_AUTHORITY", url, "https://" + url, "http://x.example" + url)

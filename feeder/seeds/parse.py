"""Seed file → :class:`Document`: decode the bytes, split and read the front matter.

Crawlers write the front matter by hand-rolled string formatting, so values
are rarely quoted even when YAML would need it (``source: SANS Internet
Storm Center, InfoCON: green``). Real YAML is used where it parses; where it
does not (or gives a non-string for a text field, ``title: yes``), a
line-wise ``key: value`` reading is used instead. YAML is read with the safe
loader, without aliases (no alias bombs) and under a size bound: seed
content is untrusted.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any

from feeder.errors import SeedError
from feeder.model import Document

log = logging.getLogger(__name__)

#: Front matter beyond this many characters is read line-wise only (linear time).
MAX_YAML_CHARS = 64 * 1024
#: Single-byte Latin-script encodings that charset detection confuses with windows-1252.
_LATIN_CONFUSABLE = frozenset(
    {
        "cp1250", "cp1254", "cp1257", "cp1258", "latin_1", "iso8859_2", "iso8859_3",
        "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15",
        "iso8859_16", "mac_latin2", "mac_roman", "mac_iceland", "mac_turkish",
    }
)  # fmt: skip
#: Tried in turn when detection finds no encoding at all.
_FALLBACKS = ("cp1252", "cp1250", "cp1251")
#: A non-ASCII character with a letter on each side.
_IN_WORD = re.compile(r"(?<=[^\W\d_])([^\x00-\x7f])(?=[^\W\d_])")
#: A file whose first KiBs are more than this share of control bytes is binary.
BINARY_CONTROL_SHARE = 0.10

_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
#: ``---`` first, the front matter, a closing fence line: :func:`split_front_matter`'s fast path.
_FRONT_MATTER = re.compile(r"---[ \t]*\n((?:.*\n)*?)(?:---|\.\.\.)[ \t]*(?:\n|\Z)")
_LINE_KEY = re.compile(r"^([A-Za-z_][\w\-. ]{0,63}?)[ \t]*:(?:[ \t]+(.*)|)$")
_LIST_ITEM = re.compile(r"^[ \t]+-[ \t]+(.*)$|^-[ \t]+(.*)$")
#: A ``key: value`` line of a mapping one level down (indented).
_INNER_KEY = re.compile(r"^[ \t]+([A-Za-z_][\w\-. ]{0,63}?)[ \t]*:(?:[ \t]+(.*)|)$")
#: An anchor or alias (``&a``, ``*a``) where YAML may read one: at the start of a
#: line or after ``:``, ``[``, ``{``, ``,`` or ``-`` and blanks. Two patterns, the
#: text's first line and the others, so that a search starts at one of those
#: characters (a scan for them) rather than trying the pattern at every character.
_ANCHOR_FIRST = re.compile(r"[ \t]*[&*][^\s\[\]{},]")
_ANCHOR_AFTER = re.compile(r"[\n:\[{,-][ \t]*[&*][^\s\[\]{},]")
#: The control bytes no text file holds (all below 0x20 but tab, LF, FF and CR), counted
#: by ``bytes.translate``: no list built, and faster than a search for them (4 µs, 24 µs).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
#: A plain value's first character: not one YAML reads as structure or a blank.
_PLAIN_START = r"[^\s\-?:,\[\]{}#&*!|>'\"%@`]"
#: An item of a one-line flow list (``tags: [a, b]``) that YAML reads as the text
#: itself whatever it says: a letter or ``_`` first, no flow indicators, single
#: spaces (the YAML words among them are refused in :func:`_plain_front_matter`).
_FLOW_ITEM = r"[A-Za-z_][A-Za-z0-9_.+/-]*(?: [A-Za-z0-9_.+/-]+)*"
#: Each non-empty line of a front matter, as :func:`_plain_front_matter` reads it:
#: ``key: value``, a plain value that does not end in a blank or ``:`` (groups 1
#: and 2); ``key: 'value'`` or ``key: "value"``, a quoted scalar that is the
#: whole value, single-quoted (``''`` is a quote) or double-quoted without
#: escapes (group 3, quotes kept); ``key: [a, b]``, a flow list of
#: :data:`_FLOW_ITEM` (group 4, brackets kept); ``key:`` with nothing after it
#: (group 1 alone); ``- item``, a block list's item, its indent (group 5) and
#: its plain value (group 6); or anything else (group 7).
_PLAIN_LINES = re.compile(
    rf"^(?:([A-Za-z_][A-Za-z0-9_-]{{0,63}}):(?: (?:({_PLAIN_START}.*)(?<![ :])"
    r"""|('(?:[^'\n]|'')*'|"[^"\\\n]*")"""
    rf"|(\[(?:{_FLOW_ITEM}(?:, {_FLOW_ITEM})*)?\]))| *)"
    rf"|( *)- ({_PLAIN_START}.*)(?<![ :])"
    r"|(.+))$",
    re.MULTILINE,
)
#: Plain YAML scalars that are not strings as keys (booleans, null), lower-cased.
_YAML_KEY_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})
#: The first characters of a plain scalar that YAML may read as a number, a date,
#: a null, a merge key or a value key: types kept in a list, and types YAML may
#: fail to build (``2024-02-30``, ``=``), refusing the whole text.
_TYPED_START = frozenset("0123456789+.~=<")
#: Plain YAML scalars that read as null.
_YAML_NULLS = frozenset({"~", "null", "Null", "NULL"})


class _NotYAML(Exception):
    """The text is not YAML feeder reads (syntax error, alias, too deep).

    ``line`` and ``column`` (1-based) are where YAML says the problem is
    (the start of the construct it was reading, when it names one).
    """

    def __init__(self, problem: str, line: int = 0, column: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column


@functools.cache
def _yaml() -> tuple[Any, type]:
    """PyYAML and its loader, imported on first use: plain front matter never needs them."""
    import yaml

    # the C loader is ~10x faster; fall back to the pure-Python one
    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class NoAliasLoader(base):  # type: ignore[misc]
        """Safe loader that refuses anchors and aliases (bounded memory and time)."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases are not allowed in front matter")
            return super().compose_node(parent, index)

    return yaml, NoAliasLoader


def _load_yaml(text: str) -> Any:
    """``text`` read by the safe loader without aliases; :class:`_NotYAML` if it cannot be."""
    yaml, loader = _yaml()
    try:
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).split("\n", 1)[0]
        if mark is None:
            raise _NotYAML(problem) from e
        raise _NotYAML(problem, mark.line + 1, mark.column + 1) from e


def decode(data: bytes, rel: str) -> tuple[str, str | None]:
    """Bytes → text and an optional warning about the encoding.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are taken as such;
    anything else is detected (GBK/GB18030 is common for Chinese crawlers).
    A file that is mostly UTF-8 with a few broken bytes keeps its text, the
    broken bytes replaced. Binary files raise :class:`SeedError`.
    """
    if not data or data.isspace():  # what bytes.strip strips, without a copy
        raise SeedError(rel, "empty file")
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError:
                break
    head = data[:8192]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > BINARY_CONTROL_SHARE * len(head):
        raise SeedError(rel, "binary file (not text)")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        utf8_error = e
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad <= max(2, len(text) // 200):
        return text, f"invalid UTF-8 bytes replaced ({bad}, first at byte {utf8_error.start})"
    from charset_normalizer import from_bytes  # imported lazily: costly at start-up

    matches = from_bytes(data)
    best = matches.best()
    if best is None or best.encoding is None:
        # No encoding reads it without "chaos" (often a short text in a
        # legacy encoding): the first common one that reads as words, else
        # windows-1252 with replacements. The ASCII stays exact; the article
        # is published.
        for codec in _FALLBACKS:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if _reads_as_words(text):
                return text, f"decoded as {codec} (a guess: no encoding fits cleanly)"
        text = data.decode("cp1252", errors="replace")
        return text, "decoded as cp1252 (a guess: no encoding fits cleanly)"
    # Latin-script single-byte encodings are hard to tell apart on a short
    # text: French or Portuguese in Latin-1 read as Baltic cp1257 or Central
    # European cp1250 with as little "chaos". As browsers do (WHATWG),
    # windows-1252 wins when it is a candidate and reads as words: no symbol
    # inside a word (Polish in cp1250 read as cp1252 gives "Za¿ó³æ").
    if best.encoding in _LATIN_CONFUSABLE:
        for m in matches:
            if m.encoding == "cp1252" and _reads_as_words(text := str(m)):
                return text, "decoded as cp1252"
    return str(best), f"decoded as {best.encoding}"


def _reads_as_words(text: str) -> bool:
    """No non-ASCII character between two letters is anything but a letter (or ’)."""
    return all(ch.isalpha() or ch == "\u2019" for ch in _IN_WORD.findall(text))


def split_front_matter(text: str) -> tuple[str | None, str, str | None]:
    """Text → (front matter or None, body, warning)."""
    m = _FRONT_MATTER.match(text)  # the common shape, in one step
    if m:
        return m.group(1)[:-1], text[m.end() :], None
    # Find the fences line by line from the start: the body (most of the
    # text) is sliced once, never split into lines and joined again.
    pos = 0
    while True:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.strip() or end < 0:
            break
        pos = end + 1
    if line.rstrip() != "---":
        return None, text, None
    front_start = p = end + 1
    while end >= 0:
        end = text.find("\n", p)
        if _FENCE.match(text[p:] if end < 0 else text[p:end]):
            body = text[end + 1 :] if end >= 0 else ""
            return text[front_start : max(front_start, p - 1)], body, None
        p = end + 1
    return _split_unterminated(text)


def _split_unterminated(text: str) -> tuple[str | None, str, str | None]:
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].rstrip() != "---":
        return None, text, None
    for i in range(start + 1, len(lines)):
        if _FENCE.match(lines[i]):
            return "\n".join(lines[start + 1 : i]), "\n".join(lines[i + 1 :]), None
    # Unterminated: the leading key: value lines are the front matter.
    end = start + 1
    while end < len(lines) and (_LINE_KEY.match(lines[end]) or _LIST_ITEM.match(lines[end])):
        end += 1
    return (
        "\n".join(lines[start + 1 : end]),
        "\n".join(lines[end:]),
        "unterminated front matter (no closing ---)",
    )


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        try:  # a quoted scalar alone is safe to read as YAML (escapes included)
            scalar = _load_yaml(value)
            if isinstance(scalar, str):
                return scalar
        except _NotYAML:
            pass
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner.replace('\\"', '"')
    return value


def read_lines(front: str) -> dict[str, Any]:
    """The forgiving reading: ``key: value`` per line, ``- item`` lines as lists.

    Indented ``key: value`` lines under a key without a value are that key's
    mapping (one level: ``source:`` then ``  source_url: …``).
    """
    return {key: _unquoted(raw) for key, raw in _raw_lines(front).items()}


#: A value of :func:`_raw_lines`: text, a block list's items, or a one-level mapping.
_Raw = str | list[str] | dict[str, str]


def _unquoted(raw: _Raw) -> str | list[str] | dict[str, str]:
    """A value of :func:`_raw_lines` as :func:`read_lines` gives it."""
    if isinstance(raw, str):
        return _unquote(raw)
    if isinstance(raw, dict):
        return {key: _unquote(value) for key, value in raw.items()}
    return [_unquote(item) for item in raw]


def _raw_lines(front: str) -> dict[str, _Raw]:
    """:func:`read_lines` with the values as written (not yet :func:`_unquote`-d).

    A quoted value is unquoted by YAML; this reading leaves that to whoever
    needs the value (:func:`read_front_matter` wants a few keys at most).
    """
    out: dict[str, _Raw] = {}
    last: str | None = None
    for line in front.split("\n"):
        m = _LINE_KEY.match(line)
        if m:
            last = m.group(1).strip()
            out.setdefault(last, m.group(2) or "")
            continue
        if last is None:
            continue
        current = out[last]
        item = _LIST_ITEM.match(line)
        if item:
            if isinstance(current, str) and _unquote(current) == "":
                current = out[last] = []
            if isinstance(current, list):
                current.append(item.group(1) or item.group(2) or "")
            continue
        inner = _INNER_KEY.match(line)
        if inner:
            if isinstance(current, str) and _unquote(current) == "":
                current = out[last] = {}
            if isinstance(current, dict):
                current.setdefault(inner.group(1).strip(), inner.group(2) or "")
    return out


def read_yaml(front: str) -> Mapping[str, Any] | None:
    """Strict YAML, or None where it does not parse into a mapping.

    Text that may hold anchors or aliases is not given to YAML at all (the C
    loader composes aliases before any hook could refuse them): an alias
    bomb then costs a line-wise reading, linear in its size.
    """
    return _strict_yaml(front)[0]


def _may_alias(front: str) -> bool:
    """Whether ``front`` may hold an anchor or an alias (see :data:`_ANCHOR_AFTER`)."""
    return bool(_ANCHOR_FIRST.match(front) or _ANCHOR_AFTER.search(front))


def _strict_yaml(front: str) -> tuple[Mapping[str, Any] | None, _NotYAML | None]:
    """:func:`read_yaml`, and YAML's own complaint when it failed on the text."""
    if len(front) > MAX_YAML_CHARS or _may_alias(front):
        return None, None
    try:
        data = _load_yaml(front)
    except _NotYAML as e:
        return None, e
    return (data, None) if isinstance(data, dict) else (None, None)


#: The first character of a value that YAML reads as structure, not text.
_YAML_INDICATORS = frozenset("[]{}\"'|>&*!%@`")


def _balanced(value: str) -> bool:
    """Brackets and braces in ``value`` all close, in order (a plain title, not a broken list)."""
    depth: list[str] = []
    for ch in value:
        if ch in "[{":
            depth.append("]" if ch == "[" else "}")
        elif ch in "]}" and (not depth or depth.pop() != ch):
            return False
    return not depth


def _yaml_warning(front: str, error: _NotYAML) -> str | None:
    """A warning when reading ``front`` line by line may not give what its author meant.

    The common crawler shape — a plain value holding ``: `` (``source: SANS
    ISC, InfoCON: green``) — reads line by line as intended: no warning.
    So does a bracketed prefix that closes (``title: [CVE-2024-1] Fix``).
    A value YAML took for structure (``title: [unclosed``, an open quote)
    or a line that is not ``key: value`` does get one, with YAML's own
    line:column message.
    """
    lines = front.split("\n")
    line = lines[error.line - 1] if 0 < error.line <= len(lines) else ""
    m = _LINE_KEY.match(line)
    value = (m.group(2) or "").strip() if m else ""
    if m and value and value[0] not in _YAML_INDICATORS:
        return None
    if m and value[:1] in "[{" and _balanced(value):
        return None  # ``title: [CVE-2024-1] Fix`` reads line by line as meant
    where = f"line {error.line}, column {error.column}: " if error.line else ""
    return f"front matter is not valid YAML ({where}{error.problem}); read it line by line"


def _plain_front_matter(front: str) -> dict[str, Any] | None:
    """The reading of :func:`read_front_matter` for the shapes crawlers write, or None.

    Those shapes are read here without YAML (~10 µs against 50-200): every
    line is one of :data:`_PLAIN_LINES`' and the whole is one that YAML and
    the line-wise reading both read, or that YAML refuses for a reason this
    reading sees, so that it knows which of the two :func:`read_front_matter`
    takes:

    - ``key: value`` with a plain value is the text itself in both (a value
      YAML reads as a number, date or boolean is replaced by its text).
    - A whole value in quotes, as crawlers quote titles, is the text inside,
      ``''`` read as ``'`` in single quotes; double quotes with a backslash
      inside (an escape) are left to YAML.
    - A value with ``: `` inside (``title: Part 2: the end``) makes YAML fail,
      and the line-wise reading is then taken for every line. That reading
      is the one this function gives, which differs from YAML's only for
      lists and empty values:
    - ``key:`` with nothing after it is null to YAML, ``""`` line by line;
      followed by ``- item`` lines (one indent, plain items that YAML reads as
      text) it is the list of the items in both.
    - ``key: [a, b]`` of plain words is a list to YAML, the text ``[a, b]``
      line by line.

    Where there are empty values or lists, the reading depends on whether
    YAML reads the text: the values it may build as something else (dates,
    numbers, ``=``) are given to YAML alone, and if it fails on one the
    result is None. Without them, both readings give the same values either
    way; only the general reading then warns that YAML failed on such a
    value (the entry's own date check warns of a date that is no date).

    Anything else (nested or other collections, comments, nulls, repeated
    keys, an item YAML may type, non-printable characters) is None, and
    the general reading decides.
    """
    out: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}  # folded key with nothing after the colon → its items
    flows: list[str] = []  # folded keys whose value is a flow list, as written
    refused = False  # a value YAML refuses: the line-wise reading is taken
    typed: list[str] = []  # plain values YAML may build as something else, or fail to
    items: list[str] | None = None  # the block list that item lines add to
    indent: str | None = None  # that list's indent
    for key, value, quoted, flow, item_indent, item, other in _PLAIN_LINES.findall(front):
        if other:
            return None
        if not key:  # a block list's item
            if items is None or (indent is not None and item_indent != indent):
                return None
            if item[0] in _TYPED_START or item.lower() in _YAML_KEY_WORDS or ": " in item:
                return None
            indent = item_indent
            items.append(item)
            continue
        folded = key.lower().replace("-", "_")
        if folded in out or value in _YAML_NULLS:  # a key again, or a null
            return None
        items = indent = None
        if value:
            refused = refused or ": " in value
            if value[0] in _TYPED_START:
                typed.append(value)
        elif quoted:
            value = quoted[1:-1].replace("''", "'") if quoted[0] == "'" else quoted[1:-1]
        elif flow:
            value = flow
            flows.append(folded)
        else:
            items = []
            lists[folded] = items
        out[folded] = value
    # Checked on the whole text: keys and ": " are printable and hold no " #",
    # a value does not start with "#", and "\n" ends each line.
    if " #" in front or not front.replace("\n", "").isprintable():
        return None
    # A folded key is a YAML word exactly when the key is (the words hold no "-").
    if not _YAML_KEY_WORDS.isdisjoint(out):
        return None
    if (lists or flows) and not refused:
        # Which reading applies depends on whether YAML reads the text. It is
        # not given text that may hold an alias (read_yaml): read line by line.
        # Otherwise it reads it unless it fails to build one of the typed
        # values (a date that is no date, a bare "="), and then it warns. YAML
        # reads them alone, in a list, to tell; where it fails, the general
        # reading gives the warning.
        if _may_alias(front):
            refused = True
        elif typed and not _yaml_builds(typed):
            return None
    for folded, found in lists.items():
        out[folded] = found or ("" if refused else None)
    if not refused:
        for folded in flows:
            words = out[folded][1:-1]
            out[folded] = words.split(", ") if words else []
            if not _YAML_KEY_WORDS.isdisjoint(word.lower() for word in out[folded]):
                return None
    return out


def _yaml_builds(values: list[str]) -> bool:
    """Whether YAML reads each of the plain scalars ``values`` (one a line, no ``: ``)."""
    try:
        _load_yaml("".join(f"- {value}\n" for value in values))
    except _NotYAML:
        return False
    return True


def _typed(value: object) -> bool:
    """Whether YAML gave ``value`` a type other than text or a collection (a number, a date…)."""
    return not isinstance(value, str | list | dict | type(None))


def read_front_matter(front: str, *, rel: str = "") -> tuple[dict[str, Any], list[str]]:
    """Merge the YAML and line-wise readings into one mapping of raw values.

    Keys are folded (``Page-Title`` → ``page_title``). The line-wise reading
    fills in what YAML could not read and supplies the literal text of
    scalars YAML typed (numbers, booleans, dates), so ``title: 2024`` stays
    ``"2024"`` and a date keeps its original spelling. ``rel`` names the
    seed in the debug line that says so.
    """
    warnings: list[str] = []
    plain = _plain_front_matter(front) if len(front) <= MAX_YAML_CHARS else None
    if plain is not None:
        return plain, warnings
    data, error = _strict_yaml(front)
    merged: dict[str, Any] = {}
    lines: dict[str, _Raw] | None = None  # read when YAML typed a scalar
    if data is None:
        message = _yaml_warning(front, error) if error is not None else None
        if message:
            warnings.append(message)
        elif front.strip():
            log.debug("%s: front matter is not strict YAML; read line by line", rel or "(seed)")
        source: Mapping[str, Any] = read_lines(front)
    else:
        source = data
    for key, value in source.items():
        folded = str(key).strip().lower().replace("-", "_").replace(" ", "_")
        if data is not None and _typed(value):
            if lines is None:
                lines = _raw_lines(front)
            raw = lines.get(str(key))
            if raw is not None:
                value = _unquoted(raw)
        elif data is not None and isinstance(value, dict) and any(map(_typed, value.values())):
            # The same for a mapping's scalars (``source: {published_at: 2024-05-01}``).
            if lines is None:
                lines = _raw_lines(front)
            raw = lines.get(str(key))
            if isinstance(raw, dict):
                value = {
                    k: _unquote(raw[str(k)]) if _typed(v) and str(k) in raw else v
                    for k, v in value.items()
                }
        merged.setdefault(folded, value)
    return merged, warnings


def _text_of(data: bytes, rel: str) -> tuple[str, str, list[str]]:
    """(digest, text with ``\\n`` line ends and no BOM, warnings) of a seed's bytes."""
    digest = hashlib.sha256(data).hexdigest()
    text, warning = decode(data, rel)
    warnings = [warning] if warning else []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text.lstrip("\ufeff")
    return digest, text, warnings


def parse_bytes(data: bytes, rel: str) -> Document:
    """Turn the bytes of one seed into a :class:`Document` (or raise SeedError)."""
    digest, text, warnings = _text_of(data, rel)
    front, body, split_warning = split_front_matter(text)
    if split_warning:
        warnings.append(split_warning)
    meta: dict[str, Any] = {}
    if front is None:
        warnings.append("no front matter")
    else:
        meta, fm_warnings = read_front_matter(front, rel=rel)
        warnings.extend(fm_warnings)
    return Document(rel=rel, meta=meta, body=body, digest=digest, warnings=tuple(warnings))


def body_of(data: bytes, rel: str) -> tuple[str, str]:
    """(digest, body) of a seed's bytes: :func:`parse_bytes`'s, the front matter not read."""
    digest, text, _ = _text_of(data, rel)
    return digest, split_front_matter(text)[1]

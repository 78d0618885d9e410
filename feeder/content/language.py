"""The language of an entry, and of a feed: BCP 47 tags from the text itself.

Readers use ``xml:lang`` (Atom), ``language`` (JSON Feed) and ``lang`` (HTML)
to pick fonts, hyphenation and speech: a Chinese article marked ``en`` is
shown with Latin-first fonts. A front-matter ``lang``/``language`` wins;
otherwise the article's text is identified with CLD2 (``pycld2``: Chromium's
compact language detector; offline, deterministic, a few µs per kilobyte).
A feed's language is ``[feed] language`` when set, else the one most of its
entries are in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

#: Characters of text looked at: enough for a reliable guess, bounded cost.
SAMPLE_CHARS = 4000
#: A well-formed language tag (language, then subtags): ``zh``, ``pt-BR``, ``zh-Hant``.
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}$")
#: Characters CLD2 refuses (it takes valid UTF-8 only: no surrogates, no C0 controls).
_REFUSED = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def tag(value: object) -> str:
    """A front-matter language as a BCP 47 tag (``zh_CN`` → ``zh-CN``); "" when unusable."""
    if not isinstance(value, str):
        return ""
    text = value.strip().replace("_", "-")
    if not _TAG.match(text):
        return ""
    head, *rest = text.split("-")
    return "-".join([head.lower(), *(r.upper() if len(r) == 2 else r for r in rest)])


def detect(text: str) -> str:
    """The language of ``text`` (``zh``, ``en``, ``zh-Hant`` …); "" when CLD2 is unsure."""
    import pycld2

    sample = _REFUSED.sub(" ", text[:SAMPLE_CHARS])
    if not sample.strip():
        return ""
    try:
        reliable, _, details = pycld2.detect(sample)
    except pycld2.error:
        return ""
    code = str(details[0][1])
    if code in ("un", "xxx") or not _TAG.match(code):
        return ""
    # CLD2 reports mixed text as unreliable; its top language is still the
    # one most of the text is in, which is what a reader's fonts should follow.
    return code if reliable or details[0][2] >= 50 else ""


def of_feed(configured: str, languages: Iterable[str]) -> str:
    """A feed's language: ``configured`` (``[feed] language``), else its entries' dominant one."""
    return configured or dominant(languages)


def differs(language: str, of: str) -> bool:
    """``language`` is known and not ``of``'s (``zh`` in a ``zh-CN`` feed is the same)."""
    return bool(language) and language.split("-")[0] != of.split("-")[0]


def dominant(languages: Iterable[str], *, default: str = "") -> str:
    """The most common of ``languages`` (ties: the first in sort order); ``default`` if none."""
    counts = Counter(lang for lang in languages if lang)
    if not counts:
        return default
    best = max(counts.values())
    return min(lang for lang, n in counts.items() if n == best)

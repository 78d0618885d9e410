"""Front-matter date values → timezone-aware datetimes.

Accepted: ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYY年MM月DD日``, ISO 8601
date-times with or without offset or ``Z`` and with any number of
fractional digits, RFC 822 (``Tue, 10 Jun 2003 04:00:00 GMT``), Unix
timestamps, and YAML's own date objects. A naive value is read in the
timezone given by the caller (per host). A date-only value is midnight of
that calendar day, so it stays on that day in the feed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from feeder.errors import DateError

_ISO = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"[ ]?(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_CJK = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:时](\d{2})(?:[:分](\d{2}))?秒?)?$"
)
_EPOCH = re.compile(r"^\d{9,10}(?:\.\d+)?$")

#: Years outside this range are not taken as real publication dates (feed
#: validators flag anything before 1990 as implausible).
MIN_YEAR, MAX_YEAR = 1990, 2200


def _offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise DateError(f"bad UTC offset {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_date(value: object, *, tz: tzinfo) -> tuple[datetime, bool]:
    """Parse ``value``; return (aware datetime, whether it was date-only).

    Raises :class:`DateError` with a short reason for anything else.
    """
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=tz)
        return _checked(dt), False
    if isinstance(value, date):
        return _checked(datetime.combine(value, time(), tzinfo=tz)), True
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DateError(f"not a date: {type(value).__name__}")
    text = " ".join(value.split())
    if not text:
        raise DateError("empty date")
    try:
        m = _ISO.match(text)
        if m:
            y, mo, d, hh, mi, ss, frac, offset = m.groups()
            micro = int((frac + "000000")[:6]) if frac else 0
            zone = _offset(offset) if offset else tz
            dt = datetime(
                int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro, zone
            )
            return _checked(dt), hh is None
        m = _CJK.match(text)
        if m:
            y, mo, d, hh, mi, ss = m.groups()
            dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), 0, tz)
            return _checked(dt), hh is None
        if _EPOCH.match(text):
            return _checked(datetime.fromtimestamp(float(text), tz=UTC)), False
        if "," in text or re.search(r"[A-Za-z]{3}", text):
            from email.utils import parsedate_to_datetime  # ~7 ms to import (socket, …)

            dt = parsedate_to_datetime(text)
            if dt is not None:
                return _checked(dt if dt.tzinfo else dt.replace(tzinfo=tz)), False
    except (ValueError, TypeError, OverflowError, IndexError) as e:
        raise DateError(f"impossible date {text[:40]!r}: {e}") from e
    raise DateError(f"not a date: {text[:40]!r}")


def _checked(dt: datetime) -> datetime:
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise DateError(f"year {dt.year} out of range")
    return dt


def rfc3339(dt: datetime) -> str:
    """RFC 3339 with an explicit offset, as feedgen writes it (``isoformat``)."""
    return dt.isoformat()

"""URLs: the published link and the canonical form an entry's id derives from.

The link is the url as given, as an IRI (:func:`public_link`), less what must
not be published: a user name or password is left out, and a host label that
mixes scripts or imitates Latin letters is shown in its ASCII (IDNA) form, as
browsers show it (:func:`display_host`).

The canonical url identifies an article across fetches: scheme and host
lower-cased (a non-ASCII host in IDNA form, an IP literal in brackets),
default port, fragment, user name and password and tracking parameters
dropped, the remaining parameters sorted. A WeChat article is identified by
``__biz``, ``mid``, ``idx`` and ``sn`` alone. :func:`canonical` splits a url
where :func:`urllib.parse.urlsplit` splits it and reads the parameters as
``parse_qsl`` does, in one pass over the query; it is idempotent:
``canonical(canonical(u)) == canonical(u)``.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import re
import unicodedata
import uuid
from functools import lru_cache
from urllib.parse import quote, unquote, uses_netloc

from feeder.errors import URLError

#: Query parameters that say how a page was reached, not which page it is.
TRACKING = frozenset(
    {
        "chksm",
        "scene",
        "subscene",
        "sessionid",
        "clicktime",
        "enterid",
        "ascene",
        "devicetype",
        "version",
        "nettype",
        "lang",
        "pass_ticket",
        "from",
        "isappinstalled",
        "key",
        "exportkey",
        "wx_header",
        "abtest_cookie",
        "uin",
        "acctmode",
        "share_token",
        "srcid",
        "sharer_sharetime",
        "sharer_shareid",
        "sharer_shareinfo",
        "sharer_shareinfo_first",
        "poc_token",
        "realreporttime",
        "countrycode",
        "fontgear",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "spm",
        "ref_src",
        "ref_url",
    }
)
_TRACKING_PREFIXES = ("utm_", "wx_", "pk_", "hmb_")
_WECHAT_HOST = "mp.weixin.qq.com"
#: What identifies a ``mp.weixin.qq.com/s?`` article.
_WECHAT_KEYS = frozenset({"__biz", "mid", "idx", "sn"})
#: What an IRI cannot hold literally (RFC 3987): controls, space and ``<>"{}|\^```.
_NOT_IRI = re.compile(r'[\x00-\x20\x7f<>"{}|\\^`]')
_PCT = re.compile(r"%[0-9a-fA-F]{2}")
_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes

#: ``[scheme:][//netloc]path[?query][#fragment]``, split where ``urlsplit`` splits;
#: the path's group 4 starts at its first character that is not its own canonical form.
_URL = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.-]*+):)?+(?://([^/?#]*+))?+"
    r"([A-Za-z0-9/:@!$&'()*+,;=._~-]*+([^?#]*+))(?:\?([^#]*+))?+"
)
#: Stripped from the start of a url by ``urlsplit`` (WHATWG: C0 controls and space).
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
#: Schemes ``urlunsplit`` writes with ``//`` even without a netloc.
_USES_NETLOC = frozenset(uses_netloc) - {""}
_IPV_FUTURE = re.compile(r"v[a-fA-F0-9]+\..+", re.DOTALL)
#: A canonical host holds none of these (it would not read back as the same host).
_NOT_IN_HOST = re.compile(r"[\[\]/?#@:]")
#: What a canonical path leaves unquoted.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
#: A query parameter that reads (``parse_qsl``) and writes (``urlencode``) as itself.
_PLAIN_PARAM = re.compile(r"[A-Za-z0-9_.~/:@!$'()*,;=-]*")
#: Left as they are in a canonical parameter; ``=`` only in the value.
_NAME_SAFE = "/:@!$'()*,;~"
_VALUE_SAFE = "=" + _NAME_SAFE


#: A url split as ``urlsplit`` splits it (no fragment): the text read (leading
#: controls and space, tabs and newlines removed), the scheme (lower-cased, ""
#: for none), the netloc (None without ``//``) and where it starts in the text,
#: the path and whether it is its own canonical form, the query, the host as
#: given (no brackets), whether it was an IP literal in brackets, and the port
#: text (not checked).
_Parts = tuple[str, str, "str | None", int, str, bool, str, str, bool, str]


@lru_cache(maxsize=64)
def _split(url: str) -> _Parts:
    """``url`` split as :func:`urllib.parse.urlsplit` splits it; ValueError where it does.

    The last few are kept: a seed's url is split by :func:`canonical` and
    :func:`public_link`, and its link (most often the same text) by
    :func:`host` and :func:`origin`.
    """
    text = url.lstrip(_C0_OR_SPACE)
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    m = _URL.match(text)
    assert m is not None  # every part is optional
    scheme, netloc, path, unplain, query = m.groups()
    scheme = scheme.lower() if scheme else ""
    if not netloc:
        return text, scheme, netloc, -1, path, not unplain, query or "", "", False, ""
    if "[" in netloc or "]" in netloc:
        if "[" not in netloc or "]" not in netloc:
            raise ValueError("Invalid IPv6 URL")
        _check_ip_literal(netloc.partition("[")[2].partition("]")[0])
    if not netloc.isascii():
        _check_nfkc(netloc)
    hostinfo = netloc.rpartition("@")[2]
    if "[" in hostinfo:
        hostname, _, port = hostinfo.partition("[")[2].partition("]")
        port = port.partition(":")[2]
    else:
        hostname, _, port = hostinfo.partition(":")
    bracketed = "[" in hostinfo
    at = m.start(2)
    return text, scheme, netloc, at, path, not unplain, query or "", hostname, bracketed, port


def _check_ip_literal(inside: str) -> None:
    """What ``urlsplit`` accepts in brackets: an IPv6 address or an ``IPvFuture``."""
    if inside.startswith("v"):
        if not _IPV_FUTURE.fullmatch(inside):
            raise ValueError("IPvFuture address is invalid")
    elif isinstance(ipaddress.ip_address(inside), ipaddress.IPv4Address):
        raise ValueError("An IPv4 address cannot be in brackets")


def _check_nfkc(netloc: str) -> None:
    """No character of the netloc becomes a url delimiter under NFKC (``℀`` is ``a/c``)."""
    n = netloc.replace("@", "").replace(":", "").replace("#", "").replace("?", "")
    folded = unicodedata.normalize("NFKC", n)
    if folded != n and any(c in folded for c in "/?#@:"):
        raise ValueError(f"netloc {netloc!r} contains invalid characters under NFKC normalization")


def to_iri(url: str) -> str:
    """The url as a valid IRI: only characters an IRI cannot hold are percent-encoded."""
    return _NOT_IRI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url.strip())


def check_url(url: str) -> str:
    """Return the stripped url if it is an absolute http(s) url, else raise URLError."""
    url = url.strip()
    _checked(url)
    return url


def _checked(url: str) -> _Parts:
    """The parts of the (stripped) absolute http(s) ``url``, or URLError."""
    try:
        parts = _split(url)
        port = parts[9]
        if port and not (port.isdigit() and port.isascii() and int(port) <= 65535):
            raise ValueError(f"bad port {port!r}")
    except ValueError as e:
        raise URLError(f"malformed url {url[:80]!r}") from e
    scheme = parts[1]
    if scheme != "https" and scheme != "http":
        kind = f"{scheme}: url" if scheme else "relative url"
        raise URLError(f"{kind} {url[:80]!r} is not an article address")
    if not parts[7]:
        raise URLError(f"url without host {url[:80]!r}")
    return parts


def canonical(url: str) -> str:
    """The canonical form of an absolute http(s) url (see module doc)."""
    url = url.strip()
    _, scheme, _, _, path, plain_path, query, host, bracketed, port = _checked(url)
    host = host.lower()
    if bracketed:
        try:
            _check_ip_literal(host)
        except ValueError as e:
            raise URLError(f"malformed url {url[:80]!r}") from e
        host = f"[{host}]"
    else:
        if host[-1] == ".":
            host = host.rstrip(".")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii").rstrip(".")
            except UnicodeError:
                host = quote(host, safe="").lower()
            if _NOT_IN_HOST.search(host):
                raise URLError(f"malformed url {url[:80]!r}")
        if not host:
            raise URLError(f"url without host {url[:80]!r}")
        if "]" in host:  # after a "[" in the user name
            raise URLError(f"malformed url {url[:80]!r}")
    if not plain_path:
        path = quote(_PCT.sub(lambda m: m.group().upper(), path), safe=_PATH_SAFE)
    if not path:
        path = "/"
    if query:
        if host == _WECHAT_HOST and path.startswith("/s/"):
            query = ""  # mp.weixin.qq.com/s/<id>: the path alone names the article
        else:
            query = _canonical_query(query, wechat=host == _WECHAT_HOST and path == "/s")
    if port and int(port) != (80 if scheme == "http" else 443):
        host = f"{host}:{int(port)}"
    return f"{scheme}://{host}{path}?{query}" if query else f"{scheme}://{host}{path}"


def _canonical_query(query: str, *, wechat: bool) -> str:
    """The parameters that name the page, sorted, in one pass over ``query``.

    A parameter is read as ``parse_qsl`` reads it (``+`` is a space, escapes
    decoded as UTF-8) and written as ``urlencode`` with ``quote`` writes it.
    For a WeChat article (``wechat``) the identity parameters are taken as
    they come; the others are looked at only if one of the four is missing.
    """
    kept: list[tuple[str, str, str]] = []  # (name, value, as written): sorted by name, value
    others: list[tuple[str, str, str, str]] = []  # (name, value, param, "=" or "")
    identity: set[str] = set()
    for param in query.split("&"):
        if not param:
            continue
        name, eq, value = param.partition("=")
        if "%" in name or "+" in name:
            name = unquote(name.replace("+", " "))
        if wechat and name in _WECHAT_KEYS:
            identity.add(name)
            kept.append(_written(name, value, param, eq))
        else:
            others.append((name, value, param, eq))
    if len(identity) < len(_WECHAT_KEYS):  # else the identity alone names the article
        for name, value, param, eq in others:
            low = name.lower()
            if not (low in TRACKING or low.startswith(_TRACKING_PREFIXES)):
                kept.append(_written(name, value, param, eq))
    kept.sort()
    return "&".join([p[2] for p in kept])


def _written(name: str, value: str, param: str, eq: str) -> tuple[str, str, str]:
    """``(name, value, canonical text)`` of a parameter (``name`` already decoded)."""
    if _PLAIN_PARAM.fullmatch(param):  # reads and writes as itself
        return name, value, param if eq else param + "="
    if "%" in value or "+" in value:
        value = unquote(value.replace("+", " "))
    return name, value, f"{quote(name, _NAME_SAFE)}={quote(value, _VALUE_SAFE)}"


def entry_id(canonical_url: str) -> str:
    """A permanent, ASCII, validator-accepted id: a name-based (SHA-1) ``urn:uuid:``.

    This is ``uuid.uuid5(uuid.NAMESPACE_URL, canonical_url)``, spelled out
    (it runs for every seed; the UUID object costs more than the hash).
    """
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + canonical_url.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=4096)  # a feed has few sources and one authority
def tag_uri(authority: str, date: str, specific: str) -> str:
    """An RFC 4151 ``tag:`` URI; the specific part is percent-encoded to ASCII."""
    return f"tag:{authority},{date}:{quote(specific, safe='/:@!$&()*+,;=-._~')}"


def origin(url: str) -> str:
    """``scheme://host[:port]/`` of an absolute url (never a user name or password)."""
    _, scheme, netloc, *_ = _split(url)
    netloc = netloc or ""
    hostinfo = netloc.rpartition("@")[2].lower()
    start = f"//{hostinfo}/" if netloc or scheme in _USES_NETLOC else "/"  # as urlunsplit
    return f"{scheme}:{start}" if scheme else start


def host(url: str) -> str:
    """The host of ``url``, lower-cased ("" when it has none)."""
    try:
        return _split(url)[7].lower()
    except ValueError:
        return ""


def public_link(url: str) -> tuple[str, tuple[str, ...]]:
    """``url`` as it is published, and a note for each thing taken out of it.

    The link is :func:`to_iri` of the url, except that a user name and
    password (``https://user:pass@host/``) are never published and a host
    that :func:`display_host` shows in ASCII is published so. ``url`` is one
    :func:`canonical` accepts.
    """
    try:
        text, _, netloc, start, _, _, _, _, bracketed, _ = _split(url.strip())
    except ValueError:
        return to_iri(url), ()
    netloc = netloc or ""
    _, at, hostinfo = netloc.rpartition("@")
    notes = []
    if at:
        notes.append("url: user name and password left out of the link")
    shown = hostinfo
    if not hostinfo.isascii() and not bracketed:
        name, colon, port = hostinfo.partition(":")
        shown = display_host(name) + colon + port
        if shown != hostinfo:
            notes.append(
                f"url: host {name!r} published in ASCII as {shown.partition(':')[0]}"
                " (it mixes scripts, imitates Latin letters or is not a valid IDN)"
            )
    if not notes:
        return to_iri(url), ()
    return to_iri(text[:start] + shown + text[start + len(netloc) :]), tuple(notes)


# --- How a host is shown ---------------------------------------------------
#
# Chromium's IDN display policy in spirit (docs/idn.md in its sources), per
# label: a label is shown in Unicode only if it is a valid IDNA2008 label
# after UTS 46 mapping; its letters come from one script, or from Latin, Han
# and Japanese kana, Latin, Han and Bopomofo, or Latin, Han and Hangul; it
# mixes no two sets of digits; and it is not made only of letters that look
# like Latin ones (Cyrillic ``аррӏе``, Greek, Armenian) under a TLD that is not
# of that script. Anything else is shown in ASCII, as browsers would request
# it. A label entirely in one non-Latin script (``пример.рф``, ``例子.测试``)
# stays Unicode.

#: Where each script's letters are (code point ranges, sorted and disjoint; ``""``:
#: letters of no one script). A letter outside them counts as script ``"Other"``.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00AA, 0x00AA, "Latin"),
    (0x00BA, 0x00BA, "Latin"), (0x00C0, 0x00D6, "Latin"), (0x00D8, 0x00F6, "Latin"),
    (0x00F8, 0x02AF, "Latin"), (0x02B0, 0x02E9, ""), (0x02EA, 0x02EB, "Bopomofo"),
    (0x02EC, 0x02FF, ""), (0x0370, 0x03E1, "Greek"), (0x03E2, 0x03EF, "Coptic"),
    (0x03F0, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"), (0x0531, 0x058F, "Armenian"),
    (0x0591, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"), (0x0700, 0x074F, "Syriac"),
    (0x0750, 0x077F, "Arabic"), (0x0780, 0x07BF, "Thaana"), (0x07C0, 0x07FF, "Nko"),
    (0x0800, 0x083F, "Samaritan"), (0x0840, 0x085F, "Mandaic"), (0x0860, 0x086F, "Syriac"),
    (0x0870, 0x08FF, "Arabic"), (0x0900, 0x097F, "Devanagari"), (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"), (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"), (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"), (0x0D80, 0x0DFF, "Sinhala"), (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"), (0x0F00, 0x0FFF, "Tibetan"), (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"), (0x1100, 0x11FF, "Hangul"), (0x1200, 0x139F, "Ethiopic"),
    (0x13A0, 0x13FF, "Cherokee"), (0x1400, 0x167F, "Canadian_Aboriginal"),
    (0x1680, 0x169F, "Ogham"), (0x16A0, 0x16FF, "Runic"), (0x1700, 0x177F, "Philippine"),
    (0x1780, 0x17FF, "Khmer"), (0x1800, 0x18AF, "Mongolian"),
    (0x18B0, 0x18FF, "Canadian_Aboriginal"), (0x1900, 0x194F, "Limbu"),
    (0x1950, 0x197F, "Tai_Le"), (0x1980, 0x19DF, "New_Tai_Lue"), (0x19E0, 0x19FF, "Khmer"),
    (0x1A00, 0x1A1F, "Buginese"), (0x1A20, 0x1AAF, "Tai_Tham"), (0x1B00, 0x1B7F, "Balinese"),
    (0x1B80, 0x1BBF, "Sundanese"), (0x1BC0, 0x1BFF, "Batak"), (0x1C00, 0x1C4F, "Lepcha"),
    (0x1C50, 0x1C7F, "Ol_Chiki"), (0x1C80, 0x1C8F, "Cyrillic"), (0x1C90, 0x1CBF, "Georgian"),
    (0x1CC0, 0x1CCF, "Sundanese"), (0x1D00, 0x1D25, "Latin"), (0x1D26, 0x1D2A, "Greek"),
    (0x1D2B, 0x1D2B, "Cyrillic"), (0x1D2C, 0x1D5C, "Latin"), (0x1D5D, 0x1D61, "Greek"),
    (0x1D62, 0x1D65, "Latin"), (0x1D66, 0x1D6A, "Greek"), (0x1D6B, 0x1D77, "Latin"),
    (0x1D78, 0x1D78, "Cyrillic"), (0x1D79, 0x1DBE, "Latin"), (0x1DBF, 0x1DBF, "Greek"),
    (0x1E00, 0x1EFF, "Latin"), (0x1F00, 0x1FFF, "Greek"), (0x2071, 0x2071, "Latin"),
    (0x207F, 0x207F, "Latin"), (0x2090, 0x209C, "Latin"), (0x2126, 0x2126, "Greek"),
    (0x212A, 0x212B, "Latin"), (0x2132, 0x2132, "Latin"), (0x214E, 0x214E, "Latin"),
    (0x2160, 0x2188, "Latin"), (0x2C00, 0x2C5F, "Glagolitic"), (0x2C60, 0x2C7F, "Latin"),
    (0x2C80, 0x2CFF, "Coptic"), (0x2D00, 0x2D2F, "Georgian"), (0x2D30, 0x2D7F, "Tifinagh"),
    (0x2D80, 0x2DDF, "Ethiopic"), (0x2DE0, 0x2DFF, "Cyrillic"), (0x2E80, 0x2FDF, "Han"),
    (0x3005, 0x3005, "Han"), (0x3007, 0x3007, "Han"), (0x3021, 0x3029, "Han"),
    (0x3031, 0x3035, ""), (0x3038, 0x303B, "Han"), (0x3041, 0x309F, "Hiragana"),
    (0x30A0, 0x30FA, "Katakana"), (0x30FB, 0x30FC, ""), (0x30FD, 0x30FF, "Katakana"),
    (0x3105, 0x312F, "Bopomofo"), (0x3131, 0x318E, "Hangul"), (0x31A0, 0x31BF, "Bopomofo"),
    (0x31F0, 0x31FF, "Katakana"), (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"),
    (0xA000, 0xA4CF, "Yi"), (0xA4D0, 0xA4FF, "Lisu"), (0xA500, 0xA63F, "Vai"),
    (0xA640, 0xA69F, "Cyrillic"), (0xA6A0, 0xA6FF, "Bamum"), (0xA722, 0xA7FF, "Latin"),
    (0xA800, 0xA82F, "Syloti_Nagri"), (0xA840, 0xA87F, "Phags_Pa"),
    (0xA880, 0xA8DF, "Saurashtra"), (0xA8E0, 0xA8FF, "Devanagari"),
    (0xA900, 0xA92F, "Kayah_Li"), (0xA930, 0xA95F, "Rejang"), (0xA960, 0xA97F, "Hangul"),
    (0xA980, 0xA9DF, "Javanese"), (0xA9E0, 0xA9FF, "Myanmar"), (0xAA00, 0xAA5F, "Cham"),
    (0xAA60, 0xAA7F, "Myanmar"), (0xAA80, 0xAADF, "Tai_Viet"),
    (0xAAE0, 0xAAFF, "Meetei_Mayek"), (0xAB00, 0xAB2F, "Ethiopic"),
    (0xAB30, 0xAB64, "Latin"), (0xAB65, 0xAB65, "Greek"), (0xAB66, 0xAB69, "Latin"),
    (0xAB70, 0xABBF, "Cherokee"), (0xABC0, 0xABFF, "Meetei_Mayek"),
    (0xAC00, 0xD7FF, "Hangul"), (0xF900, 0xFAFF, "Han"), (0xFB00, 0xFB06, "Latin"),
    (0xFB13, 0xFB17, "Armenian"), (0xFB1D, 0xFB4F, "Hebrew"), (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"), (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    (0xFF66, 0xFF6F, "Katakana"), (0xFF70, 0xFF70, ""), (0xFF71, 0xFF9D, "Katakana"),
    (0xFF9E, 0xFF9F, ""), (0xFFA0, 0xFFDC, "Hangul"), (0x1B000, 0x1B000, "Katakana"),
    (0x1B001, 0x1B11F, "Hiragana"), (0x20000, 0x323AF, "Han"),
)  # fmt: skip
_SCRIPT_STARTS = tuple(r[0] for r in _SCRIPT_RANGES)
#: Script mixes a label may have (UTS 39's "highly restrictive" level).
_ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
#: Letters that look like Latin ones, and the TLDs where a label made of them alone is usual.
_LATIN_LOOKALIKES = {
    "Cyrillic": (
        frozenset("асԁеһіјӏорԗԛѕԝхуъьЬҽпгѵѡ"),
        frozenset({"bg", "by", "kg", "kz", "mk", "mn", "rs", "ru", "su", "tj", "ua", "uz"}),
    ),
    "Greek": (frozenset("αικνορτυχϳ"), frozenset({"gr", "cy"})),
    "Armenian": (frozenset("ագզէլհյոսւօ"), frozenset({"am"})),
}
#: What UTS 46 reads as a label separator.
_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def _script(ch: str) -> str:
    cp = ord(ch)
    i = bisect.bisect_right(_SCRIPT_STARTS, cp) - 1
    if i >= 0 and cp <= _SCRIPT_RANGES[i][1]:
        return _SCRIPT_RANGES[i][2]
    return "Other"


def _scripts(label: str) -> set[str]:
    """The scripts of the letters of ``label`` (digits, marks and the like belong to none)."""
    found = {_script(ch) for ch in label if unicodedata.category(ch)[0] == "L"}
    found.discard("")
    return found


def _mapped(label: str) -> str | None:
    """``label`` after UTS 46 mapping (lower case, compatibility forms), or None if disallowed."""
    import idna  # only for non-ASCII hosts

    try:
        return idna.uts46_remap(label, std3_rules=False, transitional=False)
    except UnicodeError:  # idna.IDNAError
        return None


def _shown_in_unicode(mapped: str, tld: str) -> bool:
    import idna

    if "." in mapped:  # a character that is a dot and more (U+2488 "⒈"): never shown
        return False
    try:
        idna.check_label(mapped)
    except UnicodeError:  # not a valid IDNA2008 label
        return False
    zeros = {ord(c) - unicodedata.digit(c) for c in mapped if unicodedata.category(c) == "Nd"}
    if len(zeros) > 1:
        return False
    scripts = _scripts(mapped)
    if len(scripts) > 1:
        return any(scripts <= mix for mix in _ALLOWED_MIXES)
    if len(scripts) == 1:
        (script,) = scripts
        lookalikes = _LATIN_LOOKALIKES.get(script)
        if lookalikes is not None:
            letters, tlds = lookalikes
            imitates = all(c in letters for c in mapped if unicodedata.category(c)[0] == "L")
            if imitates and tld not in tlds and _scripts(tld) != scripts:
                return False
    return True


def _ascii(mapped: str) -> str:
    """The ASCII form of a mapped label, as browsers request it."""
    return ".".join(
        p if p.isascii() else "xn--" + p.encode("punycode").decode("ascii")
        for p in mapped.split(".")
    )


def display_host(host: str) -> str:
    """``host`` as browsers show it: each label as given, or in ASCII if it would deceive.

    An ASCII host is returned unchanged; see the comment above for the rule.
    """
    if host.isascii():
        return host
    labels = _DOTS.split(host)
    names = [n for n in labels if n]
    tld = (_mapped(names[-1]) or "") if names else ""
    shown = labels[:]
    for i, label in enumerate(labels):
        if label.isascii():
            continue
        mapped = _mapped(label)
        if mapped is None:
            shown[i] = _ascii(label.lower())
        elif not _shown_in_unicode(mapped, tld):
            shown[i] = _ascii(mapped)
    if shown == labels:
        return host
    return ".".join(shown)

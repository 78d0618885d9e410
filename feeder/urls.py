"""URLs: the entry link (an IRI, as given) and the canonical form its id derives from.

The canonical url identifies an article across fetches: scheme and host
lower-cased, default port, fragment and tracking parameters dropped, the
remaining parameters sorted. A WeChat article is identified by ``__biz``,
``mid``, ``idx`` and ``sn`` alone.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

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
_WECHAT_KEYS = ("__biz", "mid", "idx", "sn")
#: What an IRI cannot hold literally (RFC 3987): controls, space and ``<>"{}|\^```.
_NOT_IRI = re.compile(r'[\x00-\x20\x7f<>"{}|\\^`]')
_PCT = re.compile(r"%[0-9a-fA-F]{2}")
#: Urls :func:`canonical` leaves as they are (a ``/`` added for an empty path):
#: lower-case scheme and host, no port, user, query, fragment or escapes, and
#: a path of characters that need no quoting.
_ALREADY_CANONICAL = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[A-Za-z0-9/._~!$&'()*+,;=:@-]*)?"
)
_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes
#: ``http(s)://host`` with a plain host (no user, port or escapes), then the end or ``/?#``.
_PLAIN_AUTHORITY = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?=[/?#]|\Z)", re.IGNORECASE)


class URLError(ValueError):
    """The url is unusable as an article link (relative, not http(s), malformed)."""


def to_iri(url: str) -> str:
    """The url as a valid IRI: only characters an IRI cannot hold are percent-encoded."""
    return _NOT_IRI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url.strip())


def check_url(url: str) -> str:
    """Return the stripped url if it is an absolute http(s) url, else raise URLError."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as e:
        raise URLError(f"malformed url {url[:80]!r}") from e
    if parts.scheme.lower() not in ("http", "https"):
        kind = f"{parts.scheme}: url" if parts.scheme else "relative url"
        raise URLError(f"{kind} {url[:80]!r} is not an article address")
    if not parts.hostname:
        raise URLError(f"url without host {url[:80]!r}")
    return url


def _tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING or low.startswith(_TRACKING_PREFIXES)


def canonical(url: str) -> str:
    """The canonical form of an absolute http(s) url (see module doc)."""
    if _ALREADY_CANONICAL.fullmatch(url):
        return url if url.count("/") > 2 else url + "/"
    parts = urlsplit(check_url(url))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = quote(host, safe="")
    port = parts.port
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    path = _normalize_pct(parts.path) or "/"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if (
        host == "mp.weixin.qq.com"
        and path == "/s"
        and all(any(k == w for k, _ in query) for w in _WECHAT_KEYS)
    ):
        query = [(k, v) for k, v in query if k in _WECHAT_KEYS]
    else:
        query = [(k, v) for k, v in query if not _tracking(k)]
    # mp.weixin.qq.com/s/<id> and /s?__biz… forms never need their other parameters
    if host == "mp.weixin.qq.com" and path.startswith("/s/"):
        query = []
    q = urlencode(sorted(query), quote_via=quote, safe="=/:@!$'()*,;~")
    return urlunsplit((scheme, netloc, path, q, ""))


def _normalize_pct(path: str) -> str:
    path = _PCT.sub(lambda m: m.group().upper(), path)
    return quote(path, safe="/:@!$&'()*+,;=-._~%")


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
    """``scheme://host/`` of an absolute url."""
    m = _PLAIN_AUTHORITY.match(url)
    if m:
        return f"{m.group(1).lower()}://{m.group(2).lower()}/"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/", "", ""))


def host(url: str) -> str:
    """The host of ``url``, lower-cased ("" when it has none)."""
    m = _PLAIN_AUTHORITY.match(url)
    if m:
        return m.group(2).lower()
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""

"""URLs: the entry link (an IRI, as given) and the canonical form its id derives from.

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

import hashlib
import ipaddress
import re
import unicodedata
import uuid
from functools import lru_cache
from urllib.parse import quote, unquote, uses_netloc

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


class URLError(ValueError):
    """The url is unusable as an article link (relative, not http(s), malformed)."""


#: A url split as ``urlsplit`` splits it (no fragment): the text read (leading
#: controls and space, tabs and newlines removed), the scheme (lower-cased, ""
#: for none), the netloc (None without ``//``) and where it starts in the text,
#: the path and whether it is its own canonical form, the query, the host as
#: given (no brackets), whether it was an IP literal in brackets, and the port
#: text (not checked).
_Parts = tuple[str, str, "str | None", int, str, bool, str, str, bool, str]


def _split(url: str) -> _Parts:
    """``url`` split as :func:`urllib.parse.urlsplit` splits it; ValueError where it does."""
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
    """``scheme://netloc/`` of an absolute url."""
    _, scheme, netloc, *_ = _split(url)
    netloc = netloc or ""
    start = f"//{netloc.lower()}/" if netloc or scheme in _USES_NETLOC else "/"  # as urlunsplit
    return f"{scheme}:{start}" if scheme else start


def host(url: str) -> str:
    """The host of ``url``, lower-cased ("" when it has none)."""
    try:
        return _split(url)[7].lower()
    except ValueError:
        return ""

"""Image proxy: rewrite image sources through a configured URL template.

WeChat's image host (``mmbiz.qpic.cn``) answers a request that carries a
foreign ``Referer`` with a "not allowed to quote" placeholder. Images carry
``referrerpolicy="no-referrer"``, but many web readers drop the attribute or
fetch images through their own servers. ``[build] image_proxy`` names a
proxy that fetches the image without a Referer (a self-hosted imgproxy,
RSSHub's or weserv's style): ``https://proxy.example/?url={url}``, where
``{url}`` is the image URL percent-encoded, ``{host}`` its host and ``{path}``
its path and query (both percent-encoded as URL parts). ``image_proxy_hosts``
limits it to the hosts matching one of its globs (``*.qpic.cn``). The
original stays one click away: a proxied image that is not already inside a
link links to its original URL.

It runs on sanitized HTML (:mod:`feeder.content.sanitize`'s output: attributes in
double quotes, ``"`` and ``&`` escaped), so a token scan is exact; the URLs
it writes are http(s) by construction (the template is checked with the
settings, :func:`feeder.config.validate`).
"""

from __future__ import annotations

import fnmatch
import html
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
_SRC = re.compile(r'(\ssrc=")([^"]*)(")')


def proxy_images(content: str, *, template: str, hosts: Sequence[str] = ()) -> str:
    """``content`` with the sources of its images rewritten through ``template``."""
    if not template or "<img" not in content:
        return content
    out: list[str] = []
    pos = depth = 0
    for m in _TOKEN.finditer(content):
        closing, name = m.group(1), m.group(2).lower()
        if name == "a":
            depth = max(0, depth - 1) if closing else depth + 1
            continue
        if name != "img" or closing:
            continue
        src = _SRC.search(m.group(3))
        if src is None:
            continue
        original = html.unescape(src.group(2))
        proxied = _proxied(original, template, hosts)
        if proxied is None:
            continue
        attrs = m.group(3)
        new_attrs = attrs[: src.start(2)] + html.escape(proxied) + attrs[src.end(2) :]
        tag = f"<img{new_attrs}>"
        if not depth:
            tag = f'<a href="{html.escape(original)}" rel="noopener noreferrer">{tag}</a>'
        out.append(content[pos : m.start()])
        out.append(tag)
        pos = m.end()
    out.append(content[pos:])
    return "".join(out)


def _proxied(url: str, template: str, hosts: Sequence[str]) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return None
    if hosts and not any(fnmatch.fnmatchcase(host, glob.lower()) for glob in hosts):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return template.format(
        url=quote(url, safe=""), host=quote(host, safe=""), path=quote(path, safe="/")
    )

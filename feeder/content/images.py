"""Images are content or chrome, like text.

A scraped page's images are the article's figures, screenshots and photos,
and the page's furniture: logos, avatars, share and counter icons, QR codes
beside "扫码关注", promo banners, tracking pixels, decorations repeated
through the article, thumbnails of related posts. Text decides first
(:mod:`feeder.content.extract`): an image in a dropped block goes with it, so the
thumbnails of a related-posts list go with the list. Then each image is
judged on

* what it is (:func:`chrome_image`): a size of at most :data:`SMALL` pixels
  (``width``/``height``, ``16x16`` or ``?w=48`` in its URL), a square
  thumbnail (``-150x150``), a tracking pixel or an ad or counter host, a URL
  or alt text that names an avatar, headshot, icon, badge, button or QR code,
  a theme's folder, an alt text that is the site's or account's name or a
  call to action. A logo or a banner is chrome when it links to its own site
  (its home, a tag page) and outside the article; inside it, or leading it,
  it may be what the article is about, and stays;
* how often it occurs: the same picture repeated through the article is
  decoration (WeChat's divider lines) and goes; shown twice in a row (a
  theme's copy of the lead image) it keeps its first showing;
* its neighbours, the nearest lines of text before and after it: an image
  beside a call to action ("扫码关注", "Subscribe") illustrates it; an image
  whose neighbours are both chrome is chrome; a row of linked images that
  lead away (app-store, podcast, share buttons) is chrome; an animated GIF
  above the article's first paragraph is an account's banner.

The lead (hero) image between an article's title and its first paragraph
lies outside the best run of prose blocks, yet it is the article's: it is
kept when it leads straight (over a few short lines such as the date or the
byline) to the article's first block and does not link to the site; so is
the last figure right after the article's last paragraph. When unsure, an
image stays.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from urllib.parse import urljoin, urlsplit

from feeder.content.blocks import Block, images, measure
from feeder.content.extract import CTA, POSITIONAL, cta_line, title_matches
from feeder.content.sites import fold
from feeder.content.soup import Tag

#: An image at most this many pixels wide or high (when its markup or URL says) is an icon.
SMALL = 64
#: A square picture at most this large (``-150x150`` in its URL) is a thumbnail or
#: an author's photo unless it stands among the article's paragraphs.
THUMBNAIL = 200
#: ... and at most this large (``-150x150``), an avatar or a list's thumbnail wherever it is.
AVATAR = 160
#: Words of an image's URL or alt text that name page furniture, wherever it stands.
CHROME_WORDS = frozenset(
    {
        "avatar",
        "avatars",
        "headshot",
        "headshots",
        "author",
        "authors",
        "icon",
        "icons",
        "gravatar",
        "favicon",
        "qrcode",
        "qrcodes",
        "qr",
        "emoji",
        "emoticon",
        "emoticons",
        "smiley",
        "sprite",
        "sprites",
        "spacer",
        "pixel",
        "beacon",
        "badge",
        "badges",
        "btn",
        "button",
        "buttons",
    }
)
#: ... and words that name furniture unless the image stands among the article's
#: paragraphs (an article about a company may show its logo).
BRAND_WORDS = frozenset({"logo", "logos", "wechat", "weixin", "banner"})
#: ... and the same in Chinese (searched in the alt text).
_CHROME_ALT = re.compile(r"二维码|头像|扫码|扫一扫|小程序码")
_BRAND_ALT = re.compile(r"图标|公众号|广告|标志|徽标")
#: Hosts that only serve avatars, badges or counters.
_CHROME_HOSTS = (
    "gravatar.com",
    "badgen.net",
    "shields.io",
    "cnzz.com",
    "51.la",
    "google-analytics.com",
    "doubleclick.net",
    "googlesyndication.com",
    "googleadservices.com",
    "scorecardresearch.com",
    "quantserve.com",
    "pixel.wp.com",
    "stats.wp.com",
    "bat.bing.com",
    "hm.baidu.com",
    "mc.yandex.ru",
    "feedburner.com",
    "feedsportal.com",
)
#: Alt texts that say nothing of what an image shows (never a brand name).
_GENERIC_ALTS = frozenset({"", "image", "img", "photo", "picture", "图片", "图", "图像", "封面"})
_WORD = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|\d+")
_SEPARATORS = re.compile(r"[-_.~+%,;=!@ ]+")
#: A word of a URL longer than this is an identifier (WeChat's base64 names), not words.
_ID_CHARS = 20
#: A piece of a URL that is an identifier, not words: digits among letters, or
#: capitals scattered through it (``AVvXsEh1Cen9``, ``PMx53k5puG7yjM``).
_IDENTIFIER = re.compile(
    r"(?=.{8})(?=.*\d)(?=.*[a-zA-Z])(?!\d+x\d+$).*|(?=.{10})(?=(?:.*?[A-Z]){3}).*[a-z].*"
)
#: Where sites keep the pictures of their theme (not of their posts).
_THEME_PATH = re.compile(r"/(?:wp-content/themes|themes?|skins?|dist)/", re.I)
_URL_SIZE = re.compile(r"(?<![A-Za-z0-9.])(\d{1,4})[x×](\d{1,4})(?![A-Za-z0-9])")
_QUERY_SIZE = re.compile(r"(?:^|&)(?:w|h|width|height|s|size)=(\d{1,4})(?:&|$)")
_DIGITS = re.compile(r"\s*(\d{1,5})")
#: A link target that is a picture: the image linked to its full size.
_IMAGE_HREF = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|svg|tiff?)(?:[?#]|$)|wx_fmt=", re.I)
#: A lead image may be this many short lines (date, byline, title) before the article.
_LEAD_LINES = 4
_LEAD_LINE_UNITS = 90.0
_LEAD_LINK_UNITS = 40.0


#: Attributes in which lazy-loading scripts keep an image's real address
#: while ``src`` holds a placeholder.
LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-actualsrc")
#: Where :func:`real_sources` may have work: a data URI or a lazy attribute.
MAY_HOLD_PLACEHOLDERS = re.compile(r"data:|data-(?:src|original|lazy-src|actualsrc)=", re.I)


def _placeholder(src: str) -> bool:
    """An ``src`` that is no picture's address: empty, or inline data (cut or a blank pixel)."""
    return not src or src[:5].lower() == "data:"


def real_sources(soup: Tag) -> None:
    """Give each placeholder image the address of the picture it stands for.

    Pages that load images lazily ship a placeholder in ``src`` (a blank data
    URI, which scrapers often cut to ``data:image/png;base64...``) and the
    picture elsewhere: in a lazy-loading attribute (:data:`LAZY_SOURCES`), or
    as the link around the image when it opens the full-size file
    (``[![](data:…)](https://…/figure.jpg)``). Left alone, the sanitizer drops
    the data URI, then the empty link, and the article loses its figures.
    """
    for img in soup.find_all("img"):
        src = img.get("src")
        if not _placeholder(src.strip() if isinstance(src, str) else ""):
            continue
        real = ""
        for attr in LAZY_SOURCES:
            value = img.get(attr)
            if isinstance(value, str) and not _placeholder(value.strip()):
                real = value.strip()
                break
        link = img.parent
        if not real and isinstance(link, Tag) and link.name == "a":
            href = link.get("href")
            if isinstance(href, str) and _IMAGE_HREF.search(href.strip()):
                real = href.strip()
        if real:
            img["src"] = real


def _dimension(value: object) -> int | None:
    m = _DIGITS.match(str(value)) if value is not None else None
    return int(m.group(1)) if m else None


def _words(text: str) -> set[str]:
    """The lower-case words of ``text``, camelCase split, identifiers left out."""
    out: set[str] = set()
    for part in _SEPARATORS.split(text):
        for piece in part.split("/"):
            if len(piece) > _ID_CHARS or _IDENTIFIER.fullmatch(piece):
                continue
            out.update(w.lower() for w in _WORD.findall(piece))
    return out


def chrome_image(img: Tag, brands: frozenset[str]) -> tuple[str, bool] | None:
    """The rule that makes ``img`` page furniture by what it is, or ``None``.

    The flag tells whether the rule holds wherever the image stands (``True``)
    or only outside the article's paragraphs (a logo, an icon, a banner).
    """
    src = str(img.get("src") or "").strip()
    alt = fold(str(img.get("alt") or ""))
    dims = [d for d in (_dimension(img.get("width")), _dimension(img.get("height"))) if d]
    if any(d <= 2 for d in dims):
        return "generic:image-pixel", True
    if dims and max(dims) <= SMALL:
        return "generic:image-small", True
    try:
        parts = urlsplit(src)
    except ValueError:
        parts = urlsplit("")
    host = (parts.hostname or "").lower()
    thumbnail = False
    for m in _URL_SIZE.finditer(parts.path):
        size = max(int(m.group(1)), int(m.group(2)))
        if size <= SMALL:
            return "generic:image-small", True
        if size <= AVATAR and m.group(1) == m.group(2):
            return "generic:image-thumbnail", True
        thumbnail = thumbnail or (size <= THUMBNAIL and m.group(1) == m.group(2))
    sizes = [int(m) for m in _QUERY_SIZE.findall(parts.query)]
    if sizes and max(sizes) <= SMALL:
        return "generic:image-small", True
    if any(host == h or host.endswith("." + h) for h in _CHROME_HOSTS):
        return "generic:image-icon", True
    if parts.path.lower().endswith(".svg") and parts.fragment:
        return "generic:image-icon", True  # one icon of a sprite sheet
    if _THEME_PATH.search(parts.path):
        return "generic:image-theme", True  # the site's own furniture, not a post's
    words = _words(host.replace(".", " ") + " " + parts.path) | _words(alt)
    if words & CHROME_WORDS or _CHROME_ALT.search(alt):
        return "generic:image-icon", True
    if alt and CTA.search(alt):
        return "generic:image-cta", True
    if alt and alt.casefold() in brands:
        return "generic:image-brand", True
    if words & BRAND_WORDS or _BRAND_ALT.search(alt):
        return "generic:image-logo", False
    if thumbnail:
        return "generic:image-thumbnail", False
    return None


#: The rules that drop the entry's title (an image named after it is the article's).
_TITLE_RULES = frozenset({"title", "generic:title"})


def brand_names(blocks: Sequence[Block], source: str, title: str = "") -> frozenset[str]:
    """The names of the site or account: ``source`` and the short lines dropped before the article.

    An image whose alt text is one of them is the site's logo or the account's banner.
    """
    names = {fold(source).casefold()}
    for b in blocks:
        if b.live and b.units > 0 and b.kind not in ("image", "rule", "embed"):
            break
        if b.dropped and b.dropped not in _TITLE_RULES and b.text and b.units <= 40:
            if title and title_matches(b.text, title):
                continue
            names.add(b.text.casefold())
            names.add(b.text.casefold() + " logo")
    names.add(fold(source).casefold() + " logo")
    return frozenset(n for n in names if n.strip() and n not in _GENERIC_ALTS and len(n) >= 2)


_images = images


def _is_text(block: Block) -> bool:
    return block.units > 0 and block.kind not in ("image", "rule", "embed")


def _is_cta(block: Block) -> bool:
    return cta_line(block)


_GIF = re.compile(r"\.gif(?:[?#]|$)|[?&]wx_fmt=gif|/mmbiz_gif/", re.I)


#: A photo credit: what marks the line under a picture as its caption.
_CREDIT = re.compile(
    r"\b(?:image|photo|picture|illustration|graphic|credit)s?(?: credits?)?\s*[:：]"
    r"|\bvia (?:unsplash|getty|shutterstock|reuters|afp|ap)\b|(?:图片来源|图片来自|图源|摄影)",
    re.IGNORECASE,
)


def _caption(block: Block) -> bool:
    """True if ``block`` is a picture's caption: one short line that credits it."""
    return (
        _is_text(block)
        and block.units <= _LEAD_LINE_UNITS
        and block.link_density < 0.5
        and bool(_CREDIT.search(block.text))
    )


def _paragraph(block: Block) -> bool:
    """True if ``block`` is a paragraph of prose, not a heading or a short line."""
    return block.kind in ("para", "list", "table", "pre") and block.units - block.link_units >= (
        _PARAGRAPH_UNITS
    )


_PARAGRAPH_UNITS = 60.0


def _animated(img: Tag) -> bool:
    """True if ``img`` is a GIF (above an article: an account's animated banner)."""
    return bool(_GIF.search(str(img.get("src") or "")))


def _href(img: Tag) -> str:
    """The target of the link ``img`` is in ("" if none)."""
    parent = img.parent
    while parent is not None and parent.name != "a":
        parent = parent.parent
    return str(parent.get("href") or "").strip() if parent is not None else ""


def _linked_away(img: Tag) -> bool:
    """True if ``img`` is inside a link that leads elsewhere than the picture itself."""
    href = _href(img)
    return bool(href) and href != str(img.get("src") or "") and not _IMAGE_HREF.search(href)


def _linked_to_site(img: Tag, page: str) -> bool:
    """True if ``img`` links to its site's home, or to a tag, category or search page."""
    href = _href(img)
    if not href:
        return False
    try:
        target = urlsplit(urljoin(page, href))
        host = urlsplit(page).hostname or ""
    except ValueError:
        return False
    if _SITE_PAGE.search(target.path) or "search" in target.path.lower():
        return True
    same = _domain(target.hostname or "") == _domain(host)
    return (
        same
        and target.path.count("/") <= 2
        and target.path.rstrip("/").count("/") <= 1
        and (not target.query)
    )


def _domain(host: str) -> str:
    """The registrable part of ``host``, roughly: ``blog.example.co.uk`` → ``example.co.uk``."""
    labels = host.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "ne", "or"})
_SITE_PAGE = re.compile(r"/(?:tags?|category|categories|topics?|labels?|authors?)/", re.I)


class _Judge:
    """The image pass over one entry's blocks; ``drops`` collects (rule, src) pairs."""

    def __init__(self, blocks: Sequence[Block], brands: frozenset[str], url: str) -> None:
        self.blocks = blocks
        self.brands = brands
        self.url = url
        self.drops: list[tuple[str, str]] = []
        self.text_at = [i for i, b in enumerate(blocks) if _is_text(b)]
        #: Where each picture occurs among the article's blocks, before images are judged.
        self.where: dict[str, list[int]] = {}
        for i, b in enumerate(blocks):
            if b.live:
                for img in _images(b):
                    self.where.setdefault(str(img.get("src") or ""), []).append(i)

    def remove(self, block: Block, imgs: Iterable[Tag], rule: str) -> None:
        """Drop ``imgs`` of ``block``: the whole block when nothing else is left in it."""
        imgs = list(imgs)
        if not imgs:
            return
        if block.kind == "image" and len(imgs) == len(_images(block)):
            block.dropped = rule
            return
        for img in imgs:
            self.drops.append((rule, str(img.get("src") or "")))
            img.decompose()
        measure(block)
        if not block.text and not _images(block) and block.kind in ("para", "other", "image"):
            block.dropped = rule

    def neighbours(self, i: int) -> tuple[Block | None, Block | None]:
        k = bisect_left(self.text_at, i)
        prev = self.blocks[self.text_at[k - 1]] if k > 0 else None
        if k < len(self.text_at) and self.text_at[k] == i:
            k += 1
        nxt = self.blocks[self.text_at[k]] if k < len(self.text_at) else None
        return prev, nxt

    def intrinsic(self) -> None:
        for b in self.blocks:
            if b.dropped and b.dropped not in POSITIONAL:
                continue
            imgs = _images(b)
            if not imgs:
                continue
            bad: dict[str, list[Tag]] = {}
            for img in imgs:
                found = chrome_image(img, self.brands)
                if found is None:
                    continue
                rule, anywhere = found
                # A logo or a banner is the site's when it links to the site (its home,
                # a tag page); otherwise it may be what the article is about: inside the
                # article it stays, outside it goes unless it leads the article.
                if anywhere or _linked_to_site(img, self.url):
                    bad.setdefault(rule, []).append(img)
            if b.kind == "image" and sum(map(len, bad.values())) == len(imgs):
                b.dropped = next(iter(bad))
                continue
            if b.live:
                for rule, found_imgs in bad.items():
                    self.remove(b, found_imgs, rule)

    def badges(self) -> None:
        """Drop the rows of linked images that lead away: app-store, podcast and share buttons."""
        run: list[Block] = []
        for b in [*self.blocks, None]:
            if b is not None and b.kind == "image" and b.live:
                imgs = _images(b)
                if imgs and all(_linked_away(img) for img in imgs):
                    run.append(b)
                    continue
            if b is not None and _is_empty_block(b) and b.kind != "image":
                continue
            if sum(len(_images(x)) for x in run) >= _BADGES:
                for x in run:
                    x.dropped = "generic:image-badges"
            run = []

    def repeated(self) -> None:
        """Drop a picture the article shows more than once.

        Repeated through the article (paragraphs between), it is decoration and
        goes everywhere; shown twice in a row (the theme's copy of the lead
        image), only its first showing stays.
        """
        live = [(i, b, img) for i, b in enumerate(self.blocks) if b.live for img in _images(b)]
        for i, b, img in live:
            src = str(img.get("src") or "")
            where = self.where.get(src, [])
            if not src or len(where) < 2 or not b.live:
                continue
            between = self.blocks[where[0] + 1 : where[-1]]
            if not any(x.live and _paragraph(x) for x in between):
                first = next((j for j in where if self.blocks[j].live), i)
                if i != first:
                    self.remove(b, [img], "generic:image-duplicate")
            else:
                self.remove(b, [img], "generic:image-repeated")

    def context(self, *, fallback: bool) -> None:
        first_live = next((i for i in self.text_at if self.blocks[i].live), None)
        last_live = next((i for i in reversed(self.text_at) if self.blocks[i].live), None)
        first_para = next(
            (i for i in self.text_at if self.blocks[i].live and _paragraph(self.blocks[i])), None
        )
        shown = {str(img.get("src") or "") for b in self.blocks if b.live for img in _images(b)}
        for i, b in enumerate(self.blocks):
            if (
                b.live
                and b.kind != "image"
                and first_para is not None
                and i < first_para
                and b.units < _PARAGRAPH_UNITS
                and _images(b)
                and all(map(_animated, _images(b)))
            ):
                b.dropped = "generic:image-banner"  # an account's banner and its slogan
                continue
            if b.kind != "image" or (b.dropped and b.dropped not in POSITIONAL):
                continue
            prev, nxt = self.neighbours(i)
            leading = first_live is not None and i < first_live and self.leads(i, first_live)
            # A call to action before the article's lead image is the page's
            # ("Subscribe to our newsletter" closing the menu), not the image's.
            if (prev is not None and _is_cta(prev) and not leading) or (
                nxt is not None and _is_cta(nxt)
            ):
                b.dropped = "generic:image-cta"
            elif first_para is not None and i < first_para and all(map(_animated, _images(b))):
                b.dropped = "generic:image-banner"  # an animated banner above the article
            elif b.live:
                if fallback or (prev is None and nxt is None):
                    continue
                if _chrome(prev) and _chrome(nxt):
                    b.dropped = "generic:image-among-chrome"
            elif (
                b.dropped == "generic:outside-article"
                and leading
                and not any(_linked_to_site(img, self.url) for img in _images(b))
                and not any(str(img.get("src") or "") in shown for img in _images(b))
            ):  # (a picture the article shows again is the theme's header)
                b.dropped = None  # the article's lead image
                if nxt is not None and nxt.dropped in POSITIONAL and _caption(nxt):
                    nxt.dropped = None  # and its caption
            elif (
                b.dropped in POSITIONAL
                and last_live is not None
                and i > last_live
                and self.ends(last_live, i)
                and not any(_linked_away(img) for img in _images(b))
            ):
                b.dropped = None  # the article's last figure

    def ends(self, last: int, i: int) -> bool:
        """True if image ``i`` follows the article's last block, a few images at most between."""
        between = self.blocks[last + 1 : i]
        if any(not _is_empty_block(b) for b in between):
            return False
        return sum(1 for b in between if b.kind == "image") < _TAIL_IMAGES

    def leads(self, i: int, first: int) -> bool:
        """True if only a few short lines lie between image ``i`` and the article's first block."""
        lines = 0
        linked = any(_href(img) for img in _images(self.blocks[i]))
        for b in self.blocks[i + 1 : first]:
            if b.kind == "image" and _images(b) and linked:
                return False  # a linked picture leads the article only if nearest it
            if not _is_text(b):
                continue
            if b.units > _LEAD_LINE_UNITS or _is_cta(b):
                return False
            if b.link_density >= 0.5 and b.units > (
                _LEAD_LINK_UNITS if b.kind == "list" else 2 * _LEAD_LINK_UNITS
            ):
                return False  # a menu, not an author's or a category's name
            lines += 1
        return lines <= _LEAD_LINES


_TAIL_IMAGES = 2
#: This many linked images in a row, each leading to another page, are buttons.
_BADGES = 2


def _is_empty_block(block: Block) -> bool:
    return block.kind in ("image", "rule", "embed") or (
        block.units == 0 and block.kind != "heading"
    )


def _chrome(block: Block | None) -> bool:
    """True if a neighbour is missing or was dropped as chrome (not for its place alone,
    and not as the title or the byline a lead image stands beside).
    """
    return block is None or (block.dropped is not None and block.dropped not in _NOT_CHROME)


_NOT_CHROME = POSITIONAL | _TITLE_RULES | {"byline", "generic:byline"}


def judge_images(
    blocks: Sequence[Block], *, url: str, title: str = "", source: str, fallback: bool
) -> list[tuple[str, str]]:
    """Drop the images of ``blocks`` that are chrome; returns the (rule, src) of images removed
    from inside kept blocks (whole dropped blocks are recorded by the caller).
    """
    judge = _Judge(blocks, brand_names(blocks, source, title), url)
    judge.intrinsic()
    judge.context(fallback=fallback)
    judge.badges()
    judge.repeated()
    return judge.drops

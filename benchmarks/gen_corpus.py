"""Generate a deterministic corpus of synthetic seeds for the performance benchmark.

Two shapes:

``realistic`` (the default)
    One flat directory of ``NNN_<16 hex>.txt`` files, as the user's crawler
    writes them (``seeds/000_6d81516ea70193ef.txt``). The hosts, the
    front-matter variants, the date formats, the body sizes and the Markdown
    features come in the proportions measured on the shared corpus
    (``--describe`` prints them; the figures are the constants below).
    47 % of the seeds are WeChat articles, most with urls that carry the full
    tracking query (``__biz``, ``mid``, ``idx``, ``sn``, ``chksm``, ``scene``,
    ``subscene``, ``sessionid``, ``#rd``); 3 % are the same article fetched
    again later into another file. The mtime of a seed is its fetch time.

``grouped``
    The older corpus: ~7 KB articles, half Chinese and half English, simple
    urls, in one sub-directory per source (feeder's fast paths: one scan
    digest per directory).

The text is generated, not copied; only short generic phrases (site
furniture such as "阅读原文" or "Top of page") are the real ones. The same
``--shape``, ``--seed`` and ``--count`` always give the same bytes, and
article ``n`` depends on the seed and ``n`` only (``--start`` extends a
corpus)::

    python benchmarks/gen_corpus.py --count 10000 --out benchmarks/out/seeds-10000
    python benchmarks/gen_corpus.py --count 1000000 --out /data/seeds-1m --jobs 2
    python benchmarks/gen_corpus.py --describe /work/shared/corpus

100 000 realistic seeds are ~0.8 GB and ~50 s of CPU (``--jobs 2``: half the
wall time on two idle cores); 1 000 000 are ~8 GB, in one directory.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import itertools
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit

T = TypeVar("T")

# ---------------------------------------------------------------------------
# Measured on the shared corpus: /work/shared/corpus (seed/ and dev/, the
# user's seed and 37 real pages; 38 files), 2026-12-02, with ``--describe``.
# Shares are of files unless said otherwise.
# ---------------------------------------------------------------------------

#: File sizes in bytes (front matter included), all 38 of them: median 7.2 KB,
#: mean 7.9 KB, 1.9 KB to 46 KB. A seed's size is one of them, give or take 20 %.
MEASURED_SIZES = (
    1911, 2148, 2329, 2364, 4144, 4158, 4196, 4654, 4971, 4972, 5037, 5161, 5343,
    5707, 5912, 5963, 6236, 7119, 7147, 7341, 7341, 7466, 7480, 7750, 8169, 8280,
    8337, 8357, 8381, 8390, 8405, 8436, 9859, 11354, 11372, 13526, 13611, 46236,
)  # fmt: skip

#: Hosts of the article urls (``url``, ``source_url``, ``original_url``):
#: mp.weixin.qq.com 14 of 38 (37 %; 1 with the full tracking query, the
#: user's own seed, 13 in the short ``/s/<id>`` form of an aggregator);
#: Chinese security news (anquanke 2, freebuf 2, secpulse 1) 13 %;
#: advisories (seclists 2, cxsecurity 2) 10.5 %; English news (krebs 2,
#: theregister 1, talos 1) 10.5 %; SANS ISC 1, CSDN 1, Hacker News 1, and
#: 8 blogs and docs sites. No Medium page in the corpus: its share is a guess.
#: The mix below keeps those shares but gives WeChat 47 %, 88 % of it in the
#: full form, so that 41 % of all seeds carry the full tracking query (the
#: user's shape); the corpus comes out 63 % Chinese (measured: 53 %).
FAMILIES = {  # family: share of seeds
    "wechat": 0.47,
    "cn_news": 0.11,
    "csdn": 0.04,
    "advisory": 0.09,
    "sans": 0.03,
    "en_news": 0.09,
    "medium": 0.03,
    "blog": 0.14,
}
#: WeChat urls in the full tracking form, the rest ``/s/<22 characters>``.
WECHAT_FULL = 0.88
#: The query after ``chksm`` (and its share): the user's seed ends
#: ``&scene=58&subscene=0#rd``; links inside articles end
#: ``&scene=21#wechat_redirect``; shared links carry a ``sessionid``.
WECHAT_TAILS = (
    ("&scene=58&subscene=0#rd", 0.45),
    ("&scene=126&sessionid={sessionid}#rd", 0.2),
    ("&scene=21#wechat_redirect", 0.15),
    ("&scene=27&subscene=10000&sessionid={sessionid}#rd", 0.1),
    ("&mpshare=1&scene=1&srcid={srcid}&sharer_shareinfo={hex32}#rd", 0.1),
)
#: Front-matter shapes: 31 of 38 files are the crawler's five keys
#: (``title url source date fetch_date``); each other shape was seen once.
#: Within the crawler's shape: ``source`` empty 1 of 31, a title with an
#: unquoted ``: `` 2 (and two sources: SANS's ``InfoCON: green``,
#: ``Instapaper: Unread``), a title starting with ``[`` 1, an ``xa0`` leaked
#: into a title 1. Values are plain (183 of 197) but for 4 double-quoted
#: (titles, a date, a citation), 3 single-quoted (a title, two dates), 3
#: starting with ``[`` (two flow lists, that title) and 4 empty (a source,
#: and three keys whose block list follows).
FRONT_MATTER = {
    "crawler": 31,
    "sitemap": 1,  # fetched_at with nanoseconds and an offset, summary, block list
    "distilled": 1,  # original_url, distilled_at, flow-list tags, no fetch date
    "curated": 1,  # curated_at quoted, no source, no date
    "hn_list": 1,  # no title, published_at quoted, authors/topics block lists
    "hn_show": 1,  # title double-quoted, date_fetched, date_published
    "ingested": 1,  # source_url, ingested, no title, citation double-quoted
    "quoted": 1,  # title and date double-quoted, no fetch date
}
TITLE_COLON = 2 / 31
TITLE_BRACKET = 1 / 31
TITLE_XA0 = 1 / 31
SOURCE_EMPTY = 1 / 31
#: Dates: ``date`` is ``YYYY-MM-DD`` (32 of 33), ``fetch_date`` ISO 8601 with
#: microseconds and no offset (31 of 31). 23 of 31 fetches came the next
#: morning (1.1 to 1.3 days after the publication date, 03:00 to 08:00);
#: 8 were a backfill, 100 to 1060 days after it.
BACKFILL = 8 / 31
BACKFILL_DAYS = (100, 1060)
#: Markdown features, share of files having one: images 32/38 (356 in all,
#: 9.4 a file, 1.2 a KB), tables 10/38 (27 in all), fenced code 12/38 (30
#: blocks), emphasis next to Han characters 16/38 (168 in all; 16 of the 20
#: files mostly in Chinese), lists 26/38, block quotes 6/38, mostly Chinese
#: 20/38; the title repeated as a ``#`` heading 37/38; 7 headings and 56
#: blocks a file (medians); 17 links, 4.5 inline code spans, 1.4 bare urls,
#: 2.8 linked images and 1.4 empty images ``![]()`` a file (means).
MEASURED_FEATURES = {
    "images": 32 / 38,
    "table": 10 / 38,
    "code": 12 / 38,
    "cjk_emphasis": 16 / 38,
    "list": 26 / 38,
    "quote": 6 / 38,
    "cjk": 20 / 38,
}
#: Per family: (share in Chinese, images per KB, P(code), P(table), P(quote),
#: P(list), P(Han emphasis | Chinese)); chosen so that the corpus as a whole
#: comes out at MEASURED_FEATURES (``--describe`` on a generated corpus).
FAMILY_BODY = {
    "wechat": (1.0, 1.5, 0.25, 0.25, 0.1, 0.6, 0.75),
    "cn_news": (1.0, 1.3, 0.3, 0.1, 0.1, 1.0, 0.7),
    "csdn": (1.0, 0.4, 0.85, 0.25, 0.25, 0.8, 0.8),
    "advisory": (0.0, 0.8, 0.45, 0.5, 0.1, 0.7, 0.0),
    "sans": (0.0, 0.6, 0.3, 0.1, 0.6, 1.0, 0.0),
    "en_news": (0.0, 0.5, 0.05, 0.1, 0.2, 0.8, 0.0),
    "medium": (0.0, 0.6, 0.5, 0.1, 0.2, 0.7, 0.0),
    "blog": (0.15, 1.0, 0.45, 0.4, 0.2, 0.8, 0.8),
}
#: 5 of the 6 files without an image are the other shapes (text distilled
#: from a page): they have images this seldom.
OTHER_SHAPE_IMAGES = 0.15
#: The same article fetched again (a later fetch, another file): the corpus
#: has none in 38 files; crawlers that re-fetch lists do it at a few percent.
DUPLICATES = 0.03
#: Seeds a day: ``NNN`` in the file name counts them (000 to 999).
PER_DAY = 1000
#: The first crawl day of the realistic corpus (one day per 1000 seeds).
CRAWL_EPOCH = datetime(2024, 1, 1)

# ---------------------------------------------------------------------------
# Vocabulary (generated text; generic site phrases only).
# ---------------------------------------------------------------------------

#: Common Han characters (the Chinese text is drawn from them).
_HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量"
    "都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各"
    "重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代"
    "想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接"
    "知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北"
    "造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清美再采转更单风切打白"
    "教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集"
    "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿"
    "千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存"
    "候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该"
    "铁价严漏洞攻击安全漏洞勒索软件恶意样本威胁情报网络防护数据泄露供应链云原生零信任"
)
_EN_WORDS = (  # noqa: SIM905
    "the of and to in is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there one been all their has would will what if can when "
    "so no said who more about up them some could him into its then two out time like only my "
    "did other me your now over just may these new also people any know first see use "
    "attack vulnerability malware exploit patch ransomware threat actor campaign payload "
    "credential phishing server kernel firmware advisory researchers disclosed remote code "
    "execution privilege escalation supply chain backdoor botnet telemetry detection"
).split()
_TECH = (  # noqa: SIM905
    "Linux Windows macOS Android iOS Chrome Firefox Apache Nginx OpenSSH OpenSSL Kubernetes "
    "Docker Redis MySQL PostgreSQL Jenkins GitLab GitHub Spring Struts Tomcat WordPress "
    "Fortinet FortiGate Cisco Ivanti Citrix VMware ESXi Exchange SharePoint Oracle SAP "
    "Python Golang Rust Java PHP Node.js npm PyPI AI LLM Agent MCP RCE SQL XSS SSRF CSRF "
    "APT CVE POC EXP WAF EDR XDR SOC IoT API JWT OAuth DNS TLS HTTP VPN"
).split()
_CODE_LINES = (
    "import requests",
    "def main():",
    "    resp = requests.get(url, timeout=10)",
    "    print(resp.status_code)",
    'curl -s -X POST "$TARGET/api/login" -d @payload.json',
    "GET /admin-api/actuator/heapdump HTTP/1.1",
    "Host: 192.0.2.10",
    "User-Agent: python-requests/2.31.0",
    "for (int i = 0; i < len; i++) {",
    "    buf[i] ^= key[i % 16];",
    "}",
    "sudo apt-get update && sudo apt-get install -y nmap",
    "$ nmap -sV -p- 10.0.0.5",
    "SELECT id, name FROM users WHERE id = '1' OR '1'='1';",
    "<script>alert(document.domain)</script>",
    "npm install @example/scanner --save-dev",
    "kubectl get pods -A -o wide",
    "if err != nil {",
    '    return fmt.Errorf("decode: %w", err)',
)
_NAMES = ("alice", "bob", "chen", "wang", "li", "zhang", "sec", "lab", "hax", "root", "dev")
#: Page furniture of each family, at the top and at the end of the body.
#: (Short generic phrases, as the sites print them.)
_WECHAT_TOP = ("![]()", "在小说阅读器读本章", "去阅读", "![]()", "在小说阅读器中沉浸阅读")
_WECHAT_END = (
    "预览时标签不可点",
    "阅读原文",
    "![]()",
    "微信扫一扫\n关注该公众号",
    "继续滑动看下一个",
    "轻触阅读原文",
    "向上滑动看下一个",
    "知道了",
    "![]()\n微信扫一扫\n使用小程序",
    "取消\n允许",
    "×\n分析",
    "微信扫一扫可打开此内容，\n使用完整服务",
    "：\n，\n，\n，\n，\n，\n。",
    "视频\n小程序\n赞\n，轻点两下取消赞\n在看\n，轻点两下取消在看\n分享\n留言\n收藏\n听过",
)
_CN_NEWS_MENU = (
    "主站", "分类", "云安全", "AI安全", "开发安全", "终端安全", "数据安全", "Web安全",
    "基础安全", "企业安全", "移动安全", "系统安全", "其他安全", "特色", "热点", "工具",
    "漏洞", "人物志", "活动", "安全招聘", "攻防演练", "政策法规",
)  # fmt: skip
_CN_NEWS_END = ("被以下专辑收录，发现更多精彩内容", "+ 收入我的专辑", "+ 加入我的收藏", "相关推荐")
_CSDN_TOP = ("于 {date} 10:21:36 发布", "阅读量{views}", "收藏", "点赞数", "文章标签：")
_CN_NEWS_FOOTER = (
    "* [关于我们](/about)\n* [联系我们](/contact)\n* [免责条款](/dis)",
    "Copyright © 2025 All Rights Reserved",
)
_CSDN_END = ("点赞", "收藏", "觉得还不错? 一键收藏", "相关推荐")
_SANS_TOP = (
    "[Sign In](/login.html)\n[Sign Up](/register.html)",
    "Threat Level: [green](/infocon.html)",
)
_SANS_END = ("Comments", "Login here to join the discussion.", "Top of page", "Diary Archives")
_SANS_FOOTER = (
    "* [Link To Us](/linkback.html)\n* [About Us](/about.html)\n* [Privacy Policy](/privacy.html)"
)
_EN_END = ("Share this:", "Related", "Leave a Reply", "Privacy Policy", "Back to Top")
_MEDIUM_TOP = ("Follow", "{minutes} min read", "Listen", "Share")
_MEDIUM_END = ("Written by {author}", "Follow", "No responses yet", "Help\n\nStatus\n\nAbout")


def _below(rng: random.Random, k: int) -> int:
    """``rng.randrange(k)``, 5x faster (``random()`` is C; randrange is not)."""
    return int(rng.random() * k)


def _randint(rng: random.Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def _choice(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


# ---------------------------------------------------------------------------
# Text pools: the body text is cut out of them (fast, and no two seeds share
# a paragraph, since the cuts start anywhere).
# ---------------------------------------------------------------------------

_POOL_RNG_SEED = 20261202
_han_pool = ""
_en_pool = ""


def _pools() -> tuple[str, str]:
    global _han_pool, _en_pool
    if not _han_pool:
        rng = random.Random(_POOL_RNG_SEED)
        parts = []
        for _ in range(30_000):
            parts.append("".join(rng.choices(_HAN, k=_randint(rng, 5, 18))))
            parts.append(_choice(rng, "，，，，。。、；：" if rng.random() < 0.97 else "？！"))
            if rng.random() < 0.04:
                parts.append(f" {_choice(rng, _TECH)} ")
        _han_pool = "".join(parts)
        words = rng.choices(_EN_WORDS, k=120_000)
        for i in range(0, len(words), 13):
            if rng.random() < 0.3:
                words[i] = _choice(rng, _TECH)
            if rng.random() < 0.25:
                words[i] += _choice(rng, ",,,.;")
        _en_pool = " ".join(words)
    return _han_pool, _en_pool


def _han(rng: random.Random, chars: int) -> str:
    pool = _pools()[0]
    o = _below(rng, len(pool) - chars - 1)
    text = pool[o : o + chars].strip("，。、；：？！ ")
    return text + "。"


def _english(rng: random.Random, chars: int) -> str:
    pool = _pools()[1]
    o = pool.index(" ", _below(rng, len(pool) - chars - 40)) + 1
    text = pool[o : o + chars].rsplit(" ", 1)[0].strip(",.; ") or "it"
    return text[0].upper() + text[1:] + "."


def _words(rng: random.Random, n: int) -> list[str]:
    return [_choice(rng, _EN_WORDS if rng.random() < 0.7 else _TECH) for _ in range(n)]


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _b64(rng: random.Random, chars: int, alphabet: bytes = b"-_") -> str:
    raw = base64.b64encode(rng.randbytes(chars * 3 // 4 + 3), alphabet).decode()
    return raw[:chars]


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in weighted)
    for value, weight in weighted:
        r -= weight
        if r < 0:
            return value
    return weighted[-1][0]


# ---------------------------------------------------------------------------
# Sites: hosts, urls, sources, images.
# ---------------------------------------------------------------------------


def _wechat_accounts() -> list[tuple[str, str, str]]:
    """(account name, ``__biz``, image path prefix) of 400 made-up accounts."""
    rng = random.Random(_POOL_RNG_SEED + 1)
    suffixes = ("安全", "实验室", "安全团队", "技术", "情报", "社区", "研究院", "说安全", "观察")
    out = []
    for _ in range(400):
        name = "".join(rng.choices(_HAN, k=_randint(rng, 2, 4))) + _choice(rng, suffixes)
        uin = _randint(rng, 2_000_000_000, 3_999_999_999)
        biz = base64.b64encode(str(uin).encode()).decode()  # e.g. MzA5MzE5MDAzOA==
        out.append((name, biz, _b64(rng, 22, b"ib")))
    return out


def _blog_hosts() -> list[tuple[str, str]]:
    """(host, blog name) of 300 made-up blogs."""
    rng = random.Random(_POOL_RNG_SEED + 2)
    syll = "ka ro mi ne sec hax byte bit root shell zero day red blue pwn lab sky io".split()  # noqa: SIM905
    tlds = ("com", "net", "org", "io", "dev", "blog", "me", "org.uk", "it", "cn", "org.cn", "de")
    out = []
    for _ in range(300):
        stem = "".join(rng.choices(syll, k=_randint(rng, 2, 3)))
        host = f"{'www.' if rng.random() < 0.3 else ''}{stem}.{_choice(rng, tlds)}"
        out.append((host, stem.capitalize()))
    return out


_ACCOUNTS: list[tuple[str, str, str]] = []
_FREEBUF_IMG = "https://image.3001.net/images"
_QH_IMG = "https://p0.ssl.qhimg.com"
_SECPULSE_IMG = "https://www.secpulse.com/wp-content/uploads"
_4HOU_IMG = "https://img.4hou.com/images"
_REGISTER = "www.theregister.com - Articles"
_OVER_SECURITY = "Over Security - Cybersecurity news aggregator"
_BLOGS: list[tuple[str, str]] = []
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()  # noqa: SIM905


def _slug(title_words: list[str]) -> str:
    return "-".join(w.lower().strip(",.;") for w in title_words[:9])


def _wechat_url(rng: random.Random, biz: str, published: date) -> str:
    if rng.random() >= WECHAT_FULL:
        return f"https://mp.weixin.qq.com/s/{_b64(rng, 22)}"
    # mid grows with time, like an account's message ids (2247483647 + n, 26xxxxxxxx).
    mid = (2247483647 if rng.random() < 0.6 else 2650000000) + _below(rng, 500_000)
    idx = 1 if rng.random() < 0.55 else _randint(rng, 2, 8)
    tail = _pick(rng, WECHAT_TAILS).format(
        sessionid=int(datetime(published.year, published.month, published.day).timestamp())
        + _below(rng, 86400),
        srcid=f"{published:%m%d}{_b64(rng, 20, b'AB')}",
        hex32=_hex(rng, 32),
    )
    return (
        f"https://mp.weixin.qq.com/s?__biz={biz}&mid={mid}&idx={idx}"
        f"&sn={_hex(rng, 32)}&chksm={_hex(rng, 72)}{tail}"
    )


def _wechat_image(rng: random.Random, prefix: str) -> str:
    kind, fmt = _choice(
        rng,
        (
            ("sz_mmbiz_png", "png"),
            ("mmbiz_png", "png"),
            ("mmbiz_jpg", "jpeg"),
            ("sz_mmbiz_gif", "gif"),
        ),
    )
    tail = _choice(rng, ("&from=appmsg", "&from=appmsg#imgIndex=0", "&tp=webp&wxfrom=5&wx_lazy=1"))
    return f"https://mmbiz.qpic.cn/{kind}/{prefix}{_b64(rng, 64, b'ib')}/640?wx_fmt={fmt}{tail}"


class _Site:
    """One article's site: where its url, images and furniture come from."""

    def __init__(
        self, rng: random.Random, family: str, title_words: list[str], day: date, number: int
    ) -> None:
        # Ids grow with the article number, as a site's do: no two articles
        # share a url (feeder would take them for one).
        global _ACCOUNTS, _BLOGS
        if not _ACCOUNTS:
            _ACCOUNTS, _BLOGS = _wechat_accounts(), _blog_hosts()
        self.family = family
        slug = _slug(title_words)
        y, m, d = day.year, day.month, day.day
        self.image_host = ""
        self.wechat_prefix = ""
        if family == "wechat":
            account, biz, self.wechat_prefix = _choice(rng, _ACCOUNTS)
            self.url = _wechat_url(rng, biz, day)
            self.source = account if rng.random() < 0.4 else "Doonsec's feed"
            self.account = account
        elif family == "cn_news":
            n = 300_000 + number
            section = _choice(rng, ("news", "articles/web", "articles/network"))
            self.url, self.source, self.image_host = _choice(
                rng,
                (
                    (
                        f"https://www.freebuf.com/{section}/{n}.html",
                        "FreeBuf网络安全行业门户",
                        _FREEBUF_IMG,
                    ),
                    (f"https://www.anquanke.com/post/id/{n}", "安全客-有思想的安全新媒体", _QH_IMG),
                    (f"https://www.secpulse.com/archives/{n}.html", "安全脉搏", _SECPULSE_IMG),
                    (
                        f"https://www.4hou.com/posts/{_b64(rng, 2)}{number:x}",
                        "嘶吼专业版",
                        _4HOU_IMG,
                    ),
                ),
            )
        elif family == "csdn":
            user = f"{_choice(rng, _NAMES)}_{_randint(rng, 100, 99999999)}"
            post = 79_000_000 + 61 * number + _below(rng, 61)
            self.url = f"https://blog.csdn.net/{user}/article/details/{post}"
            self.source = _choice(rng, ("CSDN博客", f"{user}的博客-CSDN博客"))
            self.image_host = "https://i-blog.csdnimg.cn/direct"
        elif family == "advisory":
            if rng.random() < 0.5:
                self.url = f"https://seclists.org/fulldisclosure/{y}/{_MONTHS[m - 1]}/{number}"
                self.source = "Full Disclosure"
            else:
                self.url = f"https://cxsecurity.com/issue/WLB-{y}{m:02d}{number:04d}"
                self.source = "CXSECURITY Database RSS Feed - CXSecurity.com"
            self.image_host = ""
        elif family == "sans":
            self.url = f"https://isc.sans.edu/diary/rss/{30000 + number}"
            self.source = "SANS Internet Storm Center, InfoCON: green"
        elif family == "en_news":
            under = slug.replace("-", "_")
            self.url, self.source = _choice(
                rng,
                (
                    (f"https://krebsonsecurity.com/{y}/{m:02d}/{slug}/", "Krebs on Security"),
                    (f"https://www.theregister.com/{y}/{m:02d}/{d:02d}/{under}/", _REGISTER),
                    (f"https://blog.talosintelligence.com/{slug}/", _OVER_SECURITY),
                    (f"https://thehackernews.com/{y}/{m:02d}/{slug[:40]}.html", "The Hacker News"),
                ),
            )
            self.image_host = (
                f"https://{urlsplit(self.url).hostname}/wp-content/uploads/{y}/{m:02d}"
            )
        elif family == "medium":
            author = f"{_choice(rng, _NAMES)}{_randint(rng, 1, 999)}"
            tracking = f"?source=rss-{_hex(rng, 12)}------2" if rng.random() < 0.5 else ""
            self.url = f"https://medium.com/@{author}/{slug}-{_hex(rng, 12)}{tracking}"
            self.source = _choice(
                rng, ("Medium", f"Stories by {author} on Medium", "Instapaper: Unread")
            )
            self.author = author
            self.image_host = "https://miro.medium.com/v2/resize:fit:700"
        else:  # blog
            host, name = _choice(rng, _BLOGS)
            if rng.random() < 0.15:  # a Chinese slug, percent-encoded
                path = quote(_han(rng, 8)[:-1]).lower()
                self.url = f"https://{host}/{y}/{m:02d}/{path}/"
            else:
                self.url = _choice(
                    rng,
                    (
                        f"https://{host}/{y}/{m:02d}/{d:02d}/{slug}/",
                        f"https://{host}/blog/{slug}/",
                        f"https://{host}/posts/{slug}.html",
                    ),
                )
            r = rng.random()
            self.source = (
                name
                if r < 0.6
                else _OVER_SECURITY
                if r < 0.8
                else "Instapaper: Unread"
                if r < 0.95
                else ""
            )
            self.image_host = f"https://{host}/images"

        self.host = urlsplit(self.url).hostname or ""

    def image(self, rng: random.Random, n: int) -> str:
        if self.wechat_prefix:
            return _wechat_image(rng, self.wechat_prefix)
        if self.family == "cn_news" and "3001" in self.image_host:
            stamp = _randint(rng, 10**9, 2 * 10**9)
            return (
                f"{self.image_host}/{_randint(rng, 20240101, 20261130)}/{stamp}_{_hex(rng, 13)}.png"
            )
        if self.family == "medium":
            return f"{self.image_host}/1*{_b64(rng, 22)}.png"
        if not self.image_host:  # relative, as seclists and SANS have them
            return f"/images/{_choice(rng, ('diagram', 'shot', 'fig', 'poc'))}-{n}.png"
        return f"{self.image_host}/{_hex(rng, 8)}-{n}.{_choice(rng, ('png', 'png', 'jpg', 'webp'))}"


# ---------------------------------------------------------------------------
# Bodies.
# ---------------------------------------------------------------------------


def _cjk_paragraph(rng: random.Random, chars: int, emphasis: bool) -> str:
    text = _han(rng, chars)
    if emphasis and rng.random() < 0.15:  # **…** right next to Han characters and punctuation
        for _ in range(_randint(rng, 1, 2)):
            cut = 1 + _below(rng, len(text) - 9)
            k = _randint(rng, 2, 7)
            text = f"{text[:cut]}**{text[cut : cut + k]}**{text[cut + k :]}"
    r = rng.random()
    if r < 0.2:
        cut = _below(rng, len(text))
        text = f"{text[:cut]}`{_choice(rng, _TECH).lower()}`{text[cut:]}"
    elif r < 0.2:
        text += f"地址：https://github.com/{_choice(rng, _NAMES)}/{_choice(rng, _TECH).lower()}"
    elif r < 0.3:
        cut = _below(rng, len(text))
        text = f"{text[:cut]}[{_han(rng, 5)[:-1]}](https://example.cn/{_hex(rng, 6)}){text[cut:]}"
    return text


def _en_paragraph(rng: random.Random, chars: int) -> str:
    text = _english(rng, chars)
    r = rng.random()
    if r < 0.3:
        cut = text.find(" ", _below(rng, len(text)))
        if cut > 0:
            link = f"[{' '.join(_words(rng, 3))}](https://example.com/{_hex(rng, 8)})"
            text = f"{text[:cut]} {link}{text[cut:]}"
    elif r < 0.42:
        cut = text.find(" ", _below(rng, len(text)))
        if cut > 0:
            text = f"{text[:cut]} **{' '.join(_words(rng, 2))}**{text[cut:]}"
    elif r < 0.6:
        cut = text.find(" ", _below(rng, len(text)))
        if cut > 0:
            text = f"{text[:cut]} `{_choice(rng, _CODE_LINES).strip()[:30]}`{text[cut:]}"
    return text


def _table(rng: random.Random, cjk: bool) -> str:
    cols = _randint(rng, 2, 5)
    head = [_han(rng, 3)[:-1] if cjk else _choice(rng, _TECH) for _ in range(cols)]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * cols]
    for _ in range(_randint(rng, 2, 9)):
        cells = [
            (
                _han(rng, _randint(rng, 2, 10))[:-1]
                if cjk and rng.random() < 0.6
                else " ".join(_words(rng, 2))
            )
            if rng.random() < 0.7
            else str(_randint(rng, 0, 99999))
            for _ in range(cols)
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _code(rng: random.Random) -> str:
    lang = _choice(rng, ("", "", "python", "bash", "http", "go", "java", "sql"))
    lines = [_choice(rng, _CODE_LINES) for _ in range(_randint(rng, 2, 14))]
    return f"```{lang}\n" + "\n".join(lines) + "\n```"


def _link(rng: random.Random, cjk: bool, site: _Site) -> str:
    text = (
        _han(rng, _randint(rng, 3, 14))[:-1] if cjk else " ".join(_words(rng, _randint(rng, 1, 5)))
    )
    host = site.host
    return (
        f"[{text}](https://{host}/{_choice(rng, ('tag', 'post', 'about', 'news'))}/{_hex(rng, 6)})"
    )


def _short_line(rng: random.Random, cjk: bool, site: _Site, emphasis: bool) -> str:
    r = rng.random()
    if r < 0.35:
        return _link(rng, cjk, site)
    if r < 0.5:
        return f"**{_heading(rng, cjk)}**" if emphasis or not cjk else _heading(rng, cjk)
    if r < 0.6:
        label = _choice(rng, ("来源", "作者", "地址", "参考")) if cjk else _choice(rng, _TECH)
        return f"{label}：https://{site.host}/{_hex(rng, 8)}"
    return _han(rng, _randint(rng, 4, 20)) if cjk else _english(rng, _randint(rng, 15, 60))


def _list_item(rng: random.Random, cjk: bool, site: _Site) -> str:
    return _link(rng, cjk, site) if rng.random() < 0.4 else _item(rng, cjk)


def _item(rng: random.Random, cjk: bool) -> str:
    return _han(rng, _randint(rng, 8, 40)) if cjk else _english(rng, _randint(rng, 20, 120))


def _heading(rng: random.Random, cjk: bool) -> str:
    if cjk:
        return _han(rng, _randint(rng, 4, 14))[:-1]
    return " ".join(_words(rng, _randint(rng, 2, 6))).title()


def _furniture(
    rng: random.Random, site: _Site, title: str, n: int, day: date
) -> tuple[list[str], list[str]]:
    """The page furniture of a crawled page: blocks before and after the article."""
    family = site.family
    top: list[str] = []
    end: list[str] = []
    if family == "wechat":
        top = [f"![cover_image]({site.image(rng, 0)})", f"# {title}", site.account]
        if rng.random() < 0.3:
            top.append("原创")
        if rng.random() < 0.6:
            top += _WECHAT_TOP
        end = list(_WECHAT_END)
        if rng.random() < 0.3:  # the account's card and links to its other articles
            links = [f"[{_han(rng, 12)[:-1]}]({_wechat_url(rng, 'MzA=', day)})" for _ in range(3)]
            end[:0] = ["**推荐阅读**", *links]
    elif family == "cn_news":
        top = [
            "[![logo](/images/logoMax.png)](/)",
            *_CN_NEWS_MENU[: _randint(rng, 8, len(_CN_NEWS_MENU))],
        ]
        end = [*_CN_NEWS_END, *_CN_NEWS_FOOTER]
    elif family == "csdn":
        views = f"{_randint(rng, 1, 99)}.{_randint(rng, 0, 9)}k"
        top = [t.format(date=f"{day:%Y-%m-%d}", views=views) for t in _CSDN_TOP]
        end = list(_CSDN_END)
    elif family == "sans":
        top = ["# [Internet Storm Center](/)", *_SANS_TOP, f"# [{title}](/forums/diary/{n}/)"]
        end = [*_SANS_END, _SANS_FOOTER]
    elif family == "advisory":
        top = [
            "[Nmap.org](https://nmap.org/)\n[Seclists.org](https://seclists.org/)",
            f"# {title}",
            "---",
        ]
        end = [
            "[![Previous](/images/left-icon-16x16.png)](14)\n[By Date](date.html#15)",
            "### Current thread:",
        ]
    elif family == "medium":
        top = [t.format(minutes=_randint(rng, 3, 15)) for t in _MEDIUM_TOP]
        end = [t.format(author=site.author) for t in _MEDIUM_END]
    else:
        top = [f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"] if rng.random() < 0.5 else []
        end = list(_EN_END[: _randint(rng, 1, len(_EN_END))])
        if family == "en_news" and rng.random() < 0.5:
            top[:0] = [
                "Advertisement",
                f"[![]({site.image(rng, 99)})](https://ads.example.com/{_hex(rng, 6)})",
            ]
    return top, end


def _body(
    rng: random.Random, site: _Site, title: str, budget: int, n: int, day: date, crawled: bool
) -> str:
    family = site.family
    p_cjk, img_per_kb, p_code, p_table, p_quote, p_list, p_emph = FAMILY_BODY[family]
    cjk = rng.random() < p_cjk
    emphasis = cjk and rng.random() < p_emph
    has_code, has_table = rng.random() < p_code, rng.random() < p_table
    has_quote, has_list = rng.random() < p_quote, rng.random() < p_list
    top, end = _furniture(rng, site, title, n, day) if crawled else ([], [])
    blocks = [f"# {title}", *top]
    size = sum(len(b.encode()) + 2 for b in blocks) + sum(len(b.encode()) + 2 for b in end)
    images_left = max(0, round(budget / 1024 * img_per_kb * rng.uniform(0.4, 1.6)))
    if not crawled and rng.random() >= OTHER_SHAPE_IMAGES:
        images_left = 0
    specials = []
    if has_code:
        specials += ["code"] * _randint(rng, 1, 4)
    if has_table:
        specials += ["table"] * _randint(rng, 1, 3)
    if has_quote:
        specials.append("quote")
    if has_list:
        specials += ["list"] * _randint(rng, 1, 4)
    # Blocks as they come: a paragraph mostly, a heading now and then, the
    # images and the special blocks spread through the text.
    # Bytes of a block, on average (measured: 7.2 KB in 56 blocks; half of
    # them are short lines).
    per_block = 180 if cjk else 200
    section = 0
    while size < budget:
        left = max(1.0, (budget - size) / per_block)  # blocks still to come, about
        r = rng.random()
        if r < len(specials) / left:
            kind = specials.pop(_below(rng, len(specials)))
            if kind == "code":
                block = _code(rng)
            elif kind == "table":
                block = _table(rng, cjk)
            elif kind == "quote":
                block = "\n".join(f"> {_item(rng, cjk)}" for _ in range(_randint(rng, 2, 14)))
            else:
                mark = _choice(rng, ("*", "-", "1."))
                items = (_list_item(rng, cjk, site) for _ in range(_randint(rng, 3, 10)))
                block = "\n".join(f"{mark} {item}" for item in items)
        elif r < (len(specials) + images_left) / left:
            images_left -= 1
            alt = "" if site.wechat_prefix or rng.random() < 0.6 else " ".join(_words(rng, 2))
            block = f"![{alt}]({site.image(rng, images_left)})"
            if rng.random() < 0.1:
                block = f"[{block}]({site.url})"
        elif r < 0.6:  # a short line: a caption, a label, a link
            block = _short_line(rng, cjk, site, emphasis)
        elif r < 0.72:
            section += 1
            level = "#" * _choice(rng, (2, 2, 3, 3, 4))
            if family == "wechat" and rng.random() < 0.5:
                block = f"{section:02d}"  # WeChat's section numbers, a line of their own
            else:
                block = f"{level} {_heading(rng, cjk)}"
        elif cjk:
            block = _cjk_paragraph(rng, _randint(rng, 20, 150), emphasis)
        else:
            block = _en_paragraph(rng, _randint(rng, 60, 480))
        blocks.append(block)
        size += len(block.encode()) + 2
    blocks += end
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------------------
# Articles.
# ---------------------------------------------------------------------------


def _title(rng: random.Random, family: str, cjk: bool) -> tuple[str, list[str]]:
    words = _words(rng, _randint(rng, 4, 11))
    if cjk:
        lead = f"{_choice(rng, _TECH)} " if rng.random() < 0.4 else ""
        title = lead + _han(rng, _randint(rng, 8, 30))[:-1]
        if family == "wechat" and rng.random() < 0.15:
            title = f"{_han(rng, 2)[:-1]} | {title}"
    else:
        title = " ".join(w.capitalize() if len(w) > 3 else w for w in words)
        title = title[0].upper() + title[1:]
        if family == "sans":
            day = _choice(rng, ("Mon", "Tue", "Wed", "Thu", "Fri"))
            title += f", ({day}, {_MONTHS[_below(rng, 12)]} {_randint(rng, 1, 28)}th)"
    return title, words


def _fetch_time(seed: int, n: int) -> datetime:
    """When seed ``n`` was fetched: crawl day ``n // PER_DAY``, in the morning."""
    h = _hash(seed, n, 1)
    day = CRAWL_EPOCH + timedelta(days=n // PER_DAY)
    # 03:00 to 08:00, in file-number order, with a few seconds of jitter.
    seconds = 3 * 3600 + (n % PER_DAY) * (5 * 3600 // PER_DAY) + h % 15
    return day + timedelta(seconds=seconds, microseconds=(h >> 8) % 1_000_000)


def _duplicate_of(seed: int, n: int) -> int | None:
    """The earlier seed that seed ``n`` fetches again, or None."""
    if n == 0:
        return None
    h = _hash(seed, n, 2)
    if h % 1_000_000 >= DUPLICATES * 1_000_000:
        return None
    m = n - 1 - (h >> 20) % min(n, 3 * PER_DAY)  # fetched again within three days
    while (earlier := _duplicate_of(seed, m)) is not None:
        m = earlier
    return m


def _mix64(x: int) -> int:
    """splitmix64's finalizer: a bijection on 64-bit integers (distinct names)."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _hash(seed: int, n: int, salt: int) -> int:
    """64 random-looking bits from (seed, n, salt), cheaper than a ``Random``."""
    return _mix64((seed * 0x9E3779B97F4A7C15 + n * 0xD1B54A32D192ED03 + salt) & 0xFFFFFFFFFFFFFFFF)


def seed_name(seed: int, n: int) -> str:
    """The file name of seed ``n``: ``NNN_<16 hex>.txt``, unique for n < 2**40."""
    return f"{n % PER_DAY:03d}_{_mix64((seed & 0xFFFFFF) << 40 | n):016x}.txt"


def _title_quirk(rng: random.Random, title: str, year: int) -> str:
    """The crawler's title, now and then with what trips YAML up (measured shares)."""
    r = rng.random()
    if r < TITLE_COLON:
        return f"{' '.join(_words(rng, 2)).title()}: {title}"
    if r < TITLE_COLON + TITLE_BRACKET:
        return f"[{_choice(rng, _TECH)}-{year}-{_randint(rng, 1, 99):02d}] {title}"
    if r < TITLE_COLON + TITLE_BRACKET + TITLE_XA0 and not title.isascii():
        cut = 2 + _below(rng, max(1, len(title) - 4))
        return f"{title[:cut]}xa0| {title[cut:]}"
    return title


def _yaml_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _yaml_double(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _front_matter(
    rng: random.Random, shape: str, title: str, site: _Site, published: date, fetched: datetime
) -> list[str]:
    url, source = site.url, site.source
    day = f"{published:%Y-%m-%d}"
    fetch = f"{fetched:%Y-%m-%dT%H:%M:%S.%f}"
    tags = [_choice(rng, _TECH) for _ in range(_randint(rng, 2, 6))]
    if shape == "crawler":
        if rng.random() < SOURCE_EMPTY:
            source = ""
        return [
            f"title: {title}",
            f"url: {url}",
            f"source: {source}",
            f"date: {day}",
            f"fetch_date: {fetch}",
        ]
    if shape == "sitemap":
        nanos = (
            f"{fetched:%Y-%m-%dT%H:%M:%S}.{fetched.microsecond:06d}{_below(rng, 1000):03d}-03:00"
        )
        return [
            f"title: {_yaml_single(title)}",
            f"url: {url}",
            "source: sitemap",
            f"fetched_at: {nanos}",
            "rendered_js: false",
            f"word_count: {_randint(rng, 100, 3000)}",
            f"summary: {_english(rng, _randint(rng, 120, 260))}",
            "tags:",
            *(f"    - {t.lower()}" for t in tags),
            "category: guide",
        ]
    if shape == "distilled":
        return [
            f"title: {title}",
            f"source: {source} 公众号" if source else "source: 公众号",
            f"date: {day}",
            f"tags: [{', '.join(tags)}]",
            "type: distilled",
            f"distilled_at: {fetched:%Y-%m-%d}",
            f"original_url: {url}",
        ]
    if shape == "curated":
        return [
            f"title: {title}",
            f"url: {url}",
            f"curated_at: '{fetched:%Y-%m-%dT%H:%M:%S}+00:00'",
        ]
    if shape == "hn_list":
        return [
            "source: hn",
            f"url: {url}",
            f"published_at: '{day}T{fetched:%H:%M:%S}'",
            "authors:",
            f"- {_choice(rng, _NAMES)}{_randint(rng, 1, 99)}",
            "topics:",
            *(f"- {t.lower()}" for t in tags),
            f"relevance_score: {_randint(rng, 1, 99) / 100}",
            "run_id: materialize-outputs",
            "language_code: en",
        ]
    if shape == "hn_show":
        return [
            f"url: {url}",
            f"title: {_yaml_double(title)}",
            f"author: {_choice(rng, _NAMES)}{_randint(rng, 1, 99)}",
            f"date_fetched: {fetched:%Y-%m-%d}",
            f"date_published: {day}",
            f"tags: [{', '.join(t.lower() for t in tags)}]",
        ]
    if shape == "ingested":
        return [
            f"source_url: {url}",
            f"ingested: {fetched:%Y-%m-%d}",
            f"sha256: {_hex(rng, 64)}",
            f"citation: {_yaml_double(f'{source}. {title}. {published.year}.')}",
            f"domain: {_choice(rng, _TECH).lower()}-notes",
        ]
    # "quoted"
    return [
        f"title: {_yaml_double(title)}",
        f"date: {_yaml_double(day)}",
        f"url: {url}",
        f"source: {urlsplit(url).hostname}",
    ]


_FAMILY_NAMES = tuple(FAMILIES)
_FAMILY_CUM = tuple(itertools.accumulate(FAMILIES.values()))
_SHAPE_NAMES = tuple(FRONT_MATTER)
_SHAPE_CUM = tuple(itertools.accumulate(FRONT_MATTER.values()))


def _original(
    seed: int, m: int, published: date | None = None
) -> tuple[random.Random, str, str, _Site, date, int]:
    """What article ``m`` is, independent of when it is fetched."""
    rng = random.Random(seed * 1_000_003 + m)
    family = _FAMILY_NAMES[bisect.bisect(_FAMILY_CUM, rng.random() * _FAMILY_CUM[-1])]
    shape = _SHAPE_NAMES[bisect.bisect(_SHAPE_CUM, rng.random() * _SHAPE_CUM[-1])]
    fetched = _fetch_time(seed, m)
    backfill = _randint(rng, *BACKFILL_DAYS) if rng.random() < BACKFILL else 1
    if published is None:
        published = (fetched - timedelta(days=backfill)).date()
    cjk = rng.random() < FAMILY_BODY[family][0]
    title, words = _title(rng, family, cjk)
    if shape == "crawler":
        title = _title_quirk(rng, title, published.year)
    site = _Site(rng, family, words, published, m)
    size = round(_choice(rng, MEASURED_SIZES) * rng.uniform(0.8, 1.2))
    return rng, shape, title, site, published, size


def realistic_article(
    seed: int, n: int, *, fetched: datetime | None = None
) -> tuple[str, str, datetime]:
    """(file name, text, fetch time) of seed ``n`` of the realistic corpus.

    With ``fetched``, the article is fetched then and published that day
    (a new seed for a benchmark), and is never a duplicate.
    """
    m = None if fetched else _duplicate_of(seed, n)
    original = n if m is None else m
    rng, shape, title, site, published, size = _original(
        seed, original, fetched.date() if fetched else None
    )
    fetched = fetched or _fetch_time(seed, n)
    fm_rng = random.Random(seed * 1_000_003 + original + 0x5EED)
    if m is not None and "&scene=" in site.url:
        # Fetched again from another share of it: another scene.
        h = _hash(seed, n, 3)
        if h & 1:
            scene = (1, 21, 27, 58, 126)[(h >> 1) % 5]
            site.url = re.sub(r"&scene=\d+", f"&scene={scene}", site.url)
    front = _front_matter(fm_rng, shape, title, site, published, fetched)
    head = "---\n" + "\n".join(front) + "\n---\n\n"
    body = _body(
        rng,
        site,
        title,
        max(600, size - len(head.encode())),
        original,
        published,
        shape == "crawler",
    )
    return seed_name(seed, n), head + body, fetched


def _write(path: Path, text: str, mtime: float) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, text.encode())
        os.utime(fd, (mtime, mtime))
    finally:
        os.close(fd)


def _write_range(out: Path, seed: int, start: int, stop: int) -> int:
    for n in range(start, stop):
        name, text, fetched = realistic_article(seed, n)
        _write(out / name, text, fetched.replace(tzinfo=UTC).timestamp())
    return stop - start


def generate_realistic(
    out: Path,
    count: int,
    *,
    seed: int = 6,
    start: int = 0,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write realistic seeds ``start`` .. ``start + count - 1`` into ``out``; return the count.

    ``jobs`` processes write chunks of it (the bytes do not depend on them).
    """
    out.mkdir(parents=True, exist_ok=True)
    chunk = 5_000
    starts = range(start, start + count, chunk)
    stops = [min(a + chunk, start + count) for a in starts]
    done = 0

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None and done % 10_000 < chunk:
            progress(done)

    if jobs <= 1:
        for a, b in zip(starts, stops, strict=True):
            tick(_write_range(out, seed, a, b))
        return count
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    realistic_article(seed, start)  # the text pools and site lists, before the fork
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        for k in pool.map(_write_range, [out] * len(stops), [seed] * len(stops), starts, stops):
            tick(k)
    return count


# ---------------------------------------------------------------------------
# The grouped shape (the corpus of earlier figures), unchanged.
# ---------------------------------------------------------------------------

_SOURCES = [
    ("freebuf", "FreeBuf", "https://www.freebuf.com/articles/{n}.html"),
    ("anquanke", "安全客", "https://www.anquanke.com/post/id/{n}"),
    ("4hou", "嘶吼专业版", "https://www.4hou.com/posts/{n}"),
    ("wechat", "中国信息安全", "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid={n}&idx=1"),
    ("hackernews", "The Hacker News", "https://thehackernews.com/2024/05/post-{n}.html"),
    ("krebs", "Krebs on Security", "https://krebsonsecurity.com/2024/{n}/"),
    ("sans", "SANS Internet Storm Center, InfoCON: green", "https://isc.sans.edu/diary/{n}"),
    ("seclists", "Full Disclosure", "https://seclists.org/fulldisclosure/2024/{n}"),
]
#: Oldest article date; articles are spread over the two years after it.
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 86400
TARGET_BYTES = 7 * 1024


def _grouped_han(rng: random.Random, n: int) -> str:
    out = []
    for i in range(n):
        out.append(rng.choice(_HAN))
        if i % 17 == 16:
            out.append(rng.choice("，，，。、；"))
    return "".join(out) + "。"


def _grouped_english(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_EN_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _grouped_paragraph(rng: random.Random, n: int) -> str:
    chinese = rng.random() < 0.5
    text = (
        _grouped_han(rng, rng.randint(60, 160))
        if chinese
        else _grouped_english(rng, rng.randint(40, 110))
    )
    if rng.random() < 0.4:  # an inline link
        cut = rng.randint(0, len(text) - 1)
        link = f"[{_grouped_english(rng, 3)[:-1]}](https://example.com/ref/{n}/{cut})"
        text = f"{text[:cut]} {link} {text[cut:]}"
    if rng.random() < 0.3:  # emphasis, CJK-adjacent at times
        cut = rng.randint(0, len(text) - 1)
        text = f"{text[:cut]}**{_grouped_han(rng, 4)[:-1]}**{text[cut:]}"
    return text


def _grouped_table(rng: random.Random) -> str:
    rows = ["| 字段 | Field | Value |", "| --- | --- | --- |"]
    for _ in range(rng.randint(3, 8)):
        rows.append(
            f"| {_grouped_han(rng, 4)[:-1]} | {rng.choice(_EN_WORDS)} | {rng.randint(0, 99999)} |"
        )
    return "\n".join(rows)


def article(rng: random.Random, n: int) -> tuple[str, str]:
    """(relative path, text) of article number ``n`` of the grouped corpus."""
    slug, source, pattern = _SOURCES[n % len(_SOURCES)]
    url = pattern.format(n=100000 + n)
    published = EPOCH + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    fetched = published + timedelta(seconds=rng.randrange(86400 * 3))
    title_han = _grouped_han(rng, rng.randint(8, 20))[:-1]
    title = f"{title_han} {_grouped_english(rng, rng.randint(2, 5))[:-1]} ({n})"
    if n % 7 == 0:  # some titles need quotes in YAML; crawlers do not add them
        title = f"{_grouped_english(rng, 3)[:-1]}: {title}"
    parts = [
        "---",
        f"title: {title}",
        f"url: {url}",
        f"source: {source}",
        f"date: {published:%Y-%m-%d %H:%M:%S}",
        f"fetch_date: {fetched.replace(tzinfo=None).isoformat()}",
        "---",
        "",
        f"# {title}",
        "",
        f"![cover_image](https://img.example.com/{slug}/{n}/cover.jpg)",
        "",
    ]
    size = sum(len(p.encode()) for p in parts)
    section = 0
    while size < TARGET_BYTES:
        r = rng.random()
        if r < 0.08:
            section += 1
            block = f"## {section}. {_grouped_han(rng, rng.randint(4, 10))[:-1]}"
        elif r < 0.13:
            block = f"![图{section}](https://img.example.com/{slug}/{n}/{section}.png)"
        elif r < 0.18:
            block = "\n".join(
                f"* {_grouped_paragraph(rng, n)[:80]}" for _ in range(rng.randint(2, 5))
            )
        elif r < 0.21:
            block = _grouped_table(rng)
        elif r < 0.23:
            block = "```\n" + "\n".join(_grouped_english(rng, 8) for _ in range(4)) + "\n```"
        else:
            block = _grouped_paragraph(rng, n)
        parts += [block, ""]
        size += len(block.encode()) + 1
    parts.append(f"本文来源：[{source}]({url})")
    return f"{slug}/{n:06d}.md", "\n".join(parts) + "\n"


def generate_grouped(out: Path, count: int, *, seed: int = 6, start: int = 0) -> int:
    """Write grouped seeds ``start`` .. ``start + count - 1`` under ``out``."""
    made: set[Path] = set()
    for n in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + n)
        rel, text = article(rng, n)
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        # A stable mtime, in article order: builds over the same corpus compare.
        _write(path, text, EPOCH.timestamp() + n)
    return count


SHAPES = ("realistic", "grouped")


def generate(
    out: Path, count: int, *, seed: int = 6, start: int = 0, shape: str = "realistic"
) -> int:
    """Write seeds ``start`` .. ``start + count - 1`` of ``shape`` under ``out``.

    Article ``n`` depends on ``seed`` and ``n`` only, so a corpus can be
    extended (``start``) and the new seeds are the same as in a bigger one.
    """
    if shape == "grouped":
        return generate_grouped(out, count, seed=seed, start=start)
    if shape != "realistic":
        raise ValueError(f"unknown shape {shape!r}")
    return generate_realistic(out, count, seed=seed, start=start)


# ---------------------------------------------------------------------------
# --describe: the tabulation the constants above come from.
# ---------------------------------------------------------------------------

_FM = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.S)
_KEY = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(.*)$", re.M)
_DATEISH = re.compile(r"\d{4}-\d\d-\d\d")


def _shape_of(value: str) -> str:
    return re.sub(r"\d", "9", value)


def describe(paths: Iterable[Path]) -> dict[str, object]:
    """Tabulate the front matter and the Markdown of seed files (see ``--describe``)."""
    files = 0
    keys: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    quoting: Counter[str] = Counter()
    dates: Counter[str] = Counter()
    feats: Counter[str] = Counter()
    sizes: list[int] = []
    wechat = Counter[str]()
    colon = micro = 0
    articles: Counter[str] = Counter()
    per_file: dict[str, list[int]] = {"headings": [], "blocks": [], "links": [], "inline_code": []}
    for path in paths:
        raw = path.read_bytes()
        text = raw.decode("utf-8", "replace")
        m = _FM.match(text)
        if not m:
            feats["no_front_matter"] += 1
            continue
        files += 1
        sizes.append(len(raw))
        for key, value in _KEY.findall(m.group(1)):
            value = value.strip()
            keys[key] += 1
            quoting[
                "empty"
                if not value
                else {"'": "single", '"': "double", "[": "flow"}.get(value[0], "plain")
            ] += 1
            if value and value[0] not in "'\"[" and ": " in value:
                colon += 1
            if re.search(r"\d\d:\d\d:\d\d\.\d{6}", value):
                micro += 1
            if key in ("url", "source_url", "original_url"):
                host = urlsplit(value).hostname or "?"
                hosts[host] += 1
                if host == "mp.weixin.qq.com":
                    wechat["full" if "__biz=" in value else "short"] += 1
                # The article, as feeder tells two fetches of it apart (tracking dropped).
                wx = re.findall(r"[?&](__biz|mid|idx|sn)=([^&#]*)", value)
                articles[str(sorted(wx)) if wx else value.split("#")[0]] += 1
            elif _DATEISH.search(value) and len(value) < 48:
                dates[f"{key} {_shape_of(value)}"] += 1
        body = text[m.end() :]
        images = len(re.findall(r"!\[[^\]]*\]\(", body))
        han = len(re.findall(r"[\u4e00-\u9fff]", body))
        emph = len(re.findall(r"[\u4e00-\u9fff]\*\*|\*\*[\u4e00-\u9fff]", body))
        counts = {
            "images": images,
            "table": len(re.findall(r"^\|\s*:?-{3}", body, re.M)),
            "code": body.count("```") // 2,
            "cjk_emphasis": emph,
            "list": len(re.findall(r"^\s*(?:[*+-]|\d+\.) \S", body, re.M)),
            "quote": len(re.findall(r"^> ", body, re.M)),
            "cjk": int(han * 3 > len(body.encode()) * 0.3),
        }
        per_file["headings"].append(len(re.findall(r"^#{1,6} ", body, re.M)))
        per_file["blocks"].append(sum(1 for b in re.split(r"\n\s*\n", body) if b.strip()))
        per_file["links"].append(len(re.findall(r"(?<!!)\[[^\]]*\]\(http", body)))
        per_file["inline_code"].append(len(re.findall(r"(?<!`)`[^`\n]+`(?!`)", body)))
        for name, count in counts.items():
            feats[name] += count > 0
            feats[name + "_total"] += count
    return {
        "files": files,
        "sizes": sorted(sizes),
        "keys": keys,
        "hosts": hosts,
        "wechat": wechat,
        "quoting": quoting,
        "dates": dates,
        "colon": colon,
        "micro": micro,
        "features": feats,
        "per_file": per_file,
        "duplicates": sum(c - 1 for c in articles.values()),
    }


def _print_description(root: Path) -> None:
    paths = sorted(
        p for p in root.rglob("*") if p.suffix.lower() in (".txt", ".md") and p.is_file()
    )
    d = describe(paths)
    files = int(d["files"])  # type: ignore[call-overload]
    sizes: list[int] = d["sizes"]  # type: ignore[assignment]

    def share(count: int) -> str:
        return f"{count} ({100 * count / max(files, 1):.1f} %)"

    print(f"{files} seeds with front matter under {root}")
    if sizes:
        print(
            f"size: median {statistics.median(sizes):.0f} B, mean {statistics.mean(sizes):.0f} B, "
            f"min {sizes[0]}, max {sizes[-1]}"
        )
    hosts: Counter[str] = d["hosts"]  # type: ignore[assignment]
    print("hosts:", ", ".join(f"{h} {share(c)}" for h, c in hosts.most_common(20)))
    print("wechat urls:", dict(d["wechat"]))  # type: ignore[call-overload]
    keys: Counter[str] = d["keys"]  # type: ignore[assignment]
    print("keys:", ", ".join(f"{k} {c}" for k, c in keys.most_common(30)))
    print("value quoting:", dict(d["quoting"]))  # type: ignore[call-overload]
    print(f"unquoted ': ' in a value: {d['colon']}; microsecond times: {d['micro']}")
    dates: Counter[str] = d["dates"]  # type: ignore[assignment]
    print("date formats:", ", ".join(f"{k} ×{c}" for k, c in dates.most_common(12)))
    feats: Counter[str] = d["features"]  # type: ignore[assignment]
    print(
        "files with:",
        ", ".join(f"{k} {share(feats[k])} [{feats[k + '_total']}]" for k in MEASURED_FEATURES),
    )
    per_file: dict[str, list[int]] = d["per_file"]  # type: ignore[assignment]
    print(
        "a file:",
        ", ".join(
            f"{k} median {statistics.median(v):.0f} mean {statistics.mean(v):.1f}"
            for k, v in per_file.items()
            if v
        ),
    )
    print(f"duplicates (the same article again): {share(int(d['duplicates']))}")  # type: ignore[call-overload]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int)
    p.add_argument("--out", type=Path)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--start", type=int, default=0, help="number of the first seed (extends)")
    p.add_argument("--shape", choices=SHAPES, default="realistic")
    p.add_argument("--jobs", type=int, default=1, help="processes writing (realistic shape)")
    p.add_argument("--describe", type=Path, metavar="DIR", help="tabulate the seeds under DIR")
    args = p.parse_args(argv)
    if args.describe:
        _print_description(args.describe)
        return 0
    if args.count is None or args.out is None:
        p.error("--count and --out are required (or --describe DIR)")
    t = time.perf_counter()

    def progress(done: int) -> None:
        rate = done / (time.perf_counter() - t)
        print(f"  {done} seeds, {rate:.0f}/s", file=sys.stderr, flush=True)

    if args.shape == "realistic":
        generate_realistic(
            args.out,
            args.count,
            seed=args.seed,
            start=args.start,
            jobs=args.jobs,
            progress=progress,
        )
    else:
        generate_grouped(args.out, args.count, seed=args.seed, start=args.start)
    took = time.perf_counter() - t
    print(f"{args.count} {args.shape} seeds in {args.out} ({took:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

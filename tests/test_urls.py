"""Urls: the canonical form and id of an article, and the link that is published.

Unit tests of :mod:`feeder.seeds.urls`, properties (the canonical form is a fixed
point, ids follow UUID v5, a password never reaches the link), and one
``feeder build`` that shows what a reader of the feed gets.
"""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import pytest
from conftest import run_feeder, write_seed_file
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from feeder.seeds import urls
from feeder.seeds.urls import (
    URLError,
    canonical,
    display_host,
    entry_id,
    origin,
    public_link,
    to_iri,
)

WX = (
    "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=2664233041&idx=2"
    "&sn=76a3168dfc7737bbc8f05b823c5a7862"
)

# Ids of published feeds: computed before the canonicalizer was rewritten, they must not change.
PINNED = [
    (
        WX + "&chksm=8b59faa8bc2e73be3595875b401b39ac9368d7424789196f4baf54dcf69faa001cf19943"
        "6a97&scene=58&subscene=0#rd",
        "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&idx=2&mid=2664233041"
        "&sn=76a3168dfc7737bbc8f05b823c5a7862",
        "urn:uuid:fd2b5ecd-8bfa-59c8-b8f6-523d39ea1710",
    ),
    (
        "https://mp.weixin.qq.com/s/LaMCw5vQ8L5VjeWTRFYCyQ",
        "https://mp.weixin.qq.com/s/LaMCw5vQ8L5VjeWTRFYCyQ",
        "urn:uuid:e3317bbb-633b-5f10-9c9f-1db3abba4950",
    ),
    (
        "https://www.freebuf.com/news/417010.html",
        "https://www.freebuf.com/news/417010.html",
        "urn:uuid:90da62b9-71e8-58ce-9099-6ffc6bddeb68",
    ),
    (
        "https://news.ycombinator.com/item?id=47899844",
        "https://news.ycombinator.com/item?id=47899844",
        "urn:uuid:e16f5e5a-3524-546f-9e22-c6999da65219",
    ),
    (
        "https://h4ck.org.cn/2022/11/%e5%9c%a8django%e4%b8%ad%e4%bd%bf/",
        "https://h4ck.org.cn/2022/11/%E5%9C%A8django%E4%B8%AD%E4%BD%BF/",
        None,
    ),
    (
        "HTTPS://Example.ORG:443/a%e5?utm_source=x&b=2&a=1#f",
        "https://example.org/a%E5?a=1&b=2",
        "urn:uuid:29567ddc-cffc-5f21-bad8-4b51a6e241a8",
    ),
    (
        "https://例子.测试/路径?q=中",
        "https://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84?q=%E4%B8%AD",
        "urn:uuid:a1fe58f5-d93c-5d88-9c1b-b33e642e92d8",
    ),
    (
        "http://e.org:8080/p?q=a+b&q=a%20b&empty=&flag&fbclid=1",
        "http://e.org:8080/p?empty=&flag=&q=a%20b&q=a%20b",
        "urn:uuid:e0cfd4b3-5b87-5da5-b0a4-70c67e378c82",
    ),
]


@pytest.mark.parametrize("url,canon,ident", PINNED)
def test_canonical_and_id_are_those_of_published_feeds(
    url: str, canon: str, ident: str | None
) -> None:
    assert canonical(url) == canon
    if ident is not None:
        assert entry_id(canon) == ident


@pytest.mark.parametrize(
    "url,expected",
    [
        ("http://example.org", "http://example.org/"),
        ("http://a.b:80/x", "http://a.b/x"),
        ("https://a.b:80/x", "https://a.b:80/x"),
        ("https://a.b:0443/x", "https://a.b/x"),
        ("https://A.B./x#frag", "https://a.b/x"),
        ("  https://a.b/x\n", "https://a.b/x"),
        ("https://a.b/x?", "https://a.b/x"),
        ("https://a.b/x?&&", "https://a.b/x"),
        ("https://a.b/x?b=1&a=2&a=1", "https://a.b/x?a=1&a=2&b=1"),
        ("https://a.b/x?q=a+b", "https://a.b/x?q=a%20b"),
        ("https://a.b/x?q=a%2Bb", "https://a.b/x?q=a%2Bb"),
        ("https://a.b/x?q=%e4%b8%ad&k=v=w", "https://a.b/x?k=v=w&q=%E4%B8%AD"),
        ("https://a.b/x?q=%zz", "https://a.b/x?q=%25zz"),
        ("https://a.b/x?UTM_Source=1&utm_medium=2&Fbclid=3&spm=4&id=5", "https://a.b/x?id=5"),
        ("https://a.b/x?utm%5Fsource=1&id=5", "https://a.b/x?id=5"),  # read as utm_source
        ("https://a.b/x?a%3Db=1", "https://a.b/x?a%3Db=1"),  # "=" in a name stays escaped
        ("https://a.b/%7euser/a b", "https://a.b/%7Euser/a%20b"),
        ("https://[2001:DB8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
        ("https://user:pass@a.b/x", "https://a.b/x"),
        (WX + "&chksm=1&scene=58#rd", WX.replace("&mid=2664233041&idx=2", "&idx=2&mid=2664233041")),
        ("https://mp.weixin.qq.com/s?__biz=x&mid=1&chksm=2&q=3", "https://mp.weixin.qq.com/s?__biz=x&mid=1&q=3"),
        ("https://mp.weixin.qq.com/s/AbC?scene=1&q=2", "https://mp.weixin.qq.com/s/AbC"),
    ],
)  # fmt: skip
def test_canonical(url: str, expected: str) -> None:
    assert canonical(url) == expected


@pytest.mark.parametrize(
    "url,message",
    [
        ("/relative/path", "relative url '/relative/path' is not an article address"),
        ("ftp://a.b/x", "ftp: url 'ftp://a.b/x' is not an article address"),
        ("https:///x", "url without host 'https:///x'"),
        ("https://./x", "url without host 'https://./x'"),
        ("https://a.b:99999/x", "malformed url 'https://a.b:99999/x'"),
        ("https://a.b:x/x", "malformed url 'https://a.b:x/x'"),
        ("https://[::1/x", "malformed url 'https://[::1/x'"),
        ("https://[1.2.3.4]/x", "malformed url 'https://[1.2.3.4]/x'"),
        ("https://a℀b/x", "malformed url 'https://a℀b/x'"),  # NFKC: a/c
    ],
)
def test_unusable_urls(url: str, message: str) -> None:
    with pytest.raises(URLError) as e:
        canonical(url)
    assert str(e.value) == message


def test_check_url() -> None:
    assert urls.check_url(" https://a.b/x ") == "https://a.b/x"
    with pytest.raises(URLError):
        urls.check_url("mailto:a@b.c")


def test_host_and_origin() -> None:
    assert urls.host("HTTPS://Www.Example.COM:8080/a") == "www.example.com"
    assert urls.host("https://[::1]:80/") == "::1"
    assert urls.host("https://[::1/") == urls.host("no url") == ""
    assert origin("HTTPS://Www.Example.COM:8080/a?b#c") == "https://www.example.com:8080/"
    assert origin("https://user:pass@example.com/a") == "https://example.com/"


def test_link_of_an_ordinary_url_is_its_iri() -> None:
    for url in (
        WX + "&scene=58#rd",
        "https://e.org/a b",
        "https://例子.测试/路径",
        "HTTP://E.org:80/",
    ):
        assert public_link(url) == (to_iri(url), ())


def test_user_name_and_password_never_reach_the_link() -> None:
    link, notes = public_link("HTTPS://user:s3cret@Example.org:8443/a b?q=1#top")
    assert link == "HTTPS://Example.org:8443/a%20b?q=1#top"
    assert notes == ("url: user name and password left out of the link",)
    assert public_link("https://[::1]@example.org/")[0] == "https://example.org/"
    assert "s3cret" not in " ".join(notes)


@pytest.mark.parametrize(
    "host,shown",
    [
        ("аррӏе.com", "xn--80ak6aa92e.com"),  # Cyrillic letters that look Latin, under .com
        ("аррӏе.ru", "аррӏе.ru"),  # ... under a TLD where Cyrillic names are usual
        ("аррӏе.рф", "аррӏе.рф"),
        ("gооgle.com", "xn--ggle-55da.com"),  # Latin and Cyrillic
        ("gօօgle.com", "xn--ggle-vifa.com"),  # Latin and Armenian
        ("πλάτωνicrelationship.com", "xn--icrelationship-96j4t9a3cwe2e.com"),  # Greek and Latin
        ("οκ.com", "xn--vxaj.com"),  # Greek letters that look Latin
        ("пример.рф", "пример.рф"),  # one script, not Latin: as given
        ("例子.测试", "例子.测试"),
        ("παράδειγμα.δοκιμή", "παράδειγμα.δοκιμή"),
        ("bücher.de", "bücher.de"),
        ("Bücher.DE", "Bücher.DE"),
        ("日本語ドメイン.jp", "日本語ドメイン.jp"),  # Han and Katakana
        ("abc日本.com", "abc日本.com"),  # Latin and Han
        ("abc한국.com", "abc한국.com"),  # Latin and Hangul
        ("ｅｘａｍｐｌｅ.com", "ｅｘａｍｐｌｅ.com"),  # full-width Latin is Latin
        ("١٢٣0.com", "xn--0-9pcde.com"),  # two sets of digits
        ("a\u200db.com", "xn--ab-m1t.com"),  # a joiner where none belongs
        ("google.com⁄login.evil.com", "google.xn--comlogin-g03d.evil.com"),  # fraction slash
        ("аррӏе。com", "xn--80ak6aa92e.com"),  # ideographic full stop
        ("www.example.com", "www.example.com"),
    ],
)
def test_display_host(host: str, shown: str) -> None:
    assert display_host(host) == shown


def test_disguised_host_is_published_in_ascii_with_a_note() -> None:
    link, notes = public_link("https://u:p@аррӏе.com:8080/login?x=1")
    assert link == "https://xn--80ak6aa92e.com:8080/login?x=1"
    assert notes[0] == "url: user name and password left out of the link"
    assert notes[1].startswith("url: host 'аррӏе.com' published in ASCII as xn--80ak6aa92e.com")
    # the id is that of the ASCII host, as it always was
    assert entry_id(canonical(link)) == entry_id(canonical("https://аррӏе.com:8080/login?x=1"))


def test_script_table_is_sorted_and_disjoint() -> None:
    ranges = urls._SCRIPT_RANGES
    assert all(lo <= hi for lo, hi, _ in ranges)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))
    assert urls._script("a") == urls._script("é") == "Latin"
    assert urls._script("а") == "Cyrillic" and urls._script("中") == "Han"


@given(st.text(max_size=40))
@example("https://www.4hou.com/posts/100058")
def test_entry_id_is_uuid5(name: str) -> None:
    assert entry_id(name) == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


# Urls built from the pieces that matter: schemes in any case, user info,
# hosts (IDN, IP literals, trailing dots, escapes), ports, paths with escapes
# and characters to quote, queries with tracking and WeChat parameters,
# escapes, "+", empty and repeated keys, and fragments; and free text.
_CHARS = st.characters(blacklist_categories=("Cs",))
_SCHEMES = st.sampled_from(["http", "https", "HTTPS", "Http", "ftp", ""])
_USERS = st.sampled_from(["", "", "", "user@", "user:pass@", "u%40x:p%3Ab@", ":@", "[::1]@"])
_HOSTS = st.one_of(
    st.sampled_from(
        ["example.com", "EXAMPLE.com", "mp.weixin.qq.com", "例子.测试", "пример.рф", "аррӏе.com",
         "xn--80ak6aa92e.com", "bücher.de", "host.", "a..b", ".", "127.0.0.1", "[::1]",
         "[2001:DB8::1]", "[v1.x]", "ex%41mple.com", "ｅｘａｍｐｌｅ.com", "faß.de", "例子。",
         "a]b", "-x.example", "x" * 64 + ".com", "中" * 64 + ".com", ""]
    ),
    st.text(_CHARS, max_size=8),
)  # fmt: skip
_PORTS = st.sampled_from(["", "", ":80", ":443", ":8080", ":0", ":", ":99999", ":x"])
_PATHS = st.lists(
    st.one_of(
        st.sampled_from(
            ["/", "/a", "/%e5%9c%a8", "/%7E", "/路径", "/a b", "/a+b", "/s", "/s/AbC", "//x",
             "/a%", "/%zz", "/;=:@!$&'()*,", '/"<>\\^`{|}', "/é", "/\U0001f600", "/?"]
        ),
        st.text(_CHARS, max_size=4),
    ),
    max_size=3,
).map("".join)  # fmt: skip
_KEYS = st.sampled_from(
    ["utm_source", "UTM_Medium", "fbclid", "a", "b", "__biz", "mid", "idx", "sn", "chksm",
     "scene", "wx_x", "中", "a b", "a+b", "a%20b", "%3D", "a%3Db", "utm%5Fsource", "", "K", "ſcene"]
)  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(
        ["", "1", "a b", "a+b", "a%20b", "%e4%b8%ad", "中", "==", "x=y", "%", "%zz", "MzI==",
         "%2F", "a%26b", "\U0001f600", "?", "~!$'()*,;/:@"]
    ),
    st.text(_CHARS, max_size=4),
)  # fmt: skip
_PARAM = st.one_of(st.tuples(_KEYS, _VALUES).map("=".join), _KEYS)
_PARAMS = st.lists(_PARAM, max_size=6).map("&".join)
_FRAGMENTS = st.sampled_from(["", "#rd", "#", "#a?b=c", "#中"])


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(_SCHEMES)
    query = draw(_PARAMS)
    url = (
        (f"{scheme}://" if scheme else draw(st.sampled_from(["//", "", "https:/"])))
        + draw(_USERS)
        + draw(_HOSTS)
        + draw(_PORTS)
        + draw(_PATHS)
        + (f"?{query}" if query or draw(st.booleans()) else "")
        + draw(_FRAGMENTS)
    )
    if draw(st.booleans()):  # white space and controls where a crawler leaves them
        i = draw(st.integers(0, len(url)))
        url = url[:i] + draw(st.sampled_from(["\t", "\n", " ", "\x00", "\u3000"])) + url[i:]
    return url


_ANY_URL = st.one_of(_urls(), st.text(_CHARS, max_size=30).map(lambda s: "https://" + s))


@settings(max_examples=800, deadline=None)
@given(_ANY_URL)
@example("https://[::1]/x")
@example("https://a.b/?a%3Db=1&a=z")
@example("https://" + "中" * 70 + ".com/")
@example("https://x.example．/")
@example("https://[::1]@a]b/")
@pytest.mark.slow
def test_canonical_is_a_fixed_point(url: str) -> None:
    try:
        c = canonical(url)
    except URLError:
        return
    assert canonical(c) == c


@settings(max_examples=400, deadline=None)
@given(_ANY_URL, st.sampled_from(["alice@", "alice:s3cret@", "a:s3cret@c:d@", ":@"]))
@pytest.mark.slow
def test_user_info_changes_neither_the_id_nor_reaches_the_link(url: str, userinfo: str) -> None:
    try:
        canon = canonical(url)
    except URLError:
        return
    start = url.find("//") + 2
    if start < 2 or "@" in url[start:].split("/")[0]:
        return
    with_user = url[:start] + userinfo + url[start:]
    try:
        assert canonical(with_user) == canon
    except URLError:  # a user info that made the url unreadable ("[" in it, say)
        return
    link, notes = public_link(with_user)
    assert "@" not in (urls._split(link)[2] or "")  # the netloc
    assert "s3cret" not in link and "alice" not in link
    assert "url: user name and password left out of the link" in notes


# --- end to end: what a reader of the feed gets ----------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.slow
def test_build_publishes_no_password_and_no_disguised_host(tmp_path: Path) -> None:
    seeds, out, state = tmp_path / "seeds", tmp_path / "out" / "feed.atom", tmp_path / "state"
    common = "source: Example\ndate: 2024-05-01\nfetch_date: 2024-05-02T10:00:00"
    write_seed_file(
        seeds,
        "secret.md",
        f"title: Secret\nurl: https://alice:s3cret@example.org/posts/1?utm_source=x\n{common}",
        "Read [the next part](/posts/2) too.\n",
    )
    write_seed_file(seeds, "spoof.md", f"title: Spoof\nurl: https://аррӏе.com/login\n{common}")
    write_seed_file(seeds, "plain.md", f"title: Plain\nurl: https://пример.рф/статья\n{common}")
    proc = run_feeder(
        "build", "--seeds", str(seeds), "--output", str(out), "--state-dir", str(state)
    )

    assert "secret.md: url: user name and password left out of the link" in proc.stderr
    assert "spoof.md: url: host 'аррӏе.com' published in ASCII as xn--80ak6aa92e.com" in proc.stderr
    assert "plain.md: url" not in proc.stderr
    feed = out.read_bytes()
    assert b"s3cret" not in feed and b"alice" not in feed

    entries = {e.findtext(f"{ATOM}title"): e for e in etree.fromstring(feed).iter(f"{ATOM}entry")}
    secret, spoof, plain = entries["Secret"], entries["Spoof"], entries["Plain"]

    def links(entry: etree._Element) -> tuple[str, str]:
        own = entry.find(f"{ATOM}link")  # the entry's own (alternate) link
        source = entry.find(f"{ATOM}source/{ATOM}link")
        assert own is not None and source is not None
        return own.get("href", ""), source.get("href", "")

    assert links(secret) == ("https://example.org/posts/1?utm_source=x", "https://example.org/")
    assert 'href="https://example.org/posts/2"' in (secret.findtext(f"{ATOM}content") or "")
    assert links(spoof) == ("https://xn--80ak6aa92e.com/login", "https://xn--80ak6aa92e.com/")
    assert links(plain) == ("https://пример.рф/статья", "https://пример.рф/")
    # the ids are those of the canonical urls, with or without the user info
    assert secret.findtext(f"{ATOM}id") == entry_id(canonical("https://example.org/posts/1"))


def test_links_inside_the_article_lose_their_user_name_and_password(tmp_path: Path) -> None:
    seeds, out = tmp_path / "seeds", tmp_path / "public" / "feed.atom"
    body = (
        "See [the panel](https://bob:s3cret@x.org/admin) and [this](//carol:pw@y.org/), "
        "or [mail](mailto:me@example.org).\n\n![pic](https://u:p@img.example.org/a.png)\n"
    )
    write_seed_file(seeds, "a.md", "title: A\nurl: https://example.org/a", body)
    run_feeder("build", "--seeds", str(seeds), "--output", str(out),
               "--state-dir", str(tmp_path / "state"))  # fmt: skip
    data = out.read_text(encoding="utf-8")
    assert "s3cret" not in data and "carol" not in data and "u:p@" not in data
    assert "https://x.org/admin" in data and "https://y.org/" in data
    assert "mailto:me@example.org" in data

"""``[build] image_proxy``: image sources rewritten through a template, originals linked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_feeder, write_seed_file
from lxml import etree
from lxml import html as lhtml

from feeder.content.imageproxy import proxy_images

ATOM = "{http://www.w3.org/2005/Atom}"
BODY = (
    "First paragraph of the article.\n\n"
    "![photo](https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&from=appmsg)\n\n"
    "[![linked](https://mmbiz.qpic.cn/linked.jpg)](https://example.org/big)\n\n"
    "![elsewhere](https://cdn.example.org/pic.png)\n\nLast paragraph of the article.\n"
)


def _images(tmp: Path, config: str) -> list[tuple[str, str | None]]:
    seeds, out = tmp / "seeds", tmp / "public" / "feed.atom"
    write_seed_file(seeds, "wx.md", "title: WeChat\nurl: https://mp.weixin.qq.com/s/abc", BODY)
    cfg = tmp / "feeder.toml"
    cfg.write_text(config, encoding="utf-8")
    run_feeder("build", "--config", str(cfg), "--seeds", str(seeds), "--output", str(out),
               "--state-dir", str(tmp / "state"))  # fmt: skip
    content = etree.parse(str(out)).getroot().find(f"{ATOM}entry/{ATOM}content")
    assert content is not None and content.text
    page = lhtml.fragment_fromstring(content.text, create_parent="div")
    return [(img.get("src", ""), _link(img)) for img in page.iter("img")]


def _link(img: lhtml.HtmlElement) -> str | None:
    parent = img.getparent()
    while parent is not None and parent.tag != "a":
        parent = parent.getparent()
    return None if parent is None else parent.get("href")


@pytest.mark.slow
def test_images_go_through_the_proxy_and_link_to_their_original(tmp_path: Path) -> None:
    config = (
        '[build]\nimage_proxy = "https://img.example.net/p?u={url}&h={host}"\n'
        'image_proxy_hosts = ["*.qpic.cn"]\n'
    )
    images = _images(tmp_path, config)
    original = "https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&from=appmsg"
    assert images[0] == (
        "https://img.example.net/p?u=https%3A%2F%2Fmmbiz.qpic.cn%2Fmmbiz_png%2Fabc%2F640"
        "%3Fwx_fmt%3Dpng%26from%3Dappmsg&h=mmbiz.qpic.cn",
        original,
    )
    # Already inside a link: proxied, and the article's own link stays.
    assert images[1][0].startswith("https://img.example.net/p?u=https%3A%2F%2Fmmbiz.qpic.cn")
    assert images[1][1] == "https://example.org/big"
    assert images[2] == ("https://cdn.example.org/pic.png", None)  # not a proxied host


@pytest.mark.slow
def test_without_a_proxy_nothing_changes_and_a_new_template_re_renders(tmp_path: Path) -> None:
    assert _images(tmp_path, "")[0][0].startswith("https://mmbiz.qpic.cn/")
    images = _images(tmp_path, '[build]\nimage_proxy = "https://p.example/{host}{path}"\n')
    assert (
        images[0][0]
        == "https://p.example/mmbiz.qpic.cn/mmbiz_png/abc/640%3Fwx_fmt%3Dpng%26from%3Dappmsg"
    )
    assert images[2][0] == "https://p.example/cdn.example.org/pic.png"


def test_a_bad_template_is_a_configuration_error(tmp_path: Path) -> None:
    cfg = tmp_path / "feeder.toml"
    for template, reason in (
        ("ftp://x/{url}", "http(s)"),
        ("https://x/{nope}", "{url}"),
        ("https://x/", "must contain"),
    ):
        cfg.write_text(f'[build]\nimage_proxy = "{template}"\n', encoding="utf-8")
        proc = run_feeder("check", "--config", str(cfg), check=False)
        assert proc.returncode == 1 and reason in proc.stderr, proc.stderr


def test_the_scan_leaves_other_markup_alone() -> None:
    html = '<p>a <img alt="x"> <a href="/"><b>b</b></a> <img src="https://h.qpic.cn/i"></p>'
    out = proxy_images(html, template="https://p/?u={url}", hosts=["*.qpic.cn"])
    assert out.startswith('<p>a <img alt="x"> <a href="/"><b>b</b></a> <a href="https://h.qpic')
    assert 'src="https://p/?u=https%3A%2F%2Fh.qpic.cn%2Fi"' in out

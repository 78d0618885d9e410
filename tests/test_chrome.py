"""Generic chrome on sites seen once, and images judged as content or chrome.

Each page is short and shaped like the corpus (a scraped page as Markdown
under YAML front matter, from a host without a site rule): the article
among a site's navigation, calls to action, related posts, author boxes and
footers. They go through the real rendering path (Markdown → clean →
sanitize), two of them through ``feeder build`` and ``feeder check --explain``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CORPUS, build_json, run_feeder, write_seed_file
from lxml import html

from feeder.config import Settings
from feeder.content.clean import clean_html, explain
from feeder.content.entry import make_cleaner
from feeder.content.sites import load_rules
from feeder.seeds.normalize import entry_meta, render
from feeder.seeds.parse import parse_bytes

_IMG_SRC = re.compile(r'<img[^>]*\ssrc="([^"]*)"')
_PARA = "The quick analysis of the incident continues with more detail about the attack chain."
_ZH_PARA = (
    "研究人员发现，攻击者利用该漏洞可以在未经身份验证的情况下远程执行任意代码，影响范围较广。"
)


def _page(front: str, body: str) -> bytes:
    return f"---\n{front.strip()}\n---\n\n{body.strip()}\n".encode()


def _render(page: bytes) -> str:
    doc = parse_bytes(page, "page.txt")
    settings = Settings()
    meta = entry_meta(doc, settings=settings, mtime=0)
    clean, _ = make_cleaner(settings)
    return render(doc, meta, settings=settings, clean=clean).content


def _text(content: str) -> str:
    root = html.fragment_fromstring(content, create_parent="div")
    return " ".join(root.text_content().split())


def _images(content: str) -> list[str]:
    return _IMG_SRC.findall(content)


def _has_image(content: str, part: str) -> bool:
    return any(part in src for src in _images(content))


# -- generic chrome, English -------------------------------------------------------------

EN_BLOG = _page(
    """
title: Hunting a use-after-free in the parser
url: https://blog.example.dev/2025/05/hunting-uaf/
source: Example Engineering Blog
date: 2025-05-02
""",
    f"""
# Hunting a use-after-free in the parser

[![Example Engineering](https://blog.example.dev/static/site-logo.png)](https://blog.example.dev/)

* [Home](/)
* [Archive](/archive/)
* [About](/about/)

Search for:

# Hunting a use-after-free in the parser

By [Jane Doe](/author/jane/) | May 2, 2025 | 6 min read

![The crash in the debugger](https://blog.example.dev/uploads/2025/05/crash-hero.png)

It started with a crash report that nobody could reproduce. {_PARA}

## Reproducing the crash

![Fuzzer output](https://blog.example.dev/uploads/2025/05/fuzzer-output.png)

The fuzzer found an input within an hour. {_PARA}

The fix frees the node only after the last reader is done. {_PARA}

![The patched allocator](https://blog.example.dev/uploads/2025/05/patched.png)

Thanks for reading, and happy hunting.

[Security](/tag/security/) [Fuzzing](/tag/fuzzing/)

Subscribe to our newsletter for weekly updates from the team.

Enter your email address

## Related posts

* [![](https://blog.example.dev/uploads/2025/04/thumb-heap.png)](/2025/04/heap/)
  [Taming the heap allocator](/2025/04/heap/)
* [![](https://blog.example.dev/uploads/2025/03/thumb-fuzz.png)](/2025/03/fuzz/)
  [Fuzzing at scale on a budget](/2025/03/fuzz/)

## About the author

![Jane Doe](https://secure.gravatar.com/avatar/abc123?s=96)

Jane Doe writes about memory safety and fuzzing; she has found bugs in many parsers.

© 2025 Example Inc. All rights reserved.

Proudly powered by WordPress
""",
)


def test_english_blog_keeps_article_drops_chrome() -> None:
    content = _render(EN_BLOG)
    text = _text(content)
    for keep in (
        "It started with a crash report that nobody could reproduce.",
        "Reproducing the crash",
        "The fuzzer found an input within an hour.",
        "The fix frees the node only after the last reader is done.",
        "Thanks for reading, and happy hunting.",
    ):
        assert keep in text, keep
    for drop in (
        "Search for",
        "Jane Doe |",
        "6 min read",
        "Subscribe to our newsletter",
        "Enter your email",
        "Related posts",
        "Taming the heap allocator",
        "About the author",
        "writes about memory safety",
        "All rights reserved",
        "powered by WordPress",
        "Fuzzing",  # the tags
    ):
        assert drop not in text, drop


def test_english_blog_images() -> None:
    content = _render(EN_BLOG)
    for kept in ("crash-hero.png", "fuzzer-output.png", "patched.png"):
        assert _has_image(content, kept), kept  # the hero, after a heading, the last one
    for dropped in ("site-logo.png", "thumb-heap.png", "thumb-fuzz.png", "gravatar.com"):
        assert not _has_image(content, dropped), dropped


EN_PRODUCT = _page(
    """
title: Detecting credential stuffing at the edge
url: https://www.vendor.example/blog/credential-stuffing
source: Vendor Blog
""",
    f"""
# Detecting credential stuffing at the edge

* [Product](/product)
* [Pricing](/pricing)
* [Sign in](/login)

Credential stuffing replays leaked passwords against login forms. {_PARA}

Rate limits alone do not stop a botnet with a million addresses. {_PARA}

We look at the signals that do: device reputation and login velocity. {_PARA}

Keep reading

Save

Cite

Contact us for pricing and a personalised demo of the platform.

Start your free trial today

[Request a demo](/demo)

Download the app
""",
)


def test_english_product_calls_to_action_dropped() -> None:
    text = _text(_render(EN_PRODUCT))
    assert "Credential stuffing replays leaked passwords" in text
    assert "We look at the signals that do" in text
    for drop in (
        "Keep reading",
        "Save",
        "Cite",
        "Contact us for pricing",
        "free trial",
        "Request a demo",
        "Download the app",
        "Sign in",
    ):
        assert drop not in text, drop


# -- generic chrome, Chinese -------------------------------------------------------------

ZH_NEWS = _page(
    """
title: 某路由器曝出远程代码执行漏洞
url: https://www.news.example.cn/article/12345.html
source: 某安全资讯
date: 2025-03-01
""",
    f"""
# 某路由器曝出远程代码执行漏洞

* [首页](/)
* [资讯](/news/)
* [登录](/login)

作者：张三 2025-03-01 10:00 阅读 3021

![](https://img.news.example.cn/2025/03/router-photo.jpg)

{_ZH_PARA}

厂商已经发布补丁，建议用户尽快升级固件。{_ZH_PARA}

安全团队提醒，暴露在公网的管理界面应当关闭。{_ZH_PARA}

本文仅代表作者观点，不代表本站立场。

转载请注明出处和本文链接

扫码关注我们

![](https://img.news.example.cn/static/qrcode-wechat.jpg)

长按识别二维码，加入我们的知识星球

## 相关推荐

* [![](https://img.news.example.cn/thumb/1.jpg)](/a/1.html) [另一篇漏洞分析文章](/a/1.html)
* [![](https://img.news.example.cn/thumb/2.jpg)](/a/2.html) [第二篇相关文章的标题](/a/2.html)

版权所有 © 2025 某安全资讯 京ICP备12345678号
""",
)


def test_chinese_news_keeps_article_drops_chrome() -> None:
    content = _render(ZH_NEWS)
    text = _text(content)
    assert "研究人员发现" in text
    assert "厂商已经发布补丁" in text
    assert "安全团队提醒，暴露在公网的管理界面应当关闭。" in text
    for drop in (
        "作者：张三",
        "阅读 3021",
        "不代表本站立场",
        "转载请注明出处",
        "扫码关注",
        "知识星球",
        "相关推荐",
        "另一篇漏洞分析文章",
        "版权所有",
        "ICP备",
        "登录",
    ):
        assert drop not in text, drop
    assert _has_image(content, "router-photo.jpg")  # the lead image after the byline
    for dropped in ("qrcode-wechat.jpg", "thumb/1.jpg", "thumb/2.jpg"):
        assert not _has_image(content, dropped), dropped


ZH_BLOG = _page(
    """
title: 一次内网渗透的记录
url: https://blog.example.org/posts/intranet/
source: 某某的博客
""",
    f"""
# 一次内网渗透的记录

[首页](/) [归档](/archives/) [关于](/about/)

## 一次内网渗透的记录

发表于 2024-11-09 | 分类于 渗透测试 | 阅读次数 1024

## 信息收集

![](https://blog.example.org/images/nmap-result.png)

{_ZH_PARA}

## 横向移动

{_ZH_PARA}最终拿到了域控权限，整个过程持续了三天。

![](https://blog.example.org/images/domain-admin.png)

-------------The End-------------

赞赏

微信赞赏 支付宝赞赏

推荐阅读

* [另一次渗透测试的完整记录](/posts/pentest-2/)
* [内网穿透工具的对比评测](/posts/tunnels/)

© 2024 某某的博客 | 由 Hexo 强力驱动 | 主题 - NexT

Powered by Hexo
""",
)


def test_chinese_blog_section_image_and_tail() -> None:
    content = _render(ZH_BLOG)
    text = _text(content)
    assert "信息收集" in text and "横向移动" in text
    assert "整个过程持续了三天。" in text
    assert _has_image(content, "nmap-result.png")  # the first one, right after a heading
    assert _has_image(content, "domain-admin.png")  # the last one, before the end
    for drop in ("发表于", "阅读次数", "The End", "赞赏", "推荐阅读", "另一次渗透测试", "Hexo"):
        assert drop not in text, drop


# -- images --------------------------------------------------------------------------------

IMAGES = _page(
    """
title: Notes on the firmware update
url: https://notes.example.net/firmware-update
source: Notes
""",
    f"""
# Notes on the firmware update

![](https://notes.example.net/img/divider.gif)

The vendor shipped a firmware update last week. {_PARA}

<img src="https://tracker.example.net/open.gif" width="1" height="1">

![](https://notes.example.net/img/divider.gif)

The update changes the boot loader. {_PARA}

<img src="https://notes.example.net/img/share-twitter.png" width="32" height="32">

![A diagram of the boot chain](https://notes.example.net/img/boot-chain.png)

The new boot chain verifies every stage. {_PARA}

![](https://notes.example.net/img/icons/16x16/print.png)

![](https://notes.example.net/img/author-headshot.jpg)

We will follow up with a full teardown. {_PARA}
""",
)


def test_decoration_pixels_and_icons_dropped_figures_kept() -> None:
    content = _render(IMAGES)
    assert _has_image(content, "boot-chain.png")
    for dropped in ("divider.gif", "open.gif", "share-twitter.png", "print.png", "headshot"):
        assert not _has_image(content, dropped), dropped
    text = _text(content)
    assert "The update changes the boot loader." in text
    assert "We will follow up with a full teardown." in text


def test_image_beside_call_to_action_dropped() -> None:
    page = _page(
        """
title: 漏洞通告
url: https://sec.example.com.cn/notice/1
source: 某实验室
""",
        f"""
# 漏洞通告

{_ZH_PARA}

![](https://sec.example.com.cn/upload/2025/figure-1.png)

{_ZH_PARA}补丁已经发布。

欢迎加入我们的技术交流群

![](https://sec.example.com.cn/upload/2025/group-card.png)

{_ZH_PARA}以上就是本次通告的全部内容。
""",
    )
    content = _render(page)
    assert _has_image(content, "figure-1.png")
    assert not _has_image(content, "group-card.png")
    assert "欢迎加入我们的技术交流群" not in _text(content)
    assert "以上就是本次通告的全部内容。" in _text(content)


def test_logo_among_paragraphs_is_content_but_not_in_the_header() -> None:
    page = _page(
        """
title: Welcoming a new partner
url: https://www.partners.example/welcome
source: Partners
""",
        f"""
[![](https://www.partners.example/assets/logo.svg)](https://www.partners.example/)

# Welcoming a new partner

Today we welcome the national agency as our fortieth partner. {_PARA}

![](https://www.partners.example/content/2025/agency-logo.png)

The agency will use the service to monitor its own domains. {_PARA}
""",
    )
    content = _render(page)
    assert _has_image(content, "agency-logo.png")
    assert not _has_image(content, "assets/logo.svg")


def test_wechat_cover_and_account_images() -> None:
    page = _page(
        """
title: 关于某漏洞的预警
url: https://mp.weixin.qq.com/s/AbCdEfGh
source: 某安全公众号
""",
        f"""
# 关于某漏洞的预警

![cover_image](https://mmbiz.qpic.cn/mmbiz_jpg/CoverImageId/0?wx_fmt=jpeg)

# 关于某漏洞的预警

某安全公众号

![某安全公众号](https://mmbiz.qpic.cn/mmbiz_gif/AccountBannerId/640?wx_fmt=gif)

![](https://mmbiz.qpic.cn/mmbiz_jpg/NewsPhotoId/640?wx_fmt=jpeg)

{_ZH_PARA}

{_ZH_PARA}请相关用户尽快升级。

![](https://mmbiz.qpic.cn/mmbiz_png/SeparatorId/640?wx_fmt=png)

{_ZH_PARA}

![](https://mmbiz.qpic.cn/mmbiz_png/SeparatorId/640?wx_fmt=png)

扫码关注我们

![](https://mmbiz.qpic.cn/mmbiz_jpg/QrCodeId/640?wx_fmt=jpeg)

预览时标签不可点
""",
    )
    content = _render(page)
    assert _has_image(content, "NewsPhotoId")
    for dropped in ("CoverImageId", "AccountBannerId", "SeparatorId", "QrCodeId"):
        assert not _has_image(content, dropped), dropped
    assert "请相关用户尽快升级。" in _text(content)


def test_an_image_only_entry_keeps_its_image() -> None:
    page = _page(
        """
title: Photo of the day
url: https://photos.example.org/day/1
source: Photos
""",
        "![](https://photos.example.org/2025/day-1.jpg)\n",
    )
    assert _has_image(_render(page), "day-1.jpg")


def test_user_seed_images() -> None:
    seed = CORPUS / "seed" / "000_6d81516ea70193ef.txt"
    if not seed.is_file():
        pytest.skip("shared corpus not available")
    content = _render(seed.read_bytes())
    srcs = _images(content)
    assert srcs == [s for s in srcs if "t8TnyYib6xgicnWZpMNRXu9p1sUbj2icBsJicOnFH5K2jZXP" in s]
    assert len(srcs) == 1  # the news photo; dividers, QR codes, banner and avatar gone
    assert "联合国大会12月24日以一致同意的方式通过" in _text(content)


# -- explain and build -------------------------------------------------------------------


def test_explain_lists_each_dropped_image_with_its_rule() -> None:
    doc = parse_bytes(IMAGES, "page.txt")
    meta = entry_meta(doc, settings=Settings(), mtime=0)
    from feeder.content.render import render_markdown

    cleaned = clean_html(
        render_markdown(doc.body),
        url=meta.link,
        title=meta.title,
        source=meta.source,
        rules=load_rules(None),
    )
    images = {d.text: d.rule for d in cleaned.dropped if d.text.startswith("[img] ")}
    assert images["[img] https://tracker.example.net/open.gif"] == "generic:image-pixel"
    assert images["[img] https://notes.example.net/img/share-twitter.png"] == "generic:image-small"
    assert images["[img] https://notes.example.net/img/divider.gif"] == "generic:image-repeated"
    report = explain(cleaned)
    assert "[generic:image-pixel] [img] https://tracker.example.net/open.gif" in report


@pytest.mark.slow
def test_feeder_build_and_check_explain(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, page in (("en.txt", EN_BLOG), ("zh.txt", ZH_NEWS)):
        (seeds / name).write_bytes(page)
    write_seed_file(
        seeds, "short.txt", "title: A short note\nurl: https://short.example/1", "Hi.\n"
    )
    out = tmp_path / "feed.atom"
    report = build_json(seeds, out, tmp_path / "state")
    assert report["entries"] == 3
    feed = out.read_text(encoding="utf-8")
    assert "crash-hero.png" in feed and "router-photo.jpg" in feed
    assert "gravatar.com" not in feed and "qrcode-wechat.jpg" not in feed
    assert "Subscribe to our newsletter" not in feed and "扫码关注" not in feed
    proc = run_feeder("check", "--json", "--explain", str(seeds / "en.txt"), "--seeds", str(seeds))
    explained = json.loads(proc.stdout)
    dropped = {d["text"]: d["rule"] for d in explained["dropped"]}
    assert dropped["[img] https://secure.gravatar.com/avatar/abc123?s=96"].startswith("generic:")


# -- where the article starts and ends ---------------------------------------------------


def test_references_after_badges_kept_badges_dropped() -> None:
    page = _page(
        """
title: Weekly notes 12
url: https://notes.example.com/weekly-12/
source: Example Notes
""",
        f"""
# Weekly notes 12

{_PARA} {_PARA} {_PARA}

[![Listen on Podcasts](https://notes.example.com/img/listen-podcasts.svg)](https://podcasts.example.org/show)

[![Watch on Video](https://notes.example.com/img/watch-video.svg)](https://video.example.org/list)

## References

1. [The first report we discussed this week](https://news.example.org/a) (worth a read)
2. [Merch!](https://shop.example.com/) (what are we missing?)

[Weekly](/tag/weekly/)
""",
    )
    content = _render(page)
    text = _text(content)
    assert "The first report we discussed this week" in text
    assert "Merch! (what are we missing?)" in text
    assert not _has_image(content, "listen-podcasts.svg")
    assert not _has_image(content, "watch-video.svg")
    assert "Weekly" not in text.replace("Weekly notes", "")


def test_standfirst_and_table_of_contents_intro_kept() -> None:
    page = _page(
        """
title: Scraping without code
url: https://blog.example.io/scraping/
source: Example IO
""",
        f"""
# Scraping without code

* [Home](/)
* [Archive](/archive/)

# Scraping without code

### Why a browser extension beats a script for a one-off job, and where it stops working

Posted on 04/16/2023 by Someone | View revision history

Recently I had to download a whole course's videos once, which is why I tried this.

Table of contents

* [Install](#install)
* [Configure](#configure)

## Install

{_PARA}

## Configure

{_PARA} {_PARA}
""",
    )
    text = _text(_render(page))
    assert "Why a browser extension beats a script for a one-off job" in text
    assert "Recently I had to download a whole course's videos once" in text
    assert "Posted on" not in text and "View revision history" not in text
    assert "Table of contents" not in text


def test_comments_author_box_and_motto_after_the_article_dropped() -> None:
    page = _page(
        """
title: On backups
url: https://jane.example.net/on-backups/
source: Jane Doe's Blog
""",
        f"""
# On backups

{_PARA} {_PARA}

Test your restores, not your backups. {_PARA}

##### Jane Doe

Hi, I'm Jane Doe, I write this blog and speak at conferences about storage and recovery.

leon says: March 3, 2023 at 14:00 Great post, thanks for writing it up in so much detail!

[Reply](/reply)

Simplicity is prerequisite for reliability. --Dijkstra

* [Home](/)
* [Privacy](/privacy)

Copyright 2025, Jane Doe
""",
    )
    text = _text(_render(page))
    assert "Test your restores, not your backups." in text
    for drop in ("I write this blog", "leon says", "Great post", "Dijkstra", "Copyright"):
        assert drop not in text, drop


def test_forum_replies_after_the_first_post_dropped() -> None:
    page = _page(
        """
title: 记录一次实战
url: https://forum.example.com/t/topic/2204
source: 某论坛
""",
        f"""
# 记录一次实战

{_ZH_PARA}

{_ZH_PARA}{_ZH_PARA}

{_ZH_PARA}

{_ZH_PARA}{_ZH_PARA}

{_ZH_PARA}

成功getshell，最后提权收个尾，战斗结束。

1 个赞

[某用户](https://forum.example.com/u/someone)

2025 年1 月 14 日 10:53

大哥，有事相求 怎么取得联系
""",
    )
    text = _text(_render(page))
    assert "成功getshell，最后提权收个尾，战斗结束。" in text
    for drop in ("个赞", "某用户", "10:53", "有事相求"):
        assert drop not in text, drop


def test_motto_between_article_and_footer_dropped() -> None:
    page = _page(
        """
title: 英国面临禁止汞合金填充物的压力
url: https://www.news.example.org/story?sid=1
source: 某科技资讯
""",
        f"""
# 英国面临禁止汞合金填充物的压力

{_ZH_PARA}{_ZH_PARA}{_ZH_PARA}

[回复](/comments?sid=1)

活了一百年却只能记住三十兆字节是荒谬的。--某位科学家

* [首页](/)
* [隐私政策](/privacy)

本站提到的所有注册商标属于他们各自的所有人所有，其余内容版权属于本站所有。

京ICP证000000号
""",
    )
    text = _text(_render(page))
    assert "研究人员发现" in text
    for drop in ("活了一百年", "回复", "注册商标", "ICP"):
        assert drop not in text, drop


def test_other_languages_calls_to_action() -> None:
    page = _page(
        """
title: L'assalto alle telco
url: https://rete.example.it/p/assalto
source: Rete
""",
        f"""
# L'assalto alle telco

Potrebbe essere una delle operazioni di spionaggio più clamorose di sempre, secondo molte fonti.
{_PARA}

{_PARA} {_PARA}

Continua a leggere sul sito Rete.example.it

Questa è la sezione Articoli della newsletter. Per iscriversi alla sezione bisogna prima essere
iscritti alla newsletter, poi scegliere le sezioni nelle impostazioni del proprio account.

Condividi
""",
    )
    text = _text(_render(page))
    assert "Potrebbe essere una delle operazioni" in text
    for drop in ("Continua a leggere", "Per iscriversi", "Condividi"):
        assert drop not in text, drop


def test_sentences_mentioning_qr_codes_and_release_tags_kept() -> None:
    page = _page(
        """
title: 登塔记
url: https://travel.example.cn/posts/tower/
source: 某旅行博客
""",
        f"""
# 登塔记

{_ZH_PARA}

塔上贴着一张二维码，扫码会给你颁发证书。

{_ZH_PARA}

https://github.com/example/tool/releases/tag/v1.0.3

{_ZH_PARA}
""",
    )
    text = _text(_render(page))
    assert "塔上贴着一张二维码，扫码会给你颁发证书。" in text
    assert "releases/tag/v1.0.3" in text


def test_numbered_step_is_no_call_to_action() -> None:
    page = _page(
        """
title: 一款社交应用的玩法
url: https://www.example.cn/a/1
source: 某资讯
""",
        f"""
# 一款社交应用的玩法

{_ZH_PARA}

它的玩法很简单，只需 4 步。

1、加入你的高中

2、添加好友

3、回答问卷

{_ZH_PARA}
""",
    )
    text = _text(_render(page))
    assert "2、添加好友" in text and "3、回答问卷" in text


# -- more images --------------------------------------------------------------------------


def test_lead_images_kept_site_logo_and_thumbnails_dropped() -> None:
    page = _page(
        """
title: A donation
url: https://blog.example.se/2023/03/a-donation/
source: example.se
""",
        f"""
# A donation

[![](https://blog.example.se/wp-content/uploads/header.jpg)](https://blog.example.se/)

* [About](/about/)
* [Privacy](/privacy/)

![](https://blog.example.se/wp-content/uploads/2018/01/dollar-672x372.jpg)

[News](https://blog.example.se/category/news/)

# A donation

[March 28, 2023](/2023/03/28/) [Daniel](/author/daniel/)

[![](https://blog.example.se/wp-content/uploads/2016/04/project_logo-1200x459.png)](https://project.example.org/)

> Hi admins, we selected your project as a winner of our open source contributor fund. {_PARA}

{_PARA}

![](https://blog.example.se/wp-content/uploads/2024/10/Author-150x150.png)

<img src="https://ad.doubleclick.net/ddm/activity/src=1;type=blog;ord=1?" alt="">

{_PARA} That is all.
""",
    )
    content = _render(page)
    assert _has_image(content, "dollar-672x372.jpg")  # the theme's featured image
    assert _has_image(content, "project_logo-1200x459.png")  # a logo that leads the post
    for dropped in ("header.jpg", "Author-150x150.png", "doubleclick.net"):
        assert not _has_image(content, dropped), dropped


def test_lead_image_shown_twice_keeps_one_copy() -> None:
    page = _page(
        """
title: Lessons from a breach report
url: https://www.vendor.example/blog/lessons/
source: Vendor
""",
        f"""
# Lessons from a breach report

![](https://www.vendor.example/uploads/2025/05/report-header.png)

May 19, 2025

![](https://www.vendor.example/uploads/2025/05/report-header.png)

{_PARA} {_PARA}

{_PARA}
""",
    )
    content = _render(page)
    assert sum("report-header.png" in src for src in _images(content)) == 1


def test_cut_data_uri_images_removed_real_image_beside_them_kept() -> None:
    page = _page(
        """
title: Decloaking rootkits
url: https://www.example-sec.com/blog/decloak/
source: Example Security
""",
        f"""
# Decloaking rootkits

{_PARA}

![](data:image/svg+xml;base64...)![](data:image/jpeg;base64...)![A hidden process](https://assets.example-sec.com/1668993842-listing.png)

{_PARA} {_PARA}
""",
    )
    content = _render(page)
    assert _has_image(content, "1668993842-listing.png")
    assert "data:image" not in _text(content)


def test_placeholder_images_get_the_picture_they_stand_for() -> None:
    paras = [
        f"{n} the attackers chained the flaw with a stolen token to reach the domain controller."
        for n in ("First,", "Then", "Next", "After that", "Finally")
    ]
    lazy = (
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
        'data-src="https://img.example-cdn.net/b/exploit-demo.png" alt="Exploit demo">'
    )
    page = _page(
        """
title: Windows flaw exploited
url: https://news.example-sec.net/2025/06/windows-flaw.html
source: Example Security News
""",
        f"""
# Windows flaw exploited

{paras[0]}

[![Attack chain](data:image/png;base64... "Attack chain")](https://img.example-cdn.net/a/AVvXsE/s2600/chain.jpg)

{paras[1]}

{lazy}

{paras[2]}

[![Read more](data:image/png;base64...)](https://news.example-sec.net/2025/06/other-story.html)

{paras[3]}

[![Timeline of the attack](https://img.example-cdn.net/c/figure-3.png)](https://img.example-cdn.net/c/figure-3-full.png)

{paras[4]}
""",
    )
    content = _render(page)
    srcs = _images(content)
    assert any(src.endswith("/s2600/chain.jpg") for src in srcs), srcs  # the link's picture
    assert any(src.endswith("/exploit-demo.png") for src in srcs), srcs  # the lazy attribute
    assert any(src.endswith("/c/figure-3.png") for src in srcs), srcs  # a real src is kept
    assert not any("other-story" in src or "full.png" in src for src in srcs), srcs
    assert "data:" not in content
    assert all(p in _text(content) for p in paras)


def test_a_heading_left_with_nothing_under_it_at_the_end_is_dropped() -> None:
    paras = [
        f"Snapshot fuzzing restores the {w} state of a virtual machine before every input."
        for w in ("whole", "saved", "clean", "recorded")
    ]
    body = "\n\n".join(paras)
    share = "\n\n".join(
        f'[{n}](https://{h}/trailofbits "{n}")'
        for n, h in (("X", "x.com"), ("LinkedIn", "linkedin.com"), ("GitHub", "github.com"))
    )
    page = _page(
        """
title: Introducing snapshot fuzzing
url: https://blog.example-research.com/2025/04/09/snapshot-fuzzing/
source: Example Research Blog
""",
        f"""
# Introducing snapshot fuzzing

{body}

#### If you enjoyed this post, share it:

{share}

#### Recent Posts

* [Taming compiler warnings with CodeQL](/2025/09/25/taming-compiler-warnings/)
* [Supply chain attacks are exploiting our assumptions](/2025/09/24/supply-chain/)
* [Use mutation testing to find the bugs](/2025/09/18/mutation-testing/)

© 2025 Example Research.
""",
    )
    content = _render(page)
    text = _text(content)
    assert all(p in text for p in paras), text
    assert "share it" not in text and "Recent Posts" not in text, content
    assert not re.search(r"<h\d[^>]*>[^<]*</h\d>\s*$", content), content


def test_lead_image_after_the_menus_newsletter_link_is_kept_with_its_credit() -> None:
    paras = [
        "Suspected hackers breached networks this summer using ordinary administrative tools.",
        "According to a report by a security firm, the attackers targeted a large organization.",
        "What makes these attacks notable is that the hackers deployed little custom malware.",
        "The firm said the attackers gained access by planting webshells on public servers.",
    ]
    body = "\n\n".join(paras)
    page = _page(
        """
title: Living off the land allowed a group to breach entities this summer
url: https://news.example-record.com/living-off-the-land
source: The Example Record
""",
        f"""
# Living off the land allowed a group to breach entities this summer

* [Leadership](/news/leadership)
* [Cybercrime](/news/cybercrime)
* [Nation-state](/news/nation-state)
* [Technology](/news/technology)

Subscribe to The Example Record

[Free Newsletter](/subscribe)

![Kyiv, Ukraine](https://cms.example-record.com/uploads/large_kyiv_at_night_b1c3c2e541.jpg)

Kyiv at night. Image: A. Photographer via Unsplash

[Jane Reporter](/author/jane-reporter)October 29th, 2025

# Living off the land allowed a group to breach entities this summer

{body}
""",
    )
    content = _render(page)
    assert _has_image(content, "large_kyiv_at_night"), content
    text = _text(content)
    assert "Kyiv at night. Image: A. Photographer via Unsplash" in text, text
    assert all(p in text for p in paras)
    assert "Free Newsletter" not in text and "Cybercrime" not in text, text


def test_a_mailing_list_message_keeps_its_sign_off_and_loses_the_archive_navigation() -> None:
    paras = [
        "I plan to introduce hard Rust dependencies and Rust code into the package manager.",
        "In particular, our code to parse archives and verify signatures would benefit.",
        "If you maintain a port without a working Rust toolchain, please ensure it has one.",
        "It is important for the project as a whole to be able to move forward with tools.",
    ]
    body = "\n\n".join(paras)
    page = _page(
        """
title: Hard Rust requirements from May onward
url: https://lists.example-project.org/devel/2025/10/msg00285.html
source: devel mailing list
""",
        f"""
[Date Prev](msg00284.html)][[Date Next](msg00286.html)]
[[Thread Prev](msg00284.html)][[Thread Next](msg00286.html)]
[[Date Index](maillist.html#00285)]
[[Thread Index](threads.html#00285)]

# Hard Rust requirements from May onward

{body}

Thank you for your understanding.
--
project developer - example.org/jak | free software dev

**Reply to:**

* devel@lists.example-project.org

**Follow-Ups:**

* Re: Hard Rust requirements from May onward
  + From: Another Developer

* Prev by Date: Bug#1119816: ITP: python-fairscale -- a PyTorch extension
* Next by Date: Re: Hard Rust requirements from May onward
* Previous by thread: Bug#1119816: ITP: python-fairscale -- a PyTorch extension
* Next by thread: Re: Hard Rust requirements from May onward
* Index(es):
  + Date
  + Thread
""",
    )
    content = _render(page)
    text = _text(content)
    assert all(p in text for p in paras), text
    assert "Thank you for your understanding." in text
    assert not re.search(r"<h\d[^>]*>Thank you", content), content  # "--" is no underline
    for chrome in ("Reply to", "Prev by Date", "Next by thread", "Index(es)", "Follow-Ups"):
        assert chrome not in text, (chrome, text)


def test_a_short_post_ends_at_its_first_comment_however_long_the_discussion() -> None:
    post = (
        "Meta is suing the spyware vendor, claiming that it hacks the messaging app and its "
        "users. The judge has now limited the evidence the vendor may present at trial."
    )
    comments = [
        (
            "Clive Robinson",
            "444914",
            "I am reminded of the old saying about sitting down with the Devil. " * 12,
        ),
        ("Winter", "444915", "There are laws against all kinds of criminals and yet crime. " * 8),
    ]
    link = "https://blog.example-sec.org/2025/04/case-progressing.html"
    discussion = "\n\n".join(
        f"{name} •\n[April 30, 2025 9:47 AM]({link}/#comment-{n})\n\n{text}"
        for name, n, text in comments
    )
    page = _page(
        f"""
title: Case against the spyware vendor progressing
url: {link}
source: Example on Security
""",
        f"""
## Case against the spyware vendor progressing

{post}

I have written about the issues at stake before, and the trial starts next month.

### Comments

{discussion}
""",
    )
    text = _text(_render(page))
    assert post in text and "the trial starts next month" in text, text
    assert "sitting down with the Devil" not in text and "laws against" not in text, text
    assert "Comments" not in text, text


def test_wechat_animated_banner_above_the_article_dropped_photo_kept() -> None:
    page = _page(
        """
title: 某产品发布
url: https://mp.weixin.qq.com/s/XyZ123
source: 某厂商
""",
        f"""
# 某产品发布

某产品社区版

某厂商

![](https://mmbiz.qpic.cn/mmbiz_gif/AnimatedBannerId/640?wx_fmt=gif&from=appmsg)

{_ZH_PARA}

![](https://mmbiz.qpic.cn/mmbiz_gif/DemoAnimationId/640?wx_fmt=gif&from=appmsg)

{_ZH_PARA}
""",
    )
    content = _render(page)
    assert not _has_image(content, "AnimatedBannerId")
    assert _has_image(content, "DemoAnimationId")  # an animation inside the article stays

"""Generic main-content extraction: find the article among the page's blocks.

Works on any site, without rules. Each block gets a score: prose (text
outside links) counts for, link text, very short lines, known chrome phrases
("Share this", "登录", …) and boilerplate repeated on the page count against;
blocks without text (embeds, empty paragraphs) and links that point within
the page or spell out their address (a table of contents, a source) count
for nothing. The article is the contiguous run of blocks with the highest
total score (the maximum-sum segment), then

* it starts after the last heading that repeats the entry's title, when
  most of the article follows it (menus and sidebars precede the title),
  with the standfirst under that title if the run left it out;
* it ends at the first block that ends an article (:func:`ends_article`:
  a trailing-section heading such as "Related posts", "Leave a comment",
  "推荐阅读", "分享至", "相关推荐"; the page's footer, a copyright or licence
  line; the first comment, "jane says: May 5, 2024"; a heading naming the
  site's author, their box) once enough article precedes it; without one,
  the prose right after the run (a short last line, a paragraph after an
  embed or an image, the references after a row of badges) is the article's
  end and stays, up to the first block that looks like chrome;
* its ends are trimmed (:func:`trim`): bylines, dates, reading times and
  counters above it; share and tip rows, tags, notices, calls to action,
  dated bylines and mottos below it, and a heading or a short line there
  when such chrome follows it;
* inside it, chrome lines, notices (reprint, copyright, "does not represent
  our position"), calls to action on a line of their own (follow,
  subscribe, scan the QR code, join the group, ask for a demo or a price,
  start free, download the app), rows of tag links and link-list sections
  ("往期回顾" + its links) are dropped.

The words are Chinese and English, with the common ones of Italian, German,
French and Spanish; what decides is where a line stands and what it is
(short, a link, a label without a sentence), the words only name it.

The caller checks the result and falls back to the whole body when too
little is left: losing the article is worse than keeping some chrome.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from functools import lru_cache

from feeder.content.blocks import Block, has_element, units
from feeder.content.sites import fold

_I = re.IGNORECASE

#: A date as pages print it above an article (2022年11月9日, 2024-12-10, May 23, 2025).
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mär|mai|okt|dez|gen|giu|lug|ago|set"
    r"|ott|dic)[a-zäéû]{0,7}\.?"
)
_DATE = (
    r"(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{4}}"
    rf"|\d{{1,2}}\.? {_MONTH},? \d{{4}})"
    r"(?: \d{1,2}:\d{2}(?::\d{2})?)?"
)
#: A view or comment counter (Views: 443, 5 条评论, 1.2k views, 阅读 3021).
_COUNTER = (
    r"(?:(?:views?|reads?|likes?|阅读量?|浏览量?|评论|点赞数?|赞|喜欢|收藏)[:：(（]?\s*[\d,.]+[kw万]?[)）]?"
    r"|[\d,.]+[kw万]?\s*(?:条评论|comments?|views?|reads?|次阅读|次浏览|阅读|浏览))"
)

#: The line that closes an article ("END", "（完）", "-- The End --").
_END_MARK = r"(?:-+|—+|=+)?\s*(?:the )?end\s*(?:-+|—+|=+)?|-?\s*(?:全文)?完\s*-?|（(?:全文)?完）"
END_MARK = re.compile(_END_MARK, _I)

#: Lines that are page chrome wherever they stand (the whole block's text).
CHROME_LINE = re.compile(
    r"skip to (?:the )?(?:main |primary )?(?:content|sidebar|footer|navigation)"
    r"|jump to (?:main )?content|advertisement|sponsored|reg ad"
    r"|share|tweet|email|print|share (?:this|on \w+)(?: post| article| page)?:?"
    r"|like loading\.*|like this:?|loading\.\.\."
    r"|back to top|top of page|scroll to top|go to top"
    r"|sign ?in|sign ?up|log ?in|log ?out|register|subscribe|menu|search|close"
    r"|expanded|collapsed|toggle navigation|main menu|search for:?|search the site \.*"
    r"|previous(?: post)?|next(?: post)?|older posts?|newer posts?|cancel reply"
    r"|×|x|\+1|δ|[|·•]+"
    r"|分享到：?|分享|收藏|点赞|赞|在看|登录|注册|搜索|关注|取消|确定|允许|知道了"
    r"|阅读原文|点击这里阅读原文|返回顶部|编辑分享|展开更多|加入我的收藏|\+ ?收入我的专辑"
    r"|\+ ?加入我的收藏|微信二维码|扫码关注|关 注|文章目录"
    r"|点击蓝字 ?关注我们|更多干货 ?点击蓝字 ?关注我们|在小说阅读器(?:读本章|中沉浸阅读)|去阅读"
    r"|在公众号小说中沉浸阅读|字号[:：]? ?大 ?中 ?小|(?:font size|text size)[: ]+a ?a ?a"
    r"|(?:当前位置|您的位置|你的位置|current location)[:：].{0,80}"
    r"|press enter or click to view image in full size"
    r"|回复|reply|编辑|edit this page|edit on github|编辑此页|举报|赞赏|打赏|分享至"
    r"|(?:(?:微信|支付宝)(?:赞赏|打赏|扫码)\s*)+"
    r"|comments are closed\.?|评论已关闭|(?:post )?tags?\s*[:：]"
    r"|please enable javascript to view the comments.*|(?:blog )?comments powered by disqus\.?"
    r"|condividi|commenti|iscriviti|partager|commentaires|s'abonner|teilen|kommentare"
    r"|abonnieren|compartir|comentarios|suscr[ií]bete|nessun post"
    r"|(?:!\[[^\]]*\]\(data:[^)]*\)?\s*)+"
    r"|(?:reading time[:：]?\s*~?\s*)?\d+\s*(?:min(?:ute)?s?|分钟)(?:\s*read)?\.?"
    r"|(?:阅读|预计阅读)(?:时间|时长|需要)?[:：]?\s*\d+\s*分钟"
    r"|(?:click here to )?(?:return|go back|back) to (?:the )?(?:main|home|front) ?page\.?"
    r"|(?:link|address|indirizzo|lien) (?:copied|copiato|copié)!?|copied!?|indirizzo copiato"
    r"|condividi(?: l['’]articolo| questo articolo| su \w+)?|pubblicato da|publié par"
    r"|(?:continua a leggere|weiterlesen|lire la suite|seguir leyendo|leer más)\b.{0,60}"
    r"|show hidden characters|view raw|hosted with ❤ by github"
    r"|this file contains (?:hidden or )?bidirectional unicode text.{0,200}"
    r"|\[\s*x?\s*\]"
    r"|(?:(?:facebook|twitter|x|linkedin|reddit|e-?mail|whatsapp|telegram|weibo|微博|微信|qq|qzone"
    r"|pinterest|mastodon|bluesky|threads|hacker news|pocket|flipboard|tumblr|print|copy link)"
    r"\s*\d*\s*[|·,/]?\s*){2,}"
    r"|search(?: this site| the blog| articles| for)?\s*(?:\.\.\.|…)?\W*"
    r"|type (?:your search|to search|here to search).{0,40}"
    r"|enter (?:your )?(?:keywords?|search terms?)\.?"
    r"|(?:请)?输入(?:关键[词字]|搜索内容).{0,20}|搜索(?:文章|本站|一下)?\W*"
    r"|(?:your )?e-?mail(?: address)?\W*"
    r"|复制链接|copy link|permalink|save|saved|cite|cite this|bookmark|listen|print this"
    r"|(?:keep|continue) reading\W*|read more\W*|view (?:all|more)\W*|load more|show more"
    rf"|{_END_MARK}"
    r"|\d[\d,.]{2,}[kw万]?|[\d.]+[kw万]|\d+\s*个赞|(?:\d+\s*(?:推荐|收藏|赞|点赞|喜欢|分享|评论|likes?|shares?)\s*)+"
    rf"|(?:{_DATE}\s*)?(?:post )?{_COUNTER}(?:\s*[·|/]?\s*{_COUNTER})*",
    _I,
)

#: The sentences of reprint, copyright and mailing-list notices.
_NOTICE = (
    r"本文(?:为|系)\s*.{0,20}?(?:独立观点|原创(?:文章)?)[，,]?\s*"
    r"未经(?:授权|许可)[，,]?\s*(?:禁止|不得|严禁)(?:任何)?转载[。.！!]?"
    r"|如需授权.{0,60}?请联系.{0,60}"
    r"|本文(?:翻译|编译|转载|整理)自\s*[:：]?\s*.{1,60}?(?:[。.]|$)"
    r"|\*?\s*本文(?:为|由|系).{0,20}?(?:编译|翻译|整理)[，,]?\s*(?:原文(?:地址|链接)[:：]\s*\S+)?"
    r"|如(?:若|需)?转载[，,]?\s*请(?:务必)?注明(?:出处|来源)[。.！!]?"
    r"|商务合作[，,：:].{0,30}?请联系\s*\S{3,60}"
    r"|本文由\s*.{1,20}?\s*原创发布[。.]?"
    r"|本公众号所载文章.{10,400}"
    r"|.{0,40}?如有侵权[，,]?\s*请.{0,10}?联系.{0,20}?删除.{0,20}"
    r"|this (?:entry|post|article) was posted (?:on|in) .{5,320}"
    r"|.{0,40}?转载请(?:联系|私信|后台留言|通过).{0,40}"
    r"|.{0,40}?转载.{0,30}?注明(?:出处|来源|作者)?"
    r"(?:[和及与、]?(?:本文|原文)?(?:链接|出处|作者|来源|地址))*\s*(?:[:：]\s*\S+)?\s*[。.！!]?"
    r"|(?:注[:：]\s*)?\*?(?:文中|本文)?(?:图片|配图)(?:均)?(?:来源|来自)于?(?:网络|互联网).{0,80}"
    r"|.{0,40}?如有侵权[，,]?\s*请.{0,60}"
    r"|(?:本文|文章|内容)(?:仅)?(?:代表|系|为)作者(?:个人)?(?:观点|立场).{0,80}?(?:[。.！!]|$)"
    r"|.{0,60}?不代表本(?:站|平台|号|网|刊|公众号)(?:的)?(?:立场|观点|赞同).{0,80}?(?:[。.！!]|$)"
    r"|(?:版权|免责)声明\s*[:：]?.{0,800}"
    r"|(?:the )?(?:views|opinions)(?: and opinions)? expressed .{0,80}? (?:are|is) "
    r"(?:those of|solely)"
    r".{0,160}?(?:[.!]|$)"
    r"|.{0,80}?does not (?:necessarily )?(?:represent|reflect) (?:the )?"
    r"(?:views|position|opinions?)"
    r".{0,120}?(?:[.!]|$)"
    r"|sent through the full disclosure mailing list.{0,200}"
)
#: A block made only of such notices (dropped wherever it stands).
BOILERPLATE = re.compile(rf"(?:{_NOTICE})(?:\s*(?:{_NOTICE}))*", _I)
_BOILERPLATE_MAX_UNITS = 900.0

#: The engines that sign a site's footer.
_PLATFORM = (
    r"(?:wordpress|hugo|ghost|jekyll|hexo|blogger|substack|medium|typecho|halo|zola|pelican"
    r"|docusaurus|gatsby|next\.js|astro|vuepress|gitbook|z-?blog|discuz!?|dedecms|emlog)"
)
#: The page's footer: a copyright line, a site licence number, a theme credit.
_STRICT_FOOTER = (
    r"(?:copyright|©|\(c\))\s*(?:©\s*)?(?:\d{4}|.{0,80}?all rights reserved)"
    r"|all rights reserved|icp[备证]\s*\d+号|公网安备\s*\d+号"
    rf"|(?:proudly )?powered by {_PLATFORM}|由\s*{_PLATFORM}\s*(?:强力)?驱动"
)
FOOTER = re.compile(rf".{{0,120}}?(?:{_STRICT_FOOTER}).{{0,300}}", _I)
#: ... and what may be one once it ends the page ("版权所有", "theme by").
LOOSE_FOOTER = re.compile(
    rf".{{0,120}}?(?:{_STRICT_FOOTER}|版权所有|版权(?:属于|归).{{0,60}}所有"
    r"|theme (?:by|designed by) |主题\s*[-–—:：]\s*\S).{0,300}",
    _I,
)
_FOOTER_MAX_UNITS = 400.0

#: A row of share or follow buttons: a label, then nothing but links.
SHARE_ROW = re.compile(
    r"(?:share|share (?:this|on)(?: \w+)?|tweet|follow(?: us)?(?: on)?|分享到?|关注我们)"
    r"(?: (?:this|it|post|article|page))?\s*[:：]?\s.*",
    _I,
)
#: Link text makes up at least this share of a share row's text.
_SHARE_ROW_LINKS = 0.6

#: Headings that open the page's trailing chrome: the article ends before them.
TAIL_MARKER = re.compile(
    r"(?:related|recommended|similar|more) (?:posts?|articles?|content|stories|reading|news"
    r"|resources|products)(?: for you)?:?"
    r"|you (?:may|might) also (?:like|enjoy).*|more from .{1,40}|read next:?"
    r"|popular posts|recent posts|latest posts|post navigation|primary sidebar|sidebar"
    r"|(?:« ?)?(?:previous|older) (?:post|article|entry)\b.*"
    r"|(?:next|newer) (?:post|article|entry)\b.*"
    r"|(?:leave|post|add|write) a (?:comment|reply).*|\d+ (?:comments?|responses?|replies)"
    r"|comments?(?: \(\d+\))?|show all comments|discussion|join the discussion"
    r"|about the author|share this(?: post| article| page)?:?|share on:?"
    r"|filed under:? .*|subscribe to (?:our|the) newsletter.*|current thread:?"
    # mailing-list archives (MHonArc, Pipermail): the message's navigation
    r"|reply to:|follow-ups?:.*|references:.*|(?:prev(?:ious)?|next) by (?:date|thread):.*"
    r"|index(?:\(es\))?:.*|(?:previous|next) message(?: \(by thread\))?:.*"
    r"|messages sorted by:.*"
    r"|相关(?:推荐|文章|阅读|资讯|内容)|推荐阅读|往期(?:回顾|推荐|精选)|猜你喜欢：?"
    r"|(?:往期)?精彩(?:推荐|文章)|阅读推荐|热文推荐|推荐文章|热点视频|更多视频"
    r"|延伸阅读|更多(?:文章|阅读|推荐|精彩)|(?:最新|近期|最近|热门|往期|历史)文章|热门(?:标签|阅读)"
    r"|文章归档|精彩回顾|编辑推荐|今日推荐"
    r"|(?:recent|popular|trending) (?:articles|stories|posts)|most (?:popular|read)"
    r"|editor['’]?s picks|trending(?: now)?"
    r"|articoli correlati|leggi anche|(?:ti )?potrebbe (?:interessarti|anche interessarti)"
    r"|ähnliche (?:artikel|beiträge)|weitere (?:artikel|beiträge)|das könnte sie auch interessieren"
    r"|articles similaires|à lire aussi|vous aimerez aussi|artículos relacionados"
    r"|(?:también )?te puede interesar"
    r"|热门(?:推荐|文章)|发表评论|评论|全部评论|\d+ ?条评论|上一篇.*|下一篇.*"
    r"|版权(?:声明.*)?|分享到：?|被以下专辑收录.*|电报讨论|recommend"
    r"|预览时标签不可点|微信扫一扫.*|继续滑动看下一个|轻触阅读原文|向上滑动看下一个"
    r"|(?:spread the word\W*)?share (?:this|the) (?:post|article|story|page)\W*"
    r"|分享至|分享本文|赞赏|打赏|关于作者|作者简介|作者介绍|about the authors?|author bio"
    r"|(?:the )?end|(?:全文)?完",
    _I,
)

#: The heading of an article's own sources, a list of links that is no chrome.
REFERENCES = re.compile(
    r"references?|sources?|参考(?:链接|资料|文献|来源|文章)?|引用(?:来源)?|资料来源|fonti|quellen"
    r"|références|bibliography|citations|footnotes|notes|注释|脚注|延伸阅读资料",
    _I,
)

#: Headings of link-list sections, dropped with their links wherever they stand.
SECTION_MARKER = re.compile(
    TAIL_MARKER.pattern + r"|table of contents|contents|on this page|in this article|目录|文章目录"
    r"|categories|(?:post )?tags:?|latest posts|past events|archives|topics|more context",
    _I,
)

#: Calls to action: follow, subscribe, join, scan the QR code, ask for a demo or a price,
#: start free, download the app (searched in a short line or an image's alt text).
_CTA = (
    r"扫(?:描|一扫)?(?:下方|上方|左侧|右侧|图中|文末|下图|上图)?(?:的)?(?:二维码|小程序码|码)"
    r"|长按(?:识别|扫码|关注|二维码|添加|下方)|识别(?:下方|图中)?二维码"
    r"|(?:欢迎|点击|一键|戳|记得)关注|关注(?:我们|本号|公众号|作者)"
    r"|关注.{0,16}(?:公众号|官方号|抖音号|视频号|微博|头条号|账号|服务号)"
    r"|(?:加入|进入|欢迎加入|申请加入)(?:我们的?)?.{0,16}(?:星球|社群|社区|交流群|群聊|圈子|知识库|会员|粉丝群)"
    r"|知识星球|付费(?:社群|圈子|专栏)|(?:添加|加)(?:小编|客服|助手)|(?:添加|加)(?:作者|我的?|小编)微信"
    r"|(?:申请|预约)(?:试用|演示|体验|demo)|免费(?:试用|领取|下载|注册|体验)"
    r"|联系(?:我们|客服|销售|商务).{0,12}(?:报价|试用|演示|合作|咨询|获取|购买)"
    r"|立即(?:下载|注册|订阅|体验|购买|咨询|试用|报名|领取|加入|关注)"
    r"|点(?:击|个|一下)?(?:赞|在看)|点击.{0,6}阅读原文"
    r"|(?:商务|渠道|稿件|媒体|广告|市场)(?:合作|联系)|投稿(?:联系)?(?:方式|邮箱|地址)\s*[:：]|欢迎投稿"
    r"|越早加入|续费.{0,6}(?:优惠|五折|折扣)|限时优惠"
    r"|(?:点赞|在看|转发|分享|收藏)(?:[、，,和与+ ]+(?:点赞|在看|转发|分享|收藏))+"
    r"|订阅(?:我们|本刊|杂志|专栏|本号|公众号)|下载.{0,16}(?:app|客户端)"
    r"|微信扫一扫|试用(?:地址|链接|入口|申请)|(?:申请|免费|限时)试用"
    r"|公众号\s*[:：]|微博(?:账号|号)?\s*[:：]|(?:查看|搜索).{0,4}(?:历史|往期)(?:推送|文章|内容)"
    r"|subscribe(?: now| today| for free| here)?(?: to| for)? (?:our|the|my|this) "
    r"|(?:sign up|subscribe|register) (?:for|to) (?:our|the|my|a|free)\b.{0,40}"
    r"(?:newsletter|updates|digest|list|e-?mails?|webinar|briefing)"
    r"|newsletter|mailing list|(?:enter|type) (?:your )?e-?mail(?: address)?"
    r"|订阅(?:邮件|邮箱|我们的)|邮件订阅|输入(?:你|您)的邮箱"
    r"|join (?:our|the|my|over|\d[\d,.]*k?\+?)\b.{0,40}(?:community|list|discord|slack|telegram"
    r"|subscribers|readers|members|professionals|people)"
    r"|(?:follow|find|connect with) (?:us|me)\b|found this article interesting"
    r"|follow .{1,40}? on (?:linkedin|twitter|x|facebook|bluesky|mastodon|instagram|youtube"
    r"|threads)"
    r"|register (?:now|today|here)|reach out (?:to us )?today|get in touch (?:today|with us)"
    r"|(?:request|book|schedule|get|see|watch|try) (?:a|an|our) "
    r"(?:free |live |quick |personali[sz]ed )?demo"
    r"|contact (?:us|sales|our (?:sales )?team)\b.{0,40}(?:pricing|demo|quote|trial|learn|started)"
    r"|(?:start|try|get started|sign up)(?: (?:it|now|your|a|for|with))* (?:free|for free)\b"
    r"|free trial|(?:download|get) (?:the|our) (?:free |mobile )?app\b"
    r"|(?:download|get) (?:the|our|your) (?:free )?(?:e-?book|white ?paper|report|guide|copy)\b"
    r"|get it on google play|download on the app store|available on the app store"
    r"|consider (?:giving|donating|a donation|supporting|becoming a)"
    r"|(?:make a|your) (?:donation|gift) (?:to|today)|donate (?:now|today|to)"
    r"|become a (?:member|patron|supporter|sponsor|subscriber)|support (?:us|our work) on"
    r"|(?:打赏|赞赏)(?:作者|支持)"
)
CTA = re.compile(_CTA, _I)

#: The drops made for where a block stands, not for what it says.
POSITIONAL = frozenset({"generic:outside-article", "generic:trailing-section"})

SHORT = 20.0  # units under which a line is "short" (a menu entry, a button)
_SHORT_PENALTY = 10.0
_CHROME_PENALTY = 40.0
_LINK_WEIGHT = 1.5
_MARKER_MAX_UNITS = 90.0  # a marker is a heading-sized line, never a paragraph
#: What may frame a marker's words (``## Related:``, ``☆版权☆``, ``— Comments —``).
_MARKER_DECORATION = " #*:：☆★●■◆▲►»«·•|-—=~【】[]←→‹›"


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def title_matches(text: str, title: str) -> bool:
    """True if ``text`` is (a close variant of) the entry's ``title``."""
    a, b = _norm(text), _norm(title)
    if not a or not b:
        return False
    if a == b:
        return True
    if len(b) < 6 or len(a) < 6:
        return False
    if b in a:
        return len(a) <= 2 * len(b) + 20
    return a in b and len(a) * 2 >= len(b)


def is_marker(block: Block, pattern: re.Pattern[str]) -> bool:
    """True if ``block`` is a short line whose whole text ``pattern`` names."""
    if block.units > _MARKER_MAX_UNITS:
        return False
    if block.kind not in ("heading", "para", "other") and not (
        block.kind == "list" and len(block.el.find_all("li")) == 1
    ):
        return False
    text = block.text.strip(_MARKER_DECORATION)
    return bool(pattern.fullmatch(block.text) or (text and pattern.fullmatch(text)))


def score(block: Block, repeated: bool) -> float:
    """How much ``block`` looks like article prose (positive) or chrome (negative).

    Blocks without text (an embed, an empty paragraph) tell nothing either way.
    """
    if block.kind in ("image", "rule"):
        return -2.0 if has_element(block.el, ("a",)) else 0.0
    if block.kind == "embed" or (block.units == 0 and block.kind != "heading"):
        return 0.0
    if block.kind == "pre":
        return max(block.units * 0.5, 10.0)
    nonlink = block.units - block.link_units
    value = nonlink - _LINK_WEIGHT * (block.link_units - block.ref_units)
    if block.kind == "heading":
        value = min(value, 5.0)
    if block.units < SHORT:
        value -= _SHORT_PENALTY
    if block.units < _MARKER_MAX_UNITS and (
        CHROME_LINE.fullmatch(block.text)
        or TAIL_MARKER.fullmatch(block.text.strip(_MARKER_DECORATION))
    ):
        value -= _CHROME_PENALTY
    if repeated:
        value = min(value, 0.0) - _SHORT_PENALTY
    return value


def best_segment(scores: Sequence[float]) -> tuple[int, int]:
    """The ``(start, end)`` (inclusive) of the maximum-sum run; ``(0, -1)`` if none."""
    best, best_span = 0.0, (0, -1)
    run, run_start = 0.0, 0
    for i, value in enumerate(scores):
        if run <= 0:
            run, run_start = value, i
        else:
            run += value
        if run > best:
            best, best_span = run, (run_start, i)
    return best_span


def _mass(blocks: Sequence[Block]) -> float:
    return sum(max(b.units - b.link_units, 0.0) for b in blocks if b.kind != "image")


def drop_section(blocks: Sequence[Block], i: int, end: int, rule: str) -> None:
    """Drop the marker ``blocks[i]`` and the link/short blocks that follow it."""
    blocks[i].dropped = rule
    level = blocks[i].level
    links = False
    for b in blocks[i + 1 : end + 1]:
        if b.kind == "heading" and (b.level <= level or not level) and b.link_density < 0.5:
            break
        if links and b.units > 0 and b.link_units == 0 and b.kind != "image":
            break  # a line without a link after the links: the next section's heading
        linky = b.link_density >= 0.5 or b.kind in ("image", "rule") or b.units < SHORT
        if not linky:
            break
        links = links or b.link_density >= 0.5
        b.dropped = rule


def extract(
    blocks: list[Block], title: str, *, pin_start: bool = False, names: Collection[str] = ()
) -> None:
    """Mark every live block outside the article with the generic rule that dropped it.

    ``pin_start``: a site rule already found where the article starts, so the
    run of kept blocks may not start later than the first live block.
    ``names``: the site's or author's names (see :func:`site_names`): a
    heading that only names them after the article opens its author box.
    """
    live = [b for b in blocks if b.live]
    if not live:
        return
    counts = Counter(b.text for b in live if b.text and b.units < 200)
    scores = [score(b, counts[b.text] > 1) for b in live]
    start, end = best_segment(scores)
    if end < start:
        return
    if pin_start:
        start = 0
    segment_mass = _mass(live[start : end + 1])
    # Start after the last title heading that most of the article follows.
    for i in range(0 if pin_start else end, -1, -1):  # pinned: only the first block
        b = live[i]
        candidate = (b.kind == "heading" and b.level <= 3) or (
            b.kind == "para" and b.link_units == 0
        )
        if candidate and title_matches(b.text, title):
            if _mass(live[i + 1 : end + 1]) >= 0.5 * segment_mass and i >= start:
                b.dropped = "generic:title"
                start = i + 1
                break
            if i < start:
                break
    start = _standfirst(live, start, title)
    # End at the first trailing-section marker (or the page's footer, or the
    # author's box) once enough article precedes it.
    tail = len(live)
    for j in range(start + 1, end + 1):
        b = live[j]
        permalink = _comment_permalink(b)
        if not (permalink or ends_article(b, names) or _comment_head(live, j)):
            continue
        share = 0.5 if is_footer(b) else 0.05 if permalink else 0.25
        before = _mass(live[start:j])
        if before >= max(share * segment_mass, 100.0):
            end = tail = j - 1
            break
    else:
        end = _last_lines(live, end, counts)
    for k, b in enumerate(live):
        if b.live and not start <= k <= end:
            b.dropped = "generic:trailing-section" if k > tail else "generic:outside-article"
    trim(live, start, end, counts, cut=tail < len(live))


def _standfirst(live: Sequence[Block], start: int, title: str) -> int:
    """Where the article starts when its standfirst (the subtitle under the title) is
    left out of the best run: the standfirst, else ``start``.

    Between the title and the run, only a few short lines (a byline, the date)
    and images may stand beside the standfirst: a sentence-long heading or
    paragraph without links.
    """
    lines = 0
    for j in range(start - 1, 0, -1):
        b = live[j]
        if not b.live or _is_empty(b):
            continue
        if (
            b.kind in ("heading", "para")
            and b.units >= _STANDFIRST_UNITS
            and b.link_units == 0
            and not chrome_line(b)
            and not is_cta(b)
        ):
            prev = next((p for p in reversed(live[:j]) if p.text), None)
            if prev is not None and title and title_matches(prev.text, title):
                return j
            return start
        lines += 1
        if lines > _LEAD_LINES or b.units > _META_MAX_UNITS:
            return start
    return start


_STANDFIRST_UNITS = 60.0
_LEAD_LINES = 3


def trim(
    live: Sequence[Block], start: int, end: int, counts: Counter[str], *, cut: bool = False
) -> None:
    """Drop the chrome at both ends of ``live[start:end+1]``, then the chrome lines inside it."""
    mass = _mass(live[start : end + 1])
    first = _trim_head(live, start, end, counts)
    _trim_tail(live, first, end, counts, mass, cut=cut)
    classify(live, start, end)


def ends_article(block: Block, names: Collection[str] = ()) -> bool:
    """True if the article cannot go on past ``block``: a trailing-section heading
    ("Related posts", "推荐阅读"), the page's footer, the first comment
    ("jane says: May 5, 2024 at 10:00"), or a line naming only the site or its
    author (the author's box).
    """
    if is_marker(block, TAIL_MARKER) or is_footer(block):
        return True
    if block.units <= _COMMENT_MAX_UNITS and _COMMENT.match(block.text):
        return True
    if block.kind not in ("heading", "para") or block.units > _NAME_MAX_UNITS:
        return False
    if block.kind == "heading" and block.level < 3:
        return False  # a section of the article, not the box under it
    text = _norm(block.text)
    return len(text) >= 2 and any(text == _norm(n) for n in names)


_NAME_MAX_UNITS = 60.0


def _comment_head(live: Sequence[Block], j: int) -> bool:
    """True if ``live[j]`` is a commenter's name (a short link) over the comment's date."""
    b = live[j]
    if not (0 < b.units <= _COMMENTER_UNITS and b.link_density >= 0.9):
        return False
    nxt = next((x for x in live[j + 1 : j + 3] if x.live and not _is_empty(x)), None)
    return (
        nxt is not None
        and nxt.units <= _COMMENT_DATE_UNITS
        and nxt.link_units == 0
        and bool(_DATE_LINE.fullmatch(nxt.text))
    )


def _comment_permalink(block: Block) -> bool:
    """True if ``block`` is a comment's head: a short line linking to the comment itself.

    Blogs link each comment's date to its anchor (``…/post.html#comment-444914``,
    WordPress's ``#comment-12``): a signal strong enough to end even a short
    article that a long discussion outweighs.
    """
    if not 0 < block.units <= _COMMENT_HEAD_UNITS or not block.link_units:
        return False
    return any(
        _COMMENT_ANCHOR.search(str(a.get("href") or "")) for a in block.el.find_all("a", href=True)
    )


_COMMENT_HEAD_UNITS = 80.0
_COMMENT_ANCHOR = re.compile(r"#(?:li-|div-)?comment-\d+$")
_COMMENTER_UNITS = 30.0
_COMMENT_DATE_UNITS = 40.0
#: The head of a comment: its author's name, "says:" and the date.
_COMMENT = re.compile(
    rf".{{1,60}}? (?:says|said|wrote|writes|说道|说)\s*[:：]\s*(?:on )?{_DATE}", _I
)
_COMMENT_MAX_UNITS = 2000.0


def is_footer(block: Block, *, loose: bool = False) -> bool:
    """True if ``block`` is a line of the page's footer: a copyright, a licence number, a credit.

    ``loose``: the block ends the page, so a mere "版权所有" or "theme by" is enough.
    """
    pattern = LOOSE_FOOTER if loose else FOOTER
    return (
        block.kind in ("para", "other", "list", "heading")
        and 0 < block.units <= _FOOTER_MAX_UNITS
        and bool(pattern.fullmatch(block.text))
    )


def site_names(source: str) -> tuple[str, ...]:
    """The names of a site or its author in ``source`` ("Troy Hunt's Blog" → "Troy Hunt").

    A source of several parts ("Dancho Danchev's Blog - Mind Streams of …")
    names the site by each of them.
    """
    name = " ".join(source.split())
    if not name:
        return ()
    names = [name]
    for part in (name, *_SOURCE_PARTS.split(name)):
        part = part.strip(" -–—|·:：")
        names += [part, _SITE_SUFFIX.sub("", part).strip(" -–—|·:：")]
    return tuple(dict.fromkeys(n for n in names if len(n) >= 2))


_SOURCE_PARTS = re.compile(
    r"\s+[-–—|·:]\s+|\s*[|｜:：]\s*|(?<=[\u4e00-\u9fff])\s*[-–—]\s*(?=[\u4e00-\u9fff])"
)


_SITE_SUFFIX = re.compile(
    r"(?:['’]s)?\s*(?:blog|weblog|website|site|homepage|home page|journal|newsletter|notes)$"
    r"|(?:的)?(?:博客|个人博客|技术博客|网站|主页)$",
    _I,
)
#: A line that ends like a sentence ("Many stickers.", "成功抓取到数据。").
_SENTENCE_END = re.compile(r"[.!?。！？…:：;；)）\]」』”\"'’]\s*$")
#: A statement's last mark (a call to action ends in none, or in "!").
_PERIOD = re.compile(r"[.。…]\s*$")
#: A sentence's last mark (a byline ends without one, or in a bracket: "(UTC)").
_STOP = re.compile(r"[.!?。！？…]\s*$")
#: A quotation signed by its author ("Simplicity is prerequisite. --Dijkstra"): a motto.
_EPIGRAPH = re.compile(r".{4,200}?\s*(?:--|——|—|－－)\s*[^\s，。,.!?！？]{1,24}")
#: The path of a link to a tag or category page.
_TAG_HREF = re.compile(r"/(?:tags?|category|categories|topics?|labels?|archives?|keywords?)/", _I)
#: Trailing chrome after a separator ("Reply", tags) is at most this share of the article.
_ISLAND_SHARE = 0.2
_ISLAND_MAX_UNITS = 200.0


def _is_empty(block: Block) -> bool:
    return block.kind in ("image", "rule", "embed") or (
        block.units == 0 and block.kind != "heading"
    )


def chrome_line(block: Block) -> bool:
    """True if ``block`` is one of the lines that are chrome wherever they stand."""
    if block.units >= _MARKER_MAX_UNITS or not block.text:
        return False
    text = block.text.strip(_MARKER_DECORATION)
    return bool(CHROME_LINE.fullmatch(block.text) or (text and CHROME_LINE.fullmatch(text)))


def cta_line(block: Block) -> bool:
    """True if ``block`` is a call to action as a line of its own: no numbered step, and
    no sentence unless the site speaks in it ("扫码关注我们", "Subscribe to our list.").
    """
    return (
        is_cta(block)
        and not _ENUMERATED.match(block.text)
        and (not _PERIOD.search(block.text) or bool(_ADDRESSED.search(block.text)))
    )


def is_cta(block: Block) -> bool:
    """True if ``block`` is a short call to action (follow, subscribe, scan, ask for a demo)."""
    return 0 < block.units <= _CTA_MAX_UNITS and asks(block.text)


@lru_cache(maxsize=4096)
def asks(text: str) -> bool:
    """True if ``text`` holds a call to action (the test is costly: several passes ask it)."""
    return bool(CTA.search(text))


_CTA_MAX_UNITS = 120.0
#: A line the page repeats is chrome at the article's end when it is at most this long.
_REPEATED_MAX_UNITS = 100.0
#: A numbered step ("2、添加好友", "3. Sign up"): an article's list, not a call to action.
_ENUMERATED = re.compile(r"\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3}|[a-z])\s*[、.)）]", _I)
#: Words by which a call to action speaks for the site.
_ADDRESSED = re.compile(r"我们|本号|本站|本刊|小编|\b(?:our|us)\b", _I)
#: After the article, a call to action may be a paragraph ("To subscribe to the newsletter…").
_TAIL_CTA_UNITS = 400.0
#: ... and what makes one: a request to subscribe, follow or give, in a few languages.
TAIL_CTA = re.compile(
    r"(?:subscrib\w*|sign(?:ing)? up|iscriv\w*|abonn\w*|suscrib\w*|anmeld\w*|订阅|关注)"
    r".{0,80}?(?:newsletter|mailing list|updates|blog|channel|公众号|邮件|通讯)"
    r"|(?:newsletter|mailing list|公众号).{0,80}?(?:subscrib\w*|sign(?:ing)? up|iscriv\w*|abonn\w*"
    r"|suscrib\w*|anmeld\w*|订阅|关注)"
    r"|consider (?:giving|donating|a donation|supporting|becoming a)"
    r"|(?:donate|donation|support us|become a (?:member|patron|supporter))\b.{0,80}?"
    r"(?:today|now|patreon|ko-fi|paypal|opencollective)",
    _I,
)


def _tag_line(block: Block) -> bool:
    """True if ``block`` is nothing but links to tag or category pages."""
    if block.link_density < 0.9 or block.ref_units:
        return False
    hrefs = [str(a.get("href") or "") for a in block.el.find_all("a")]
    if block.el.name == "a":
        hrefs = [str(block.el.get("href") or "")]
    return bool(hrefs) and all(_TAG_HREF.search(h) for h in hrefs)


def _reference(block: Block) -> bool:
    """True if the links are references: addresses, or one link with a title's length."""
    texts = [fold(a.get_text(" ")) for a in block.el.find_all("a")]
    if block.el.name == "a":
        texts = [block.text]
    if len(texts) == 1 and units(texts[0]) >= _REFERENCE_UNITS:
        return True
    urls = sum(1 for t in texts if "://" in t or t.startswith("www."))
    return bool(texts) and urls * 2 >= len(texts)


_REFERENCE_UNITS = 30.0


def _chrome_at_end(block: Block, repeated: bool) -> bool | None:
    """Whether ``block`` is chrome at the article's end: ``True`` if something marks it,
    ``None`` if it only may be (a heading, a short line), ``False`` if it reads as article.
    """
    if (
        chrome_line(block)
        or cta_line(block)
        or is_footer(block, loose=True)
        or is_marker(block, SECTION_MARKER)
        or (block.units < _BOILERPLATE_MAX_UNITS and BOILERPLATE.fullmatch(block.text))
        or _tag_line(block)
    ):
        return True
    if block.link_density >= 0.5 and block.units < 300 and not _reference(block):
        return True
    if block.units <= _TAIL_CTA_UNITS and (
        TAIL_CTA.search(block.text) or len(CTA.findall(block.text)) >= 2
    ):
        return True
    if repeated and block.kind != "pre" and block.units < _REPEATED_MAX_UNITS:
        return True  # a slogan the page repeats
    if _meta_line(block):
        # a dated byline ("Posted by jane on May 5, 2024") is chrome; a credit line
        # ("编辑：李四") ends many an article
        return True if _DATE_RE.search(block.text) else None
    if block.kind == "heading" and block.units < _MARKER_MAX_UNITS:
        return None
    if block.units <= _ISLAND_MAX_UNITS and _EPIGRAPH.fullmatch(block.text):
        return None  # a site's motto or a random quote, when chrome follows it
    if (
        block.units < SHORT
        and block.kind in ("para", "other")
        and not (_SENTENCE_END.search(block.text))
    ):
        return None
    return False


def _trim_tail(
    live: Sequence[Block],
    start: int,
    end: int,
    counts: Counter[str],
    mass: float,
    *,
    cut: bool,
) -> None:
    """Drop the chrome the article ends with: share rows, tags, notices, calls to action.

    Walking back from ``end``, a block goes when it reads as chrome; a heading
    or a short line without a sentence's end goes when chrome follows it (or a
    trailing-section marker did: ``cut``). A small paragraph between a
    separator (a "Reply" link, a row of tags) and such chrome goes too (a
    random quote, a site's motto). Images are left to the image pass; the walk
    stops at the first block that reads as article.
    """
    positive = cut
    k = end
    while k > start:
        b = live[k]
        if not b.live or _is_empty(b):
            k -= 1
            continue
        verdict = _chrome_at_end(b, counts[b.text] > 1)
        if verdict and b.kind == "list" and _under_references(live, start, k):
            break
        if verdict is None:
            verdict = positive
        elif verdict:
            positive = True
        if verdict:
            b.dropped = "generic:trailing-chrome"
            k -= 1
            continue
        if positive and _island(live, start, k, mass):
            b.dropped = "generic:trailing-chrome"
            k -= 1
            continue
        break


_WORD_CHAR = re.compile(r"[^\W_]")


def _under_references(live: Sequence[Block], start: int, k: int) -> bool:
    for j in range(k - 1, start - 1, -1):
        prev = live[j]
        if prev.live and not _is_empty(prev):
            return is_marker(prev, REFERENCES)
    return False


def _island(live: Sequence[Block], start: int, k: int, mass: float) -> bool:
    """True if ``live[k]`` is a small paragraph after a separator ("Reply", tags) at the end."""
    b = live[k]
    if b.units > _ISLAND_MAX_UNITS or b.units - b.link_units > _ISLAND_SHARE * mass:
        return False
    for j in range(k - 1, start, -1):
        prev = live[j]
        if not prev.live or _is_empty(prev) or not _WORD_CHAR.search(prev.text):
            continue
        return chrome_line(prev) or _tag_line(prev)
    return False


#: A line above an article that only says who wrote it, when, where and how often it was read.
_META_WORDS = re.compile(
    r"\b(?:by|posted|published|updated|modified|written|author|filed|reading|read|min|views?"
    r"|comments?)\b|作者|发表|发布|更新|编辑|来源|阅读|浏览|分类|标签|评论|责编|字数",
    _I,
)
_DATE_RE = re.compile(_DATE, _I)
#: A line that is a date and a time, nothing else ("2025 年1 月 14 日 10:53").
_DATE_LINE = re.compile(
    rf"\s*{_DATE}\s*(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*(?:am|pm|utc)?)?\s*", _I
)
_META_MAX_UNITS = 90.0


def _meta_line(block: Block) -> bool:
    """True if ``block`` is a byline, a date line or a counter above the article."""
    if block.kind not in ("para", "other", "list") or not 0 < block.units <= _META_MAX_UNITS:
        return False
    if chrome_line(block):
        return True
    if _STOP.search(block.text):
        return False
    text = block.text
    dated = bool(_DATE_RE.search(text))
    return (dated and (block.units <= 40 or bool(_META_WORDS.search(text)))) or (
        bool(_BYLINE.fullmatch(text))
    )


#: "By Jane Doe", "作者：张三", "Posted by jane | May 5, 2024".
_BYLINE = re.compile(
    r"(?:(?:posted |written |published )?by|作者|文|撰文|编辑|责编|责任编辑|来源|author)"
    r"\s*[:：|]?\s*\S.{0,100}"
    r"|(?:di|von|par|por|door|av) (?-i:[A-Z]\w+(?: [A-Z]\w+){0,3})",
    _I,
)


def _trim_head(live: Sequence[Block], start: int, end: int, counts: Counter[str]) -> int:
    """Drop the byline, date and counter lines the article starts with; the first block kept.

    They may follow a heading (the title, the standfirst), which stays.
    """
    k = start
    first = start
    heading = False
    while k < end:
        b = live[k]
        if not b.live or _is_empty(b):
            k += 1
            continue
        if _meta_line(b) or chrome_line(b) or cta_line(b):
            b.dropped = "generic:byline"
            k += 1
            continue
        if b.kind == "heading" and not heading and k == first:
            heading = True  # look past it once
            k += 1
            first = k
            continue
        break
    return start if heading else k


def reads_as_prose(block: Block, repeated: bool) -> bool:
    """A block of text that nothing marks as chrome: no link list, no known phrase."""
    return (
        block.kind in ("para", "list", "table", "pre", "other")
        and block.units > 0
        and block.link_density < 0.5
        and not repeated
        and not (block.units < _MARKER_MAX_UNITS and CHROME_LINE.fullmatch(block.text))
        and not is_marker(block, SECTION_MARKER)
        and not (block.units < _BOILERPLATE_MAX_UNITS and BOILERPLATE.fullmatch(block.text))
    )


def _last_lines(live: Sequence[Block], end: int, counts: Counter[str]) -> int:
    """The article's real last block: the prose right after the best run is kept.

    The maximum-sum run leaves out a short last line ("Thanks for reading.",
    a signature) or a last paragraph after an embed, an image or an empty
    block; such blocks stay, up to the first that looks like chrome.
    """
    last = end
    linked = False  # a linked image (a badge, a banner) was passed
    for j in range(end + 1, len(live)):
        b = live[j]
        if b.kind in ("image", "rule", "embed") or (b.units == 0 and b.kind != "heading"):
            linked = linked or has_element(b.el, ("a",))
            continue
        if is_marker(b, REFERENCES):
            return _references(live, j)  # the article's sources, after its badges
        if linked:
            break
        if END_MARK.fullmatch(b.text.strip(_MARKER_DECORATION)):
            continue  # the credits may follow it ("（完）", "作者：张三")
        if not reads_as_prose(b, counts[b.text] > 1):
            break
        last = j
    return last


def _references(live: Sequence[Block], j: int) -> int:
    """The last block of the list of references that heading ``live[j]`` opens."""
    last = j
    for k in range(j + 1, len(live)):
        b = live[k]
        if _is_empty(b):
            continue
        if b.kind not in ("list", "para", "other") or ends_article(b) or chrome_line(b):
            break
        last = k
        if b.kind == "list":
            break
    return last


def classify(live: Sequence[Block], start: int, end: int) -> None:
    """Drop the chrome lines, notices, share rows and link sections of ``live[start:end+1]``."""
    for k in range(start, end + 1):
        b = live[k]
        if not b.live:
            continue
        if is_marker(b, SECTION_MARKER):
            drop_section(live, k, end, "generic:link-section")
        elif b.units < _MARKER_MAX_UNITS and CHROME_LINE.fullmatch(b.text):
            b.dropped = "generic:chrome-line"
        elif b.units < _BOILERPLATE_MAX_UNITS and BOILERPLATE.fullmatch(b.text):
            b.dropped = "generic:boilerplate"
        elif is_footer(b):
            b.dropped = "generic:footer"
        elif _tag_line(b):
            b.dropped = "generic:tags"
        elif cta_line(b):
            b.dropped = "generic:call-to-action"
        elif (
            b.units < _MARKER_MAX_UNITS
            and b.link_density >= _SHARE_ROW_LINKS
            and SHARE_ROW.fullmatch(b.text)
        ):
            b.dropped = "generic:share-row"

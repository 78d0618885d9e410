"""Generate a deterministic corpus of synthetic seeds for the performance benchmark.

Each seed is a Markdown article of about 7 KB, half Chinese and half
English, with front matter written the way the crawlers write it (``title``,
``url``, ``source``, ``date``, ``fetch_date``), headings, paragraphs with
inline links and emphasis, images, a list, and now and then a table and a
code block. The same ``--seed`` and count always give the same bytes, so
figures from different runs compare.

    python benchmarks/gen_corpus.py --count 10000 --out benchmarks/out/seeds-10000

Seeds go in one sub-directory per source, like a crawler's output tree.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: Common Han characters (the body text is drawn from them).
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


def _han(rng: random.Random, n: int) -> str:
    out = []
    for i in range(n):
        out.append(rng.choice(_HAN))
        if i % 17 == 16:
            out.append(rng.choice("，，，。、；"))
    return "".join(out) + "。"


def _english(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_EN_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, n: int) -> str:
    chinese = rng.random() < 0.5
    text = _han(rng, rng.randint(60, 160)) if chinese else _english(rng, rng.randint(40, 110))
    if rng.random() < 0.4:  # an inline link
        cut = rng.randint(0, len(text) - 1)
        link = f"[{_english(rng, 3)[:-1]}](https://example.com/ref/{n}/{cut})"
        text = f"{text[:cut]} {link} {text[cut:]}"
    if rng.random() < 0.3:  # emphasis, CJK-adjacent at times
        cut = rng.randint(0, len(text) - 1)
        text = f"{text[:cut]}**{_han(rng, 4)[:-1]}**{text[cut:]}"
    return text


def _table(rng: random.Random) -> str:
    rows = ["| 字段 | Field | Value |", "| --- | --- | --- |"]
    for _ in range(rng.randint(3, 8)):
        rows.append(f"| {_han(rng, 4)[:-1]} | {rng.choice(_EN_WORDS)} | {rng.randint(0, 99999)} |")
    return "\n".join(rows)


def article(rng: random.Random, n: int) -> tuple[str, str]:
    """(relative path, text) of article number ``n``."""
    slug, source, pattern = _SOURCES[n % len(_SOURCES)]
    url = pattern.format(n=100000 + n)
    published = EPOCH + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    fetched = published + timedelta(seconds=rng.randrange(86400 * 3))
    title_han = _han(rng, rng.randint(8, 20))[:-1]
    title = f"{title_han} {_english(rng, rng.randint(2, 5))[:-1]} ({n})"
    if n % 7 == 0:  # some titles need quotes in YAML; crawlers do not add them
        title = f"{_english(rng, 3)[:-1]}: {title}"
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
            block = f"## {section}. {_han(rng, rng.randint(4, 10))[:-1]}"
        elif r < 0.13:
            block = f"![图{section}](https://img.example.com/{slug}/{n}/{section}.png)"
        elif r < 0.18:
            block = "\n".join(f"* {_paragraph(rng, n)[:80]}" for _ in range(rng.randint(2, 5)))
        elif r < 0.21:
            block = _table(rng)
        elif r < 0.23:
            block = "```\n" + "\n".join(_english(rng, 8) for _ in range(4)) + "\n```"
        else:
            block = _paragraph(rng, n)
        parts += [block, ""]
        size += len(block.encode()) + 1
    parts.append(f"本文来源：[{source}]({url})")
    return f"{slug}/{n:06d}.md", "\n".join(parts) + "\n"


def generate(out: Path, count: int, *, seed: int = 6, start: int = 0) -> list[Path]:
    """Write seeds ``start`` .. ``start + count - 1`` under ``out``; return their paths.

    Article ``n`` depends on ``seed`` and ``n`` only, so a corpus can be
    extended (``start``) and the new seeds are the same as in a bigger one.
    """
    paths = []
    made: set[Path] = set()
    for n in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + n)
        rel, text = article(rng, n)
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")
        # A stable mtime, in article order: builds over the same corpus compare.
        ts = EPOCH.timestamp() + n
        os.utime(path, (ts, ts))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=6)
    args = p.parse_args(argv)
    generate(args.out, args.count, seed=args.seed)
    print(f"{args.count} seeds in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

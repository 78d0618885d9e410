"""Content-quality benchmark: does cleaning keep the article and drop the chrome?

For every page named in ``labels.tsv`` (columns ``file``, ``kind``,
``phrase``), the Markdown body is rendered to HTML, cleaned (and sanitized
when :mod:`feeder.content.sanitize` is available) and the output compared with the
labels, white space folded:

* ``keep`` phrases must be in the visible text, ``drop`` phrases (page
  chrome) must not;
* ``keep_img`` / ``drop_img`` phrases are image URLs (or a distinctive part
  of one, as written in the Markdown): an image counts as kept when the
  phrase is part of the ``src`` of an ``<img>`` of the output (as is, or
  percent-decoded).

trafilatura and readability-lxml (the ``bench`` extra) are scored the same
way on the same rendered pages, for comparison; trafilatura's text is its
plain-text output (as before) and its images come from a second, HTML
extraction with ``include_images=True``.  Literal ``**`` and ``__`` left in
the visible text outside ``<pre>``/``<code>`` are counted (Markdown that did
not render).  Results are also broken down by site (host; for WeChat pages
the account, ``__biz`` of the URL), so that gains on sites whose recurring
chrome can be learned from their other pages show.

    .venv/bin/python benchmarks/content_quality.py [--corpus ../shared/corpus/dev] [--verbose]
    .venv/bin/python benchmarks/content_quality.py --corpus benchmarks/pages
"""

from __future__ import annotations

import argparse
import csv
import inspect
import logging
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeder.content.clean import clean_html  # noqa: E402
from feeder.content.sites import SiteRules, load_rules  # noqa: E402

_URL_KEYS = ("url", "source_url", "original_url", "link", "canonical_url")
KINDS = ("keep", "drop", "keep_img", "drop_img")
_WECHAT = "mp.weixin.qq.com"


def fold(text: str) -> str:
    return " ".join(text.split())


def split_page(text: str) -> tuple[dict[str, Any], str]:
    """Front matter (the text between the first two ``---`` lines) and the body."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            front, body = "".join(lines[1:i]), "".join(lines[i + 1 :])
            break
    else:
        return {}, text
    meta: dict[str, Any] = {}
    try:
        loaded = yaml.safe_load(front)
        if isinstance(loaded, dict):
            meta = {str(k): v for k, v in loaded.items()}
    except yaml.YAMLError:
        for line in front.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                meta[key.strip()] = value.strip().strip("'\"")
    return meta, body


def page_url(meta: dict[str, Any]) -> str:
    return next((str(meta[k]) for k in _URL_KEYS if meta.get(k)), "")


def site_of(meta: dict[str, Any]) -> str:
    """The site a page belongs to: its host, or for WeChat its account (``__biz``)."""
    parts = urlsplit(page_url(meta))
    host = (parts.hostname or "").lower()
    if host == _WECHAT:
        biz = parse_qs(parts.query).get("__biz")
        if biz:
            source = str(meta.get("source") or "").strip()
            return f"wx:{biz[0]}" + (f" ({source})" if source else "")
    return host or "(no url)"


def learned_lines(
    corpus: Path, pages: dict[str, tuple[dict[str, Any], str]]
) -> dict[str, list[str]]:
    """Each page's lines that are its site's learned chrome, learned from every page of it.

    What ``feeder build`` does to a seed directory holding the corpus: sites as
    :func:`feeder.content.learned.site_of` keys them, the shipped thresholds.
    """
    try:
        from feeder.config import Settings
        from feeder.content.learned import chrome_keys, chrome_of, fingerprints, learn
        from feeder.content.learned import site_of as feeder_site
        from feeder.seeds.urls import canonical
    except ImportError:
        return {}

    def site(meta: dict[str, Any]) -> str:
        try:
            url = canonical(page_url(meta)) if page_url(meta) else ""
        except ValueError:
            url = ""
        return feeder_site(url, str(meta.get("source") or ""))

    every = {p.name: split_page(p.read_text(encoding="utf-8", errors="replace")) for p in
             sorted(corpus.glob("*.txt"))}  # fmt: skip
    packed: dict[str, list[bytes]] = defaultdict(list)
    for meta, body in every.values():
        packed[site(meta)].append(fingerprints(body))
    defaults = Settings()
    learned = {
        key: learn(fps, min_seeds=defaults.learn_min_seeds, share=defaults.learn_share)
        for key, fps in packed.items()
    }
    out: dict[str, list[str]] = {}
    for name, (meta, body) in pages.items():
        chrome = chrome_of(fingerprints(body), learned.get(site(meta)))
        out[name] = chrome_keys(body, chrome, title=str(meta.get("title") or ""))
    return out


def render(body: str) -> str:
    try:
        from feeder.content.render import render_markdown
    except ImportError:
        from markdown_it import MarkdownIt

        return str(
            MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(body)
        )
    return render_markdown(body)


def sanitizer() -> Callable[[str, str], str] | None:
    """The lead's sanitizer when it exists, adapted to ``(html, base_url) -> html``."""
    try:
        from feeder.content import sanitize as mod
    except ImportError:
        return None
    fn = getattr(mod, "sanitize_html", None) or getattr(mod, "sanitize", None)
    if not callable(fn):
        return None
    params = inspect.signature(fn).parameters

    def run(html: str, url: str) -> str:
        if "base_url" in params:
            return str(fn(html, base_url=url))
        if len(params) >= 2:
            return str(fn(html, url))
        return str(fn(html))

    return run


def text_of(html: str) -> str:
    return fold(BeautifulSoup(html, "lxml").get_text(" "))


@dataclass
class Output:
    """What an extractor made of one page."""

    text: str
    images: list[str] | None = None  # ``src`` of every <img>; None: images not scored
    stars: int = 0  # literal "**" in the visible text outside code
    unders: int = 0  # literal "__" likewise


def html_output(html: str, text: str | None = None) -> Output:
    """Text, image sources and literal-markup counts of an HTML output."""
    soup = BeautifulSoup(html, "lxml")
    images = [str(img.get("src") or "") for img in soup.find_all("img")]
    visible = fold(soup.get_text(" ")) if text is None else text
    for el in soup.find_all(["pre", "code"]):
        el.decompose()
    rest = soup.get_text(" ")
    return Output(visible, images, rest.count("**"), rest.count("__"))


def pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters take two)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def has_image(images: list[str], phrase: str) -> bool:
    return any(phrase in src or phrase in unquote(src) for src in images)


@dataclass
class Tally:
    """ok / total per label kind, literal-markup counts and time."""

    ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    stars: int = 0
    unders: int = 0
    images_scored: bool = False
    secs: float = 0.0

    def share(self, kind: str) -> str:
        if not self.n[kind] or (kind.endswith("_img") and not self.images_scored):
            return "-"
        return f"{self.ok[kind] / self.n[kind]:.3f}"


def load_labels(corpus: Path) -> dict[str, list[tuple[str, str]]]:
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
    unknown: set[str] = set()
    with (corpus / "labels.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            kind = row["kind"].strip()
            if kind not in KINDS:
                unknown.add(kind)
                continue
            phrase = row["phrase"] if kind.endswith("_img") else fold(row["phrase"])
            labels[row["file"]].append((kind, phrase.strip()))
    if unknown:
        print(f"ignored label kinds: {', '.join(sorted(unknown))}")
    return labels


def build_extractors(
    rules: SiteRules,
    sanitize: Callable[[str, str], str] | None,
    fallbacks: list[str],
    learned: dict[str, list[str]] | None = None,
) -> dict[str, Callable[[str, dict[str, Any], str], Output]]:
    extractors: dict[str, Callable[[str, dict[str, Any], str], Output]] = {}

    def feeder(html: str, meta: dict[str, Any], name: str) -> Output:
        url = page_url(meta)
        cleaned = clean_html(
            html,
            url=url,
            title=str(meta.get("title") or ""),
            source=str(meta.get("source") or ""),
            rules=rules,
        )
        if cleaned.fallback:
            fallbacks.append(name)
        html = cleaned.html
        if learned and learned.get(name):
            from feeder.content.learned import strip_html

            html = strip_html(html, learned[name])[0]
        return html_output(sanitize(html, url) if sanitize else html)

    extractors["feeder"] = feeder
    try:
        import trafilatura

        def trafilatura_out(html: str, meta: dict[str, Any], name: str) -> Output:
            doc = f"<html><body>{html}</body></html>"
            text = trafilatura.extract(doc, output_format="txt", include_tables=True) or ""
            with_images = trafilatura.extract(
                doc, output_format="html", include_tables=True, include_images=True
            )
            return html_output(with_images or "", fold(text))

        extractors["trafilatura"] = trafilatura_out
    except ImportError:
        print("trafilatura not installed (pip install .[bench])")
    try:
        from readability import Document

        logging.getLogger("readability").setLevel(logging.ERROR)
        extractors["readability"] = lambda html, meta, name: html_output(
            Document(f"<html><body>{html}</body></html>").summary()
        )
    except ImportError:
        print("readability-lxml not installed (pip install .[bench])")
    return extractors


def score(out: Output, labels: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(kind, phrase, passed) for every label of a page."""
    results = []
    for kind, phrase in labels:
        if kind.endswith("_img"):
            present = out.images is not None and has_image(out.images, phrase)
        else:
            present = phrase in out.text
        results.append((kind, phrase, present == kind.startswith("keep")))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "dev")
    ap.add_argument("--verbose", "-v", action="store_true", help="list feeder's failures")
    ap.add_argument(
        "--no-rules", action="store_true", help="score feeder's generic layer alone (no site rules)"
    )
    ap.add_argument(
        "--no-learn",
        action="store_true",
        help="clean each page alone (no chrome learned from its site's other pages)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    labels = load_labels(args.corpus)

    rules = SiteRules() if args.no_rules else load_rules(None)
    sanitize = sanitizer()
    fallbacks: list[str] = []

    # Pages grouped by site. feeder sees each page as a build of the whole corpus
    # would: without the lines its site's other pages share (feeder.content.learned),
    # unless --no-learn; the other extractors see the page alone.
    pages_of = {
        name: split_page((args.corpus / name).read_text(encoding="utf-8", errors="replace"))
        for name in sorted(labels)
    }
    learned = {} if args.no_learn else learned_lines(args.corpus, pages_of)
    extractors = build_extractors(rules, sanitize, fallbacks, learned)
    sites: dict[str, list[tuple[str, dict[str, Any], str]]] = defaultdict(list)
    for name, (meta, body) in pages_of.items():
        sites[site_of(meta)].append((name, meta, render(body)))

    totals = {ex: Tally() for ex in extractors}
    per_site: dict[str, Tally] = {}
    failures: list[str] = []
    for site, pages in sites.items():
        site_tally = per_site[site] = Tally(images_scored=True)
        for name, meta, html in pages:
            for ex_name, ex in extractors.items():
                t0 = time.perf_counter()
                out = ex(html, meta, name)
                tally = totals[ex_name]
                tally.secs += time.perf_counter() - t0
                tally.stars += out.stars
                tally.unders += out.unders
                tally.images_scored |= out.images is not None
                for kind, phrase, passed in score(out, labels[name]):
                    tally.ok[kind] += passed
                    tally.n[kind] += 1
                    if ex_name == "feeder":
                        site_tally.ok[kind] += passed
                        site_tally.n[kind] += 1
                        if not passed:
                            failures.append(f"{name}: {kind} failed: {phrase}")
                if ex_name == "feeder":
                    site_tally.stars += out.stars

    n_labels = {k: sum(1 for v in labels.values() for kind, _ in v if kind == k) for k in KINDS}
    print(
        f"corpus: {args.corpus} ({len(labels)} files, {len(sites)} sites; "
        + ", ".join(f"{n_labels[k]} {k}" for k in KINDS)
        + ")"
        + ("" if sanitize else "  [feeder.content.sanitize not available: clean only]")
    )
    head = f"{'extractor':<12} {'keep':>6} {'drop':>6} {'img kept':>8} {'img dropped':>11}"
    print(f"{head} {'**':>5} {'__':>5} {'ms/page':>8}")
    for ex_name, t in totals.items():
        print(
            f"{ex_name:<12} {t.share('keep'):>6} {t.share('drop'):>6} {t.share('keep_img'):>8} "
            f"{t.share('drop_img'):>11} {t.stars:>5} {t.unders:>5} "
            f"{1000 * t.secs / max(len(labels), 1):>8.1f}"
        )
    print(
        f"feeder: {len(fallbacks)} fallback(s)" + (f": {', '.join(fallbacks)}" if fallbacks else "")
    )

    multi = [s for s, pages in sites.items() if len(pages) > 1]
    singles = [s for s in sites if s not in multi]
    if multi:
        print(f"\n{pad('feeder by site', 46)} pages   keep   drop  img kept  img dropped   **")
        rows = [(site, len(sites[site]), per_site[site]) for site in multi]
        rows.sort(key=lambda row: (-row[1], row[0]))
        if singles:
            rest = Tally(images_scored=True)
            for site in singles:
                for kind in KINDS:
                    rest.ok[kind] += per_site[site].ok[kind]
                    rest.n[kind] += per_site[site].n[kind]
                rest.stars += per_site[site].stars
            rows.append((f"({len(singles)} single-page sites)", len(singles), rest))
        for site, pages, t in rows:
            print(
                f"{pad(site, 46)} {pages:>5} {t.share('keep'):>6} {t.share('drop'):>6} "
                f"{t.share('keep_img'):>9} {t.share('drop_img'):>12} {t.stars:>4}"
            )
    if args.verbose:
        for line in failures:
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

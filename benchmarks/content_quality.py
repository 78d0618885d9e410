"""Content-quality benchmark: does cleaning keep the article and drop the chrome?

For every page named in ``labels.tsv`` (columns ``file``, ``kind``,
``phrase``), the Markdown body is rendered to HTML, cleaned (and sanitized
when :mod:`feeder.sanitize` is available) and its text compared with the
labels: *keep* phrases must be present, *drop* phrases (page chrome) absent,
white space folded. trafilatura and readability-lxml (the ``bench`` extra)
are scored the same way on the same rendered pages, for comparison.

    .venv/bin/python benchmarks/content_quality.py [--corpus ../shared/corpus/dev] [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import inspect
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeder.clean import clean_html  # noqa: E402
from feeder.sites import SiteRules, load_rules  # noqa: E402

_URL_KEYS = ("url", "source_url", "original_url", "link", "canonical_url")


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


def render(body: str) -> str:
    try:
        from feeder.render import render_markdown
    except ImportError:
        from markdown_it import MarkdownIt

        return str(
            MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(body)
        )
    return render_markdown(body)


def sanitizer() -> Callable[[str, str], str] | None:
    """The lead's sanitizer when it exists, adapted to ``(html, base_url) -> html``."""
    try:
        from feeder import sanitize as mod
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


def stars_outside_code(html: str) -> int:
    soup = BeautifulSoup(html, "lxml")
    for el in soup.find_all(["pre", "code"]):
        el.decompose()
    return soup.get_text(" ").count("**")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "dev")
    ap.add_argument("--verbose", "-v", action="store_true", help="list feeder's failures")
    ap.add_argument(
        "--no-rules", action="store_true", help="score feeder's generic layer alone (no site rules)"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (args.corpus / "labels.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            labels[row["file"]].append((row["kind"], fold(row["phrase"])))

    rules = SiteRules() if args.no_rules else load_rules(None)
    sanitize = sanitizer()
    extractors: dict[str, Callable[[str, dict[str, Any]], str]] = {}

    def feeder_text(html: str, meta: dict[str, Any]) -> str:
        url = next((str(meta[k]) for k in _URL_KEYS if meta.get(k)), "")
        cleaned = clean_html(
            html,
            url=url,
            title=str(meta.get("title") or ""),
            source=str(meta.get("source") or ""),
            rules=rules,
        )
        out = sanitize(cleaned.html, url) if sanitize else cleaned.html
        feeder_text.stars += stars_outside_code(out)  # type: ignore[attr-defined]
        if cleaned.fallback:
            feeder_text.fallbacks += 1  # type: ignore[attr-defined]
        return text_of(out)

    feeder_text.stars = 0  # type: ignore[attr-defined]
    feeder_text.fallbacks = 0  # type: ignore[attr-defined]
    extractors["feeder"] = feeder_text
    try:
        import trafilatura

        extractors["trafilatura"] = lambda html, meta: fold(
            trafilatura.extract(
                f"<html><body>{html}</body></html>", output_format="txt", include_tables=True
            )
            or ""
        )
    except ImportError:
        print("trafilatura not installed (pip install .[bench])")
    try:
        from readability import Document

        logging.getLogger("readability").setLevel(logging.ERROR)
        extractors["readability"] = lambda html, meta: text_of(
            Document(f"<html><body>{html}</body></html>").summary()
        )
    except ImportError:
        print("readability-lxml not installed (pip install .[bench])")

    stats = {name: [0, 0, 0, 0, 0.0] for name in extractors}  # keep ok/n, drop ok/n, secs
    failures: list[str] = []
    for name in sorted(labels):
        path = args.corpus / name
        meta, body = split_page(path.read_text(encoding="utf-8", errors="replace"))
        html = render(body)
        for ex_name, ex in extractors.items():
            t0 = time.perf_counter()
            text = ex(html, meta)
            stats[ex_name][4] += time.perf_counter() - t0
            for kind, phrase in labels[name]:
                ok = (phrase in text) == (kind == "keep")
                idx = 0 if kind == "keep" else 2
                stats[ex_name][idx] += ok
                stats[ex_name][idx + 1] += 1
                if not ok and ex_name == "feeder":
                    failures.append(f"{name}: {kind} failed: {phrase}")

    print(
        f"corpus: {args.corpus} ({len(labels)} files)"
        f"{'' if sanitize else '  [feeder.sanitize not available: clean only]'}"
    )
    print(f"{'extractor':<12} {'keep':>6} {'drop':>6} {'ms/page':>8}")
    for ex_name, (kok, kn, dok, dn, secs) in stats.items():
        print(
            f"{ex_name:<12} {kok / max(kn, 1):>6.3f} {dok / max(dn, 1):>6.3f} "
            f"{1000 * secs / max(len(labels), 1):>8.1f}"
        )
    print(
        f"feeder: {feeder_text.stars} literal '**' outside code; "  # type: ignore[attr-defined]
        f"{feeder_text.fallbacks} fallback(s)"
    )  # type: ignore[attr-defined]
    if args.verbose:
        for line in failures:
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

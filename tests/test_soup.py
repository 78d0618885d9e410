"""feeder.content.soup defers bs4's CSS and charset modules without taking anything away."""

from __future__ import annotations

import subprocess
import sys

_CHECK = r"""
import sys
import feeder.content.clean
assert "soupsieve" not in sys.modules, "soupsieve was executed at import"
from feeder.content.clean import clean_html
from feeder.content.sites import load_rules
html = "<p>Hello <b>world</b>, a real paragraph of text.</p>"
out = clean_html(html, url="https://example.org/a", title="", source="", rules=load_rules(None))
assert "world" in out.html
assert "soupsieve" not in sys.modules, "cleaning used CSS selectors"
from bs4 import BeautifulSoup, UnicodeDammit
soup = BeautifulSoup('<p class="a">x</p><p>y</p>', "html.parser")
assert [p.text for p in soup.select("p.a")] == ["x"]  # the real module, on first use
import soupsieve
assert soup.css.escape("a b") == "a\\ b" and soupsieve.__name__ == "soupsieve"
gbk = "中文的文章，正文。".encode("gbk") * 5
assert UnicodeDammit(gbk).unicode_markup.startswith("中文")
print("ok")
"""


def test_bs4_css_and_detection_still_work_after_deferred_import() -> None:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", _CHECK], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"

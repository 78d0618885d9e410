"""Tables: no cell text lost to a short header, no empty layout frames.

GFM drops the cells of a row beyond the header's count; pages converted to
Markdown often carry a layout table whose header is a few empty cells and
whose data (a vulnerability's score, CVE, credits) sits in the extra cells.
"""

from __future__ import annotations

import pytest

from feeder.content.clean import clean_html
from feeder.content.render import render_markdown, widen_tables
from feeder.content.sites import load_rules

LAYOUT = """\
# Advisory: Example CMS 2.1 file upload

|  |  |  |  |
| --- | --- | --- | --- |
|  |  | |  | | --- | | **Example CMS 2.1 Upload** Risk: **High** CVE: **CVE-2024-0001** | |

The admin panel accepts any file type for upload, so a user with the editor
role can place a script in the web root and run it with a single request.

Log in as an editor, open the media page and upload the file below. The
server stores it under the public images path without renaming it.
"""


def test_cells_beyond_the_header_are_kept() -> None:
    html = render_markdown(LAYOUT)
    assert "Risk: <strong>High</strong>" in html
    assert "CVE-2024-0001" in html


def test_a_layout_table_becomes_its_text() -> None:
    out = clean_html(
        render_markdown(LAYOUT),
        url="https://cms.example.org/advisory/1",
        title="Advisory: Example CMS 2.1 file upload",
        source="Example",
        rules=load_rules(None),
    ).html
    assert "CVE-2024-0001" in out and "Risk:" in out
    assert "<table" not in out and "<td" not in out and "---" not in out
    assert "accepts any file type" in out and "without renaming it" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a | b\n--|--\n1 | 2 | 3\n", "a | b |  |\n--|-- | --- |\n1 | 2 | 3\n"),
        ("| a |\n|---|\n| x \\| y |\n", "| a |\n|---|\n| x \\| y |\n"),  # escaped pipe: 1 cell
        ("| a | b |\n|---|---|\n| 1 |\n", "| a | b |\n|---|---|\n| 1 |\n"),  # narrower: as is
        ("no table | here\n\nplain text\n", "no table | here\n\nplain text\n"),
    ],
)
def test_widen_tables(text: str, expected: str) -> None:
    assert widen_tables(text) == expected


def test_data_tables_keep_their_shape() -> None:
    md = "| Name | Score | Note |\n|---|---|---|\n| a | 1 |  |\n| b | 2 |  |\n"
    html = render_markdown(md)
    article = "<p>" + "A paragraph of real article text that explains the scores. " * 6 + "</p>"
    out = clean_html(
        article + html + article,
        url="https://data.example.org/t",
        title="Scores",
        source="Example",
        rules=load_rules(None),
    ).html
    assert out.count("<tr>") == 3  # header and both rows
    assert "<th>Name</th>" in out and "<td>2</td>" in out
    assert "Note" in out  # a column with a header is kept even when its cells are empty

"""Tables without their empty rows and columns.

Pages converted to Markdown keep their layout tables: a grid of empty
cells around the one that holds the text (a vulnerability's score and
credits beside a blank header), or nothing at all. In a feed reader such a
table is a wide empty frame. Rows and columns with no text and no media are
removed; a table left with no row goes entirely, one left with a single
cell becomes that cell's content; what has content stays as it was. Tables
with merged cells (``colspan``/``rowspan``) keep their columns, since cells
no longer line up by position.
"""

from __future__ import annotations

import re

from feeder.content.blocks import has_element
from feeder.content.soup import BeautifulSoup, Tag

#: Elements that are content even without text.
_MEDIA = ("img", "video", "iframe", "svg", "picture", "audio")


#: A cell holding a Markdown delimiter row's leftover (``---``, ``:--:``) holds nothing.
_DELIMITER = re.compile(r"[-:| ]*-{3}[-:| ]*")


def _empty(cell: Tag) -> bool:
    text = cell.get_text(strip=True)
    return (not text or bool(_DELIMITER.fullmatch(text))) and not has_element(cell, _MEDIA)


_SECTIONS = ("thead", "tbody", "tfoot")


def _children(el: Tag, names: tuple[str, ...]) -> list[Tag]:
    return [c for c in el.children if type(c) is Tag and c.name in names]


def _rows(table: Tag) -> list[Tag]:
    """The table's own rows (not those of tables nested in its cells)."""
    rows = []
    for child in _children(table, ("tr", *_SECTIONS)):
        rows.extend([child] if child.name == "tr" else _children(child, ("tr",)))
    return rows


def _cells(row: Tag) -> list[Tag]:
    return _children(row, ("td", "th"))


def prune_table(table: Tag) -> None:
    """Remove ``table``'s empty rows and columns; the table itself when nothing is left."""
    for row in _rows(table):
        if all(_empty(c) for c in _cells(row)):
            row.decompose()
    rows = [_cells(row) for row in _rows(table)]
    merged = any(c.has_attr("colspan") or c.has_attr("rowspan") for r in rows for c in r)
    if rows and not merged:
        width = max(len(r) for r in rows)
        for j in reversed(range(width)):
            if all(j >= len(r) or _empty(r[j]) for r in rows):
                for r in rows:
                    if j < len(r):
                        r[j].decompose()
                        del r[j]
    for section in _children(table, _SECTIONS):
        if not _children(section, ("tr",)):
            section.decompose()
    left = _rows(table)
    if not left:
        table.decompose()
        return
    if len(left) == 1 and len(cells := _cells(left[0])) == 1 and not merged:
        cells[0].name = "div"  # one cell: a frame around text, not a table
        cells[0].attrs = {}
        table.replace_with(cells[0])
        return


def prune_tables(soup: BeautifulSoup) -> None:
    """:func:`prune_table` on every table, innermost first."""
    for table in reversed(soup.find_all("table")):
        prune_table(table)

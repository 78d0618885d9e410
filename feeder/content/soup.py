"""BeautifulSoup, imported without executing the parts feeder never uses.

Importing BeautifulSoup imports Soup Sieve (CSS selectors) and a character
set detector at once; Soup Sieve alone compiles regular expressions for
about 30 ms, a tenth of a one-shot build that renders one new entry, and
charset-normalizer (the detector bs4 falls back to) takes another 15 ms. feeder
selects nothing by CSS and hands BeautifulSoup text, never bytes to detect.
So while bs4 is imported, those modules are stand-ins (:class:`_Deferred`)
that import the real module the first time anything is asked of them; once
bs4 is loaded the stand-ins leave ``sys.modules``, and any other ``import``
of them gets the real module as usual. This is the only module that imports
bs4.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

#: Modules bs4 imports eagerly but uses only for CSS selectors and byte input.
DEFERRED = ("soupsieve", "cchardet", "chardet", "charset_normalizer")


class _Deferred(types.ModuleType):
    """Stands in for module ``name``; the real one is imported on first attribute use."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # introspection (copy, pickle, doc tools): not a use
        real = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _import_bs4() -> None:
    stand_ins = {}
    for name in DEFERRED:
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            stand_ins[name] = sys.modules[name] = _Deferred(name)
    try:
        import bs4  # noqa: F401 - its module-level imports see the stand-ins
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


_import_bs4()

from bs4 import BeautifulSoup, Tag  # noqa: E402 - after the import above
from bs4.element import NavigableString  # noqa: E402

__all__ = ["BeautifulSoup", "NavigableString", "Tag"]

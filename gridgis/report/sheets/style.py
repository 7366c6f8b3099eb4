"""The look of the printable sheets: the CJK font, matplotlib settings, ink colours.

Examples
--------
>>> family, fonttype = cjk_font()
>>> fonttype in (3, 42)
True
"""

from __future__ import annotations

import contextlib
import re
import struct
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager, patheffects, rc_context

from gridgis.errors import GridGISError

__all__ = ["GREY", "HALO", "INK", "MM", "RED", "cjk_font", "is_cff", "sheet_style"]

MM = 1 / 25.4  # inches
INK, GREY, RED = "#263238", "#607d8b", "#c62828"
HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]  # text over the map

# CJK families in order of preference (Debian: fonts-noto-cjk, fonts-wqy-*, fonts-droid-fallback,
# fonts-arphic-uming); font files to register when matplotlib's cache predates them
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                 "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN")  # fmt: skip
_CJK_FILES = re.compile(r"NotoSansCJK|SourceHanSans|wqy-|DroidSansFallback|uming", re.I)


def is_cff(path: str, index: int = 0) -> bool:
    """True when the font (face `index` of a collection) has CFF outlines (``OTTO``)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head[:4] == b"ttcf":
            fh.seek(12 + 4 * index)
            (offset,) = struct.unpack(">I", fh.read(4))
            fh.seek(offset)
            head = fh.read(4)
    return head[:4] == b"OTTO"


@cache
def cjk_font() -> tuple[str, int]:
    """The CJK font family the sheets use and the PDF font type that embeds it.

    Noto Sans CJK (Debian ``fonts-noto-cjk``) comes first. Fonts with
    TrueType outlines embed as Type 42; CFF-flavoured OpenType collections
    such as Noto CJK embed as Type 3, because matplotlib writes them as
    TrueType otherwise and strict readers reject the file (matplotlib #20870).
    Either way the glyphs are in the PDF and the text stays searchable.

    Returns
    -------
    tuple
        ``(family, pdf_fonttype)``.

    Raises
    ------
    GridGISError
        No CJK font is installed.
    """
    fm = font_manager.fontManager

    def find() -> Any:
        for family in _CJK_FAMILIES:
            for entry in fm.ttflist:
                if entry.name == family and entry.weight in (400, "normal", "regular"):
                    return entry
        return None

    entry = find()
    if entry is None:  # installed after matplotlib cached its font list
        for path in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(path).name):
                fm.addfont(path)
        entry = find()
    if entry is None:
        raise GridGISError(
            "no CJK font found for the map sheets (looked for "
            f"{', '.join(_CJK_FAMILIES)}); install Debian's fonts-noto-cjk"
        )
    return entry.name, 3 if is_cff(entry.fname, getattr(entry, "index", 0)) else 42


@contextlib.contextmanager
def sheet_style() -> Iterator[None]:
    """matplotlib settings of every sheet: the CJK font, embedded; no simplified paths."""
    family, fonttype = cjk_font()
    rc: dict[str, Any] = {
        "font.family": [family, "DejaVu Sans"],
        "pdf.fonttype": fonttype,
        "axes.unicode_minus": False,
        "hatch.linewidth": 0.7,
        "path.simplify": False,
    }
    with rc_context(rc):  # type: ignore[arg-type]  # matplotlib types the keys as literals
        yield

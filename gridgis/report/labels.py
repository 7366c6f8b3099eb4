"""Names, site types, units, money and counts as a reader of `lang` sees them.

One place for the conventions every face (sheets, map, app, CLI) shares:

- `name_in`: an object's or a mapping's name in a language (``label_zh`` /
  ``label_en`` for settings entries, ``name`` / ``name_en`` for features);
- `type_label`: a site type's term (the catalog's ``map.<type>``, else the
  settings' label, else the type's key);
- `unit_label`: a unit (``bikes``, ``m2``...) from the catalog's ``unit.<unit>``;
- `money`: an amount in CNY. Chinese writes the number then 元
  (``61,767.60 元``), English the ISO code then the number (``CNY 61,767.60``);
  the patterns are the catalog's ``labels.money``;
- `number` and `count`: a number with thousands separators, and a number with
  its unit (``84 辆`` / ``84 bikes``).

A missing value (None, NaN, text that is not a number) shows as a dash ``—``.

Examples
--------
>>> money(61767.6, "zh", decimals=2), money(61767.6, "en", decimals=2)
('61,767.60 元', 'CNY 61,767.60')
>>> count(84, "bikes", "zh"), count(84, "bikes", "en")
('84 辆', '84 bikes')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from gridgis.report.i18n import t, t_or

if TYPE_CHECKING:
    from gridgis.core.settings import Settings

__all__ = ["DASH", "clean_text", "count", "money", "name_in", "number", "type_label", "unit_label"]

DASH = "—"

# the fields that hold a name, in order of preference, per language; the other
# language's fields are the fallback
_FIELDS = {"zh": ("label_zh", "name_zh", "name"), "en": ("label_en", "name_en")}


def clean_text(value: Any) -> str | None:
    """A cell as stripped text, or None when missing (None, NaN, NA) or blank.

    Examples
    --------
    >>> clean_text("  B1 "), clean_text(float("nan")), clean_text(" "), clean_text(7)
    ('B1', None, None, '7')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _field(obj: Any, name: str) -> str | None:
    keyed = isinstance(obj, Mapping | pd.Series)  # a row's .name is its index label, not a field
    return clean_text(obj.get(name) if keyed else getattr(obj, name, None))


def name_in(obj: Any, lang: str, default: str = "") -> str:
    """The name of `obj` in `lang`, else in the other language, else `default`.

    `obj` is an object or a mapping with ``label_zh`` / ``label_en`` (a site type,
    cost item or matter) or ``name`` / ``name_en`` (a feature; ``name`` is the
    local, Chinese name). Blank and NaN fields count as missing.

    Examples
    --------
    >>> item = {"label_zh": "雨棚", "label_en": "Canopy"}
    >>> name_in(item, "zh"), name_in(item, "en")
    ('雨棚', 'Canopy')
    >>> name_in({"name": "1号楼", "name_en": " "}, "en")
    '1号楼'
    >>> name_in({}, "en", default="—")
    '—'
    >>> name_in(pd.Series({"name": "2号楼"}, name=7), "zh")  # a row: its field, not its label
    '2号楼'
    """
    own = _FIELDS.get(lang, _FIELDS["zh"])
    other = _FIELDS["en" if own is _FIELDS["zh"] else "zh"]
    for name in (*own, *other):
        text = _field(obj, name)
        if text is not None:
            return text
    return default


def type_label(site_type: str, lang: str, settings: Settings | None = None) -> str:
    """A site type's term in `lang`: the catalog's, else the settings' label, else the key.

    Examples
    --------
    >>> type_label("parking_shed", "en")
    'E-bike shed'
    >>> type_label("kiosk", "zh")
    'kiosk'
    """
    text = t_or(f"map.{site_type}", lang, "")
    if text:
        return text
    entry = None if settings is None else settings.site_types.get(site_type)
    return site_type if entry is None else name_in(entry, lang, site_type)


def unit_label(unit: str, lang: str) -> str:
    """A unit (``bikes``, ``m2``, ``port``...) in `lang`; an unknown unit as given.

    Examples
    --------
    >>> unit_label("bikes", "zh"), unit_label("m2", "en"), unit_label("stalls", "en")
    ('辆', 'm²', 'stalls')
    """
    return t_or(f"unit.{unit}", lang, unit)


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def number(value: Any, lang: str = "zh", *, decimals: int = 0) -> str:
    """`value` with thousands separators and `decimals` digits, or a dash.

    Both languages group digits by three with a comma. A value that rounds to
    zero never shows as ``-0``.

    Examples
    --------
    >>> number(12345.678), number(12345.678, decimals=1), number(-0.2), number(None)
    ('12,346', '12,345.7', '0', '—')
    """
    del lang  # one convention for both languages today; the parameter keeps call sites ready
    amount = _as_float(value)
    if amount is None:
        return DASH
    rounded = round(amount, decimals)
    return f"{rounded or 0.0:,.{decimals}f}"  # -0.0 is falsy: never "-0"


def money(amount_cny: Any, lang: str, *, decimals: int = 0) -> str:
    """An amount in CNY as `lang` writes money (``61,768 元`` / ``CNY 61,768``), or a dash.

    Examples
    --------
    >>> money(61767.6, "zh"), money(61767.6, "en"), money(float("nan"), "zh")
    ('61,768 元', 'CNY 61,768', '—')
    """
    text = number(amount_cny, lang, decimals=decimals)
    return text if text == DASH else t("labels.money", lang, n=text)


def count(n: Any, unit: str, lang: str) -> str:
    """A whole number with its unit (``84 辆`` / ``84 bikes``), or a dash.

    Examples
    --------
    >>> count(1200, "m2", "en"), count(None, "bikes", "zh")
    ('1,200 m²', '—')
    """
    text = number(n, lang)
    if text == DASH:
        return DASH
    label = unit_label(unit, lang)
    return f"{text} {label}" if label else text

"""Chinese and English texts of the app and the map, by key.

Every label, message, legend entry and unit the user sees lives in the
TOML files of ``gridgis/report/locales/zh/`` and ``.../en/`` under the same
dotted keys (``[map] legend = "图例"`` is ``map.legend``). A language's files
are merged (one file per area: ``app.toml``, ``checks.toml``, ...; a key in
two files is an error). Both languages must hold the same keys:
``tests/test_i18n.py`` fails on a key missing from either, and `t` warns
(``MissingTranslationWarning``) when asked for a key it does not know, so a
forgotten key fails the tests instead of reaching a user.

Examples
--------
>>> t("map.legend", "zh"), t("map.legend", "en")
('图例', 'Legend')
>>> t("map.hh_unit", "zh", n=84)
'84 户'
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from gridgis.errors import GridGISError

__all__ = ["LANGS", "LANG_NAMES", "MissingTranslationWarning", "catalog", "has", "t", "t_or"]

LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}


class MissingTranslationWarning(UserWarning):
    """A text key is missing from a locale file."""


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every text of `lang`, by dotted key."""
    folder = resources.files("gridgis.report").joinpath(f"locales/{_check_lang(lang)}")
    out: dict[str, str] = {}
    origin: dict[str, str] = {}
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    for file in files:
        for key, text in _flatten(tomllib.loads(file.read_text(encoding="utf-8"))).items():
            if key in out:
                raise GridGISError(
                    f"text key {key!r} is in both locales/{lang}/{origin[key]} and "
                    f"locales/{lang}/{file.name}: keep it in one"
                )
            out[key], origin[key] = text, file.name
    return out


def has(key: str, lang: str = "zh") -> bool:
    """Whether `key` has a text in `lang`."""
    return key in catalog(lang)


def t(key: str, lang: str, /, **values: Any) -> str:
    """The text `key` in `lang`, with ``{name}`` fields filled from `values`.

    An unknown key warns and returns the other language's text, or the key
    itself, so the page still renders.
    """
    texts = catalog(_check_lang(lang))
    text = texts.get(key)
    if text is None:
        warnings.warn(
            f"no {lang!r} text for key {key!r} (add it to gridgis/report/locales/{lang}/)",
            MissingTranslationWarning,
            stacklevel=2,
        )
        other = next(x for x in LANGS if x != lang)
        text = catalog(other).get(key, key)
    return text.format(**values) if values else text


def t_or(key: str, lang: str, default: str, /, **values: Any) -> str:
    """Like `t`, but `default` (not a warning) when the key is unknown.

    For open-ended terms such as a site type or capacity unit added in settings.
    """
    text = catalog(_check_lang(lang)).get(key)
    if text is None:
        return default
    return text.format(**values) if values else text

import re

import pytest

from gridgis.analysis.rules import RULES
from gridgis.core.crs import DATUMS
from gridgis.core.schema import SCHEMAS
from gridgis.core.settings import default_settings
from gridgis.report.i18n import LANGS, MissingTranslationWarning, catalog, t, t_or
from gridgis.report.map.view import BASEMAPS

from .conftest import REPO

SOURCES = [
    REPO / "app.py",
    *sorted((REPO / "app").rglob("*.py")),
    *sorted((REPO / "gridgis").rglob("*.py")),
]
# t("key", ...) / t_or("key", ...) with a literal key, possibly across lines
LITERAL = re.compile(r"""\bt(?:_or)?\(\s*["']([a-z_]+(?:\.[\w+]+)+)["']""")


def test_both_locales_have_the_same_keys():
    zh, en = set(catalog("zh")), set(catalog("en"))
    assert zh - en == set(), f"missing in en.toml: {sorted(zh - en)}"
    assert en - zh == set(), f"missing in zh.toml: {sorted(en - zh)}"


def test_no_empty_texts_except_units():
    for lang in LANGS:
        empty = [k for k, v in catalog(lang).items() if not v.strip() and k != "unit.none"]
        assert empty == [], f"{lang}: empty texts {empty}"


def test_placeholders_match():
    fields = re.compile(r"{(\w+)}")
    zh, en = catalog("zh"), catalog("en")
    for key in zh:
        assert set(fields.findall(zh[key])) == set(fields.findall(en[key])), key


def test_every_literal_key_in_the_code_exists():
    used = set()
    for path in SOURCES:
        used |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 120, "the scan should find the app's keys"
    for lang in LANGS:
        missing = sorted(k for k in used if k not in catalog(lang))
        assert missing == [], f"{lang}: keys used in code but missing: {missing}"


def test_computed_keys_exist():
    """Keys built from data: statuses, rules, units, basemaps, datums, settings."""
    keys = {f"map.{s}" for s in ("proposed", "approved", "rejected", "built")}
    keys |= {f"map.{k}" for k in ("golden_corner", "neglected", "green", "storage")}
    keys |= {f"map.{k}" for k in ("fire_lane", "road", "footpath")}
    keys |= {f"map.{layer}" for layer in ("compound", "microgrids", "buildings", "spaces")}
    keys |= {f"map.{k}" for k in ("paths", "sites", *default_settings().site_types)}
    keys |= {f"rule.{r}" for r in RULES} | {"rule.severity_error", "rule.severity_warning"}
    keys |= {f"basemap.{b}" for b in BASEMAPS} | {f"data.datum_{d}" for d in DATUMS}
    keys |= {f"edit.undone_{op}" for op in ("add", "update", "delete")}
    keys |= {f"site.method_{m}" for m in ("network", "straight_line", "network_and_straight_line")}
    keys |= {f"unit.{u}" for u in ("m2", "m", "port", "circuit", "site", "each")}
    keys |= {f"vote_map.{k}" for k in ("turnout", "approval", "name", "owners", "participating",
                                       "agree", "oppose", "abstain")}  # fmt: skip
    keys.add("labels.money")
    settings = default_settings()
    keys |= {f"unit.{t.capacity_unit}" for t in settings.site_types.values()}
    keys |= {f"unit.rate_{c.basis}" for c in settings.cost_items.values()}
    for row in settings.sourced_table():
        group, *rest = row["key"].split(".")
        keys.add(f"settings.group_{group}")
        if group == "site_types":
            keys.add(f"setting.site_type.{rest[-1]}")
        elif group != "cost_items":  # cost items are named in settings (label_zh/label_en)
            keys.add(f"setting.{row['key']}")
    for lang in LANGS:
        missing = sorted(k for k in keys if k not in catalog(lang))
        assert missing == [], f"{lang}: {missing}"


def test_layer_names_are_bilingual():
    for schema in SCHEMAS.values():
        assert schema.label_zh and schema.label_en


def test_t_formats_and_warns_on_unknown_keys():
    assert t("map.hh_unit", "zh", n=84) == "84 户"
    assert t("map.hh_unit", "en", n=84) == "84 households"
    with pytest.warns(MissingTranslationWarning, match="no 'en' text for key 'nope.nothing'"):
        assert t("nope.nothing", "en") == "nope.nothing"
    assert t_or("map.my_custom_type", "zh", "my_custom_type") == "my_custom_type"


def test_unknown_language_is_an_error():
    from gridgis.errors import GridGISError

    with pytest.raises(GridGISError, match=r"lang must be one of .* got 'fr'"):
        t("map.legend", "fr")


# a table of words by language, or a label picked by hand, outside the catalog
WORD_TABLE = re.compile(r"""["']zh["']\s*:\s*\{|label_zh if lang|name_zh if lang""")


def test_the_library_keeps_no_words_outside_the_catalog():
    library = [p for p in SOURCES if (REPO / "gridgis") in p.parents]
    offenders = [
        f"{p.relative_to(REPO)}:{n}"
        for p in library
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if WORD_TABLE.search(line)
    ]
    assert offenders == [], "use gridgis.report.i18n.t and gridgis.report.labels"

import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from gridgis.analysis.engine import analyze_sites
from gridgis.analysis.result import COUNT_COLUMNS
from gridgis.core.io import write_geojson
from gridgis.core.project import open_project
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.xlsx import budget_sheets, write_xlsx

from .conftest import DATA


def test_xlsx_keeps_numbers_and_cjk(tmp_path):
    sites = pd.DataFrame(
        {
            "编号 site_id": ["S1", "S2"],
            "名称 name": ["东北角车棚", "菜园 <b>"],
            "面积 area (m2)": [np.float64(84.25), 60.0],
            "造价 cost (CNY)": [31_234.5, np.nan],
            "建筑 buildings": [["B1", "B2"], []],
            "户数 households": [np.int64(168), 0],
        }
    )
    path = write_xlsx({"sites 点位": sites, "empty": pd.DataFrame({"a": []})}, tmp_path / "b.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["sites 点位", "empty"]
    ws = wb["sites 点位"]
    assert [c.value for c in ws[1]] == list(sites.columns)
    assert ws["B2"].value == "东北角车棚" and ws["B3"].value == "菜园 <b>"
    assert ws["C2"].value == 84.25 and isinstance(ws["C2"].value, float)
    assert ws["D2"].value == 31_234.5 and ws["D2"].number_format == "#,##0.00"
    assert ws["D3"].value is None
    assert ws["E2"].value == "B1, B2"
    assert ws["F2"].value == 168 and isinstance(ws["F2"].value, int)
    assert ws.freeze_panes == "A2"
    assert not list(tmp_path.glob(".*tmp"))


def test_formula_looking_text_is_written_as_text(tmp_path):
    texts = ['=HYPERLINK("http://x")', "+86 138", "-5 m", "@SUM(A1)", "plain"]
    path = write_xlsx({"s": pd.DataFrame({"note": texts})}, tmp_path / "f.xlsx")
    ws = load_workbook(path)["s"]
    for row, text in enumerate(texts, start=2):
        cell = ws.cell(row=row, column=1)
        assert cell.value == text and cell.data_type == "s", text


@pytest.fixture(scope="module")
def dongsi():
    return analyze_sites(open_project(DATA / "dongsi180"))


def test_budget_sheets_headers_come_from_the_locales(dongsi):
    zh = budget_sheets(dongsi)
    assert list(zh) == ["sites 点位", "cost items 造价明细", "funding 资金"]
    sites = zh["sites 点位"]
    assert list(sites.columns[:3]) == ["编号 site_id", "名称 name", "类型 site_type"]
    assert "造价 cost (CNY)" in sites.columns
    for key in ("site_id", "cost", "households_served", "failed_checks", "not_checked"):
        header = f"{t(f'xlsx.col.{key}', 'zh')} {t(f'xlsx.col.{key}', 'en')}"
        assert header in sites.columns, key
    en = budget_sheets(dongsi, lang="en")
    assert list(en) == ["sites", "cost items", "funding"]
    assert list(en["sites"].columns[:2]) == ["site_id", "name"]
    assert en["funding"].iloc[-1, 0] == "plan" and zh["funding 资金"].iloc[-1, 0] == "合计 plan"
    with pytest.raises(GridGISError, match=r"lang must be one of .* got 'fr'"):
        budget_sheets(dongsi, lang="fr")


def test_budget_workbook_counts_are_integers(dongsi, tmp_path):
    path = write_xlsx(budget_sheets(dongsi), tmp_path / "budget.xlsx")
    wb = load_workbook(path)
    ws = wb["sites 点位"]
    headers = {c.value: c.column for c in ws[1]}
    for key in ("capacity", "charging_ports", "households_served", "households_adjacent"):
        col = headers[f"{t(f'xlsx.col.{key}', 'zh')} {t(f'xlsx.col.{key}', 'en')}"]
        values = [ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)]
        assert values and all(type(v) is int for v in values), (key, values)
    assert ws.cell(row=2, column=headers["服务户数 households served"]).value == 308
    items = wb["cost items 造价明细"]
    head = {c.value: c.column for c in items[1]}
    rows = list(items.iter_rows(min_row=2, values_only=True))
    unit, quantity = head["单位 unit"] - 1, head["数量 quantity"] - 1
    ports = [r[quantity] for r in rows if r[unit] == "port"]
    assert ports and all(type(q) is int for q in ports)
    assert any(type(r[quantity]) is float for r in rows if r[unit] == "m2")


def test_geojson_and_json_counts_are_integers(dongsi, tmp_path):
    for name in COUNT_COLUMNS:
        assert dongsi.sites[name].dtype == "int64", name
    path = tmp_path / "plan.geojson"
    write_geojson(dongsi.features(), path)
    text = path.read_text(encoding="utf-8")
    assert '"households_served": 308,' in text and "308.0" not in text
    for feature in json.loads(text)["features"]:
        props = feature["properties"]
        for key in ("capacity", "households_served", "households_adjacent"):
            assert isinstance(props[key], int) and not isinstance(props[key], bool), key
        for item in props["cost_items"]:
            if item["unit"] in ("port", "site", "circuit"):
                assert isinstance(item["quantity"], int), item
        for check in props["checks"]:
            assert check["ok"] is {"pass": True, "fail": False}.get(check["status"])
    totals = json.loads(json.dumps(dongsi.totals()))
    assert all(isinstance(v, int) for k, v in totals.items() if k != "cost_cny")

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from gridgis.report.xlsx import write_xlsx


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

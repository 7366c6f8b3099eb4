"""Check records rendered in words (gridgis.report.checks) and the CLI's --lang."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gridgis.analysis.engine import analyze_sites
from gridgis.analysis.rules import CHECK_KEYS, REASONS, RULES, STATUSES, check_summary
from gridgis.core.project import open_project
from gridgis.errors import GridGISError
from gridgis.report.checks import check_message, status_label, with_messages
from gridgis.report.i18n import LANGS, has

from .conftest import DATA, REPO


def _record(rule: str, status: str, **kw) -> dict:
    base = dict.fromkeys(CHECK_KEYS) | {"rule": rule, "status": status, "ids": [], "params": {}}
    return base | kw


def test_every_rule_and_status_has_a_text_in_both_languages():
    for lang in LANGS:
        for rule in RULES:
            for status in ("pass", "fail"):
                assert has(f"check.{rule}.{status}", lang), (lang, rule, status)
        for reason in REASONS:
            if reason not in ("not_applicable", "none_near"):
                assert has(f"check.reason.{reason}", lang), (lang, reason)
        for status in STATUSES:
            assert status_label(status, lang) != status


def test_messages_carry_the_measured_values():
    lane = _record(
        "fire_lane_clear", "fail", measured=13.0, needed=0.0, unit="m2", ids=["P1", "P2"],
        params={"areas_m2": [10.0, 3.0], "clear_width_m": 4.0},
    )  # fmt: skip
    assert check_message(lane, "en") == (
        "overlaps fire lane P1 by 10.0 m2, P2 by 3.0 m2 (must stay clear 4.0 m wide)"
    )
    assert check_message(lane, "zh") == "占用消防车通道 P1 10.0 m²、P2 3.0 m²（须保持净宽 4.0 m）"
    close = _record("shed_setback", "fail", measured=5.996, needed=6.0, unit="m", ids=["B1"])
    assert check_message(close, "en") == "6.00 m from building B1, needs 6.0 m"
    kiosk = _record(
        "min_area", "not_checked", reason="unknown_site_type", params={"site_type": "kiosk"}
    )
    assert check_message(kiosk, "zh") == "未检查：设置中没有点位类型 'kiosk'"
    assert check_message(_record("future_rule", "fail"), "en") == "future_rule: failed"
    assert check_message(_record("future_rule", "not_checked", reason="new"), "zh") == (
        "future_rule: 未检查"
    )


def test_with_messages_copies_and_summary_never_counts_not_checked_as_passed():
    checks = [_record("min_area", "pass", measured=84.0, needed=12.0, unit="m2")]
    worded = with_messages(checks, "en")
    assert worded[0]["message"] == "area 84.0 m2 (minimum 12.0 m2)" and "message" not in checks[0]
    assert check_summary(checks)["all_clear"] is True
    checks.append(_record("fire_lane_clear", "not_checked", reason="no_paths_layer"))
    assert check_summary(checks) == {"passed": 1, "failed": 0, "not_checked": 1, "all_clear": False}
    assert check_summary([])["all_clear"] is False
    with pytest.raises(GridGISError, match=r"check status must be one of .*got 'ok'"):
        check_summary([{"status": "ok"}])


@pytest.mark.parametrize(
    ("lang", "expected"), [(None, "inside the compound"), ("zh", "在小区边界内")]
)
def test_cli_analyze_lang(tmp_path, lang, expected):
    out = tmp_path / "plan.geojson"
    args = ["analyze", str(DATA / "dongsi180"), "-o", str(out)] + (["--lang", lang] if lang else [])
    run = subprocess.run(
        [sys.executable, "-m", "gridgis.cli", *args],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "0 failed checks, 0 not checked" in run.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    result = analyze_sites(open_project(DATA / "dongsi180"))
    for feature, (_, row) in zip(doc["features"], result.sites.iterrows(), strict=True):
        checks = feature["properties"]["checks"]
        assert [c["rule"] for c in checks] == list(RULES)
        assert checks[0]["message"] == expected
        for written, record in zip(checks, row["checks"], strict=True):
            assert {k: written[k] for k in CHECK_KEYS} == record
            assert written["message"] == check_message(record, lang or "en")

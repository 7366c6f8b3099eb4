"""The settings page's table: every sourced value as a row, and saving it back.

Rows come from `Settings.sourced_table` (``key, value, source, ref``) with a
label, a unit and the shipped default beside each value. Saving rebuilds the
settings through `gridgis.core.settings.settings_from_toml` (so every value is
checked as if it came from a file) and writes only them into the working copy
(`ProjectStore.save_settings`: the keys unlike the defaults; no layer is rewritten).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import tomli_w

from app import state, workspace
from gridgis.core.project import Project
from gridgis.core.settings import Settings, default_settings, settings_from_toml
from gridgis.core.store import ProjectStore
from gridgis.errors import GridGISError
from gridgis.report.i18n import t, t_or
from gridgis.report.labels import name_in, type_label

_GROUPS = ("general", "rules", "funding", "site_types", "cost_items", "corners")
_UNIT_BY_NAME = {
    "households_per_floor_fallback": "hh_per_floor",
    "shed_block_max_bikes": "bikes",
    "bikes_per_charging_port": "bikes_per_port",
    "sockets_per_circuit_max": "sockets",
    "subsidy_multiple": "times",
    "resident_share": "share",
    "area_per_capacity_m2": "m2_per_capacity",
}


def _unit(key: str, settings: Settings) -> str:
    parts = key.split(".")
    name = parts[-1]
    if parts[0] == "cost_items":
        return f"rate_{settings.cost_items[parts[1]].basis}"
    if name in _UNIT_BY_NAME:
        return _UNIT_BY_NAME[name]
    for suffix, unit in (("_m2", "m2"), ("_m", "m"), ("_cny", "cny")):
        if name.endswith(suffix):
            return unit
    return "none"


def _label(key: str, settings: Settings, lang: str, project: Project) -> str:
    parts = key.split(".")
    if parts[0] == "site_types":
        kind = type_label(parts[1], lang, project.settings)
        return f"{kind} · {t(f'setting.site_type.{parts[2]}', lang)}"
    if parts[0] == "cost_items":
        item = settings.cost_items[parts[1]]
        return name_in(item, lang, parts[1])
    # sections added by later settings show their key until they are translated
    return t_or(f"setting.{key}", lang, key)


def rows(settings: Settings, lang: str, project: Project) -> pd.DataFrame:
    """One row per sourced value: key, group, label, value, unit, source, ref, default."""
    defaults = {r["key"]: r["value"] for r in default_settings().sourced_table()}
    out = []
    for row in settings.sourced_table():
        key = row["key"]
        group = key.split(".")[0]
        out.append(
            {
                "key": key,
                "group": t_or(f"settings.group_{group}", lang, group),
                "label": _label(key, settings, lang, project),
                "value": float(row["value"]),
                "unit": t(f"unit.{_unit(key, settings)}", lang),
                "source": row["source"],
                "ref": row["ref"],
                "default": defaults.get(key),
                "_order": _GROUPS.index(group) if group in _GROUPS else len(_GROUPS),
            }
        )
    frame = pd.DataFrame(out)
    return frame.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Rows of `after` whose value, source or reference differ from `before`."""
    cols = ["value", "source", "ref"]
    a = before.set_index("key")[cols]
    b = after.set_index("key")[cols]
    differs = (a.astype(str) != b.astype(str)).any(axis=1)
    return after.set_index("key").loc[differs[differs].index].reset_index()


def build(settings: Settings, edited: pd.DataFrame, language: str) -> Settings:
    """New settings: `settings` with the table's values. Raises SettingsError."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    for row in edited.to_dict("records"):
        value = row["value"]
        if value is None or pd.isna(value):
            raise GridGISError(f"setting {row['key']!r} has no value")
        node = data
        *path, last = row["key"].split(".")
        for part in path:
            node = node[part]
        ref = row.get("ref")
        node[last] = {
            "value": float(value),
            "source": row["source"],
            "ref": "" if ref is None or (isinstance(ref, float) and pd.isna(ref)) else str(ref),
        }
    data["general"]["language"] = language
    return settings_from_toml(tomli_w.dumps(data), source="settings page")


def write_settings(path: Path, settings: Settings) -> None:
    """Save only `settings` (the keys unlike the defaults) into the project at `path`."""
    ProjectStore(path).save_settings(settings)  # no layer is rewritten
    workspace.bump(path)


def save(path: Path, edited: pd.DataFrame, language: str, lang: str) -> None:
    """Check and save the edited table (a button callback)."""
    try:
        new = build(workspace.load_project(path).settings, edited, language)
        write_settings(path, new)
    except GridGISError as exc:
        state.flash("error", t("settings.not_saved", lang, detail=str(exc)))
        return
    state.flash("success", t("settings.saved", lang))


def reset(path: Path, lang: str) -> None:
    """Go back to the shipped defaults (a button callback)."""
    try:
        write_settings(path, default_settings())
    except GridGISError as exc:
        state.flash("error", t("settings.not_saved", lang, detail=str(exc)))
        return
    st.session_state.pop(state.SETTINGS_EDITOR, None)
    state.flash("success", t("settings.reset_done", lang))

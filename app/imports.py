"""Callbacks of the data page: open a sample, import uploaded layers as a project.

An import reads every upload with `gridgis.core.io` (any supported format, the
CRS and datum the user gave), validates all layers together, and only if
nothing is wrong saves them as a new project in the workspace and opens it.
Otherwise every problem is listed, one message each; nothing is half-loaded.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from app import sidebar, state, workspace
from gridgis.core.io import list_layers, read_layer
from gridgis.core.project import SETTINGS_TABLE, Project, read_project_layer, save_project
from gridgis.core.schema import LAYER_NAMES, guess_layer_name, restore_shapefile_names
from gridgis.core.settings import Settings, default_settings, settings_from_toml
from gridgis.core.validate import validate_layers
from gridgis.errors import GridGISError
from gridgis.report.i18n import t

WHOLE_PROJECT = "*"  # the layer choice "a whole project GeoPackage"
_PROJECT_NAME = re.compile(r"[\w\-]{1,64}")


def guess_layer(filename: str) -> str:
    """The layer choice to offer for an upload."""
    if filename.lower().endswith(".gpkg") and guess_layer_name(filename) is None:
        return WHOLE_PROJECT
    return guess_layer_name(filename) or "buildings"


def layer_key(filename: str) -> str:
    return state.upload_layer_key(filename)


def _report(items: list[tuple[str, str]]) -> None:
    st.session_state[state.IMPORT_REPORT] = items


def take_report() -> list[tuple[str, str]]:
    """The last import's messages (kind, text)."""
    return st.session_state.pop(state.IMPORT_REPORT, [])


def open_sample(sample: str, fresh: bool, lang: str) -> None:
    """Open (copy into the workspace first) a bundled sample."""
    name = workspace.open_sample(sample, fresh=fresh)
    sidebar.forget_view()
    st.session_state[state.PROJECT] = name
    state.flash("success", t("data.opened", lang, name=name))


def _read_votes_csv(data: bytes, filename: str) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory(prefix="gridgis-upload-") as tmp:
        target = Path(tmp) / Path(filename).name
        target.write_bytes(data)
        return read_project_layer(target, "votes")


def _read_file(
    filename: str, data: bytes, choice: str, *, datum: str, crs: str | None,
    layers: dict[str, pd.DataFrame], settings: list[Settings],
) -> None:  # fmt: skip
    if choice == WHOLE_PROJECT:
        names = list_layers(data, filename=filename)
        found = [n for n in names if n in LAYER_NAMES]
        if not found:
            raise GridGISError(
                f"holds no gridgis layers (found {', '.join(names) or 'none'}); "
                "pick the layer this file holds instead"
            )
        for name in found:
            frame = read_layer(data, filename=filename, layer=name, datum=datum, crs=crs)
            layers[name] = restore_shapefile_names(frame, name)
        if SETTINGS_TABLE in names:
            table = read_layer(data, filename=filename, layer=SETTINGS_TABLE)
            if len(table) and "toml" in table:
                settings.append(settings_from_toml(str(table["toml"].iloc[0]), source=filename))
        return
    if choice not in LAYER_NAMES:
        raise GridGISError(f"layer={choice!r} is not a gridgis layer")
    if choice in layers:
        raise GridGISError(f"a second file for layer {choice!r}; upload one file per layer")
    if choice == "votes" and filename.lower().endswith(".csv"):
        layers[choice] = _read_votes_csv(data, filename)
        return
    frame = read_layer(data, filename=filename, datum=datum, crs=crs)
    layers[choice] = restore_shapefile_names(frame, choice)


def import_files(
    files: list[tuple[str, bytes, str]],
    *,
    name: str,
    crs: str | None = None,
    datum: str = "wgs84",
    lang: str = "zh",
) -> tuple[list[tuple[str, str]], Path | None]:
    """Read, check and save ``(filename, bytes, layer)`` files as project `name`.

    Returns the messages (kind, text) and the saved project's path, or None
    when anything was wrong: then every problem is in the messages (each file
    that cannot be read, each layer problem) and nothing was written.
    """
    report: list[tuple[str, str]] = []
    if not _PROJECT_NAME.fullmatch(name):
        report.append(("error", t("data.bad_name", lang, name=name)))
    elif (workspace.workspace() / name).exists():
        report.append(("error", t("data.name_taken", lang, name=name)))
    layers: dict[str, pd.DataFrame] = {}
    found_settings: list[Settings] = []
    for filename, data, choice in files:
        try:
            _read_file(filename, data, choice, datum=datum, crs=crs, layers=layers,
                       settings=found_settings)  # fmt: skip
        except GridGISError as exc:
            report.append(("error", f"{filename}: {exc}"))
    settings = found_settings[0] if found_settings else default_settings()
    problems = validate_layers(layers, source="upload", site_types=tuple(settings.site_types))
    report.extend(("error", str(p)) for p in problems if p.severity == "error")
    report.extend(("warning", str(p)) for p in problems if p.severity != "error")
    n_errors = sum(kind == "error" for kind, _ in report)
    if n_errors:
        return [("error", t("data.import_failed", lang, n=n_errors)), *report], None
    target = workspace.workspace() / name
    try:
        save_project(Project(layers=layers, settings=settings), target)
    except GridGISError as exc:
        return [("error", str(exc))], None
    workspace.forget_files()
    return [("success", t("data.imported", lang, name=name, n=len(layers))), *report], target


def import_uploads(lang: str) -> None:
    """Import the uploaded files as a new project and open it (a button callback)."""
    uploads = st.session_state.get(state.UPLOADS) or []
    files = [
        (
            u.name,
            u.getvalue(),
            state.current(layer_key(u.name), state.variant(lang)) or guess_layer(u.name),
        )
        for u in uploads
    ]
    report, target = import_files(
        files,
        name=(st.session_state.get(state.UPLOAD_NAME) or "").strip(),
        crs=(st.session_state.get(state.UPLOAD_CRS) or "").strip() or None,
        datum=state.current(state.UPLOAD_DATUM, state.variant(lang)) or "wgs84",
        lang=lang,
    )
    if target is not None:
        sidebar.forget_view()
        st.session_state[state.PROJECT] = target.name
    _report(report)

"""The attribute table's edits: many features of one layer saved in one write, and undone in one.

The table (`app.views.layer_table`) hands over what the user changed
(``st.data_editor``'s ``edited_rows``: row position -> ``{field: value}``)
and the rows as it showed them (``{"fid", "rev", field: value}``).
`changes` keeps the real changes of the layer's editable fields
(`app.layer_edits.FIELDS`) and checks every number; `save` stores them with
ONE `LayerStore.update_many`, each row with the revision the user saw. A row
that another session changed or deleted meanwhile, or any refused value,
stores nothing at all, and the message names the features (and the field).
A save of one row is an ordinary ``update`` undo entry; of several, one
`BULK` entry (``before``/``after``: ``{fid: row}``) that `undo` (called by
`app.edits.undo`) takes back in one write: refused if a field it would reset
no longer holds what the table wrote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app import layer_edits, state, workspace
from app.context import plain
from gridgis.core.store import LayerStore
from gridgis.core.store.layer import plain_value
from gridgis.errors import ConflictError, GridGISError, Problem, ValidationError
from gridgis.report.i18n import t

__all__ = ["BULK", "COUNTS", "NUMBERS", "changes", "same", "save", "undo"]

BULK = "update_many"
"""The ``op`` of an undo entry that covers several features of one layer."""

COUNTS = ("units", "floors", "households")
"""Fields that hold whole numbers."""

NUMBERS = (*COUNTS, "width_m")
"""Fields that hold numbers."""


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def same(a: Any, b: Any) -> bool:
    """Whether two cells hold the same value (missing is missing; ``36 == 36.0``).

    >>> same(36, 36.0), same(None, float("nan")), same("3栋", "3栋 "), same(0, None)
    (True, True, False, False)
    """
    a, b = plain_value(a), plain_value(b)
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return float(a) == float(b)
    return str(a) == str(b)


def _cell(field: str, value: Any, lang: str) -> tuple[Any, str | None]:
    """`value` as the store takes it (blank -> None, counts as int) and what is wrong with it."""
    if isinstance(value, str):
        value = value.strip() or None
    if value is None or field not in NUMBERS:
        return value, None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value, t("table.not_number", lang, value=repr(value))
    if isinstance(value, bool) or not math.isfinite(number):
        return value, t("table.not_number", lang, value=repr(value))
    if field in COUNTS:
        if not number.is_integer():
            return value, t("table.not_whole", lang, value=repr(value))
        return int(number), None
    return number, None


def changes(
    edited: Mapping[Any, Mapping[str, Any]],
    shown: Sequence[Mapping[str, Any]],
    layer: str,
    key: str,
    lang: str,
) -> dict[str, dict[str, Any]]:
    """``{fid: {field: value}}``: the edits of `layer`'s editable fields that change a value.

    Parameters
    ----------
    edited
        Row position (as shown) -> the cells the user changed.
    shown
        The rows as shown: ``fid``, ``rev`` and each field's value.
    layer, key
        The layer and its id column (`LayerStore.key`).
    lang
        The messages' language.

    Raises
    ------
    ValidationError
        A cell is not a number (or not a whole one) where one is needed; one
        problem per cell, naming the feature and the field.
    """
    fields = layer_edits.FIELDS[layer]
    out: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for pos, change in edited.items():
        row = shown[int(pos)]
        fid = str(row["fid"])
        for field, raw in change.items():
            if field not in fields:
                continue  # the id, the measures, the 📍 column: not stored
            value, wrong = _cell(field, raw, lang)
            if wrong is not None:
                problems.append(Problem(wrong, layer=layer, feature=f"{key}={fid!r}", field=field))
                continue
            if layer == "compound" and field == key and value is None:
                value = fid  # the compound is keyed by its name: it cannot be empty
            if not same(value, row.get(field)):
                out.setdefault(fid, {})[field] = value
    if problems:
        raise ValidationError(problems)
    return out


def _names(fids: Sequence[str]) -> str:
    return plain(", ".join(fids))


def _rows(store: LayerStore) -> dict[str, dict[str, Any]]:
    """The layer on disk now: ``{fid: row}`` (rows as `LayerStore.get` gives them)."""
    frame = store.load()
    return {
        str(rec[store.key]): {k: plain_value(v) for k, v in rec.items()}
        for rec in frame.to_dict("records")
    }


def save(
    path: Path,
    layer: str,
    edits: Mapping[str, Mapping[str, Any]],
    seen: Mapping[str, int],
    lang: str,
) -> list[dict[str, Any]] | None:
    """Store `edits` (``{fid: {field: value}}``) in one write: all of them, or none.

    `seen` gives each feature's revision as the table showed it. Returns the
    stored rows, or None when nothing was stored (a message says why).
    """
    if not edits:
        return []
    store = layer_edits.layer_store(path, layer)
    fids = list(edits)
    stale: list[str] = []
    try:
        now = _rows(store)
        stale = [f for f in fids if f not in now or int(now[f]["rev"]) != seen.get(f)]
        if stale:
            raise ConflictError(f"{store.noun} {', '.join(stale)} changed in another session")
        after = store.update_many(edits, expected_revs={f: seen[f] for f in fids})
    except ConflictError:
        state.flash("error", t("table.conflict", lang, features=_names(stale or fids)))
        return None
    except GridGISError as exc:
        detail = layer_edits.problem_text(exc, layer, lang)
        state.flash("error", t("table.not_saved", lang, detail=detail))
        return None
    workspace.bump(path)
    if len(after) == 1:
        new_fid = str(after[0][store.key])  # the compound's key is its name: it may change
        state.push_undo("update", new_fid, now[fids[0]], after[0], layer=layer)
        state.layer_selection()[layer] = new_fid
    else:
        befores = {f: now[f] for f in fids}
        afters = {str(row[store.key]): row for row in after}
        state.push_undo(BULK, ", ".join(fids), befores, afters, layer=layer)
    state.flash("success", t("table.saved", lang, n=len(after), features=_names(fids)))
    return after


def _renumber(layer: str, restored: Sequence[Mapping[str, Any]], key: str) -> None:
    """Older single-feature entries now undo from the restored rows' new revisions."""
    for row in restored:
        fid = str(row[key])
        for older in reversed(state.undo_stack()):
            if older.get("layer", "sites") != layer:
                continue
            if older["op"] == BULK:
                if fid in (older["after"] or {}):
                    break  # checked by value when undone: no revision to carry
                continue
            if older["site_id"] == fid and older["after"] is not None:
                older["after"] = {**older["after"], "rev": row["rev"]}
                break


def undo(path: Path, entry: Mapping[str, Any], lang: str) -> None:
    """Take back one `BULK` entry (already popped from the undo stack) in one write."""
    layer = str(entry["layer"])
    before: Mapping[str, Mapping[str, Any]] = entry["before"]
    after: Mapping[str, Mapping[str, Any]] = entry["after"]
    fields = layer_edits.FIELDS[layer]
    store = layer_edits.layer_store(path, layer)
    moved: list[str] = []
    try:
        now = _rows(store)
        moved = [
            fid
            for fid, done in after.items()
            if fid not in now or not all(same(now[fid].get(f), done.get(f)) for f in fields)
        ]
        if moved:
            raise ConflictError(f"{store.noun} {', '.join(moved)} changed since the table edit")
        restored = store.update_many(
            {fid: {f: before[fid].get(f) for f in fields} for fid in after},
            expected_revs={fid: int(now[fid]["rev"]) for fid in after},
        )
    except ConflictError:
        state.flash("error", t("table.undo_conflict", lang, features=_names(moved or list(after))))
        return
    except GridGISError as exc:
        detail = layer_edits.problem_text(exc, layer, lang)
        state.flash("error", t("table.not_saved", lang, detail=detail))
        return
    workspace.bump(path)
    _renumber(layer, restored, store.key)
    state.flash("info", t("table.undone", lang, features=_names(list(after))))

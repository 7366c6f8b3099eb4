"""The check record: what a rule check found, as numbers and keys, never words.

Each check is ``{rule, status, ok, severity, measured, needed, unit, ids,
reason, params}`` (`CHECK_KEYS`; `gridgis.analysis.rules` describes each key).
``ok`` is True for ``pass``, False for ``fail`` and None for ``not_checked``:
a check not run is never a pass, and `check_summary` gives the all-clear only
when every check ran and passed. `gridgis.report.checks` turns records into
sentences.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gridgis.errors import GridGISError

__all__ = [
    "CHECK_KEYS",
    "OK_OF_STATUS",
    "REASONS",
    "STATUSES",
    "check_record",
    "check_summary",
]

STATUSES = ("pass", "fail", "not_checked")
"""A check's status; ``ok`` is True, False and None for them."""

REASONS = (
    "no_compound_layer",
    "no_buildings_layer",
    "no_paths_layer",
    "no_spaces_layer",
    "no_fire_lanes",
    "unknown_site_type",
    "no_geometry",
    "not_applicable",
    "none_near",
)
"""Why a check was not run (``not_checked``) or passed trivially (``pass``)."""

CHECK_KEYS = (
    "rule", "status", "ok", "severity", "measured", "needed", "unit", "ids", "reason", "params"
)  # fmt: skip
"""The keys of every check record, in order."""


def check_record(
    status: str,
    measured: float | None = None,
    needed: float | None = None,
    unit: str | None = None,
    ids: list[str] | None = None,
    reason: str | None = None,
    **params: Any,
) -> dict[str, Any]:
    """A record without ``rule``, ``ok`` and ``severity`` (`check_sites` adds them).

    Numbers are rounded to the millimetre (or mm2); numpy scalars in
    `params` become Python numbers.
    """
    return {
        "status": status,
        "measured": None if measured is None else round(float(measured), 3),
        "needed": None if needed is None else round(float(needed), 3),
        "unit": unit,
        "ids": ids or [],
        "reason": reason,
        "params": {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()},
    }


OK_OF_STATUS: dict[str, bool | None] = {"pass": True, "fail": False, "not_checked": None}
"""A record's ``ok`` for its ``status``."""


def check_summary(checks: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of a site's (or a plan's) checks by status, and whether all is clear.

    ``all_clear`` is True only when there is at least one check and every
    check ran and passed: a check not run is never counted as passed.

    Examples
    --------
    >>> check_summary([{"status": "pass"}, {"status": "not_checked"}])
    {'passed': 1, 'failed': 0, 'not_checked': 1, 'all_clear': False}
    """
    counts = {"pass": 0, "fail": 0, "not_checked": 0}
    for check in checks:
        status = check["status"]
        if status not in counts:
            raise GridGISError(f"check status must be one of {STATUSES}, got {status!r}")
        counts[status] += 1
    total = sum(counts.values())
    return {
        "passed": counts["pass"],
        "failed": counts["fail"],
        "not_checked": counts["not_checked"],
        "all_clear": total > 0 and counts["pass"] == total,
    }

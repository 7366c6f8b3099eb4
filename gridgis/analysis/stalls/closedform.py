"""Closed-form stall counts of rectangular e-bike sheds, and the stall rules.

`rectangle_stalls` counts, for many rectangles at once, the stalls that
`gridgis.analysis.stalls.layout.layout_stalls` lays out in each (rows along both sides tried,
the long side winning ties), without placing them. `charging` gives the
charging ports and circuits for a number of bikes. Both read the stall rules
(``rules.bike_space_*``, ``rules.shed_*``) through `stall_rules`, which
`gridgis.analysis.stalls.layout` shares. Lengths within ``TOLERANCE_M`` (1 cm) of a fit count
as fitting.

Examples
--------
>>> from gridgis.core.settings import default_settings
>>> rectangle_stalls([20], [6.2], settings=default_settings())["count"].tolist()
[50]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gridgis.core.settings import Settings
from gridgis.errors import GridGISError, SettingsError

__all__ = [
    "EPS",
    "TOLERANCE_M",
    "StallRules",
    "charging",
    "rectangle_arrays",
    "rectangle_stalls",
    "stall_rules",
]

TOLERANCE_M = 0.01
"""Digitising allowance: lengths within this of a fit count as fitting (1 cm)."""

EPS = 1e-9
"""Float noise: comparisons of lengths and counts allow this much."""
_F = NDArray[np.float64]


@dataclass(frozen=True)
class StallRules:
    """The stall rules of the settings, checked, in metres (see `stall_rules`)."""

    depth: float
    width: float
    aisle: float
    block_len: float
    block_bikes: int
    gap: float


def _positive(value: float, key: str) -> float:
    if not value > 0:
        raise SettingsError(f"setting {key!r} must be > 0 for a stall layout, got {value!r}")
    return float(value)


def stall_rules(settings: Settings, aisle_m: float | None) -> StallRules:
    """Read and check the stall rules: ``rules.bike_space_*`` and ``rules.shed_*``.

    `aisle_m` overrides ``rules.shed_aisle_width_m`` when given.

    Raises
    ------
    GridGISError
        `aisle_m` is not a number of metres >= 0.
    SettingsError
        A rule is not positive, or a block is shorter than one space.
    """
    r = settings.rules
    if aisle_m is None:
        aisle = float(r.shed_aisle_width_m.value)
    else:
        try:
            aisle = float(aisle_m)
        except (TypeError, ValueError):
            aisle = math.nan
        if not (math.isfinite(aisle) and aisle >= 0):
            raise GridGISError(f"aisle_m must be a number of metres >= 0, got {aisle_m!r}")
    width = _positive(r.bike_space_width_m.value, "rules.bike_space_width_m")
    block_len = _positive(r.shed_block_max_length_m.value, "rules.shed_block_max_length_m")
    if block_len + EPS < width:
        raise SettingsError(
            f"setting 'rules.shed_block_max_length_m' must be at least one space width "
            f"({width!r} m), got {block_len!r}"
        )
    bikes = _positive(r.shed_block_max_bikes.value, "rules.shed_block_max_bikes")
    return StallRules(
        depth=_positive(r.bike_space_length_m.value, "rules.bike_space_length_m"),
        width=width,
        aisle=aisle,
        block_len=block_len,
        block_bikes=max(math.floor(bikes + EPS), 1),
        gap=float(r.shed_block_gap_m.value),
    )


def charging(count: ArrayLike, *, settings: Settings) -> tuple[Any, Any]:
    """Charging ports and circuits for `count` bikes (numbers or arrays).

    Ports are ``ceil(count / rules.bikes_per_charging_port)``, circuits
    ``ceil(ports / rules.sockets_per_circuit_max)``.

    Examples
    --------
    >>> from gridgis.core.settings import default_settings
    >>> charging(50, settings=default_settings())
    (17, 2)
    """
    per_port = _positive(
        settings.rules.bikes_per_charging_port.value, "rules.bikes_per_charging_port"
    )
    per_circuit = _positive(
        settings.rules.sockets_per_circuit_max.value, "rules.sockets_per_circuit_max"
    )
    n = np.asarray(count, dtype=float)
    ports = np.ceil(n / per_port - EPS)
    circuits = np.ceil(ports / per_circuit - EPS)
    if n.ndim == 0:
        return int(ports), int(circuits)
    return ports.astype(np.int64), circuits.astype(np.int64)


def _per_row(m: Any, ru: StallRules) -> Any:
    """Spaces per row in a full block of a stack of `m` rows (at least 1)."""
    by_len = math.floor(ru.block_len / ru.width + EPS)
    return np.maximum(np.minimum(by_len, np.floor(ru.block_bikes / np.maximum(m, 1) + EPS)), 1)


# --- closed form for rectangles ----------------------------------------------------------------


def _columns(length: _F, per_row: _F, ru: StallRules) -> tuple[_F, _F]:
    """Spaces along one row of `length` (tolerance included) and blocks, per stack."""
    block = per_row * ru.width
    full = np.floor((length + ru.gap) / (block + ru.gap) + EPS)
    rest = length - full * (block + ru.gap)
    partial = np.clip(np.floor(rest / ru.width + EPS), 0, per_row)
    return full * per_row + partial, full + (partial > 0)


def _rect_one_way(length: _F, across: _F, ru: StallRules) -> tuple[_F, _F]:
    """Stalls and blocks with rows along `length` (both with the tolerance added)."""
    d, a = ru.depth, ru.aisle
    bay = 2 * d + a
    bays = np.floor(across / bay + EPS)
    rest = across - bays * bay
    extra = rest + EPS >= d + a
    single = (bays == 0) & ~extra & (rest + EPS >= d)
    n_rows = 2 * bays + extra + single
    if ru.gap <= EPS:  # every row its own stack
        cols, blocks = _columns(length, _per_row(1, ru), ru)
        return n_rows * cols, n_rows * blocks
    if a + EPS < ru.gap:  # aisles too narrow to separate blocks: one stack of all rows
        cols, blocks = _columns(length, _per_row(n_rows, ru), ru)
        return n_rows * cols, np.where(n_rows > 0, blocks, 0)
    # stacks: the first row alone, back-to-back pairs, the last row alone or paired with the extra
    ones = np.where(bays >= 1, 1 + ~extra, n_rows)
    twos = np.where(bays >= 1, bays - 1 + extra, 0)
    c1, b1 = _columns(length, _per_row(1, ru), ru)
    c2, b2 = _columns(length, _per_row(2, ru), ru)
    return ones * c1 + 2 * twos * c2, ones * b1 + twos * b2


def rectangle_stalls(
    length: ArrayLike, width: ArrayLike, *, settings: Settings, aisle_m: float | None = None
) -> pd.DataFrame:
    """Stall count of rectangles in closed form: what `layout_stalls` lays out.

    Parameters
    ----------
    length, width
        Sides of each rectangle in metres (any order).
    settings
        Project settings (``rules``).
    aisle_m
        Aisle width; default ``rules.shed_aisle_width_m``.

    Returns
    -------
    DataFrame
        One row per rectangle: ``count``, ``blocks`` and ``along_long_side``
        (True when the rows run along the long side, which wins ties).

    Examples
    --------
    >>> from gridgis.core.settings import default_settings
    >>> rectangle_stalls([20, 30], [6.2, 12.5], settings=default_settings())["count"].tolist()
    [50, 150]
    """
    ru = stall_rules(settings, aisle_m)
    count, blocks, along_long_side = rectangle_arrays(length, width, ru)
    return pd.DataFrame(
        {"count": count, "blocks": blocks, "along_long_side": along_long_side}, copy=False
    )


def rectangle_arrays(
    length: ArrayLike, width: ArrayLike, ru: StallRules
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """`rectangle_stalls` as arrays (count, blocks, along the long side), without a frame."""
    a = np.atleast_1d(np.asarray(length, dtype=float))
    b = np.atleast_1d(np.asarray(width, dtype=float))
    ok = np.isfinite(a) & np.isfinite(b)
    s1 = np.where(ok, np.fmax(a, b), 0.0) + TOLERANCE_M
    s2 = np.where(ok, np.fmin(a, b), 0.0) + TOLERANCE_M
    c1, b1 = _rect_one_way(s1, s2, ru)
    c2, b2 = _rect_one_way(s2, s1, ru)
    first = c1 >= c2
    return (
        np.where(first, c1, c2).astype(np.int64),
        np.where(first, b1, b2).astype(np.int64),
        first,
    )

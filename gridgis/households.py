"""Households per building: the number every per-household figure rests on.

Households are data (a ``households`` value per building). Only when that is
missing are they derived as units x floors x households per floor, and the
derivation is flagged; a building with neither is reported as unknown, never
counted as 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["resolve_households"]


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def resolve_households(buildings: pd.DataFrame, *, per_floor: float) -> pd.DataFrame:
    """Return each building's households and whether they were derived.

    Parameters
    ----------
    buildings
        The buildings layer (``households``; optionally ``units``, ``floors``).
    per_floor
        Households per floor per unit, used only where ``households`` is missing.

    Returns
    -------
    DataFrame
        Index of `buildings`; ``households`` (float, NaN when unknown) and
        ``derived`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"households": [28, None, None], "units": [1, 2, None],
    ...                   "floors": [7, 6, None]})
    >>> resolve_households(b, per_floor=2).to_dict("list")
    {'households': [28.0, 24.0, nan], 'derived': [False, True, False]}
    """
    given = _numeric(buildings, "households")
    fallback = _numeric(buildings, "units") * _numeric(buildings, "floors") * per_floor
    derived = given.isna() & fallback.notna()
    households = given.where(~derived, fallback)
    return pd.DataFrame({"households": households, "derived": derived}, index=buildings.index)

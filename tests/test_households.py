import numpy as np
import pandas as pd

from gridgis.households import resolve_households


def test_given_households_win_and_missing_are_derived_or_unknown():
    b = pd.DataFrame(
        {"households": [28, None, None, 0], "units": [3, 2, None, 1], "floors": [7, 6, 5, 6]},
        index=[10, 11, 12, 13],
    )
    out = resolve_households(b, per_floor=2)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.loc[10, "households"] == 28 and not out.loc[10, "derived"]
    assert out.loc[11, "households"] == 2 * 6 * 2 and out.loc[11, "derived"]
    assert np.isnan(out.loc[12, "households"]) and not out.loc[12, "derived"]
    assert out.loc[13, "households"] == 0  # a real zero stays zero


def test_text_households_are_unknown_not_zero():
    out = resolve_households(pd.DataFrame({"households": ["many"]}), per_floor=2)
    assert out["households"].isna().all()

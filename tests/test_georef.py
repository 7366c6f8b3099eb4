"""Placing a scanned plan from control points: a known transform near Chengdu is found."""

from __future__ import annotations

import json
import math

import numpy as np
import pyproj
import pytest

from gridgis.core.georef import ImagePlacement, fit_transform
from gridgis.errors import GridGISError

METRIC = "EPSG:4544"
TO_M = pyproj.Transformer.from_crs(4326, METRIC, always_xy=True)
TO_LL = pyproj.Transformer.from_crs(METRIC, 4326, always_xy=True)
X0, Y0 = TO_M.transform(104.06, 30.66)
CHECK = np.array([(0, 0), (2400, 0), (2400, 1800), (0, 1800), (1234.5, 987.6), (3000, -500)])


def _known(matrix: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Pixels through a 2 x 2 `matrix` (metres per pixel) to lon/lat, about Chengdu."""
    xy = np.asarray(pixels, float) @ matrix.T + (X0, Y0)
    return np.column_stack(TO_LL.transform(xy[:, 0], xy[:, 1]))


def _error_m(lonlat: np.ndarray, expected: np.ndarray) -> float:
    a, b = np.column_stack(TO_M.transform(*lonlat.T)), np.column_stack(TO_M.transform(*expected.T))
    return float(np.hypot(*(a - b).T).max())


def _similarity(scale: float, degrees: float) -> np.ndarray:
    t = math.radians(degrees)  # row axis points down the image, north up the map
    return scale * np.array([[math.cos(t), math.sin(t)], [math.sin(t), -math.cos(t)]])


def test_two_points_give_the_similarity() -> None:
    m = _similarity(0.085, 23.0)
    pixels = np.array([(150.0, 220.0), (2100.0, 1650.0)])
    fit = fit_transform(pixels, _known(m, pixels))
    assert fit.crs == METRIC
    assert _error_m(fit.to_map(CHECK), _known(m, CHECK)) < 0.5
    assert _error_m(fit.to_map(CHECK), _known(m, CHECK)) < 0.01  # in fact to the cm
    assert math.hypot(fit.a, fit.d) == pytest.approx(0.085, rel=1e-3)
    assert fit.b == pytest.approx(fit.d) and fit.e == pytest.approx(-fit.a)  # no shear
    assert max(fit.residuals_m) < 1e-6 and fit.rms_m < 1e-6


def test_three_points_give_the_affine() -> None:
    m = np.array([[0.09, 0.012], [0.015, -0.07]])  # sheared and stretched unevenly
    pixels = np.array([(100.0, 100.0), (2200.0, 300.0), (900.0, 1700.0)])
    fit = fit_transform(pixels, _known(m, pixels))
    assert _error_m(fit.to_map(CHECK), _known(m, CHECK)) < 0.5
    assert fit.rms_m < 1e-6 and len(fit.residuals_m) == 3
    back = fit.to_image(fit.to_map(CHECK))
    assert np.abs(back - CHECK).max() < 1e-3


def test_noisy_points_report_their_residuals() -> None:
    m = _similarity(0.1, -40.0)
    pixels = np.array([(0.0, 0.0), (2000.0, 0.0), (2000.0, 1500.0), (0.0, 1500.0)])
    clicks = _known(m, pixels)
    rng = np.random.default_rng(7)
    xy = np.column_stack(TO_M.transform(*clicks.T)) + rng.normal(0, 0.3, (4, 2))
    fit = fit_transform(pixels, np.column_stack(TO_LL.transform(*xy.T)))
    assert 0.05 < fit.rms_m < 1.0 and len(fit.residuals_m) == 4
    rms = math.sqrt(sum(r * r for r in fit.residuals_m) / 4)
    assert fit.rms_m == pytest.approx(rms)
    assert _error_m(fit.to_map(CHECK[:5]), _known(m, CHECK[:5])) < 1.0


def test_corners_follow_the_image() -> None:
    m = _similarity(0.1, 90.0)
    pixels = np.array([(0.0, 0.0), (1000.0, 500.0)])
    fit = fit_transform(pixels, _known(m, pixels))
    corners = fit.corners(1000, 500)
    assert corners.shape == (4, 2)
    expected = _known(m, np.array([(0, 0), (1000, 0), (1000, 500), (0, 500)]))
    assert _error_m(corners, expected) < 0.01
    with pytest.raises(GridGISError, match="width, height"):
        fit.corners(0, 500)


def test_to_dict_round_trip_is_json_safe() -> None:
    pixels = np.array([(10.0, 20.0), (800.0, 30.0), (400.0, 900.0)])
    fit = fit_transform(pixels, _known(_similarity(0.07, 5.0), pixels))
    text = json.dumps(fit.to_dict())
    again = ImagePlacement.from_dict(json.loads(text))
    assert again == fit
    assert np.allclose(again.to_map(CHECK), fit.to_map(CHECK), atol=0)
    with pytest.raises(GridGISError, match="missing keys"):
        ImagePlacement.from_dict({"a": 1.0})
    with pytest.raises(GridGISError, match="crs='nowhere'"):
        ImagePlacement.from_dict({**fit.to_dict(), "crs": "nowhere"})


@pytest.mark.parametrize(
    ("image", "lonlat", "words"),
    [
        ([(0, 0)], [(104.06, 30.66)], "1 point"),
        ([(0, 0), (0, 0)], [(104.06, 30.66), (104.07, 30.66)], "same point"),
        ([(0, 0), (9, 9)], [(104.06, 30.66), (104.06, 30.66)], "map_points"),
        ([(0, 0), (5, 5), (10, 10)], [(104.06, 30.66), (104.07, 30.66), (104.06, 30.67)],
         "one line"),
        ([(0, 0), (5, 0), (0, 5)], [(104.06, 30.66), (104.07, 30.66), (104.08, 30.66)],
         "map_points"),
        ([(0, 0), (5, 0)], [(104.06, 30.66)], "pair them"),
        ([(0, 0), (5, 0)], [(30.66, 104.06), (30.67, 104.06)], "lon/lat"),
        ([(0, "x"), (5, 0)], [(104.06, 30.66), (104.07, 30.66)], "image_points"),
    ],
)  # fmt: skip
def test_bad_control_points_are_named(image, lonlat, words) -> None:
    with pytest.raises(GridGISError, match=words):
        fit_transform(image, lonlat)

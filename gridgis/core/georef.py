"""Placing a scanned site plan on the map from control points.

The worker clicks a point on the image (``col, row`` pixels, row down, ``0, 0`` the
top-left corner of the image) and the same point on the map (``lon, lat`` WGS84). Two
pairs give a similarity (scale, rotation, translation: the plan keeps its shape); three
or more give a least-squares affine (numpy), which also takes up a scan's uneven
stretch. The fit is made in metres, in the local metric CRS, so the residuals are in
metres too. The placement is a frozen value saved with the project (`to_dict`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from gridgis.core.crs import local_metric_crs
from gridgis.errors import GridGISError

__all__ = ["ImagePlacement", "fit_transform"]

WGS84 = "EPSG:4326"
COLLINEAR = 1e-3  # smallest / largest spread of the points below which they are a line
COINCIDENT = 1e-9  # points closer than this (pixels or metres) are the same point


@functools.lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _crs_text(crs: pyproj.CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else crs.to_wkt()


def _points(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise GridGISError(f"{name}={values!r} is not a list of (x, y) pairs") from exc
    if arr.ndim == 1 and arr.size == 2:
        arr = arr.reshape(1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise GridGISError(f"{name} must be (x, y) pairs; got shape {arr.shape!r}")
    if not np.isfinite(arr).all():
        raise GridGISError(f"{name}={arr.tolist()!r} has a missing or infinite coordinate")
    return arr


def _check_spread(points: NDArray[np.float64], name: str) -> None:
    """Raise if the points coincide, or (3+) lie on one line."""
    centred = points - points.mean(axis=0)
    spread = np.linalg.svd(centred, compute_uv=False)
    if spread[0] <= COINCIDENT:
        raise GridGISError(f"{name}={points.tolist()!r} are all the same point")
    if len(points) > 2 and spread[1] <= COLLINEAR * spread[0]:
        msg = (
            f"{name}={points.tolist()!r} lie on one line; an affine needs points spread "
            "over the plan (or give two points for a similarity)"
        )
        raise GridGISError(msg)
    if len(points) == 2 or len(np.unique(points.round(9), axis=0)) < len(points):
        gaps = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
        if (gaps[np.triu_indices(len(points), 1)] <= COINCIDENT).any():
            raise GridGISError(f"{name}={points.tolist()!r} has two coincident points")


@dataclass(frozen=True)
class ImagePlacement:
    """Where an image lies on the map: ``x = a col + b row + c``, ``y = d col + e row + f``.

    ``x, y`` are metres in `crs` (an ``EPSG:`` code, or WKT when it has none).

    Examples
    --------
    >>> p = ImagePlacement(0.1, 0.0, 409907.1, 0.0, -0.1, 3393656.6, "EPSG:4544")
    >>> p.to_map([(0, 0)]).round(5).tolist()
    [[104.06, 30.66]]
    >>> ImagePlacement.from_dict(p.to_dict()) == p
    True
    """

    a: float
    b: float
    c: float
    d: float
    e: float
    f: float
    crs: str
    residuals_m: tuple[float, ...] = ()
    rms_m: float = 0.0

    def matrix(self) -> NDArray[np.float64]:
        """The 3 x 3 matrix taking ``(col, row, 1)`` to ``(x, y, 1)`` in metres."""
        return np.array([[self.a, self.b, self.c], [self.d, self.e, self.f], [0.0, 0.0, 1.0]])

    def to_metric(self, points: ArrayLike) -> NDArray[np.float64]:
        """Pixels ``(col, row)`` to metres ``(x, y)`` in `crs`, as an ``(n, 2)`` array."""
        px = _points(points, "points")
        return px @ self.matrix()[:2, :2].T + np.array([self.c, self.f])

    def to_map(self, points: ArrayLike) -> NDArray[np.float64]:
        """Pixels ``(col, row)`` to ``(lon, lat)`` WGS84, as an ``(n, 2)`` array."""
        xy = self.to_metric(points)
        lon, lat = _transformer(self.crs, WGS84).transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def to_image(self, lonlat: ArrayLike) -> NDArray[np.float64]:
        """``(lon, lat)`` WGS84 to pixels ``(col, row)``, as an ``(n, 2)`` array."""
        ll = _points(lonlat, "lonlat")
        x, y = _transformer(WGS84, self.crs).transform(ll[:, 0], ll[:, 1])
        inverse = np.linalg.inv(self.matrix())
        return (np.column_stack([x, y, np.ones(len(ll))]) @ inverse.T)[:, :2]

    def corners(self, width: float, height: float) -> NDArray[np.float64]:
        """The image's corners as ``(lon, lat)``: top-left, top-right, bottom-right,
        bottom-left (for a rotated Leaflet image overlay).

        Parameters
        ----------
        width, height
            The image size in pixels.
        """
        if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
            raise GridGISError(f"image size (width, height)={(width, height)!r} must be positive")
        return self.to_map([(0, 0), (width, 0), (width, height), (0, height)])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (plain floats, a list, a string), for the project file."""
        out: dict[str, Any] = {k: float(getattr(self, k)) for k in "abcdef"}
        out["crs"] = self.crs
        out["residuals_m"] = [float(r) for r in self.residuals_m]
        out["rms_m"] = float(self.rms_m)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImagePlacement:
        """The placement `to_dict` wrote; a missing or bad key raises `GridGISError`."""
        if not isinstance(data, Mapping):
            raise GridGISError(f"data={data!r} is not a mapping (an image placement)")
        missing = [k for k in (*"abcdef", "crs") if k not in data]
        if missing:
            raise GridGISError(f"image placement is missing keys {missing!r}")
        try:
            coeffs = [float(data[k]) for k in "abcdef"]
            residuals = tuple(float(r) for r in data.get("residuals_m", ()))
            rms = float(data.get("rms_m", 0.0))
        except (TypeError, ValueError) as exc:
            raise GridGISError(f"image placement has a non-number value: {exc}") from exc
        if not all(math.isfinite(v) for v in coeffs):
            raise GridGISError(f"image placement coefficients={coeffs!r} must be finite")
        try:
            pyproj.CRS.from_user_input(data["crs"])
        except pyproj.exceptions.CRSError as exc:
            raise GridGISError(f"image placement crs={data['crs']!r} is not a CRS") from exc
        a, b, c, d, e, f = coeffs
        return cls(a, b, c, d, e, f, str(data["crs"]), residuals, rms)


def _similarity(px: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[a, b, c, d, e, f]`` of the similarity (with the image's row axis flipped).

    With ``v = -row``: ``x = p col - q v + c``, ``y = q col + p v + f``.
    """
    n = len(px)
    col, v = px[:, 0], -px[:, 1]
    rows = np.zeros((2 * n, 4))
    rows[0::2] = np.column_stack([col, -v, np.ones(n), np.zeros(n)])
    rows[1::2] = np.column_stack([v, col, np.zeros(n), np.ones(n)])
    (p, q, c, f), *_ = np.linalg.lstsq(rows, xy.reshape(-1), rcond=None)
    return np.array([p, q, c, q, -p, f])


def _affine(px: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    design = np.column_stack([px, np.ones(len(px))])
    (sol), *_ = np.linalg.lstsq(design, xy, rcond=None)
    return np.concatenate([sol[:, 0], sol[:, 1]])


def fit_transform(
    image_points: ArrayLike,
    map_points: ArrayLike,
    *,
    crs: pyproj.CRS | str | int | None = None,
) -> ImagePlacement:
    """Fit the image's placement from control points.

    Parameters
    ----------
    image_points
        ``(col, row)`` pixels of the control points on the image.
    map_points
        The same points' ``(lon, lat)`` in WGS84 (convert GCJ-02 clicks first).
    crs
        The metric CRS to fit in (``Project.metric_crs()``); default the local one.

    Returns
    -------
    ImagePlacement
        A similarity for two points, a least-squares affine for three or more, with each
        point's residual and their RMS in metres.

    Examples
    --------
    >>> fit = fit_transform([(0, 0), (1000, 0)], [(104.06, 30.66), (104.061, 30.66)])
    >>> round(math.hypot(fit.a, fit.d), 4), fit.rms_m < 1e-6   # metres per pixel
    (0.0959, True)
    """
    px = _points(image_points, "image_points")
    ll = _points(map_points, "map_points")
    if len(px) != len(ll):
        msg = f"image_points has {len(px)} points but map_points has {len(ll)}; pair them"
        raise GridGISError(msg)
    if len(px) < 2:
        raise GridGISError(f"image_points has {len(px)} point(s); place the image by 2 or more")
    _check_spread(px, "image_points")
    if not (np.abs(ll[:, 0]) <= 180).all() or not (np.abs(ll[:, 1]) <= 90).all():
        raise GridGISError(f"map_points={ll.tolist()!r} are not lon/lat degrees")
    metric = (
        pyproj.CRS.from_user_input(crs)
        if crs is not None
        else local_metric_crs(tuple(ll.mean(axis=0)))
    )
    name = _crs_text(metric)
    x, y = _transformer(WGS84, name).transform(ll[:, 0], ll[:, 1])
    xy = np.column_stack([x, y])
    _check_spread(xy, "map_points")
    coeffs = _similarity(px, xy) if len(px) == 2 else _affine(px, xy)
    a, b, c, d, e, f = (float(v) for v in coeffs)
    placed = ImagePlacement(a, b, c, d, e, f, crs=name)
    residuals = np.hypot(*(placed.to_metric(px) - xy).T)
    rms = float(np.sqrt(np.mean(residuals**2)))
    return ImagePlacement(a, b, c, d, e, f, name, tuple(residuals.tolist()), rms)

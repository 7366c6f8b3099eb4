"""The project's plan image: a photo or scan of the paper site plan, placed on the map to trace.

A folder project keeps it as ``plan_image.json`` (the record: file, size, placement,
opacity, control points, revision) and the image itself as
``plan_image/<sha256 prefix>.png|jpg`` (named by its content). A write holds the
project's lock (`gridgis.core.store.project_lock`), writes a new image under a new name
first and then the record atomically (`gridgis.core.io.atomic.write_bytes`): the record
is the commit point, so a kill leaves the old plan or the new one, never a record naming
a missing file; files the record no longer names are removed on the next write. Each
write names the revision it read (``expected_rev``): another session's change in between
raises `ConflictError` instead of being overwritten. A GeoPackage project has no plan
image (it is one file to pass around; a scan beside it would not travel with it):
writing one raises `ProjectError`, reading gives None.

Uploads are checked and made upright and at most ``DISPLAY_PX`` on a side by
`gridgis.core.image_upload.prepare_image`; a placement given in the upload's pixels is
scaled with the image (`for_resized`). The first placement fits the image into the
compound's bounds (`fit_into`); control points then refine it
(`gridgis.core.georef.fit_transform`, `PlanImageStore.fit`).

Examples
--------
>>> import io, shutil, tempfile
>>> from PIL import Image
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> png = io.BytesIO()
>>> Image.new("L", (400, 300), 255).save(png, "PNG")
>>> store = PlanImageStore(work)
>>> plan = store.upload(png.getvalue(), name="plan.png", expected_rev=0,
...                     bounds=(104.069, 30.669, 104.071, 30.671))
>>> plan.rev, plan.width, plan.height, plan.opacity
(1, 400, 300, 0.6)
>>> store.update(expected_rev=1, opacity=0.3).opacity
0.3
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
from numpy.typing import NDArray

from gridgis.core.crs import local_metric_crs
from gridgis.core.georef import ImagePlacement, fit_transform
from gridgis.core.image_upload import prepare_image
from gridgis.core.io.atomic import write_bytes
from gridgis.core.store.lock import project_lock
from gridgis.errors import ConflictError, GridGISError, ProjectError

__all__ = [
    "DEFAULT_OPACITY",
    "RECORD_FILE",
    "PlanImage",
    "PlanImageStore",
    "fit_into",
    "for_resized",
]

DEFAULT_OPACITY = 0.6
RECORD_FILE = "plan_image.json"
IMAGE_FOLDER = "plan_image"
_MEDIA = {".png": "image/png", ".jpg": "image/jpeg"}


def for_resized(placement: ImagePlacement, scale_x: float, scale_y: float) -> ImagePlacement:
    """The same placement for the image resized by `scale_x`, `scale_y` (new px per old px).

    Examples
    --------
    >>> p = ImagePlacement(0.1, 0.0, 409907.1, 0.0, -0.1, 3393656.6, "EPSG:4544")
    >>> q = for_resized(p, 0.5, 0.5)
    >>> bool(np.allclose(q.to_metric([(50, 20)]), p.to_metric([(100, 40)])))
    True
    """
    if not (scale_x > 0 and scale_y > 0):
        raise GridGISError(f"scale (x, y)={(scale_x, scale_y)!r} must be positive")
    return dataclasses.replace(
        placement,
        a=placement.a / scale_x,
        b=placement.b / scale_y,
        d=placement.d / scale_x,
        e=placement.e / scale_y,
    )


def fit_into(
    width: float,
    height: float,
    bounds: Sequence[float],
    *,
    crs: pyproj.CRS | str | int | None = None,
) -> ImagePlacement:
    """The image north up on the map, as large as fits in `bounds`, centred, keeping its shape.

    Parameters
    ----------
    width, height
        The image size in pixels.
    bounds
        ``(west, south, east, north)`` in WGS84 (a compound's ``total_bounds``).
    crs
        The metric CRS (``Project.metric_crs()``); default the local one.

    Examples
    --------
    >>> p = fit_into(200, 100, (104.06, 30.66, 104.062, 30.662))
    >>> p.corners(200, 100).round(6).tolist()   # top-left, top-right, bottom-right, bottom-left
    [[104.06, 30.661432], [104.062, 30.661432], [104.062, 30.660568], [104.06, 30.660568]]
    """
    west, south, east, north = (float(v) for v in bounds)
    if not (width > 0 and height > 0) or not all(map(math.isfinite, (west, south, east, north))):
        raise GridGISError(f"image size {(width, height)!r} or bounds {bounds!r} are not usable")
    cx, cy = (west + east) / 2, (south + north) / 2
    geod = pyproj.Geod(ellps="WGS84")
    span_x = geod.inv(west, cy, east, cy)[2]  # metres across the middle
    span_y = geod.inv(cx, south, cx, north)[2]
    if not (span_x > 0 and span_y > 0):
        raise GridGISError(f"bounds={bounds!r} enclose no area to fit the image into")
    scale = min(span_x / width, span_y / height)  # metres a pixel
    half_lon = (east - west) / 2 * scale * width / span_x
    half_lat = (north - south) / 2 * scale * height / span_y
    top_left, top_right = (cx - half_lon, cy + half_lat), (cx + half_lon, cy + half_lat)
    bottom_left = (cx - half_lon, cy - half_lat)
    metric = crs if crs is not None else local_metric_crs((cx, cy))
    pixels = [(0, 0), (width, 0), (0, height)]
    placed = fit_transform(pixels, [top_left, top_right, bottom_left], crs=metric)
    return dataclasses.replace(placed, residuals_m=(), rms_m=0.0)


def _pairs(values: Any, name: str) -> tuple[tuple[float, float], ...]:
    try:
        out = tuple((float(x), float(y)) for x, y in values)
    except (TypeError, ValueError) as exc:
        raise GridGISError(f"{name}={values!r} is not a list of (x, y) pairs") from exc
    if not all(map(math.isfinite, (v for p in out for v in p))):
        raise GridGISError(f"{name}={values!r} has a missing or infinite coordinate")
    return out


@dataclass(frozen=True)
class PlanImage:
    """The plan image of a project: its file, size, placement, opacity and control points.

    ``image_points`` (``col, row`` pixels of the stored image) and ``map_points``
    (``lon, lat`` WGS84) pair up: the control points the placement was fitted from.
    ``rev`` counts the writes (0: none). ``path`` is the image file on disk.
    """

    file: str
    width: int
    height: int
    placement: ImagePlacement
    opacity: float = DEFAULT_OPACITY
    image_points: tuple[tuple[float, float], ...] = ()
    map_points: tuple[tuple[float, float], ...] = ()
    rev: int = 0
    name: str = ""
    path: Path | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.opacity, int | float) and 0.0 <= self.opacity <= 1.0):
            raise GridGISError(f"plan image opacity={self.opacity!r} must be between 0 and 1")
        if not (self.width > 0 and self.height > 0):
            raise GridGISError(f"plan image size {(self.width, self.height)!r} must be positive")
        if len(self.image_points) != len(self.map_points):
            raise GridGISError(
                f"plan image has {len(self.image_points)} image points but "
                f"{len(self.map_points)} map points; they pair up"
            )

    @property
    def media_type(self) -> str:
        """``image/png`` or ``image/jpeg``."""
        return _MEDIA.get(Path(self.file).suffix.lower(), "application/octet-stream")

    def corners(self) -> NDArray[np.float64]:
        """``(lon, lat)`` of the top-left, top-right, bottom-right and bottom-left corners."""
        return self.placement.corners(self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        """The record as ``plan_image.json`` holds it (JSON-safe)."""
        return {
            "format": 1,
            "rev": int(self.rev),
            "file": self.file,
            "name": self.name,
            "width": int(self.width),
            "height": int(self.height),
            "opacity": float(self.opacity),
            "placement": self.placement.to_dict(),
            "image_points": [list(p) for p in self.image_points],
            "map_points": [list(p) for p in self.map_points],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> PlanImage:
        """The record `to_dict` wrote; a missing or bad value raises `GridGISError`."""
        try:
            return cls(
                file=str(data["file"]),
                width=int(data["width"]),
                height=int(data["height"]),
                placement=ImagePlacement.from_dict(data["placement"]),
                opacity=float(data.get("opacity", DEFAULT_OPACITY)),
                image_points=_pairs(data.get("image_points", ()), "image_points"),
                map_points=_pairs(data.get("map_points", ()), "map_points"),
                rev=int(data.get("rev", 0)),
                name=str(data.get("name", "")),
                path=path,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GridGISError(f"plan image record has a missing or bad value: {exc!r}") from exc


class PlanImageStore:
    """The plan image of the project at `project_path`, read and written safely.

    Parameters
    ----------
    project_path
        A project folder (a ``.gpkg`` has no plan image: writes raise `ProjectError`).
    timeout
        Seconds a write waits for the project lock (default `LOCK_TIMEOUT_S`).
    """

    def __init__(self, project_path: str | os.PathLike[str], *, timeout: float | None = None):
        self.path = Path(project_path)
        self.timeout = timeout
        self.supported = self.path.is_dir()
        self.record = self.path / RECORD_FILE
        self.folder = self.path / IMAGE_FOLDER

    def _read(self) -> dict[str, Any]:
        if not self.supported:
            return {}
        try:
            text = self.record.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ProjectError(f"cannot read {str(self.record)!r}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProjectError(f"{str(self.record)!r} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ProjectError(f"{str(self.record)!r} is not a plan image record")
        return data

    def revision(self) -> int:
        """The revision on disk: 0 when there never was a plan image (a removal counts)."""
        try:
            return int(self._read().get("rev", 0))
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"{str(self.record)!r} has a bad revision: {exc}") from exc

    def load(self) -> PlanImage | None:
        """The plan image now on disk, or None (none, removed, or not a folder project)."""
        data = self._read()
        if not data.get("file"):
            return None
        plan = PlanImage.from_dict(data, path=self.path / str(data["file"]))
        if plan.path is None or not plan.path.is_file():
            raise ProjectError(f"{str(self.record)!r} names image {plan.file!r}, which is missing")
        return plan

    def read_bytes(self) -> bytes | None:
        """The stored image's bytes, or None when there is no plan image."""
        plan = self.load()
        return None if plan is None or plan.path is None else plan.path.read_bytes()

    def _writable(self) -> None:
        if not self.supported:
            raise ProjectError(
                f"project {str(self.path)!r} is not a folder project: a plan image needs one "
                "(open or make a folder project, then upload the image)"
            )

    def _check_rev(self, expected_rev: int) -> PlanImage | None:
        rev = self.revision()
        if int(expected_rev) != rev:
            raise ConflictError(
                f"the plan image of {self.path.name!r} was changed by another session "
                f"(revision {rev}, this one read {expected_rev!r}): reload it, then try again"
            )
        return self.load()

    def _write(self, plan: PlanImage) -> PlanImage:
        write_bytes(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1).encode(), self.record)
        self._sweep(keep=plan.file)
        return dataclasses.replace(plan, path=self.path / plan.file)

    def _sweep(self, keep: str | None) -> None:
        """Remove images and temporary files the record does not name (hold the lock)."""
        if not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            if f"{IMAGE_FOLDER}/{entry.name}" != keep and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
        if keep is None:
            with contextlib.suppress(OSError):
                self.folder.rmdir()

    def upload(
        self,
        data: bytes,
        *,
        name: str,
        expected_rev: int,
        bounds: Sequence[float] | None = None,
        placement: ImagePlacement | None = None,
        opacity: float | None = None,
        crs: pyproj.CRS | str | int | None = None,
    ) -> PlanImage:
        """Store a new plan image (replacing any), placed by `bounds` or `placement`.

        Parameters
        ----------
        data, name
            The uploaded file and its name (`prepare_image` checks it).
        expected_rev
            The revision read before (0: there was none).
        bounds
            ``(west, south, east, north)``: fit the image in them (`fit_into`).
        placement
            Or: the placement in the upload's pixels (upright); scaled with the image.
        opacity
            Default: the old image's, else `DEFAULT_OPACITY`.
        crs
            The metric CRS for `bounds` (``Project.metric_crs()``).

        Raises
        ------
        ImageError, ConflictError, ProjectError
        """
        self._writable()
        if (bounds is None) == (placement is None):
            raise GridGISError("give the plan image's bounds= or its placement=, one of them")
        ready = prepare_image(data, name=name)
        if placement is not None:
            placed = for_resized(placement, ready.scale_x, ready.scale_y)
        else:
            placed = fit_into(ready.width, ready.height, () if bounds is None else bounds, crs=crs)
        digest = hashlib.sha256(ready.data).hexdigest()[:16]
        file = f"{IMAGE_FOLDER}/{digest}{ready.suffix}"
        with project_lock(self.path, timeout=self.timeout):
            current = self._check_rev(expected_rev)
            keep = DEFAULT_OPACITY if current is None else current.opacity
            plan = PlanImage(file, ready.width, ready.height, placed,
                             keep if opacity is None else float(opacity),
                             rev=int(expected_rev) + 1, name=name)  # fmt: skip
            target = self.path / file
            if not target.is_file():
                self.folder.mkdir(exist_ok=True)
                write_bytes(ready.data, target)
            return self._write(plan)

    def update(
        self,
        *,
        expected_rev: int,
        placement: ImagePlacement | None = None,
        opacity: float | None = None,
        image_points: Sequence[Sequence[float]] | None = None,
        map_points: Sequence[Sequence[float]] | None = None,
    ) -> PlanImage:
        """Change the placement, opacity or control points (the others stay); one write.

        Raises
        ------
        ConflictError
            `expected_rev` is not the revision on disk.
        ProjectError
            There is no plan image to change, or the project is not a folder.
        """
        self._writable()
        changes: dict[str, Any] = {}
        if placement is not None:
            changes["placement"] = placement
        if opacity is not None:
            changes["opacity"] = float(opacity)
        if image_points is not None:
            changes["image_points"] = _pairs(image_points, "image_points")
        if map_points is not None:
            changes["map_points"] = _pairs(map_points, "map_points")
        with project_lock(self.path, timeout=self.timeout):
            current = self._check_rev(expected_rev)
            if current is None:
                raise ProjectError(f"project {self.path.name!r} has no plan image to change")
            plan = dataclasses.replace(current, **changes, rev=current.rev + 1)
            return self._write(plan)

    def fit(self, *, expected_rev: int, crs: pyproj.CRS | str | int | None = None) -> PlanImage:
        """Re-fit the placement from the stored control points (2 or more) and save it.

        Two points give a similarity, three or more an affine (`fit_transform`).
        """
        plan = self.load()
        if plan is None:
            raise ProjectError(f"project {self.path.name!r} has no plan image to place")
        placed = fit_transform(plan.image_points, plan.map_points, crs=crs)
        return self.update(expected_rev=expected_rev, placement=placed)

    def remove(self, *, expected_rev: int) -> int:
        """Remove the plan image: the record keeps only its next revision, the files go.

        Returns the new revision (a session still holding the old one gets a conflict).
        """
        self._writable()
        with project_lock(self.path, timeout=self.timeout):
            self._check_rev(expected_rev)
            rev = int(expected_rev) + 1
            write_bytes(json.dumps({"format": 1, "rev": rev}).encode(), self.record)
            self._sweep(keep=None)
            return rev

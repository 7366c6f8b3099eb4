"""The sites layer's store: per-site autosave that several sessions can share.

`SiteStore` is `LayerStore` for ``sites`` with the fields a planner edits
(`EDITABLE`) and site ids ``S1``, ``S2``...

Examples
--------
>>> import shutil, tempfile
>>> from shapely import box
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> store = SiteStore(work)
>>> row = store.add(box(104.0702, 30.6695, 104.0703, 30.6696), site_type="parking_shed")
>>> row["site_id"], row["rev"]
('S1', 1)
>>> store.update("S1", expected_rev=1, name="新车棚")["rev"]
2
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from shapely.geometry.base import BaseGeometry

from gridgis.core.settings import Settings
from gridgis.core.store.layer import LayerStore

__all__ = ["EDITABLE", "SiteStore"]

EDITABLE = ("name", "site_type", "notes", "status", "geometry")
"""Fields `SiteStore.update` may change."""


class SiteStore(LayerStore):
    """The sites layer of one project on disk, edited one site at a time.

    Parameters
    ----------
    project_path
        A project folder (``sites.geojson`` is written) or a ``.gpkg`` file
        (its ``sites`` layer is replaced, every other table kept).
    settings
        For validating site types; default: the shipped defaults.
    timeout
        Seconds a write waits for the project lock (default `LOCK_TIMEOUT_S`).
    """

    editable: ClassVar[tuple[str, ...] | None] = EDITABLE

    def __init__(
        self,
        project_path: str | os.PathLike[str],
        *,
        settings: Settings | None = None,
        timeout: float | None = None,
    ):
        super().__init__(project_path, "sites", settings=settings, timeout=timeout)
        self.columns = ("site_id", "site_type", "name", "status", "notes", "rev")

    def new_site_id(self) -> str:
        """``S`` + the next number not used by any site on disk."""
        return self.new_id("S")

    def add(  # type: ignore[override]
        self,
        geometry: BaseGeometry | Mapping[str, Any],
        *,
        site_type: str,
        name: str = "",
        notes: str = "",
        status: str = "proposed",
        site_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a new site; return its row (with ``site_id`` and ``rev`` 1).

        Raises
        ------
        ConflictError
            `site_id` is already taken.
        ValidationError
            The site breaks the layer contract (bad type, invalid polygon...).
        """
        return super().add(geometry, fid=site_id, site_type=site_type, name=name,
                           status=status, notes=notes)  # fmt: skip

"""Importers of data made elsewhere into gridgis projects (`gridgis.core.imports.osm`)."""

from __future__ import annotations

__all__: list[str] = []

"""Importers of data made elsewhere into gridgis projects: OpenStreetMap extracts
(`gridgis.core.imports.osm`) and CAD site plans (`gridgis.core.imports.dxf`)."""

from __future__ import annotations

__all__: list[str] = []

"""gridgis: GIS planning for renovating old residential compounds (老旧小区改造).

The short public API, imported lazily (``import gridgis`` loads none of the
GIS libraries until a name is used):

=================  =========================================================
`open_project`     open a project folder or GeoPackage (`gridgis.core.project`)
`save_project`     save a project, atomically (`gridgis.core.project`)
`read_layer`       read one layer from a file (`gridgis.core.io`)
`prepare`          a project prepared for analysis (`gridgis.analysis.engine`)
`analyze_sites`    the numbers and checks of sites (`gridgis.analysis.engine`)
`find_corners`     suggest golden corners for sites (`gridgis.analysis.corners`)
`layout_site`      the stall layout of a shed (`gridgis.analysis.stalls.site`)
`tally`            tally the owners' vote on sites (`gridgis.meeting.tally`)
=================  =========================================================

Examples
--------
>>> import gridgis
>>> from gridgis.core.project import open_project
>>> gridgis.open_project is open_project
True
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("gridgis")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ imports them
    from gridgis.analysis.corners import find_corners
    from gridgis.analysis.engine import analyze_sites, prepare
    from gridgis.analysis.stalls.site import layout_site
    from gridgis.core.io import read_layer
    from gridgis.core.project import open_project, save_project
    from gridgis.meeting.tally import tally

# each public name and the module it lives in
_HOMES: dict[str, str] = {
    "open_project": "gridgis.core.project",
    "save_project": "gridgis.core.project",
    "read_layer": "gridgis.core.io",
    "prepare": "gridgis.analysis.engine",
    "analyze_sites": "gridgis.analysis.engine",
    "find_corners": "gridgis.analysis.corners",
    "layout_site": "gridgis.analysis.stalls.site",
    "tally": "gridgis.meeting.tally",
}

__all__ = [
    "__version__",
    "analyze_sites",
    "find_corners",
    "layout_site",
    "open_project",
    "prepare",
    "read_layer",
    "save_project",
    "tally",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gridgis' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *_HOMES})

"""gridgis: GIS planning for renovating old residential compounds (老旧小区改造)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gridgis")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]

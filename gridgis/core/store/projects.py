"""One store per project: its layers' stores, the votes register and the settings.

Examples
--------
>>> import shutil, tempfile
>>> from gridgis.core.settings import settings_from_toml
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> store = ProjectStore(work)
>>> store.layer("sites").layer, len(store.votes.load())
('sites', 308)
>>> store.save_settings(settings_from_toml('[general]\\nlanguage = "en"'))
>>> (store.path / "settings.toml").read_text()
'[general]\\nlanguage = "en"\\n'
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pandas as pd

from gridgis.core import io
from gridgis.core.settings import Settings, settings_to_toml
from gridgis.core.store import files
from gridgis.core.store.layer import LayerStore
from gridgis.core.store.lock import project_lock, tidy
from gridgis.core.store.sites import SiteStore
from gridgis.core.store.votes import VotesStore
from gridgis.errors import ProjectError

__all__ = ["ProjectStore"]


class ProjectStore:
    """Every store of the project at `project_path` (a folder or a ``.gpkg``).

    Parameters
    ----------
    project_path
        The project on disk.
    settings
        For validating site types; default: the shipped defaults.
    timeout
        Seconds a write waits for the project lock (default `LOCK_TIMEOUT_S`).
    """

    def __init__(
        self,
        project_path: str | os.PathLike[str],
        *,
        settings: Settings | None = None,
        timeout: float | None = None,
    ):
        self.path = Path(project_path)
        if not self.path.exists():
            raise ProjectError(f"project path {str(self.path)!r} does not exist")
        self.settings = settings
        self.timeout = timeout

    def layer(self, name: str) -> LayerStore:
        """The store of layer `name` (a `SiteStore` for ``sites``)."""
        if name == "sites":
            return self.sites
        return LayerStore(self.path, name, settings=self.settings, timeout=self.timeout)

    @property
    def sites(self) -> SiteStore:
        """The sites layer's store."""
        return SiteStore(self.path, settings=self.settings, timeout=self.timeout)

    @property
    def votes(self) -> VotesStore:
        """The votes register's store."""
        return VotesStore(self.path, timeout=self.timeout)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the project lock (see `project_lock`)."""
        return project_lock(self.path, timeout=self.timeout)

    def save_settings(self, settings: Settings) -> None:
        """Write only the settings, and only the keys that differ from the shipped defaults.

        Folder: ``settings.toml`` is replaced atomically; GeoPackage: its
        ``gridgis_settings`` table. No layer is rewritten.
        """
        text = settings_to_toml(settings, only_changed=True)
        with self.locked():
            if files.is_gpkg(self.path):
                table = pd.DataFrame({"toml": [text]})
                io.update_gpkg({files.SETTINGS_TABLE: table}, self.path)
            else:
                files.write_file(self.path / files.SETTINGS_FILE, text.encode("utf-8"))

    def tidy(self) -> list[Path]:
        """Finish a killed whole-project save, remove leftover temporary files; return them."""
        with self.locked():
            return tidy(self.path)

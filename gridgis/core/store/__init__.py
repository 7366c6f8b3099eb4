"""The project store: one writer for every layer, the votes register and the settings.

Every write holds the project's lock (`project_lock`, cross-platform through
`filelock`, with a timeout and a clear message), re-reads what it changes,
checks revisions (`ConflictError` on a stale one) and writes atomically.

- `ProjectStore` (``.layer(name)``, ``.sites``, ``.votes``, ``.save_settings``)
- `LayerStore`: per-feature add / update / delete / restore for any layer
- `SiteStore`: the sites layer (the app's drawing and editing)
- `VotesStore`: the votes register, per building or household
- `files`: where layers live in a folder project; atomic and journalled writes
"""

from gridgis.core.store.files import SETTINGS_TABLE, read_layer_file
from gridgis.core.store.layer import LayerStore
from gridgis.core.store.lock import LOCK_TIMEOUT_S, lock_path, project_lock, tidy
from gridgis.core.store.projects import ProjectStore
from gridgis.core.store.sites import EDITABLE, SiteStore
from gridgis.core.store.votes import REGISTER_COLUMNS, VotesStore, as_register

__all__ = [
    "EDITABLE",
    "LOCK_TIMEOUT_S",
    "REGISTER_COLUMNS",
    "SETTINGS_TABLE",
    "LayerStore",
    "ProjectStore",
    "SiteStore",
    "VotesStore",
    "as_register",
    "lock_path",
    "project_lock",
    "read_layer_file",
    "tidy",
]

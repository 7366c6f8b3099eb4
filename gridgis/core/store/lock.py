"""The project lock: one writer at a time, across processes, threads and platforms.

Every write to a project (a feature, the votes register, the settings, a whole
save) holds its lock, a `filelock.FileLock` on a hidden file: ``.gridgis.lock``
inside a folder project, ``.<name>.gpkg.lock`` beside a GeoPackage. The lock
is re-entrant within a thread (a settings save may call `save_project` while
holding it) and exclusive between threads and processes. Whoever takes it
first finishes any whole-project save a killed process left half done and
removes the temporary files killed saves left behind (`tidy`).

Examples
--------
>>> import shutil, tempfile
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> with project_lock(work):
...     pass  # read, change and write the project here
>>> lock_path(work).name
'.gridgis.lock'
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from gridgis.core.store import files
from gridgis.errors import ProjectError

__all__ = ["LOCK_TIMEOUT_S", "lock_path", "project_lock", "tidy"]

LOCK_TIMEOUT_S = 10.0
"""How long a write waits for another program's write before giving up (seconds)."""

_LOCKS: dict[tuple[int, str], FileLock] = {}  # by process (a forked child makes its own)
_GUARD = threading.Lock()


def lock_path(project_path: str | os.PathLike[str]) -> Path:
    """The lock file of the project at `project_path` (a folder or a ``.gpkg``)."""
    path = Path(project_path)
    if files.is_gpkg(path):
        return path.with_name(f".{path.name}.lock")
    return path / ".gridgis.lock"


def _file_lock(path: Path) -> FileLock:
    """One `FileLock` per lock file and process: re-entrant per thread, exclusive between."""
    key = (os.getpid(), os.path.abspath(path))
    with _GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = FileLock(key[1], thread_local=True)
        return lock


def tidy(project_path: str | os.PathLike[str]) -> list[Path]:
    """Finish a half-done whole-project save and remove leftover temporary files.

    Call it holding the lock (`project_lock` does, on first entry). Returns
    the temporary files removed.
    """
    path = Path(project_path)
    if not files.is_gpkg(path):
        files.recover(path)
    removed = files.leftovers(path)
    for leftover in removed:
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    return removed


@contextlib.contextmanager
def project_lock(
    project_path: str | os.PathLike[str], *, timeout: float | None = None
) -> Iterator[None]:
    """Hold the project's write lock; wait at most `timeout` seconds for it.

    Parameters
    ----------
    project_path
        A project folder or ``.gpkg`` file.
    timeout
        Seconds to wait for another program's write (default `LOCK_TIMEOUT_S`;
        0: do not wait).

    Raises
    ------
    ProjectError
        Another program held the lock for the whole `timeout`, or the lock
        file cannot be created.
    """
    lock_file = lock_path(project_path)
    wait = LOCK_TIMEOUT_S if timeout is None else float(timeout)
    lock = _file_lock(lock_file)
    try:
        lock.acquire(timeout=wait)
    except Timeout as exc:
        raise ProjectError(
            f"another program is holding the project lock {str(lock_file)!r} (waited {wait:g} s): "
            "let it finish saving, or close it, then try again"
        ) from exc
    except OSError as exc:
        raise ProjectError(f"cannot create the project lock {str(lock_file)!r}: {exc}") from exc
    try:
        if lock.lock_counter == 1:
            tidy(project_path)
        yield
    finally:
        lock.release()

"""Atomic file writes: write beside the target, fsync, then replace it.

A crash or a kill during a write leaves the old file whole, never half of the new one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from gridgis.errors import ProjectError

__all__ = ["atomic_path", "write_bytes"]


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str) -> Iterator[Path]:
    """Yield a temporary path beside `target`; then fsync it and move it over `target`.

    Write the new content to the yielded path. When the block ends the file is
    fsynced and replaces `target` (readers see the old file or the new one, never
    half of it); when it raises, the temporary file (and SQLite's journal files
    beside it) are removed and `target` is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_path(target, ".txt") as tmp:
    ...     _ = tmp.write_text("new")
    >>> target.read_text()
    'new'
    """
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp{suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        for leftover in (tmp, *(Path(f"{tmp}-{s}") for s in ("journal", "wal", "shm"))):
            leftover.unlink(missing_ok=True)
        raise
    if os.name == "posix":  # make the rename itself durable
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write `data` to `path` atomically (beside, fsync, replace); return the path.

    Raises
    ------
    ProjectError
        The file could not be written.
    """
    target = Path(path)
    try:
        with atomic_path(target, target.suffix) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise ProjectError(f"could not write {str(target)!r}: {exc}") from exc
    return target

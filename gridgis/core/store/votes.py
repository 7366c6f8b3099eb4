"""The votes register's store: one building's (or one household's) votes at a time.

The register is a table of text (``site_id, building_id, household, area_m2,
vote`` and any other columns) plus a revision ``rev`` per row: ``votes.csv``
in a folder project, the ``votes`` table of a GeoPackage (see
`gridgis.core.store.files`). Every write takes the project lock, re-reads the
register, checks that the rows it replaces are still the ones the session saw
(`revision`), and saves atomically; rows it writes get a revision above every
revision in the register. A stale write raises `ConflictError` and changes
nothing. Counting the votes is `gridgis.meeting`'s job; this module only
stores them.

Examples
--------
>>> import shutil, tempfile
>>> import pandas as pd
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> votes = VotesStore(work)
>>> seen = votes.revision(votes.load(), site_id="SITE3", building_id="B1")
>>> rows = pd.DataFrame({"household": ["B1-1-101"], "area_m2": ["52.40"], "vote": ["agree"]})
>>> len(votes.replace_building("SITE3", "B1", rows, expected=seen))
1
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from gridgis.core import io
from gridgis.core.store import files
from gridgis.core.store.layer import plain_value
from gridgis.core.store.lock import project_lock
from gridgis.core.validate import errors_only, validate_layer
from gridgis.errors import ConflictError, ProjectError, ValidationError

__all__ = ["REGISTER_COLUMNS", "VotesStore", "as_register"]

REGISTER_COLUMNS = ("site_id", "building_id", "household", "area_m2", "vote")
"""The register's columns, in the order they are written (then ``rev``, then any others)."""


def _text(value: Any) -> str:
    value = plain_value(value)
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value).strip()


def as_register(votes: pd.DataFrame) -> pd.DataFrame:
    """The register as text: every `REGISTER_COLUMNS` present, cells as ``str``, ``rev`` an int.

    A number read from a GeoPackage becomes the decimal it shows (``52.4``);
    a missing cell becomes ``""``. Other columns are kept (as text).
    """
    frame = pd.DataFrame(votes).copy()
    frame = frame.drop(columns=[c for c in frame.columns if str(c) == "geometry"])
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    for column in REGISTER_COLUMNS:
        if column not in frame:
            frame[column] = ""
    rev = pd.to_numeric(frame["rev"], errors="coerce") if "rev" in frame else None
    others = [c for c in frame.columns if c not in (*REGISTER_COLUMNS, "rev")]
    out = pd.DataFrame(
        {c: [_text(v) for v in frame[c].to_numpy(dtype=object)] for c in (*REGISTER_COLUMNS,
                                                                        *others)},
        index=pd.RangeIndex(len(frame)),
        dtype=object,
    )  # fmt: skip
    out.insert(len(REGISTER_COLUMNS), "rev", 1 if rev is None else rev.fillna(1).astype(int).values)
    return out


class VotesStore:
    """The votes register of one project on disk.

    Parameters
    ----------
    project_path
        A project folder (``votes.csv``) or a ``.gpkg`` file (its ``votes`` table).
    timeout
        Seconds a write waits for the project lock (default `LOCK_TIMEOUT_S`).
    """

    def __init__(self, project_path: str | os.PathLike[str], *, timeout: float | None = None):
        self.path = Path(project_path)
        if not self.path.exists():
            raise ProjectError(f"project path {str(self.path)!r} does not exist")
        self.is_gpkg = files.is_gpkg(self.path)
        self.timeout = timeout

    @property
    def source(self) -> str:
        """Where the register lives, for messages (``.../votes.csv`` or ``x.gpkg: votes``)."""
        if self.is_gpkg:
            return f"{self.path}: votes"
        found = files.find_layer_file(self.path, "votes")
        return str(found or files.layer_file(self.path, "votes"))

    def exists(self) -> bool:
        """True when the project has a register (possibly empty)."""
        if self.is_gpkg:
            return "votes" in io.list_layers(self.path)
        return files.find_layer_file(self.path, "votes") is not None

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the project lock (see `project_lock`)."""
        return project_lock(self.path, timeout=self.timeout)

    def version(self) -> int:
        """A number that changes whenever the register on disk changes (0: none yet)."""
        found = self.path if self.is_gpkg else files.find_layer_file(self.path, "votes")
        if found is None:
            return 0
        try:
            st = found.stat()
        except FileNotFoundError:
            return 0
        return st.st_mtime_ns ^ (st.st_size << 1) ^ st.st_ino

    def load(self) -> pd.DataFrame:
        """The register on disk now (see `as_register`); no rows when there is none."""
        frame: pd.DataFrame | None = None
        if self.is_gpkg:
            if self.exists():
                frame = io.read_layer(self.path, layer="votes")
        elif (found := files.find_layer_file(self.path, "votes")) is not None:
            frame = files.read_layer_file(found, "votes")
        return as_register(pd.DataFrame(columns=REGISTER_COLUMNS) if frame is None else frame)

    @staticmethod
    def _scope(frame: pd.DataFrame, site_id: str | None, building_id: str | None) -> pd.Series:
        mask = pd.Series(True, index=frame.index)
        if site_id is not None:
            mask &= frame["site_id"] == str(site_id).strip()
        if building_id is not None:
            mask &= frame["building_id"] == str(building_id).strip()
        return mask

    @classmethod
    def revision(
        cls, frame: pd.DataFrame, *, site_id: str | None = None, building_id: str | None = None
    ) -> str:
        """What a session saw of one building (or site, or the whole register) of `frame`.

        A short digest of the rows' households and revisions: it changes when
        any of them is changed, added or removed. Pass it back as ``expected``.
        """
        frame = as_register(frame) if "rev" not in frame else frame
        rows = frame[cls._scope(frame, site_id, building_id)]
        keys = sorted(zip(rows["building_id"], rows["household"], rows["rev"].astype(int),
                          strict=True))  # fmt: skip
        return hashlib.sha1(repr(keys).encode("utf-8")).hexdigest()[:12]

    def _save(self, frame: pd.DataFrame) -> None:
        problems = validate_layer(frame.drop(columns="rev"), "votes", source=self.source)
        if errors := errors_only(problems):
            raise ValidationError(errors)
        if self.is_gpkg:
            io.update_gpkg({"votes": frame}, self.path)
            return
        files.write_file(files.layer_file(self.path, "votes"), files.layer_bytes("votes", frame))
        files.retire_legacy_votes(self.path)

    def _replace(self, mask_of: Any, new: pd.DataFrame, expected: str, what: str) -> pd.DataFrame:
        with self.locked():
            frame = self.load()
            mask = mask_of(frame)
            now = self.revision(frame[mask])
            if now != expected:
                raise ConflictError(
                    f"{what} was changed by another session since you "
                    "loaded it; your entry was not saved: reload the register and enter it again"
                )
            rows = as_register(new)
            rows["rev"] = int(frame["rev"].max()) + 1 if len(frame) else 1
            out = pd.concat([frame[~mask], rows], ignore_index=True).fillna("")
            self._save(out)
            return rows

    def replace_building(
        self, site_id: str, building_id: str, rows: pd.DataFrame, *, expected: str
    ) -> pd.DataFrame:
        """Replace the rows of one building for one site; return the stored rows.

        Parameters
        ----------
        site_id, building_id
            Which rows are replaced (``site_id`` and ``building_id`` of `rows`
            are set to these).
        rows
            ``household, area_m2, vote`` (and any other columns) per household.
        expected
            `revision` of that building as the session saw it.

        Raises
        ------
        ConflictError
            Another session changed that building's rows meanwhile (nothing is saved).
        ValidationError
            A row breaks the layer contract (bad area or vote).
        """
        site, building = str(site_id).strip(), str(building_id).strip()
        new = pd.DataFrame(rows).assign(site_id=site, building_id=building)
        return self._replace(
            lambda f: self._scope(f, site, building), new, expected,
            f"building {building!r} of site {site!r} in the votes register",
        )  # fmt: skip

    def set_vote(
        self, site_id: str, household: str, vote: str, *, expected_rev: int, building_id: str = ""
    ) -> dict[str, Any]:
        """Record one household's vote (``""``: did not take part); return its stored row.

        Raises
        ------
        ConflictError
            The household is not in the register, or another session changed
            its row (another ``rev``).
        """
        with self.locked():
            frame = self.load()
            mask = self._scope(frame, site_id, building_id) & (frame["household"] == household)
            if not mask.any():
                raise ConflictError(
                    f"household {household!r} of site {site_id!r} is not in the votes register "
                    "(deleted by another session?): reload"
                )
            pos = int(mask.to_numpy().nonzero()[0][0])
            rev = int(frame.at[pos, "rev"])
            if rev != expected_rev:
                raise ConflictError(
                    f"household {household!r} of site {site_id!r} was changed by another session "
                    f"(revision {rev}, you edited revision {expected_rev}); not saved: reload"
                )
            frame.at[pos, "vote"] = str(vote or "").strip()
            frame.at[pos, "rev"] = int(frame["rev"].max()) + 1
            self._save(frame)
            return {k: plain_value(v) for k, v in frame.iloc[pos].items()}

    def replace(self, register: pd.DataFrame, *, expected: str | None = None) -> pd.DataFrame:
        """Replace the whole register (an import); return it as stored.

        `expected` is `revision` of the whole register as the session saw it;
        None replaces whatever is there.
        """
        if expected is None:
            expected = self.revision(self.load())
        return self._replace(lambda f: self._scope(f, None, None), register, expected,
                             "the votes register")  # fmt: skip

    def save(self, register: pd.DataFrame | Mapping[str, Any]) -> None:
        """Write `register` as it is (revisions kept), holding the lock: for whole-project tools."""
        with self.locked():
            self._save(as_register(pd.DataFrame(register)))

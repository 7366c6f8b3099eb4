"""One exception hierarchy for gridgis, and the `Problem` record errors carry.

Every error a user can cause (a bad file, a bad value, a bad setting) is a
`GridGISError`; its message names the file, layer, feature and field
involved, so the CLI and the app can show it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CRSError",
    "ConflictError",
    "GridGISError",
    "ImageError",
    "Problem",
    "ProjectError",
    "ReadError",
    "SettingsError",
    "ValidationError",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    Parameters
    ----------
    message
        What is wrong, with the bad value quoted (``!r``).
    source
        The file (or upload name) the problem was found in.
    layer
        The layer name (``buildings``, ``sites``, ...).
    feature
        The feature's id (e.g. ``building_id='B3'``) or its row (``row 4``).
    field
        The column involved, or ``geometry``.
    fix
        How to fix it, when we know.
    severity
        ``"error"`` (the input cannot be used as it is) or ``"warning"``
        (usable, but the user should look).
    code, params
        The kind of problem (``"not_number"``, ``"below_min"``...) and the values
        its message quotes, so a face can say it in the user's language
        (`gridgis.report.problems.problem_message`); `message` is the English.
    """

    message: str
    source: str | None = None
    layer: str | None = None
    feature: str | None = None
    field: str | None = None
    fix: str | None = None
    severity: str = "error"
    code: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def location(self) -> str:
        """Return ``file: layer L, feature F, field X`` for the parts known."""
        parts = []
        if self.layer:
            parts.append(f"layer {self.layer}")
        if self.feature:
            parts.append(f"feature {self.feature}")
        if self.field:
            parts.append(f"field {self.field}")
        where = ", ".join(parts)
        if self.source:
            return f"{self.source}: {where}" if where else self.source
        return where

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.severity != "error":
            text = f"{self.severity}: {text}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class GridGISError(Exception):
    """Base class of every error gridgis raises on purpose."""


class ReadError(GridGISError):
    """A file could not be read as a layer (corrupt, empty, unknown format)."""


class CRSError(GridGISError):
    """A coordinate reference system is missing, unknown or inconsistent."""


class ImageError(GridGISError):
    """An image (a scanned site plan) cannot be used: not PNG/JPEG, corrupt or too large."""


class SettingsError(GridGISError):
    """A setting is unknown, of the wrong type or out of range."""


class ProjectError(GridGISError):
    """A project could not be opened or saved."""


class ConflictError(GridGISError):
    """Another session changed or deleted what this one tried to change.

    Parameters
    ----------
    message
        What happened, in English.
    feature
        The id of the feature concerned, when one.
    kind
        ``"changed"`` (another revision is stored), ``"deleted"``, or None.
    revision, expected
        With ``"changed"``: the revision stored now and the one the change was made on.

    Faces say it in the user's language with `gridgis.report.problems.conflict_detail`.
    """

    def __init__(
        self,
        message: str,
        *,
        feature: str | None = None,
        kind: str | None = None,
        revision: int | None = None,
        expected: int | None = None,
    ) -> None:
        super().__init__(message)
        self.feature, self.kind = feature, kind
        self.revision, self.expected = revision, expected


class ValidationError(GridGISError):
    """One or more layers break the layer contract.

    Parameters
    ----------
    problems
        Every problem found; the message lists them all, one a line.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

"""Typed, validated project settings: rules, unit costs, site types, funding.

Defaults ship in ``gridgis/core/defaults.toml``; a project's ``settings.toml``
overrides any key of them (a deep merge). Unknown keys, wrong types and
dangling references are a `SettingsError` naming the key. Every rule and price
is a `Sourced` value carrying its source tag: ``S`` published, ``D`` derived,
``E`` estimate (replace with a local quote).

Examples
--------
>>> from gridgis.core.settings import default_settings
>>> s = default_settings()
>>> s.rules.fire_lane_clear_width_m.value, s.rules.fire_lane_clear_width_m.source
(4.0, 'S')
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gridgis.errors import SettingsError

__all__ = [
    "ID_PREFIX",
    "Corners",
    "CostItem",
    "Funding",
    "General",
    "Naming",
    "Place",
    "Rules",
    "Settings",
    "SiteType",
    "Sourced",
    "default_settings",
    "load_settings",
    "settings_diff",
    "settings_from_toml",
    "settings_to_toml",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Sourced(_Strict):
    """A number with its source tag: S published, D derived, E estimate."""

    value: float
    source: Literal["S", "D", "E"]
    ref: str = ""


class General(_Strict):
    """Language, CRS choice and data fallbacks."""

    language: Literal["zh", "en"] = "zh"
    metric_crs: str = ""
    households_per_floor_fallback: Sourced
    area_per_household_m2: Sourced
    building_levels_fallback: Sourced


class Place(_Strict):
    """Where the compound is, in WGS84: the map's centre and the metric CRS before any layer.

    ``name`` is the compound's name until a boundary with a name is drawn.
    """

    name: str = ""
    lon: float = Field(default=104.066, ge=-180, le=180)
    lat: float = Field(default=30.657, ge=-90, le=90)


# letters (any script), digits and "_" or "-", not ending in a digit: "B" + "12" stays "B12"
ID_PREFIX = re.compile(r"[^\W\d](?:[\w\-]{0,6}[^\W\d])?")


class Naming(_Strict):
    """Prefixes of the ids given to newly drawn features (``B1, B2, ...``; ``G1, ...``)."""

    building_prefix: str = "B"
    grid_prefix: str = "G"

    @field_validator("building_prefix", "grid_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not ID_PREFIX.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an id prefix: use 1-8 letters, digits, '_' or '-', "
                "starting with a letter and not ending in a digit (e.g. 'B', 'WG')"
            )
        return value


class Rules(_Strict):
    """Safety and layout rules (fire lanes, e-bike parking, charging)."""

    fire_lane_clear_width_m: Sourced
    fire_lane_clear_height_m: Sourced
    shed_setback_from_openings_m: Sourced
    bike_space_length_m: Sourced
    bike_space_width_m: Sourced
    shed_block_max_length_m: Sourced
    shed_block_max_bikes: Sourced
    shed_block_gap_m: Sourced
    shed_aisle_width_m: Sourced
    bikes_per_charging_port: Sourced
    sockets_per_circuit_max: Sourced


class Corners(_Strict):
    """Finding golden corners: clearances, minimum sizes and ranking weights."""

    building_clearance_m: Sourced
    path_width_fallback_m: Sourced
    min_area_m2: Sourced
    min_width_m: Sourced
    edge_strip_aspect: Sourced
    reach_m: Sourced
    useful_area_m2: Sourced
    weight_area: Sourced
    weight_compactness: Sourced
    weight_households: Sourced
    suggest_types: tuple[str, ...]


class Funding(_Strict):
    """How a site's cost is split between residents, street subsidy and others."""

    subsidy_multiple: Sourced
    subsidy_cap_cny: Sourced
    resident_share: Sourced


class CostItem(_Strict):
    """One line of a budget: a rate applied to a quantity measured on the site."""

    label_zh: str
    label_en: str
    basis: Literal["area", "perimeter", "capacity", "ports", "circuits", "site", "count"]
    rate_cny: Sourced
    quantity: float = Field(default=1.0, ge=0)  # only for basis = "count"


class SiteType(_Strict):
    """What a kind of site costs, holds and serves."""

    label_zh: str
    label_en: str
    capacity_unit: str
    # "per_area": floor(area / area_per_capacity_m2); "bike_stalls": 2.0 x 0.8 m stalls,
    # aisles and blocks per the rules section (see gridgis.analysis.capacity).
    capacity_rule: Literal["per_area", "bike_stalls"] = "per_area"
    area_per_capacity_m2: Sourced
    service_radius_m: Sourced
    consultation_distance_m: Sourced
    min_area_m2: Sourced
    min_width_m: Sourced
    cost_items: tuple[str, ...]


class Settings(_Strict):
    """All settings of a project."""

    general: General
    place: Place = Place()
    naming: Naming = Naming()
    rules: Rules
    funding: Funding
    corners: Corners
    site_types: dict[str, SiteType]
    cost_items: dict[str, CostItem]

    @model_validator(mode="after")
    def _check_references(self) -> Settings:
        for type_key, site_type in self.site_types.items():
            for item in site_type.cost_items:
                if item not in self.cost_items:
                    raise ValueError(
                        f"site_types.{type_key}.cost_items names {item!r}, which is not a "
                        f"[cost_items.{item}] table; known items: {', '.join(self.cost_items)}"
                    )
        for type_key in self.corners.suggest_types:
            if type_key not in self.site_types:
                raise ValueError(
                    f"corners.suggest_types names {type_key!r}, which is not a "
                    f"[site_types.{type_key}] table; known types: {', '.join(self.site_types)}"
                )
        for key, sourced in self._sourced_values():
            if sourced.value < 0:
                raise ValueError(f"{key} must be >= 0, got {sourced.value!r}")
        return self

    def _sourced_values(self) -> list[tuple[str, Sourced]]:
        out: list[tuple[str, Sourced]] = []
        for section in ("general", "rules", "funding", "corners"):
            model = getattr(self, section)
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, Sourced):
                    out.append((f"{section}.{name}", value))
        for key, st in self.site_types.items():
            for name in type(st).model_fields:
                value = getattr(st, name)
                if isinstance(value, Sourced):
                    out.append((f"site_types.{key}.{name}", value))
        out.extend((f"cost_items.{k}.rate_cny", c.rate_cny) for k, c in self.cost_items.items())
        return out

    def sourced_table(self) -> list[dict[str, Any]]:
        """Return every rule and price as rows ``{key, value, source, ref}``."""
        return [
            {"key": k, "value": s.value, "source": s.source, "ref": s.ref}
            for k, s in self._sourced_values()
        ]


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@cache
def _default_dict_text() -> str:
    return resources.files("gridgis.core").joinpath("defaults.toml").read_text(encoding="utf-8")


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML: {exc}") from exc


def _build(data: Mapping[str, Any], source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                lines.append(f"unknown setting {key!r}")
            elif err["type"] == "missing":
                lines.append(f"setting {key!r} is missing")
            elif key:
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"setting {key!r}: {msg} (got {err.get('input')!r})")
            else:
                lines.append(err["msg"].removeprefix("Value error, "))
        raise SettingsError(f"{source}: " + "; ".join(lines)) from exc


def default_settings() -> Settings:
    """Return the settings shipped with gridgis."""
    return _build(
        _parse(_default_dict_text(), "gridgis/core/defaults.toml"), "gridgis/core/defaults.toml"
    )


def settings_from_toml(text: str, *, source: str = "settings.toml") -> Settings:
    """Parse TOML that overrides the defaults, key by key.

    Parameters
    ----------
    text
        TOML text; any subset of the keys in ``defaults.toml``, or new
        ``[site_types.X]`` / ``[cost_items.X]`` tables.
    source
        Name used in error messages.
    """
    base = _parse(_default_dict_text(), "gridgis/core/defaults.toml")
    return _build(_deep_merge(base, _parse(text, source)), source)


def load_settings(path: str | Path | None = None) -> Settings:
    """Load settings from a TOML file over the defaults; the defaults if `path` is None."""
    if path is None:
        return default_settings()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc}") from exc
    return settings_from_toml(text, source=str(path))


def _diff(data: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in base:
            out[key] = value
        elif isinstance(value, Mapping) and isinstance(base[key], Mapping):
            if inner := _diff(value, base[key]):
                out[key] = inner
        elif value != base[key]:
            out[key] = value
    return out


def settings_diff(settings: Settings, base: Settings | None = None) -> dict[str, Any]:
    """The keys of `settings` that differ from `base` (default: the shipped defaults).

    Nested as in a settings file; `settings_from_toml` of the result gives
    `settings` back (it merges over the defaults key by key).

    Examples
    --------
    >>> s = settings_from_toml("[rules]\\nshed_block_gap_m = { value = 3.0 }")
    >>> settings_diff(s)
    {'rules': {'shed_block_gap_m': {'value': 3.0}}}
    """
    base = base if base is not None else default_settings()
    return _diff(settings.model_dump(mode="json"), base.model_dump(mode="json"))


def settings_to_toml(settings: Settings, *, only_changed: bool = False) -> str:
    """Write settings as TOML: every key, or with `only_changed` only those unlike the defaults.

    A project file holding only its changes picks up corrected defaults.
    """
    if only_changed:
        return tomli_w.dumps(settings_diff(settings))
    return tomli_w.dumps(settings.model_dump(mode="json"))

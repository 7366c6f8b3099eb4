"""The ``gridgis`` command line: a thin face on the library.

Exit status: 0 success, 2 bad input (every problem listed, one a line, naming
file, layer, feature and field), 1 an internal error (one line; ``--debug``
shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd

from gridgis import __version__, io
from gridgis._errors import GridGISError, Problem, ValidationError
from gridgis.analysis import analyze_sites
from gridgis.crs import DATUMS, convert_gdf
from gridgis.layers import (
    LAYER_NAMES,
    errors_only,
    guess_layer_name,
    repair_geometries,
    validate_layer,
)
from gridgis.project import open_project, read_project_layer
from gridgis.report import write_xlsx

__all__ = ["main"]


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(str(problem), file=sys.stderr)


def _warning_problems(caught: list[warnings.WarningMessage], source: str) -> list[Problem]:
    return [Problem(str(w.message), source, severity="warning") for w in caught]


def _cmd_info(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    summary = project.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(f"project      {summary['name']}  ({summary['path']})")
    print(f"metric CRS   {summary['metric_crs']}")
    print("layers       " + ", ".join(f"{k}: {v}" for k, v in summary["layers"].items()))
    print(f"households   {summary['households']}")
    if summary["households_derived_buildings"]:
        print(
            f"  derived from units x floors in {summary['households_derived_buildings']} buildings"
        )
    if summary["households_unknown_buildings"]:
        print(f"  unknown in {summary['households_unknown_buildings']} buildings (not counted)")
    if "units" in summary:
        print(f"units        {summary['units']}")
    if summary.get("sites_by_type"):
        print("sites        " + ", ".join(f"{k}: {v}" for k, v in summary["sites_by_type"].items()))
    _print_problems(project.warnings)
    return 0


def _layer_name_for(path: Path, given: str | None) -> str:
    if given:
        if given not in LAYER_NAMES:
            raise GridGISError(
                f"--layer {given!r} is not a gridgis layer; use one of {', '.join(LAYER_NAMES)}"
            )
        return given
    if guessed := guess_layer_name(path.name):
        return guessed
    raise GridGISError(
        f"{path}: cannot tell which layer this file is from its name; pass --layer "
        f"({', '.join(LAYER_NAMES)})"
    )


def _read_and_validate(
    path: Path, layer: str, *, file_layer: str | None, crs: str | None, datum: str
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    source = str(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = read_project_layer(path, layer, layer=file_layer, crs=crs, datum=datum)
        except GridGISError as exc:
            return None, [Problem(str(exc))]
    problems = _warning_problems(caught, source)
    problems += validate_layer(frame, layer, source=source)
    return frame, problems


def _validate_targets(path: Path, only: str | None) -> list[tuple[Path, str, str | None]]:
    """List (file, gridgis layer, layer inside the file) to check."""
    if path.is_dir():
        files = [
            (f, n)
            for n in LAYER_NAMES
            for f in (path / f"{n}.geojson", path / f"{n}.csv")
            if f.exists() and (f.suffix == ".geojson" or n == "votes")
        ]
        if only:
            files = [(f, n) for f, n in files if n == only]
        if not files:
            raise GridGISError(f"{path}: no <layer>.geojson files found ({', '.join(LAYER_NAMES)})")
        return [(f, n, None) for f, n in files]
    if path.suffix.lower() == ".gpkg" and path.exists():
        inside = io.list_layers(path)
        known = [n for n in inside if n in LAYER_NAMES]
        if only:
            return [
                (path, only, only if only in inside else (inside[0] if len(inside) == 1 else only))
            ]
        if known:
            return [(path, n, n) for n in known]
        if len(inside) == 1:
            return [(path, _layer_name_for(path, None), inside[0])]
        raise GridGISError(
            f"{path}: no gridgis layers inside (found {', '.join(inside)}); pass --layer"
        )
    return [(path, _layer_name_for(path, only), None)]


def _cmd_validate(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        raise GridGISError(f"{path}: no such file or folder")
    problems: list[Problem] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    for file, layer, file_layer in _validate_targets(path, args.layer):
        frame, found = _read_and_validate(
            file, layer, file_layer=file_layer, crs=args.crs, datum=args.datum
        )
        problems += found
        if frame is not None:
            frames[layer] = frame
    errors = errors_only(problems)
    _print_problems(problems)
    if args.repair and frames:
        if len(frames) != 1:
            raise GridGISError("--repair works on one layer at a time: pass --layer")
        (frame,) = frames.values()
        repaired, rows = repair_geometries(frame)
        io.write_geojson(repaired, args.repair)
        print(
            f"repaired {len(rows)} geometries with make_valid (rows "
            f"{', '.join(str(r + 1) for r in rows) or 'none'}); wrote {args.repair}"
        )
    if errors:
        print(f"{path}: {len(errors)} error(s); not valid", file=sys.stderr)
        return 2
    print(f"{path}: valid ({len(problems)} warning(s))")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    sites = None
    if args.sites:
        sites = read_project_layer(args.sites, "sites", crs=args.crs, datum=args.datum)
    result = analyze_sites(project, sites)
    s = result.sites
    print(f"{'site':<10} {'type':<17} {'area m2':>8} {'capacity':>14} {'cost CNY':>11} "
          f"{'served hh':>9} {'adjacent hh':>11}  failed checks")  # fmt: skip
    for row in s.itertuples():
        failed = "; ".join(f"{c['rule']}: {c['message']}" for c in row.checks if not c["ok"])
        print(
            f"{row.site_id!s:<10} {row.site_type!s:<17} {row.area_m2:>8.1f} "
            f"{row.capacity:>6d} {row.capacity_unit:<7} {row.cost_cny:>11,.2f} "
            f"{row.households_served:>9.0f} {row.households_adjacent:>11.0f}  {failed or '-'}"
        )
    totals = result.totals()
    print(
        f"plan: {totals['sites']} sites, {totals['cost_cny']:,.2f} CNY, {totals['bikes']} bikes, "
        f"{totals['charging_ports']} charging ports, {totals['checks_failed']} failed checks"
    )
    if args.output:
        io.write_geojson(result.features(), args.output)
        print(f"wrote {args.output}")
    if args.xlsx:
        write_xlsx(result.budget_sheets(), args.xlsx)
        print(f"wrote {args.xlsx}")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    frame = io.read_layer(args.input, layer=args.layer, crs=args.crs, datum=args.src)
    out = convert_gdf(frame, src="wgs84", dst=args.dst) if args.dst != "wgs84" else frame
    target = Path(args.output)
    if target.suffix.lower() == ".gpkg":
        io.write_gpkg({args.layer or Path(args.input).stem: out}, target)
    elif target.suffix.lower() in (".geojson", ".json"):
        io.write_geojson(out, target)
    else:
        raise GridGISError(f"output {str(target)!r}: write .geojson or .gpkg")
    print(f"wrote {len(out)} features to {target} ({args.src} -> {args.dst})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridgis",
        description="GIS planning for renovating old residential compounds (老旧小区改造).",
    )
    parser.add_argument("--version", action="version", version=f"gridgis {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="layer counts and households of a project")
    info.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)

    val = sub.add_parser("validate", help="check a layer file or a project; exit 2 on errors")
    val.add_argument("path", help="a layer file, a .gpkg, or a project folder")
    val.add_argument("--layer", choices=LAYER_NAMES, help="which gridgis layer the file holds")
    val.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:4544")
    val.add_argument(
        "--from",
        dest="datum",
        choices=DATUMS,
        default="wgs84",
        help="datum of the coordinates (gcj02: Gaode; bd09: Baidu)",
    )
    val.add_argument(
        "--repair",
        metavar="OUT.geojson",
        help="write a copy with invalid geometries repaired by make_valid",
    )
    val.set_defaults(func=_cmd_validate)

    ana = sub.add_parser("analyze", help="area, capacity, cost, households and checks per site")
    ana.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    ana.add_argument("--sites", help="a sites file to analyse instead of the project's sites")
    ana.add_argument("-o", "--output", metavar="OUT.geojson", help="write the site plan (RFC 7946)")
    ana.add_argument("--xlsx", metavar="OUT.xlsx", help="write the budget workbook")
    ana.add_argument("--crs", help="CRS of a sites file that has none, e.g. EPSG:4544")
    ana.add_argument("--from", dest="datum", choices=DATUMS, default="wgs84",
                     help="datum of the sites file (gcj02: Gaode; bd09: Baidu)")  # fmt: skip
    ana.set_defaults(func=_cmd_analyze)

    conv = sub.add_parser("convert", help="convert a layer between formats and datums")
    conv.add_argument("input")
    conv.add_argument("output", help=".geojson (RFC 7946) or .gpkg")
    conv.add_argument("--from", dest="src", choices=DATUMS, default="wgs84")
    conv.add_argument("--to", dest="dst", choices=DATUMS, default="wgs84")
    conv.add_argument("--layer", help="layer inside a GeoPackage / output layer name")
    conv.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:4544")
    conv.set_defaults(func=_cmd_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ValidationError as exc:
        _print_problems(exc.problems)
        print(f"gridgis {args.command}: {len(exc.problems)} error(s)", file=sys.stderr)
        return 2
    except GridGISError as exc:
        print(f"gridgis {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the one place a bug becomes a one-line message
        if args.debug:
            raise
        print(
            f"gridgis {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
